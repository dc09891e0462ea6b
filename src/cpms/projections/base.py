"""What every read model is: a name, a version, its tables and a fold over domain events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from cpms.projections.store import Tx


class Projection(ABC):
    """Folds events into tables. `apply` runs inside the transaction that also moves tracking.

    Tables carry the version in their names, so a new version can be rebuilt beside the old.
    `handles` names the event classes (or their bases) the projection folds: only those reach
    `apply`, and a write waits only for the projections that handle what it recorded.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    handles: ClassVar[tuple[type, ...]]

    @abstractmethod
    def create_tables(self, tx: Tx) -> None: ...

    @abstractmethod
    def apply(self, event: Any, tx: Tx) -> None:
        """Fold one event of a kind this projection `handles`."""
