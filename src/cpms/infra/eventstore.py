"""The event store: an `eventsourcing` application on SQLite or PostgreSQL, transcoded with orjson."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import Transcoder, Transcoding
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder

from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.station import Station
from cpms.infra.settings import Database


class DatetimeAsISO(Transcoding):
    type = datetime
    name = "datetime_iso"

    def encode(self, obj: datetime) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> datetime:
        return datetime.fromisoformat(data)


class OrjsonTranscoder(Transcoder):
    """JSON with orjson; datetimes keep their type through `{"_type_", "_data_"}` envelopes.

    Event attributes are plain JSON values and datetimes: ids travel as strings.
    """

    def __init__(self) -> None:
        self._datetime = DatetimeAsISO()

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._default, option=orjson.OPT_PASSTHROUGH_DATETIME)

    def decode(self, data: bytes) -> Any:
        obj = orjson.loads(data)
        return self._revive(obj) if b'"_type_"' in data else obj

    def _default(self, obj: Any) -> Any:
        if isinstance(obj, datetime):
            return {"_type_": self._datetime.name, "_data_": self._datetime.encode(obj)}
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        raise TypeError(f"cannot store {type(obj).__name__} in an event")

    def _revive(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            if obj.keys() == {"_type_", "_data_"} and obj["_type_"] == self._datetime.name:
                return self._datetime.decode(obj["_data_"])
            return {key: self._revive(value) for key, value in obj.items()}
        if isinstance(obj, list):
            return [self._revive(value) for value in obj]
        return obj


class EventStore(Application):
    """All cpms aggregates in one application sequence, so projections follow one log."""

    name = "cpms"
    # Stations hear from their charger all day, and a charge point gains an event with every
    # transaction: a snapshot every so often keeps loading one (after a restart, on another node)
    # short. The writer keeps its own cache of hot ones.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Station: 200,
        ChargePointTransactions: 200,
    }

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()


class PromptPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing retries each statement ten times when PostgreSQL cannot be reached, which
    holds a charger's answer for many seconds during an outage. cpms answers at once instead (a
    CALLERROR, a 503) and lets chargers and clients retry as their protocols say; stale pooled
    connections after a database restart are weeded out by the pool's pre-ping instead."""

    insert_events = PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]
    select_events = PostgresAggregateRecorder.select_events.__wrapped__  # type: ignore[attr-defined]
    select_notifications = PostgresApplicationRecorder.select_notifications.__wrapped__  # type: ignore[attr-defined]
    max_notification_id = PostgresApplicationRecorder.max_notification_id.__wrapped__  # type: ignore[attr-defined]


def open_event_store(database: Database) -> EventStore:
    return EventStore(env=event_store_env(database))


def event_store_env(database: Database) -> dict[str, str]:
    if database.kind == "sqlite":
        assert database.sqlite_path is not None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(database.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": database.dbname,
        "POSTGRES_HOST": database.host,
        "POSTGRES_PORT": str(database.port),
        "POSTGRES_USER": database.user,
        "POSTGRES_PASSWORD": database.password,
        "POSTGRES_SCHEMA": database.schema,
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_LOCK_TIMEOUT": "10",
        # Seconds to wait for a pooled connection: while the database is down, this bounds how
        # long a write waits before it is answered with an error.
        "POSTGRES_CONNECT_TIMEOUT": "2",
        "POSTGRES_PRE_PING": "y",
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:PromptPostgresRecorder",
        # Its database functions can reorder notifications under concurrent writers, and
        # projections follow the notification log: keep them off.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }
