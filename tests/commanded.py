"""Test chargers that answer the central system's commands as real ones do (OCPP 1.6 and 2.0.1),
built on the `ocpp` package's ChargePoint: a remote start begins a transaction, a remote stop ends
it, availability changes the status. They act after answering, from a task, as OCPP requires.

Each CALL is handled in a task of its own, so the receive loop keeps reading while an answer is
delayed (`delay`): the log of `arrived`/`answered` then shows whether the central system ever
had two CALLs outstanding on one connection. `answers` overrides a status; a `silent` action is
never answered.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any

import orjson
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from cpms.timestamps import to_iso
from tests.support import Charger
from tests.support201 import Station201


def now() -> str:
    return to_iso(datetime.now(UTC))


class Commanded:
    """What both versions share: the log of CALLs, overrides, tasks started after answering."""

    def _commanded(self) -> None:
        # (arrived|answered, station, action); two chargers may share one list to show the order
        self.log: list[tuple[str, str, str]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, str] = {}
        self.silent: set[str] = set()
        self.delay = 0.0
        self.meter_wh = 10_000
        self._tasks: set[asyncio.Task[Any]] = set()

    async def route_message(self, raw_msg: str) -> None:
        frame = orjson.loads(raw_msg)
        if frame[0] != 2:
            await super().route_message(raw_msg)  # type: ignore[misc]
            return
        action = frame[2]
        self.log.append(("arrived", self.id, action))
        self.requests.append((action, frame[3]))
        if action in self.silent:
            return
        self.later(self._answer(raw_msg, action))

    async def _answer(self, raw_msg: str, action: str) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.log.append(("answered", self.id, action))
        await super().route_message(raw_msg)  # type: ignore[misc]

    def later(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def status_for(self, action: str, default: str) -> str:
        return self.answers.get(action, default)

    async def settle(self) -> None:
        """Wait for the work started after answering."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class Commanded16(Commanded, Charger):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commanded()
        self.transactions: dict[int, int] = {}  # connector -> transaction id

    @on(Action16.remote_start_transaction)
    async def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> Any:
        status = self.status_for("RemoteStartTransaction", "Accepted")
        if status == "Accepted":
            self.later(self.begin(connector_id or 1, id_tag))
        return result16.RemoteStartTransaction(status=status)

    async def begin(self, connector_id: int, id_tag: str) -> Any:
        await self.status(connector_id, "Preparing", now())
        started = await self.start_transaction(
            connector_id, id_tag, meter_start=self.meter_wh, timestamp=now()
        )
        if started.id_tag_info["status"] == "Accepted":
            self.transactions[connector_id] = started.transaction_id
            await self.status(connector_id, "Charging", now())
        return started

    @on(Action16.remote_stop_transaction)
    async def on_remote_stop(self, transaction_id: int, **_: Any) -> Any:
        connector = next((c for c, t in self.transactions.items() if t == transaction_id), None)
        status = self.status_for("RemoteStopTransaction", "Accepted" if connector else "Rejected")
        if status == "Accepted" and connector is not None:
            self.later(self.end(connector, "Remote"))
        return result16.RemoteStopTransaction(status=status)

    async def end(self, connector_id: int, reason: str) -> None:
        transaction_id = self.transactions.pop(connector_id)
        self.meter_wh += 4_000
        await self.stop(transaction_id, self.meter_wh, now(), reason=reason)
        await self.status(connector_id, "Finishing", now())

    @on(Action16.change_availability)
    async def on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        status = self.status_for("ChangeAvailability", "Accepted")
        if status == "Accepted":
            word = "Available" if type == "Operative" else "Unavailable"
            connectors = [connector_id] if connector_id else [1, 2]
            self.later(self._statuses(connectors, word))
        return result16.ChangeAvailability(status=status)

    async def _statuses(self, connectors: list[int], word: str) -> None:
        for connector in connectors:
            await self.status(connector, word, now())

    @on(Action16.reset)
    async def on_reset(self, type: str, **_: Any) -> Any:
        return result16.Reset(status=self.status_for("Reset", "Accepted"))

    @on(Action16.unlock_connector)
    async def on_unlock(self, connector_id: int, **_: Any) -> Any:
        return result16.UnlockConnector(status=self.status_for("UnlockConnector", "Unlocked"))


class Commanded201(Commanded, Station201):
    _ids = itertools.count(1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commanded()
        self.transactions: dict[int, str] = {}  # EVSE -> transaction id

    @on(Action201.request_start_transaction)
    async def on_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> Any:
        status = self.status_for("RequestStartTransaction", "Accepted")
        if status == "Accepted":
            self.later(self.begin(evse_id or 1, id_token, remote_start_id))
        return result201.RequestStartTransaction(status=status)

    async def begin(self, evse_id: int, id_token: dict[str, Any], remote_start_id: int | None) -> Any:
        await self.status(evse_id, "Occupied", now())
        transaction_id = f"TX-{self.id}-{next(self._ids)}"
        self.transactions[evse_id] = transaction_id
        info: dict[str, Any] = {"transaction_id": transaction_id, "charging_state": "Charging"}
        if remote_start_id is not None:
            info["remote_start_id"] = remote_start_id
        return await self._event("Started", "RemoteStart", info, evse_id, id_token, self.meter_wh)

    async def _event(
        self,
        event_type: str,
        trigger: str,
        info: dict[str, Any],
        evse_id: int,
        id_token: dict[str, Any] | None,
        meter_wh: int,
    ) -> Any:
        seq_no, self.seq = self.seq, self.seq + 1
        sample = {
            "value": meter_wh,
            "measurand": "Energy.Active.Import.Register",
            "unit_of_measure": {"unit": "Wh"},
        }
        return await self.call(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=now(),
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info=info,
                id_token=id_token,
                evse={"id": evse_id, "connector_id": 1},
                meter_value=[{"timestamp": now(), "sampled_value": [sample]}],
            ),
            suppress=False,
        )

    @on(Action201.request_stop_transaction)
    async def on_request_stop(self, transaction_id: str, **_: Any) -> Any:
        evse = next((e for e, t in self.transactions.items() if t == transaction_id), None)
        status = self.status_for("RequestStopTransaction", "Accepted" if evse else "Rejected")
        if status == "Accepted" and evse is not None:
            self.later(self.end(evse))
        return result201.RequestStopTransaction(status=status)

    async def end(self, evse_id: int) -> None:
        transaction_id = self.transactions.pop(evse_id)
        self.meter_wh += 4_000
        info = {"transaction_id": transaction_id, "stopped_reason": "Remote", "charging_state": "EVConnected"}
        await self._event("Ended", "RemoteStop", info, evse_id, None, self.meter_wh)

    @on(Action201.change_availability)
    async def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        status = self.status_for("ChangeAvailability", "Accepted")
        if status == "Accepted":
            word = "Available" if operational_status == "Operative" else "Unavailable"
            evses = [evse["id"]] if evse else [1, 2]
            self.later(self._statuses(evses, word))
        return result201.ChangeAvailability(status=status)

    async def _statuses(self, evses: list[int], word: str) -> None:
        for evse_id in evses:
            await self.status(evse_id, word, now())

    @on(Action201.reset)
    async def on_reset(self, type: str, **_: Any) -> Any:
        return result201.Reset(status=self.status_for("Reset", "Accepted"))

    @on(Action201.unlock_connector)
    async def on_unlock(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        return result201.UnlockConnector(status=self.status_for("UnlockConnector", "Unlocked"))
