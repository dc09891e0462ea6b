"""A simulated OCPP 2.0.1 charging station: the `ocpp` package's ChargePoint, one connector per EVSE.

A session: Occupied, Authorize, TransactionEvent Started (the transaction starts once authorized),
Updated as charging starts and with periodic meter values, Ended when the driver stops with the
card, then Available as the cable comes out. A token that is not Accepted starts nothing.

It answers RequestStartTransaction (a session with the idToken given, triggerReason RemoteStart
and its remoteStartId, no Authorize), RequestStopTransaction (RemoteStop, stoppedReason Remote),
ChangeAvailability (no EVSE: all of them), Reset (Immediate: transactions ended with
ImmediateReset; OnIdle: Scheduled until they end; then a BootNotification) and UnlockConnector.
"""

from __future__ import annotations

import uuid
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    ChangeAvailabilityStatusEnumType,
    ConnectorStatusEnumType,
    OperationalStatusEnumType,
    RequestStartStopStatusEnumType,
    ResetEnumType,
    ResetStatusEnumType,
    UnlockStatusEnumType,
)

from cpms.simulation.charger import SimulatedCharger, Transaction, Visit
from cpms.timestamps import now_iso

SUBPROTOCOL = "ocpp2.0.1"
CONNECTOR = 1  # the connector within each EVSE
# The triggerReason of a TransactionEvent Ended, by the stoppedReason a command asked for.
STOP_TRIGGERS = {"Remote": "RemoteStop", "ImmediateReset": "ResetCommand"}


