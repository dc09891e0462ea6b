"""OCPP 2.0.1 central-system handlers: payload in, application calls, CALLRESULT out.

2.0.1 speaks of EVSEs holding connectors; the portal's charge point is the EVSE, so `evseId` is
the charge point number and the connector id is kept beside it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action, RegistrationStatusEnumType

from cpms.aggregates.errors import InvalidValue
from cpms.application import ChargingNetwork, utc_now
from cpms.gateway.framing import OcppFraming
from cpms.timestamps import parse_iso, to_iso

log = logging.getLogger(__name__)


class CentralSystem201(OcppFraming, ChargePoint):
    known_actions = frozenset(action.value for action in Action)

    def __init__(
        self, ocpp_id: str, connection: Any, network: ChargingNetwork, *, heartbeat_interval: int
    ) -> None:
        super().__init__(ocpp_id, connection)
        self._network = network
        self._heartbeat_interval = heartbeat_interval

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> call_result.BootNotification:
        await self._network.station_booted(
            self.id,
            vendor=charging_station["vendor_name"],
            model=charging_station["model"],
            serial_number=charging_station.get("serial_number"),
            firmware_version=charging_station.get("firmware_version"),
        )
        return call_result.BootNotification(
            current_time=to_iso(utc_now()),
            interval=self._heartbeat_interval,
            status=RegistrationStatusEnumType.accepted,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=to_iso(utc_now()))

    @on(Action.status_notification)
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.StatusNotification:
        try:
            await self._network.status_notified(
                self.id,
                connector_id=evse_id,
                ocpp_status=connector_status,
                error_code=None,
                info=None,
                vendor_error_code=None,
                occurred_at=charger_time(timestamp),
                ocpp_connector_id=connector_id,
            )
        except InvalidValue as error:
            raise PropertyConstraintViolationError(description=str(error)) from None
        return call_result.StatusNotification()


def charger_time(timestamp: str) -> datetime:
    try:
        return parse_iso(timestamp)
    except ValueError:
        raise PropertyConstraintViolationError(
            description=f"timestamp {timestamp!r} is not ISO 8601"
        ) from None
