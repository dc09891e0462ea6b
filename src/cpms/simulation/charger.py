"""What every simulated charger does, whatever its OCPP version: count its calls, use each of its
connectors in turn (a charging session with a card, or a plug in and out without one), keep an
energy register per connector, and stop what is open when the simulation ends.

The version-specific messages are in `chargers16.py` and `chargers201.py`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import ocpp.messages
from ocpp.exceptions import OCPPError

from cpms.simulation.stats import Stats

RESPONSE_TIMEOUT = 30  # seconds a charger waits for the answer to a CALL
LATE_ANSWER = "Ignoring response with unknown unique id"


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

    def reading(self) -> float:
        """The energy register now, in Wh."""
        return self.meter_start + self.power_w * (time.monotonic() - self.since) / 3600

    def power_sample(self) -> float:
        """The power the meter measures now: what the car draws, give or take."""
        return self.power_w * random.uniform(0.97, 1.03)


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
        self.connectors = connectors
        self.pause = pause
        self.cards = cards
        self.heartbeat_interval = 300
        start = (time.time() - REGISTER_EPOCH) * REGISTER_WH_PER_S
        self.registers = dict.fromkeys(range(1, connectors + 1), max(start, 0.0))  # Wh, per connector
        self.transactions: dict[int, Transaction] = {}
        # Set when the time is up: the cycles stop at their next step. Cancelling them is not
        # enough on Python 3.11, whose `asyncio.wait_for` (inside `ChargePoint.call`) loses a
        # cancellation that comes as the answer arrives; with chargers sending back to back,
        # some always do.
        self.retiring = False
        self._sending = asyncio.Lock()

    async def send(self, payload: Any) -> Any:
        """Send a CALL; count it acknowledged with its latency, or failed (and raise)."""
        if self.retiring:
            raise Retired(self.id)
        async with self._sending:  # one CALL at a time (OCPP); its latency counts from its turn
            started = time.perf_counter()
            try:
                result = await self.call(payload, suppress=False)
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
        """Boot, then heartbeat and use every connector until cancelled or disconnected."""
        await self.boot()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._heartbeats())
            for connector in range(1, self.connectors + 1):
                group.create_task(self._use(connector))

    async def end(self) -> None:
        """The simulation is over: stop the transactions still open, as a charger shutting down does."""
        for transaction in list(self.transactions.values()):
            await self.stop_transaction(transaction, reason="Other")

    def open_transaction(self, connector: int, id_tag: str) -> Transaction:
        transaction = Transaction(
            connector=connector,
            id_tag=id_tag,
            meter_start=self.registers[connector],
            power_w=random.choice(POWERS_W) * random.uniform(0.85, 1.0),
            since=time.monotonic(),
        )
        self.transactions[connector] = transaction
        return transaction

    def close_transaction(self, transaction: Transaction, meter_stop: float) -> None:
        self.registers[transaction.connector] = meter_stop
        if self.transactions.get(transaction.connector) is transaction:
            del self.transactions[transaction.connector]

    async def _use(self, connector: int) -> None:
        while True:
            await asyncio.sleep(self.pause * random.uniform(0, 2))  # until the next car comes
            try:
                if self.cards is None:
                    await self.plug_in_and_out(connector)
                else:
                    await self.charge(connector, self.cards.pick())
            except (OCPPError, TimeoutError) as error:  # counted by `send`; the next car still comes
                self.stats.error(f"{self.id}: {type(error).__name__}: {error}")

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.heartbeat()
            except (OCPPError, TimeoutError) as error:
                self.stats.error(f"{self.id}: Heartbeat: {type(error).__name__}: {error}")

    @abstractmethod
    async def boot(self) -> None:
        """BootNotification, then every connector Available; takes the heartbeat interval given."""

    @abstractmethod
    async def heartbeat(self) -> None: ...

    @abstractmethod
    async def plug_in_and_out(self, connector: int) -> None:
        """A cable in and out with no transaction: the statuses alone (load tests without cards)."""

    @abstractmethod
    async def charge(self, connector: int, id_tag: str) -> None:
        """A driver plugs in and presents `id_tag`; a session with meter values if it is accepted."""

    @abstractmethod
    async def stop_transaction(self, transaction: Transaction, *, reason: str) -> None:
        """Stop `transaction` at the register's reading now, and count it completed."""
