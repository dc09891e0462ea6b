"""The event store: an `eventsourcing` application on SQLite or PostgreSQL, transcoded with orjson,
whose recorders extend the log's hash chain (`chain.py`) in each insert's own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import StoredEvent, Transcoder, Transcoding
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore, SQLiteTransaction
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row

from cpms.aggregates.charge_point_transactions import ChargePointTransactions
from cpms.aggregates.station import Station
from cpms.infra.chain import ZERO, ChainSQL, canonical_id, new_links
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


def _genesis_params() -> tuple[str, str]:
    return datetime.now(UTC).isoformat(), str(uuid.uuid4())


class _Immediate(SQLiteTransaction):
    """eventsourcing's SQLite transaction (its commit, rollback and errors), begun IMMEDIATE."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        return cursor


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite's recorder, linking each inserted event into the chain. SQLite's write transaction
    is exclusive from the first insert on, so the head read after it is the chain's head."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.chain = ChainSQL.build(
            kind="sqlite", events=events_table_name, position="rowid", prefix="cpms_chain"
        )

    def create_table(self) -> None:
        """eventsourcing's deferred BEGIN reads the schema (CREATE ... IF NOT EXISTS) before the
        genesis row is written; in WAL mode a commit by another process in between (a serving
        node writes all the time) fails that write at once with "database is locked", the busy
        timeout notwithstanding. Taking the write lock first waits for the writer instead."""
        with self.datastore.get_connection(commit=True) as conn, _Immediate(conn, commit=True) as c, c:
            self._create_table(c)

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        for statement in self.chain.create:
            c.execute(statement)
        c.execute(self.chain.declare_genesis, _genesis_params())

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None
        if stored_events:
            c.execute(self.chain.select_head)
            head = c.fetchone()
            c.executemany(
                self.chain.insert_links,
                new_links(stored_events, positions, ZERO if head is None else head[1]),
            )
        return positions

    def chain_query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [tuple(row) for row in c.fetchall()]

    def chain_execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(statement, params)

    def canonical_originator_id(self, stored: Any) -> str:
        return canonical_id(self.convert_originator_id(stored))


class PromptPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing retries each statement ten times when PostgreSQL cannot be reached, which
    holds a charger's answer for many seconds during an outage. cpms answers at once instead (a
    CALLERROR, a 503) and lets chargers and clients retry as their protocols say; stale pooled
    connections after a database restart are weeded out by the pool's pre-ping instead.

    Each insert also extends the log's hash chain: the chain's head is read after the table lock
    eventsourcing takes (which serializes writers across processes), in the same pipeline as the
    insert once it has gone through, and the new links are written before the transaction
    commits."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = _quote(datastore.schema)
        self.chain = ChainSQL.build(
            kind="postgresql",
            events=f"{schema}.{_quote(events_table_name)}",
            position="notification_id",
            prefix=f"{schema}.cpms_chain",
        )
        self._insert_links = self.chain.insert_links.encode()
        self._select_head = self.chain.select_head.encode()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        for statement in self.chain.create:
            curs.execute(statement.encode())
        curs.execute(self.chain.declare_genesis.encode(), _genesis_params())

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # PostgresApplicationRecorder.insert_events without its retries and database functions
        # (both off in cpms), plus the chain.
        assert not self.datastore.enable_db_functions
        if not stored_events:
            return []
        failure: Exception | None = None
        positions: Sequence[int] | None = None
        with self.datastore.get_connection() as conn:
            with (
                conn.pipeline() as pipeline,
                conn.transaction(),
                conn.cursor() as curs,
                conn.cursor(row_factory=tuple_row) as head_curs,
            ):
                try:
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    # Sync first, as eventsourcing does: a version conflict (another writer saved
                    # the aggregate) is then raised as itself, an IntegrityError that becomes a
                    # RecordConflictError and a retry, not as "pipeline aborted" at the head's read.
                    pipeline.sync()
                    head_curs.execute(self._select_head, prepare=True)
                    positions = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                    assert positions is not None
                    head = head_curs.fetchone()
                    links = new_links(stored_events, positions, ZERO if head is None else head[1])
                    # One statement for the batch: psycopg's executemany costs a message per row.
                    curs.execute(
                        self._insert_links,
                        (
                            b"".join(link for _, link in links),
                            "{" + ",".join(str(position) for position, _ in links) + "}",
                        ),
                        prepare=True,
                    )
                except Exception as error:
                    failure = error  # raised once the pipeline is closed, as eventsourcing does
            if failure:
                raise failure
        return positions

    def chain_query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement.encode(), params)
            return curs.fetchall()

    def chain_execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement.encode(), params)

    def canonical_originator_id(self, stored: Any) -> str:
        return canonical_id(stored)

    select_events = PostgresAggregateRecorder.select_events.__wrapped__  # type: ignore[attr-defined]
    select_notifications = PostgresApplicationRecorder.select_notifications.__wrapped__  # type: ignore[attr-defined]
    max_notification_id = PostgresApplicationRecorder.max_notification_id.__wrapped__  # type: ignore[attr-defined]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def open_event_store(database: Database) -> EventStore:
    return EventStore(env=event_store_env(database))


def event_store_env(database: Database) -> dict[str, str]:
    if database.kind == "sqlite":
        assert database.sqlite_path is not None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": f"{__name__}:ChainedSQLiteRecorder",
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
