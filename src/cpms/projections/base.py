"""What every read model is: a name, a version, its tables and a fold over domain events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from cpms.projections.store import Tx


class Projection(ABC):
    """Folds events into tables. `apply` runs inside the transaction that also moves tracking.

    Tables carry the version in their names (`sessions_v3`): they are the projection's own, rebuilt
    beside the live ones and switched to in one transaction (see `rebuilds.py`); tables without
    it are shared by every build (the roaming outbox).
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

    def upgrade(self, previous: int) -> Sequence[str] | None:
        """How the tables of version `previous`, already renamed to this version's names, become
        this version's: the statements to run (new columns, say), or None when they cannot, and
        this version must build from the start of the log before it answers in full. Upgraded in
        place, they keep serving while this version is rebuilt beside them."""
        return None
