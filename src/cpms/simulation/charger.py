"""What every simulated charger does, whatever its OCPP version: count its calls, use each of its
connectors in turn (a charging session with a card, or a plug in and out without one), keep an
energy register per connector, answer the central system's commands (remote start and stop,
availability, reset, unlock) and stop what is open when the simulation ends.

The version-specific messages are in `chargers16.py` and `chargers201.py`.

A connector is used by one visit at a time: a car from plugging in to unplugging, a driver's or one
a remote start brought. A command changes the state at once, in its `@on` handler, and what follows
is sent from a task once the answer is: a visit checks, before each step, that the connector is
still its own (a remote start may take over a car waiting for a card; Inoperative or a reset ends
a visit with no transaction), and a transaction asked to stop (remote stop, reset, unlock) is
stopped by its own session, with the reason asked.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import ocpp.messages
from ocpp.exceptions import OCPPError

from cpms.simulation.stats import Command, Stats

RESPONSE_TIMEOUT = 30  # seconds a charger waits for the answer to a CALL
LATE_ANSWER = "Ignoring response with unknown unique id"
# Seconds before a driver comes back to a connector they could not use (Inoperative, taken by a
# remote start, or rebooting): with no pause (load tests) they would otherwise spin.
COME_BACK = 1.0


def _not_late_answers(record: logging.LogRecord) -> bool:
    """An answer arriving after its CALL was given up (timed out, or cancelled when the time was
    up) is expected here, and `ocpp` would log each as an error."""
    return not str(record.msg).startswith(LATE_ANSWER)


log = logging.getLogger(__name__)
log.addFilter(_not_late_answers)

# As in the gateway (`cpms.gateway.framing`): a schema check takes microseconds, and handing each
# to a thread pool costs more than it saves. Set here too, so that the chargers' cost per message
# does not depend on whether something else imported the gateway first.
ocpp.messages.ASYNC_VALIDATION = False

POWERS_W = (3_700, 7_400, 11_000, 22_000)  # what an AC connector draws, by the car's charger
# A register starts at 7 Wh for every second since 2025: more than a 22 kW connector (6.1 Wh/s)
# can deliver, so a later run of the same charger continues above any reading of an earlier one.
REGISTER_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z
REGISTER_WH_PER_S = 7

FollowUp = Callable[[], Awaitable[None]]


@dataclass
class Transaction:
    """A transaction open on a connector; its meter reads energy flowing at `power_w` since `since`."""

    connector: int
    id_tag: str
    meter_start: float  # Wh
    power_w: float
    since: float  # time.monotonic()
    transaction_id: int | str | None = None  # the central system's (1.6) or the charger's (2.0.1)
    seq_no: int = 0  # 2.0.1: the next TransactionEvent's seqNo
    stop_reason: str | None = None  # asked by a command (remote stop, reset, unlock): its session stops
    stop_asked: asyncio.Event = field(default_factory=asyncio.Event)
    # Counted in the statistics as started: only such a one counts as completed when stopped, so a
    # transaction whose start was still unanswered when the run ended is neither.
    counted: bool = False

    def reading(self) -> float:
        """The energy register now, in Wh."""
        return self.meter_start + self.power_w * (time.monotonic() - self.since) / 3600

    def power_sample(self) -> float:
        """The power the meter measures now: what the car draws, give or take."""
        return self.power_w * random.uniform(0.97, 1.03)

    def ask_to_stop(self, reason: str) -> None:
        """The first reason asked is the one its session stops with."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_asked.set()


@dataclass(eq=False)
class Visit:
    """A car at a connector, from plugging in to unplugging: a driver's, or one a remote start brought."""

    connector: int
    # Plugged in, no transaction yet, a driver's: a remote start may take the car over (the driver
    # started from an app instead of with the card).
    waiting: bool = True
    transaction: Transaction | None = None


@dataclass
class Connector:
    """What a charger knows of one of its connectors, besides its transaction."""

    operative: bool = True
    scheduled: bool | None = None  # the availability to take when its transaction ends (Scheduled)
    visit: Visit | None = None  # the car there, if any


class Retired(Exception):
    """A charger's cycle tried to send a CALL after the simulation's time was up."""


