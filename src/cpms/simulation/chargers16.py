"""A simulated OCPP 1.6 charge point: the `ocpp` package's ChargePoint sending what a real one does.

A session: Preparing, Authorize, StartTransaction, Charging, MeterValues, StopTransaction,
Finishing, Available. Like a real 1.6 charger, it does not start when Authorize is not Accepted
(the driver unplugs), and stops at once a transaction whose start was not Accepted
(StopTransactionOnInvalidId, true by default).

It answers RemoteStartTransaction (a session with the idTag given, no Authorize),
RemoteStopTransaction (stop reason Remote), ChangeAvailability (connector 0: all of them),
Reset (transactions stopped with SoftReset or HardReset, then a BootNotification) and
UnlockConnector (its transaction stopped with UnlockCommand first).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    ChargePointErrorCode,
    ChargePointStatus,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    UnlockStatus,
)

from cpms.simulation.charger import SimulatedCharger, Transaction, Visit
from cpms.timestamps import now_iso

SUBPROTOCOL = "ocpp1.6"


class Charger16(SimulatedCharger, ChargePoint):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._starting: dict[str, Transaction] = {}  # by the unique id of their StartTransaction

    async def route_message(self, raw_msg: str) -> None:
        """As the `ocpp` package's, but the answer to a StartTransaction gives its transaction the
        central system's id at once, as a real charger takes it before reading on: a
        RemoteStopTransaction right behind it is handled before the session resumes, and must find
        the transaction by that id."""
        if self._starting:
            with contextlib.suppress(OCPPError):  # a frame it cannot read is the package's to log
                message = unpack(raw_msg)
                if (
                    message.message_type_id == MessageType.CallResult
                    and isinstance(message.payload, dict)
                    and (transaction := self._starting.get(str(message.unique_id))) is not None
                ):
                    transaction.transaction_id = message.payload.get("transactionId")
        await super().route_message(raw_msg)

    async def boot_notification(self, *, reset: bool) -> Any:
        return await self.send(
            call.BootNotification(
                charge_point_vendor="cpms-sim",
                charge_point_model="Simulated AC 22",
                charge_point_serial_number=f"SN-{self.id}",
                firmware_version="1.0.0",
            )
        )

    async def heartbeat(self) -> None:
        await self.send(call.Heartbeat())

    async def status(self, connector: int, status: ChargePointStatus) -> None:
        await self.send(
            call.StatusNotification(
                connector_id=connector,
                error_code=ChargePointErrorCode.no_error,
                status=status,
                timestamp=now_iso(),
            )
        )

    async def report(self, connector: int) -> None:
        operative = self.connectors[connector].operative
        await self.status(
            connector, ChargePointStatus.available if operative else ChargePointStatus.unavailable
        )

    async def plug_in_and_out(self, visit: Visit) -> None:
        await self.status(visit.connector, ChargePointStatus.preparing)
        await self.wait()
        if self.may_start(visit):
            visit.waiting = False
            for status in (ChargePointStatus.charging, ChargePointStatus.finishing):
                if not self.holds(visit):  # made Inoperative, or reset
                    return
                await self.status(visit.connector, status)
                await self.wait()
        await self.leave(visit)

    async def charge(self, visit: Visit, id_tag: str) -> None:
        await self.status(visit.connector, ChargePointStatus.preparing)
        await self.wait()
        if not self.may_start(visit):  # taken over by a remote start, made Inoperative, or reset
            await self.leave(visit)
            return
        authorized = await self.send(call.Authorize(id_tag=id_tag))
        if authorized.id_tag_info["status"] != AuthorizationStatus.accepted:
            self.stats.refused += 1
            await self.wait()
            await self.leave(visit)  # the driver gave up
        elif self.may_start(visit):
            await self.session(visit, id_tag)
        else:
            await self.leave(visit)

    async def remote_session(self, visit: Visit, id_tag: str) -> None:
        """What a remote start brings: the cable in and a transaction with `id_tag`, no Authorize."""
        if self.holds(visit):
            await self.status(visit.connector, ChargePointStatus.preparing)
        if self.may_start(visit):
            await self.session(visit, id_tag)
        else:
            await self.leave(visit)

    async def session(self, visit: Visit, id_tag: str) -> None:
        """A transaction on the visit's connector, from StartTransaction until the cable is out."""
        transaction = self.open_transaction(visit, id_tag)
        unique_id = str(uuid.uuid4())
        self._starting[unique_id] = transaction
        try:
            started = await self.send(
                call.StartTransaction(
                    connector_id=visit.connector,
                    id_tag=id_tag,
                    meter_start=int(transaction.meter_start),
                    timestamp=now_iso(),
                ),
                unique_id=unique_id,
            )
        finally:
            del self._starting[unique_id]
        transaction.transaction_id = started.transaction_id
        if started.id_tag_info["status"] != AuthorizationStatus.accepted:
            self.stats.refused += 1
            await self.stop_transaction(transaction, reason="DeAuthorized", completed=False)
        else:
            self.stats.started += 1
            transaction.counted = True
            if self.holds(visit):
                await self.status(visit.connector, ChargePointStatus.charging)
            reason = await self.charge_until_stopped(transaction)
            await self.stop_transaction(transaction, reason=reason or "Local")
        if self.holds(visit):
            await self.status(visit.connector, ChargePointStatus.finishing)
            await self.wait()
        await self.leave(visit)

    async def meter_values(self, transaction: Transaction) -> None:
        await self.send(
            call.MeterValues(
                connector_id=transaction.connector,
                transaction_id=transaction.transaction_id,
                meter_value=[
                    {
                        "timestamp": now_iso(),
                        "sampled_value": [
                            _sample("Energy.Active.Import.Register", f"{transaction.reading():.0f}", "Wh"),
                            _sample("Power.Active.Import", f"{transaction.power_sample():.0f}", "W"),
                        ],
                    }
                ],
            )
        )

    async def stop_transaction(
        self, transaction: Transaction, *, reason: str, completed: bool = True
    ) -> None:
        if transaction.transaction_id is None:  # its StartTransaction was never answered
            self.close_transaction(transaction, transaction.meter_start)
            return
        meter_stop = transaction.reading()  # the register keeps the Wh fraction 1.6 cannot send
        await self.send(
            call.StopTransaction(
                transaction_id=transaction.transaction_id,
                meter_stop=int(meter_stop),
                timestamp=now_iso(),
                id_tag=transaction.id_tag,
                reason=reason,
            )
        )
        self.close_transaction(transaction, meter_stop)
        self.stats.completed += completed and transaction.counted

    # Commands from the central system: answered at once, acted on once the answer is sent.

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, call_unique_id: str, connector_id: int | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        visit = self.take_for_remote_start(connector_id)
        if visit is None:
            self.answer(call_unique_id, "remote start")
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        self.answer(
            call_unique_id, "remote start", lambda: self.attend(visit, self.remote_session(visit, id_tag))
        )
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(
        self, transaction_id: int, call_unique_id: str, **_: Any
    ) -> call_result.RemoteStopTransaction:
        self.answer(call_unique_id, "remote stop")  # its session stops it
        stopping = self.ask_to_stop(transaction_id, "Remote")
        return call_result.RemoteStopTransaction(
            status=RemoteStartStopStatus.accepted if stopping else RemoteStartStopStatus.rejected
        )

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, call_unique_id: str, **_: Any
    ) -> call_result.ChangeAvailability:
        if connector_id != 0 and connector_id not in self.connectors:
            self.answer(call_unique_id, "availability")
            return call_result.ChangeAvailability(status=AvailabilityStatus.rejected)
        scheduled, report = self.change_availability(
            list(self.connectors) if connector_id == 0 else [connector_id],
            operative=type == AvailabilityType.operative,
        )
        self.answer(call_unique_id, "availability", lambda: self.report_free(report))
        return call_result.ChangeAvailability(
            status=AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted
        )

    @after(Action.change_availability)
    def after_change_availability(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.reset)
    def on_reset(self, type: str, call_unique_id: str, **_: Any) -> call_result.Reset:
        if not self.acting:
            self.answer(call_unique_id, "reset")
            return call_result.Reset(status=ResetStatus.rejected)
        reboot = self.begin_reset("HardReset" if type == ResetType.hard else "SoftReset")
        self.answer(call_unique_id, "reset", self.reboot if reboot else None)
        return call_result.Reset(status=ResetStatus.accepted)

    @after(Action.reset)
    def after_reset(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.unlock_connector)
    def on_unlock_connector(
        self, connector_id: int, call_unique_id: str, **_: Any
    ) -> call_result.UnlockConnector:
        self.answer(call_unique_id, "unlock")
        if connector_id not in self.connectors:
            return call_result.UnlockConnector(status=UnlockStatus.unlock_failed)
        transaction = self.transactions.get(connector_id)
        if transaction is not None:  # the cable comes out: its session stops it
            transaction.ask_to_stop("UnlockCommand")
        return call_result.UnlockConnector(status=UnlockStatus.unlocked)

    @after(Action.unlock_connector)
    def after_unlock_connector(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)


def _sample(measurand: str, value: str, unit: str) -> dict[str, Any]:
    return {"value": value, "context": "Sample.Periodic", "measurand": measurand, "unit": unit}
