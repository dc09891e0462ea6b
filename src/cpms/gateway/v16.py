"""OCPP 1.6 central-system handlers: payload in, one application call, CALLRESULT out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, RegistrationStatus

from cpms.aggregates.errors import InvalidValue
from cpms.application import ChargingNetwork, utc_now
from cpms.gateway.framing import OcppFraming
from cpms.timestamps import parse_iso, to_iso


class CentralSystem16(OcppFraming, ChargePoint):
    known_actions = frozenset(action.value for action in Action)

    def __init__(
        self, ocpp_id: str, connection: Any, network: ChargingNetwork, *, heartbeat_interval: int
    ) -> None:
        super().__init__(ocpp_id, connection)
        self._network = network
        self._heartbeat_interval = heartbeat_interval

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
        **_: Any,
    ) -> call_result.StatusNotification:
        try:
            await self._network.status_notified(
                self.id,
                connector_id=connector_id,
                ocpp_status=status,
                error_code=error_code,
                info=info,
                vendor_error_code=vendor_error_code,
                occurred_at=_charger_time(timestamp),
            )
        except InvalidValue as error:
            raise PropertyConstraintViolationError(description=str(error)) from None
        return call_result.StatusNotification()


def _charger_time(timestamp: str | None) -> datetime | None:
    """The charger's own timestamp; an unreadable one is a constraint violation, not a crash."""
    if timestamp is None:
        return None
    try:
        return parse_iso(timestamp)
    except ValueError:
        raise PropertyConstraintViolationError(
            description=f"timestamp {timestamp!r} is not ISO 8601"
        ) from None
