"""Simulated chargers answer the central system's commands as real ones do, in OCPP 1.6 and 2.0.1.

One charger of `simulate()` connects to a small central system built here on the `ocpp` package's
own ChargePoint over a real websockets server; the test sends the commands from outside the
central system's receive loop, as cpms does, and watches the charger's answers and what follows.
Its drivers come and go on both connectors, but this central system refuses their card: they
plug in, are refused and leave, so every transaction is one a remote start began.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.exceptions import ConnectionClosed

from cpms.simulation import Stats, simulate
from cpms.timestamps import now_iso

REMOTE_TAG = "REMOTE01"  # what the central system starts sessions with
DRIVER_CARD = "D0000001"  # the drivers' card, which this central system refuses
PAUSE = 0.5  # a session's steps: a remote-started session charges for 0.75 s at the least
WAIT = 15.0  # generous: the charger's follow-ups come within a second or two


@dataclass(frozen=True)
class Seen:
    """A message the central system received, in the words both versions share."""

    kind: str  # boot, status, started, meter, ended
    connector: int | None = None
    status: str | None = None  # Available, Unavailable, ... (boot: its reason, 2.0.1)
    id_tag: str | None = None
    transaction_id: str | None = None
    remote_start_id: int | None = None
    reason: str | None = None  # the stop reason


class Recorder:
    """What the test central system received, and a wait for what it has not yet."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._arrived = asyncio.Event()

    def record(self, seen: Seen) -> None:
        self.seen.append(seen)
        self._arrived.set()

    def mark(self) -> int:
        return len(self.seen)

    def find(self, kind: str, after: int = 0, **fields: Any) -> list[tuple[int, Seen]]:
        return [
            (position, seen)
            for position, seen in enumerate(self.seen)
            if position >= after
            and seen.kind == kind
            and all(getattr(seen, name) == value for name, value in fields.items())
        ]

    async def expect(self, kind: str, after: int = 0, **fields: Any) -> tuple[int, Seen]:
        """The first message of `kind` with `fields` received at or after position `after`."""
        async with asyncio.timeout(WAIT):
            while not (found := self.find(kind, after, **fields)):
                self._arrived.clear()
                await self._arrived.wait()
        return found[0]


class CentralSystem16(ChargePoint16):
    def __init__(self, ocpp_id: str, connection: Any) -> None:
        super().__init__(ocpp_id, connection, response_timeout=WAIT)
        self.recorder = Recorder()
        self._transaction_ids = itertools.count(1)

    @on("BootNotification")
    def on_boot_notification(self, **_: Any) -> result16.BootNotification:
        self.recorder.record(Seen("boot"))
        return result16.BootNotification(current_time=now_iso(), interval=300, status="Accepted")

    @on("Heartbeat")
    def on_heartbeat(self) -> result16.Heartbeat:
        return result16.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    def on_status_notification(self, connector_id: int, status: str, **_: Any) -> result16.StatusNotification:
        self.recorder.record(Seen("status", connector_id, status))
        return result16.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_tag: str) -> result16.Authorize:
        return result16.Authorize(id_tag_info={"status": "Invalid"})

    @on("StartTransaction")
    def on_start_transaction(self, connector_id: int, id_tag: str, **_: Any) -> result16.StartTransaction:
        transaction_id = next(self._transaction_ids)
        self.recorder.record(Seen("started", connector_id, id_tag=id_tag, transaction_id=str(transaction_id)))
        return result16.StartTransaction(transaction_id=transaction_id, id_tag_info={"status": "Accepted"})

    @on("MeterValues")
    def on_meter_values(self, connector_id: int, transaction_id: int, **_: Any) -> result16.MeterValues:
        self.recorder.record(Seen("meter", connector_id, transaction_id=str(transaction_id)))
        return result16.MeterValues()

    @on("StopTransaction")
    def on_stop_transaction(
        self, transaction_id: int, reason: str = "Local", **_: Any
    ) -> result16.StopTransaction:
        self.recorder.record(Seen("ended", transaction_id=str(transaction_id), reason=reason))
        return result16.StopTransaction()


