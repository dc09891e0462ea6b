"""What every read model is: a name, a version, its tables and a fold over domain events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from cpms.projections.store import Tx


class Projection(ABC):
    """Folds events into tables. `apply` runs inside the transaction that also moves tracking.

    Tables carry the version in their names, so a new version can be rebuilt beside the old.
    """

    name: ClassVar[str]
    version: ClassVar[int]

    @abstractmethod
    def create_tables(self, tx: Tx) -> None: ...

    @abstractmethod
    def apply(self, event: Any, tx: Tx) -> None:
        """Fold one event; events this projection does not care about are ignored."""
