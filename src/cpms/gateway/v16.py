"""OCPP 1.6 central-system handlers: payload in, one application call, CALLRESULT out.

`connectorId` is the portal's charge point number as it is; transaction ids are ours, integers on
the wire and strings in the portal; meter values are read by `meter_values.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import orjson
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, AvailabilityType, RegistrationStatus, ResetType

from cpms.aggregates.errors import NotFound
from cpms.application import AuthorizationOutcome, utc_now
from cpms.application.station_link import (
    ChangeAvailability,
    RemoteStart,
    RemoteStop,
    Reset,
    StationCommand,
    UnlockConnector,
)
from cpms.gateway.framing import CentralSystem, charger_time
from cpms.gateway.meter_values import meter_samples
from cpms.gateway.numbers import protocol_integer, transaction_number
from cpms.timestamps import to_iso

log = logging.getLogger(__name__)


class CentralSystem16(CentralSystem, ChargePoint):
    known_actions = frozenset(action.value for action in Action)

    def request(self, command: StationCommand) -> Any:
        match command:
            case RemoteStart():
                return call.RemoteStartTransaction(id_tag=command.id_tag, connector_id=command.connector_id)
            case RemoteStop():
                return call.RemoteStopTransaction(transaction_id=int(command.transaction_id))
            case ChangeAvailability():
                kind = AvailabilityType.operative if command.operative else AvailabilityType.inoperative
                return call.ChangeAvailability(connector_id=command.connector_id or 0, type=kind)
            case Reset():
                return call.Reset(type=ResetType.hard if command.hard else ResetType.soft)
            case UnlockConnector():
                return call.UnlockConnector(connector_id=command.connector_id)

    @on(Action.boot_notification)
    async def on_boot_notification(
        self,
        charge_point_vendor: str,
        charge_point_model: str,
        charge_point_serial_number: str | None = None,
        charge_box_serial_number: str | None = None,
        firmware_version: str | None = None,
        **_: Any,
    ) -> call_result.BootNotification:
        await self._network.station_booted(
            self.id,
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=charge_point_serial_number or charge_box_serial_number,
            firmware_version=firmware_version,
        )
        return call_result.BootNotification(
            current_time=to_iso(utc_now()),
            interval=self._heartbeat_interval,
            status=RegistrationStatus.accepted,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        # Heartbeats only refresh last_seen (every frame does, see `on_frame`): no event.
        return call_result.Heartbeat(current_time=to_iso(utc_now()))

    @on(Action.status_notification)
    async def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        timestamp: str | None = None,
        info: str | None = None,
        vendor_error_code: str | None = None,
        vendor_id: str | None = None,
        **_: Any,
    ) -> call_result.StatusNotification:
        await self._network.status_notified(
            self.id,
            connector_id=connector_id,
            ocpp_status=status,
            error_code=error_code,
            info=info,
            vendor_error_code=vendor_error_code,
            vendor_id=vendor_id,
            occurred_at=_charger_time(timestamp),
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        outcome = await self._network.authorize(self.id, id_tag)
        return call_result.Authorize(id_tag_info=_id_tag_info(outcome))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        started_at = charger_time(timestamp)
        if reservation_id is not None:  # not used yet, but never stored beyond its range
            protocol_integer(reservation_id, "reservationId")
        content = orjson.dumps([connector_id, id_tag, meter_start, timestamp, reservation_id]).decode()
        transaction_id, outcome = await self._network.start_transaction(
            self.id,
            connector_id=connector_id,
            token=id_tag,
            meter_start_wh=meter_start,
            started_at=started_at,
            request_key=content,
        )
        return call_result.StartTransaction(
            transaction_id=int(transaction_id), id_tag_info=_id_tag_info(outcome)
        )

    @on(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
    ) -> call_result.MeterValues:
        samples = meter_samples(meter_value)
        transaction = None if transaction_id is None else transaction_number(transaction_id)
        try:
            await self._network.record_readings(
                self.id, connector_id=connector_id, transaction_id=transaction, samples=samples
            )
        except NotFound:
            log.warning("%s: MeterValues for unknown transaction %s", self.id, transaction_id)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        id_tag: str | None = None,
        reason: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        ended_at = charger_time(timestamp)
        samples = meter_samples(transaction_data or [])
        try:
            outcome = await self._network.stop_transaction(
                self.id,
                transaction_id=transaction_number(transaction_id),
                meter_stop_wh=meter_stop,
                ended_at=ended_at,
                stop_reason=reason or "Local",  # the 1.6 default when the charger gives none
                token=id_tag,
                samples=samples,
            )
        except NotFound:
            # Per OCPP a StopTransaction is always accepted; there is nothing of ours to end.
            log.warning("%s: StopTransaction for unknown transaction %s", self.id, transaction_id)
            return call_result.StopTransaction()
        if outcome is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=_id_tag_info(outcome))


def _id_tag_info(outcome: AuthorizationOutcome) -> dict[str, str]:
    return {"status": AuthorizationStatus.accepted if outcome.accepted else AuthorizationStatus.invalid}


def _charger_time(timestamp: str | None) -> datetime | None:
    """1.6 makes some timestamps optional: absent means now, as the application reads it."""
    return None if timestamp is None else charger_time(timestamp)