class CentralSystem201(ChargePoint201):
    def __init__(self, ocpp_id: str, connection: Any) -> None:
        super().__init__(ocpp_id, connection, response_timeout=WAIT)
        self.recorder = Recorder()

    @on("BootNotification")
    def on_boot_notification(self, reason: str, **_: Any) -> result201.BootNotification:
        self.recorder.record(Seen("boot", status=reason))
        return result201.BootNotification(current_time=now_iso(), interval=300, status="Accepted")

    @on("Heartbeat")
    def on_heartbeat(self) -> result201.Heartbeat:
        return result201.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    def on_status_notification(
        self, evse_id: int, connector_status: str, **_: Any
    ) -> result201.StatusNotification:
        self.recorder.record(Seen("status", evse_id, connector_status))
        return result201.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token: dict[str, str], **_: Any) -> result201.Authorize:
        return result201.Authorize(id_token_info={"status": "Invalid"})

    @on("TransactionEvent")
    def on_transaction_event(
        self,
        event_type: str,
        transaction_info: dict[str, Any],
        evse: dict[str, int] | None = None,
        id_token: dict[str, str] | None = None,
        meter_value: list[Any] | None = None,
        **_: Any,
    ) -> result201.TransactionEvent:
        transaction_id = transaction_info["transaction_id"]
        if event_type == "Started":
            assert evse is not None and id_token is not None
            self.recorder.record(
                Seen(
                    "started",
                    evse["id"],
                    id_tag=id_token["id_token"],
                    transaction_id=transaction_id,
                    remote_start_id=transaction_info.get("remote_start_id"),
                )
            )
        elif event_type == "Ended":
            self.recorder.record(
                Seen("ended", transaction_id=transaction_id, reason=transaction_info["stopped_reason"])
            )
        elif meter_value:
            self.recorder.record(Seen("meter", transaction_id=transaction_id))
        if id_token is not None:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()


class Commands16:
    """The central system's commands in OCPP 1.6, and the words of its answers."""

    version = "1.6"
    central_system = CentralSystem16
    reset_reason = "SoftReset"

    def remote_start(self, connector: int, remote_start_id: int) -> Any:
        return call16.RemoteStartTransaction(id_tag=REMOTE_TAG, connector_id=connector)

    def remote_stop(self, transaction_id: str) -> Any:
        return call16.RemoteStopTransaction(transaction_id=int(transaction_id))

    def unknown_transaction(self) -> str:
        return "999"

    def availability(self, connector: int | None, operative: bool) -> Any:
        kind = "Operative" if operative else "Inoperative"
        return call16.ChangeAvailability(connector_id=connector or 0, type=kind)

    def reset(self) -> Any:
        return call16.Reset(type="Soft")

    def unlock(self, connector: int) -> Any:
        return call16.UnlockConnector(connector_id=connector)


class Commands201:
    version = "2.0.1"
    central_system = CentralSystem201
    reset_reason = "ImmediateReset"

    def remote_start(self, connector: int, remote_start_id: int) -> Any:
        return call201.RequestStartTransaction(
            id_token={"id_token": REMOTE_TAG, "type": "Central"},
            remote_start_id=remote_start_id,
            evse_id=connector,
        )

    def remote_stop(self, transaction_id: str) -> Any:
        return call201.RequestStopTransaction(transaction_id=transaction_id)

    def unknown_transaction(self) -> str:
        return "not-a-transaction-of-this-station"

    def availability(self, connector: int | None, operative: bool) -> Any:
        return call201.ChangeAvailability(
            operational_status="Operative" if operative else "Inoperative",
            evse=None if connector is None else {"id": connector},
        )

    def reset(self) -> Any:
        return call201.Reset(type="Immediate")

    def unlock(self, connector: int) -> Any:
        return call201.UnlockConnector(evse_id=connector, connector_id=1)