class Cards:
    """The cards drivers present: one of `known` or, for a share of sessions, one nobody knows."""

    def __init__(self, known: list[str], unknown_share: float) -> None:
        self.known = known
        self.unknown_share = unknown_share
        self._known = {uid.upper() for uid in known}

    def pick(self) -> str:
        if random.random() >= self.unknown_share:
            return random.choice(self.known)
        while True:  # a uid like a MIFARE card's, never one of the known
            uid = secrets.token_hex(4).upper()
            if uid not in self._known:
                return uid


class SimulatedCharger(ABC):
    """Mixed in before the `ocpp` package's ChargePoint of one version, which brings `call`."""

    call: Any  # ChargePoint.call
    id: str

    def __init__(
        self,
        ocpp_id: str,
        connection: Any,
        *,
        stats: Stats,
        connectors: int,
        pause: float,
        cards: Cards | None,
    ) -> None:
        super().__init__(ocpp_id, connection, response_timeout=RESPONSE_TIMEOUT, logger=log)  # type: ignore[call-arg]
        self.stats = stats
        self.connectors = {number: Connector() for number in range(1, connectors + 1)}
        self.pause = pause
        self.cards = cards
        self.heartbeat_interval = 300
        start = (time.time() - REGISTER_EPOCH) * REGISTER_WH_PER_S
        self.registers = dict.fromkeys(self.connectors, max(start, 0.0))  # Wh, per connector
        self.transactions: dict[int, Transaction] = {}
        self._idle = asyncio.Event()  # set while no transaction is open (a reset waits for it)
        self._idle.set()
        # Set when the time is up: the cycles stop at their next step. Cancelling them is not
        # enough on Python 3.11, whose `asyncio.wait_for` (inside `ChargePoint.call`) loses a
        # cancellation that comes as the answer arrives; with chargers sending back to back,
        # some always do.
        self.retiring = False
        self.rebooting = False  # from a Reset until booted again: nothing new starts
        self._sending = asyncio.Lock()
        self._tasks: asyncio.TaskGroup | None = None  # while living: the cycles and the follow-ups
        self._answers: dict[str, tuple[Command, FollowUp | None]] = {}  # by the command's unique id

    async def send(self, payload: Any, *, unique_id: str | None = None) -> Any:
        """Send a CALL; count it acknowledged with its latency, or failed (and raise)."""
        if self.retiring:
            raise Retired(self.id)
        async with self._sending:  # one CALL at a time (OCPP); its latency counts from its turn
            started = time.perf_counter()
            try:
                result = await self.call(payload, suppress=False, unique_id=unique_id)
            except (OCPPError, TimeoutError):
                self.stats.failed += 1
                raise
        self.stats.acknowledged(time.perf_counter() - started)
        return result

    async def wait(self) -> None:
        """Time passing between two steps of a driver's or a charger's, about `pause` seconds."""
        if self.retiring:
            raise Retired(self.id)
        await asyncio.sleep(self.pause * random.uniform(0.5, 1.5))

    async def live(self) -> None:
        """Boot, then heartbeat, use every connector and act on commands until cancelled or
        disconnected."""
        try:
            async with asyncio.TaskGroup() as tasks:
                self._tasks = tasks  # first: a command may come as soon as the boot is answered
                await self.boot()
                tasks.create_task(self._heartbeats())
                for connector in self.connectors:
                    tasks.create_task(self._use(connector))
        finally:
            self._tasks = None

    async def end(self) -> None:
        """The simulation is over: stop the transactions still open, as a charger shutting down does."""
        for transaction in list(self.transactions.values()):
            await self.stop_transaction(transaction, reason="Other")

    @property
    def acting(self) -> bool:
        """Whether what a command promises can still be done: living, and the time not up."""
        return self._tasks is not None and not self.retiring

    def open_transaction(self, visit: Visit, id_tag: str) -> Transaction:
        transaction = Transaction(
            connector=visit.connector,
            id_tag=id_tag,
            meter_start=self.registers[visit.connector],
            power_w=random.choice(POWERS_W) * random.uniform(0.85, 1.0),
            since=time.monotonic(),
        )
        self.transactions[visit.connector] = visit.transaction = transaction
        visit.waiting = False
        self._idle.clear()
        return transaction

    def close_transaction(self, transaction: Transaction, meter_stop: float) -> None:
        self.registers[transaction.connector] = meter_stop
        if self.transactions.get(transaction.connector) is transaction:
            del self.transactions[transaction.connector]
            connector = self.connectors[transaction.connector]
            if connector.scheduled is not None:  # a ChangeAvailability answered Scheduled
                connector.operative, connector.scheduled = connector.scheduled, None
        if not self.transactions:
            self._idle.set()

    async def charge_until_stopped(self, transaction: Transaction) -> str | None:
        """Meter values about every `pause` seconds, a few of them, unless a stop is asked first:
        the reason asked, or None when the driver stops as usual."""
        for _ in range(random.randint(2, 4)):
            if not await self._charged_a_while(transaction):
                return transaction.stop_reason
            await self.meter_values(transaction)
        await self._charged_a_while(transaction)
        return transaction.stop_reason

    async def _charged_a_while(self, transaction: Transaction) -> bool:
        """About `pause` seconds of charging; False if a stop is asked meanwhile (at once if it was)."""
        if self.retiring:
            raise Retired(self.id)
        try:
            async with asyncio.timeout(self.pause * random.uniform(0.5, 1.5)):
                await transaction.stop_asked.wait()
        except TimeoutError:
            return True
        return False

    # A visit's steps ask these first.

    def holds(self, visit: Visit) -> bool:
        """Whether the connector is still `visit`'s: not taken over, made Inoperative or reset."""
        return self.connectors[visit.connector].visit is visit

    def may_start(self, visit: Visit) -> bool:
        """Whether `visit` may begin a transaction now."""
        return self.holds(visit) and self.connectors[visit.connector].operative and not self.rebooting

    async def leave(self, visit: Visit) -> None:
        """The car leaves: its connector is reported free, unless it is no longer the visit's (then
        whoever has it reports it)."""
        if self.holds(visit):
            await self.report(visit.connector)

    async def attend(self, visit: Visit, activity: Awaitable[None]) -> None:
        """Run a visit's `activity`; the connector is free again after it, also when a call failed."""
        try:
            await activity
        except (OCPPError, TimeoutError) as error:  # counted by `send`; the next car still comes
            self.stats.error(f"{self.id}: {type(error).__name__}: {error}")
            transaction = visit.transaction
            if transaction is not None and self.transactions.get(visit.connector) is transaction:
                # Left open at the central system, which closes it when the next one starts there.
                self.close_transaction(transaction, transaction.reading())
        finally:
            if self.holds(visit):
                self.connectors[visit.connector].visit = None

    async def _use(self, connector: int) -> None:
        while True:
            await asyncio.sleep(self.pause * random.uniform(0, 2))  # until the next car comes
            state = self.connectors[connector]
            if not state.operative or state.visit is not None or self.rebooting:
                await asyncio.sleep(COME_BACK)
                continue
            visit = state.visit = Visit(connector)
            if self.cards is None:
                await self.attend(visit, self.plug_in_and_out(visit))
            else:
                await self.attend(visit, self.charge(visit, self.cards.pick()))

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.heartbeat()
            except (OCPPError, TimeoutError) as error:
                self.stats.error(f"{self.id}: Heartbeat: {type(error).__name__}: {error}")

    # Commands: what the `@on` handlers of both versions decide, at once and without a CALL.

    def answer(self, call_unique_id: str, command: Command, then: FollowUp | None = None) -> None:
        """Note the answer an `@on` handler is giving: once it is sent (`answered`), the command is
        counted and `then` runs in a task of its own."""
        self._answers[call_unique_id] = (command, then)

    def answered(self, call_unique_id: str) -> None:
        """The `@after` hook of every command."""
        command, then = self._answers.pop(call_unique_id)
        self.stats.commands[command] += 1
        tasks = self._tasks
        if then is None or tasks is None or self.retiring:
            return
        follow_up = self._follow_up(then)
        try:
            tasks.create_task(follow_up)
        except RuntimeError:  # the group is shutting down: the charger is going away
            follow_up.close()

    async def _follow_up(self, then: FollowUp) -> None:
        try:
            await then()
        except (OCPPError, TimeoutError) as error:  # counted by `send`
            self.stats.error(f"{self.id}: {type(error).__name__}: {error}")

    def take_for_remote_start(self, connector: int | None) -> Visit | None:
        """The visit a remote start brings to `connector` (the first free one if None), or None
        when there is no such connector or it is not free: Inoperative, in use, or rebooting."""
        if not self.acting or self.rebooting:
            return None
        for number in list(self.connectors) if connector is None else [connector]:
            state = self.connectors.get(number)
            if (
                state is not None
                and state.operative
                and number not in self.transactions
                and (state.visit is None or state.visit.waiting)
            ):
                state.visit = visit = Visit(number, waiting=False)
                return visit
        return None

    def ask_to_stop(self, transaction_id: int | str, reason: str) -> bool:
        """Ask the open transaction `transaction_id` to stop; False if there is none such."""
        if not self.acting:  # its session is no more: the run's end stops it
            return False
        for transaction in self.transactions.values():
            if transaction.transaction_id == transaction_id:
                transaction.ask_to_stop(reason)
                return True
        return False

    def change_availability(self, connectors: list[int], operative: bool) -> tuple[bool, list[int]]:
        """Make `connectors` operative or not: at once where no transaction runs (a car waiting
        there leaves when Inoperative), when it ends where one does. Whether a change had to be
        scheduled so, and the connectors whose status to report now."""
        scheduled = False
        report = []
        for number in connectors:
            state = self.connectors[number]
            if number in self.transactions:
                state.scheduled = None if state.operative == operative else operative
                scheduled = scheduled or state.scheduled is not None
                continue
            state.operative, state.scheduled = operative, None
            if not operative:
                state.visit = None
            if state.visit is None:
                report.append(number)
        return scheduled, report

    async def report_free(self, connectors: list[int]) -> None:
        """The status of each of `connectors` that no car has come to meanwhile."""
        for number in connectors:
            if self.connectors[number].visit is None:
                await self.report(number)

    def begin_reset(self, stop_reason: str | None) -> bool:
        """A reset: nothing starts any more; the open transactions stop now with `stop_reason`, or
        end by themselves when None (2.0.1 OnIdle). Whether `reboot` must follow (not when a reset
        is already under way: it reboots once)."""
        under_way = self.rebooting
        self.rebooting = True
        if stop_reason is not None:
            for state in self.connectors.values():
                state.visit = None
            for transaction in self.transactions.values():
                transaction.ask_to_stop(stop_reason)
        return not under_way

    async def reboot(self) -> None:
        """Once no transaction is open, boot again."""
        try:
            await self._idle.wait()
            for state in self.connectors.values():
                state.visit = None  # the cars still there are reported by the boot
            await self.boot(reset=True)
        finally:
            self.rebooting = False

    async def boot(self, *, reset: bool = False) -> None:
        """BootNotification, then every connector's status; takes the heartbeat interval given.
        Booted, it takes commands and cars again: a connector one came to meanwhile is its to report."""
        result = await self.boot_notification(reset=reset)
        self.heartbeat_interval = result.interval
        self.rebooting = False
        await self.report_free(list(self.connectors))

    @abstractmethod
    async def boot_notification(self, *, reset: bool) -> Any:
        """The BootNotification's answer."""

    @abstractmethod
    async def heartbeat(self) -> None: ...

    @abstractmethod
    async def report(self, connector: int) -> None:
        """The status of a connector with no car: Available, or Unavailable while Inoperative."""

    @abstractmethod
    async def plug_in_and_out(self, visit: Visit) -> None:
        """A cable in and out with no transaction: the statuses alone (load tests without cards)."""

    @abstractmethod
    async def charge(self, visit: Visit, id_tag: str) -> None:
        """A driver plugs in and presents `id_tag`; a session with meter values if it is accepted."""

    @abstractmethod
    async def meter_values(self, transaction: Transaction) -> None: ...

    @abstractmethod
    async def stop_transaction(self, transaction: Transaction, *, reason: str) -> None:
        """Stop `transaction` at the register's reading now, and count it completed."""