class Charger201(SimulatedCharger, ChargePoint):
    async def boot_notification(self, *, reset: bool) -> Any:
        return await self.send(
            call.BootNotification(
                charging_station={
                    "vendor_name": "cpms-sim",
                    "model": "Simulated AC 22",
                    "serial_number": f"SN-{self.id}",
                    "firmware_version": "1.0.0",
                },
                reason="RemoteReset" if reset else "PowerUp",
            )
        )

    async def heartbeat(self) -> None:
        await self.send(call.Heartbeat())

    async def status(self, evse: int, status: ConnectorStatusEnumType) -> None:
        await self.send(
            call.StatusNotification(
                timestamp=now_iso(), connector_status=status, evse_id=evse, connector_id=CONNECTOR
            )
        )

    async def report(self, connector: int) -> None:
        operative = self.connectors[connector].operative
        await self.status(
            connector, ConnectorStatusEnumType.available if operative else ConnectorStatusEnumType.unavailable
        )

    async def plug_in_and_out(self, visit: Visit) -> None:
        await self.status(visit.connector, ConnectorStatusEnumType.occupied)
        await self.wait()
        await self.leave(visit)

    async def charge(self, visit: Visit, id_tag: str) -> None:
        await self.status(visit.connector, ConnectorStatusEnumType.occupied)
        await self.wait()
        if not self.may_start(visit):  # taken over by a remote start, made Inoperative, or reset
            await self.leave(visit)
            return
        authorized = await self.send(call.Authorize(id_token=_token(id_tag)))
        if authorized.id_token_info["status"] != AuthorizationStatusEnumType.accepted:
            self.stats.refused += 1
            await self.wait()
            await self.leave(visit)  # the driver gave up
        elif self.may_start(visit):
            await self.session(visit, _token(id_tag), "Authorized")
        else:
            await self.leave(visit)

    async def remote_session(self, visit: Visit, id_token: dict[str, Any], remote_start_id: int) -> None:
        """What a remote start brings: the cable in and a transaction with `id_token`, no Authorize."""
        if self.holds(visit):
            await self.status(visit.connector, ConnectorStatusEnumType.occupied)
        if self.may_start(visit):
            await self.session(visit, id_token, "RemoteStart", remote_start_id=remote_start_id)
        else:
            await self.leave(visit)

    async def session(
        self, visit: Visit, id_token: dict[str, Any], trigger: str, *, remote_start_id: int | None = None
    ) -> None:
        """A transaction on the visit's EVSE, from its start (`trigger`) until the cable is out."""
        transaction = self.open_transaction(visit, id_token["id_token"])
        transaction.transaction_id = str(uuid.uuid4())
        started = await self.event(
            transaction,
            "Started",
            trigger,
            charging_state="EVConnected",
            context="Transaction.Begin",
            remote_start_id=remote_start_id,
            evse={"id": visit.connector, "connector_id": CONNECTOR},
            id_token=id_token,
        )
        if started.id_token_info and started.id_token_info["status"] != AuthorizationStatusEnumType.accepted:
            self.stats.refused += 1
            await self.end_transaction(transaction, "Deauthorized", "DeAuthorized")
        else:
            self.stats.started += 1
            transaction.counted = True
            await self.event(transaction, "Updated", "ChargingStateChanged", charging_state="Charging")
            reason = await self.charge_until_stopped(transaction)
            if reason is None:
                await self.end_transaction(transaction, "StopAuthorized", "Local", id_token=id_token)
            else:
                await self.end_transaction(
                    transaction, STOP_TRIGGERS.get(reason, "AbnormalCondition"), reason
                )
            self.stats.completed += 1
        await self.wait()
        await self.leave(visit)

    async def meter_values(self, transaction: Transaction) -> None:
        await self.event(transaction, "Updated", "MeterValuePeriodic", context="Sample.Periodic")

    async def stop_transaction(self, transaction: Transaction, *, reason: str) -> None:
        await self.end_transaction(transaction, "AbnormalCondition", reason)
        self.stats.completed += transaction.counted

    async def end_transaction(
        self, transaction: Transaction, trigger: str, stopped_reason: str, **fields: Any
    ) -> None:
        meter_stop = transaction.reading()
        await self.event(
            transaction,
            "Ended",
            trigger,
            charging_state="EVConnected",
            stopped_reason=stopped_reason,
            context="Transaction.End",
            meter_wh=meter_stop,
            **fields,
        )
        self.close_transaction(transaction, meter_stop)

    async def event(
        self,
        transaction: Transaction,
        event_type: str,
        trigger: str,
        *,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        context: str | None = None,
        meter_wh: float | None = None,
        remote_start_id: int | None = None,
        **fields: Any,
    ) -> Any:
        """A TransactionEvent of `transaction`, its meter read now when a `context` is given."""
        seq_no, transaction.seq_no = transaction.seq_no, transaction.seq_no + 1
        info = {
            "transaction_id": transaction.transaction_id,
            "charging_state": charging_state,
            "stopped_reason": stopped_reason,
            "remote_start_id": remote_start_id,
        }
        timestamp = now_iso()
        meter_value = None
        if context is not None:
            energy = transaction.reading() if meter_wh is None else meter_wh
            # Whole Wh, as meters read: fractions of a register this large would not survive a float.
            samples = [_sample("Energy.Active.Import.Register", int(energy), "Wh", context)]
            if context == "Sample.Periodic":  # power flows between the start and the end
                samples.append(
                    _sample("Power.Active.Import", round(transaction.power_sample()), "W", context)
                )
            meter_value = [{"timestamp": timestamp, "sampled_value": samples}]
        return await self.send(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=timestamp,
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info={k: v for k, v in info.items() if v is not None},
                meter_value=meter_value,
                **fields,
            )
        )

    # Commands from the central system: answered at once, acted on once the answer is sent.

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        call_unique_id: str,
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.RequestStartTransaction:
        visit = self.take_for_remote_start(evse_id)
        if visit is None:
            self.answer(call_unique_id, "remote start")
            return call_result.RequestStartTransaction(status=RequestStartStopStatusEnumType.rejected)
        self.answer(
            call_unique_id,
            "remote start",
            lambda: self.attend(visit, self.remote_session(visit, id_token, remote_start_id)),
        )
        return call_result.RequestStartTransaction(status=RequestStartStopStatusEnumType.accepted)

    @after(Action.request_start_transaction)
    def after_request_start_transaction(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str, call_unique_id: str, **_: Any
    ) -> call_result.RequestStopTransaction:
        self.answer(call_unique_id, "remote stop")  # its session ends it
        stopping = self.ask_to_stop(transaction_id, "Remote")
        return call_result.RequestStopTransaction(
            status=RequestStartStopStatusEnumType.accepted
            if stopping
            else RequestStartStopStatusEnumType.rejected
        )

    @after(Action.request_stop_transaction)
    def after_request_stop_transaction(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, call_unique_id: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        evses = _evses(list(self.connectors), evse)
        if not evses:
            self.answer(call_unique_id, "availability")
            return call_result.ChangeAvailability(status=ChangeAvailabilityStatusEnumType.rejected)
        scheduled, report = self.change_availability(
            evses, operative=operational_status == OperationalStatusEnumType.operative
        )
        self.answer(call_unique_id, "availability", lambda: self.report_free(report))
        return call_result.ChangeAvailability(
            status=ChangeAvailabilityStatusEnumType.scheduled
            if scheduled
            else ChangeAvailabilityStatusEnumType.accepted
        )

    @after(Action.change_availability)
    def after_change_availability(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.reset)
    def on_reset(
        self, type: str, call_unique_id: str, evse_id: int | None = None, **_: Any
    ) -> call_result.Reset:
        if evse_id is not None or not self.acting:  # resetting one EVSE alone is not supported
            self.answer(call_unique_id, "reset")
            return call_result.Reset(status=ResetStatusEnumType.rejected)
        now = type == ResetEnumType.immediate or not self.transactions
        reboot = self.begin_reset("ImmediateReset" if type == ResetEnumType.immediate else None)
        self.answer(call_unique_id, "reset", self.reboot if reboot else None)
        return call_result.Reset(
            status=ResetStatusEnumType.accepted if now else ResetStatusEnumType.scheduled
        )

    @after(Action.reset)
    def after_reset(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)

    @on(Action.unlock_connector)
    def on_unlock_connector(
        self, evse_id: int, connector_id: int, call_unique_id: str, **_: Any
    ) -> call_result.UnlockConnector:
        self.answer(call_unique_id, "unlock")
        if evse_id not in self.connectors or connector_id != CONNECTOR:
            status = UnlockStatusEnumType.unknown_connector
        elif evse_id in self.transactions:  # 2.0.1 (F05): the CSMS is to stop it first
            status = UnlockStatusEnumType.ongoing_authorized_transaction
        else:
            status = UnlockStatusEnumType.unlocked
        return call_result.UnlockConnector(status=status)

    @after(Action.unlock_connector)
    def after_unlock_connector(self, call_unique_id: str, **_: Any) -> None:
        self.answered(call_unique_id)


def _evses(evses: list[int], asked: dict[str, Any] | None) -> list[int]:
    """The EVSEs a ChangeAvailability is about: all with no EVSE (or EVSE 0, the station), else
    the one asked if it exists (none if not)."""
    if asked is None or asked["id"] == 0:
        return evses
    if asked["id"] in evses and asked.get("connector_id", CONNECTOR) == CONNECTOR:
        return [asked["id"]]
    return []


def _token(uid: str) -> dict[str, str]:
    return {"id_token": uid, "type": "ISO14443"}


def _sample(measurand: str, value: float, unit: str, context: str) -> dict[str, Any]:
    return {"value": value, "context": context, "measurand": measurand, "unit_of_measure": {"unit": unit}}