@dataclass
class Station:
    """The simulated charger as its central system sees it: send it commands, watch what it sends."""

    commands: Commands16 | Commands201
    central: CentralSystem16 | CentralSystem201
    stop: asyncio.Event
    run: asyncio.Task[Stats]

    @property
    def recorder(self) -> Recorder:
        return self.central.recorder

    async def send(self, command: Any) -> str:
        """Send `command` from outside the receive loop, as cpms does; the status answered."""
        answer = await self.central.call(command, suppress=False)
        return answer.status  # type: ignore[no-any-return]

    async def remote_start(self, connector: int, remote_start_id: int = 7) -> Seen:
        """A remote start accepted and its transaction started."""
        mark = self.recorder.mark()
        assert await self.send(self.commands.remote_start(connector, remote_start_id)) == "Accepted"
        _, started = await self.recorder.expect("started", mark, connector=connector)
        return started

    async def stopped(self) -> Stats:
        """End the simulation as Ctrl-C does; its figures."""
        self.stop.set()
        return await self.run


@pytest.fixture(params=["1.6", "2.0.1"])
async def station(request: pytest.FixtureRequest) -> AsyncIterator[Station]:
    """One simulated charger with two connectors, booted and every connector reported."""
    commands = Commands16() if request.param == "1.6" else Commands201()
    connected: asyncio.Future[CentralSystem16 | CentralSystem201] = asyncio.get_running_loop().create_future()

    async def central_system(connection: Any) -> None:
        central = commands.central_system(connection.request.path.rsplit("/", 1)[-1], connection)
        if not connected.done():  # the charger connects once
            connected.set_result(central)
        with contextlib.suppress(ConnectionClosed):  # the charger leaves at the end of the run
            await central.start()

    subprotocol = "ocpp1.6" if commands.version == "1.6" else "ocpp2.0.1"
    async with websockets.serve(central_system, "127.0.0.1", 0, subprotocols=[subprotocol]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        stop = asyncio.Event()
        run = asyncio.create_task(
            simulate(
                f"ws://127.0.0.1:{port}/ocpp",
                ["SIM-0001"],
                connectors=2,
                pause=PAUSE,
                duration=600,
                report_every=None,
                id_tags=[DRIVER_CARD],
                unknown_tag_share=0.0,
                ocpp_version=commands.version,
                stop=stop,
            )
        )
        try:
            central = await asyncio.wait_for(connected, WAIT)
            station = Station(commands, central, stop, run)
            await station.recorder.expect("status", connector=2)  # the boot's last
            yield station
        finally:
            stop.set()
            stats = await run
        assert (stats.failed, stats.lost) == (0, 0), stats.errors


async def test_a_remote_start_begins_a_transaction_with_its_id_tag_on_its_connector(station: Station) -> None:
    started = await station.remote_start(connector=1, remote_start_id=41)
    assert (started.connector, started.id_tag) == (1, REMOTE_TAG)
    if station.commands.version == "2.0.1":
        assert started.remote_start_id == 41

    # It charges as the drivers' sessions do, and ends by itself after a while.
    position, ended = await station.recorder.expect("ended", transaction_id=started.transaction_id)
    assert ended.reason == "Local"
    assert station.recorder.find("meter", transaction_id=started.transaction_id)
    await station.recorder.expect("status", position, connector=1, status="Available")


async def test_a_remote_start_on_a_busy_connector_is_rejected(station: Station) -> None:
    started = await station.remote_start(connector=1)
    assert await station.send(station.commands.remote_start(1, 8)) == "Rejected"
    assert await station.send(station.commands.remote_start(3, 9)) == "Rejected"  # no such connector

    await station.recorder.expect("ended", transaction_id=started.transaction_id)
    # One transaction at a time on a connector: none began there while it ran.
    assert [seen.transaction_id for _, seen in station.recorder.find("started", connector=1)] == [
        started.transaction_id
    ]


async def test_a_remote_stop_ends_the_transaction_with_reason_remote(station: Station) -> None:
    started = await station.remote_start(connector=2)
    assert started.transaction_id is not None

    assert await station.send(station.commands.remote_stop(started.transaction_id)) == "Accepted"
    position, ended = await station.recorder.expect("ended", transaction_id=started.transaction_id)
    assert ended.reason == "Remote"
    await station.recorder.expect("status", position, connector=2, status="Available")


async def test_a_remote_stop_of_a_transaction_the_charger_does_not_have_is_rejected(station: Station) -> None:
    unknown = station.commands.unknown_transaction()
    assert await station.send(station.commands.remote_stop(unknown)) == "Rejected"


async def test_an_inoperative_connector_is_unavailable_until_operative_again(station: Station) -> None:
    mark = station.recorder.mark()
    assert await station.send(station.commands.availability(2, operative=False)) == "Accepted"
    position, _ = await station.recorder.expect("status", mark, connector=2, status="Unavailable")

    assert await station.send(station.commands.remote_start(2, 10)) == "Rejected"
    await asyncio.sleep(4 * PAUSE)  # drivers keep coming to connector 1, none to connector 2
    assert station.recorder.find("status", position + 1, connector=2) == []

    mark = station.recorder.mark()
    assert await station.send(station.commands.availability(2, operative=True)) == "Accepted"
    await station.recorder.expect("status", mark, connector=2, status="Available")


async def test_availability_asked_while_charging_is_scheduled_until_the_transaction_ends(
    station: Station,
) -> None:
    started = await station.remote_start(connector=1)
    assert started.transaction_id is not None

    mark = station.recorder.mark()
    assert await station.send(station.commands.availability(None, operative=False)) == "Scheduled"
    await station.recorder.expect("status", mark, connector=2, status="Unavailable")  # idle: at once
    assert station.recorder.find("status", mark, connector=1, status="Unavailable") == []  # charging

    assert await station.send(station.commands.remote_stop(started.transaction_id)) == "Accepted"
    position, _ = await station.recorder.expect("ended", transaction_id=started.transaction_id)
    await station.recorder.expect("status", position, connector=1, status="Unavailable")
    assert not station.recorder.find("status", position, connector=1, status="Available")
    assert await station.send(station.commands.remote_start(1, 11)) == "Rejected"


async def test_a_reset_stops_the_transactions_and_boots_again(station: Station) -> None:
    started = await station.remote_start(connector=1)

    mark = station.recorder.mark()
    assert await station.send(station.commands.reset()) == "Accepted"
    position, ended = await station.recorder.expect("ended", mark, transaction_id=started.transaction_id)
    assert ended.reason == station.commands.reset_reason
    boot, booted = await station.recorder.expect("boot", position)
    if station.commands.version == "2.0.1":
        assert booted.status == "RemoteReset"
    for connector in (1, 2):
        await station.recorder.expect("status", boot, connector=connector, status="Available")

    started = await station.remote_start(connector=1)  # and it works as before
    assert started.id_tag == REMOTE_TAG


@pytest.mark.parametrize("station", ["2.0.1"], indirect=True)
async def test_a_reset_on_idle_waits_for_the_transaction_to_end(station: Station) -> None:
    started = await station.remote_start(connector=1)
    assert started.transaction_id is not None

    mark = station.recorder.mark()
    assert await station.send(call201.Reset(type="OnIdle")) == "Scheduled"
    assert await station.send(station.commands.remote_start(2, 12)) == "Rejected"  # nothing new starts
    assert station.recorder.find("boot", mark) == []

    assert await station.send(station.commands.remote_stop(started.transaction_id)) == "Accepted"
    position, ended = await station.recorder.expect("ended", mark, transaction_id=started.transaction_id)
    assert ended.reason == "Remote"
    await station.recorder.expect("boot", position)


async def test_unlocking_a_connector_is_answered_unlocked(station: Station) -> None:
    assert await station.send(station.commands.unlock(2)) == "Unlocked"


async def test_the_end_of_the_run_stops_remote_started_transactions_and_counts_the_commands(
    station: Station,
) -> None:
    started = await station.remote_start(connector=1)
    assert (
        await station.send(station.commands.remote_stop(station.commands.unknown_transaction())) == "Rejected"
    )
    assert await station.send(station.commands.availability(2, operative=False)) == "Accepted"

    stats = await station.stopped()

    _, ended = await station.recorder.expect("ended", transaction_id=started.transaction_id)
    assert ended.reason == "Other"
    assert stats.completed == stats.started == 1
    assert dict(stats.commands) == {"remote start": 1, "remote stop": 1, "availability": 1}
    assert "; commands answered: 3 (remote start 1, remote stop 1, availability 1); " in stats.summary(1.0)
