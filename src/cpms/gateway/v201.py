"""OCPP 2.0.1 central-system handlers: payload in, one application call, CALLRESULT out.

2.0.1 speaks of EVSEs holding connectors; the portal's charge point is the EVSE, so `evseId` is
the charge point number (the application's `connector_id`) and the connector within the EVSE is
kept beside it. TransactionEvents are read by `transaction_events.py`, meter values by
`meter_values.py`.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp import v21
from ocpp.routing import on
from ocpp.v21.enums import Action as V21Action
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    IdTokenEnumType,
    OperationalStatusEnumType,
    RegistrationStatusEnumType,
    ResetEnumType,
)

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
from cpms.gateway.tokens import card_token
from cpms.gateway.transaction_events import transaction_report
from cpms.timestamps import to_iso

log = logging.getLogger(__name__)


class CentralSystem201(CentralSystem, ChargePoint):
    known_actions = frozenset(action.value for action in Action)

    def request(self, command: StationCommand) -> Any:
        match command:
            case RemoteStart():
                # A token cpms made (Scan2Pay) is Central; an operator's start is for a card.
                kind = IdTokenEnumType.central if command.central else IdTokenEnumType.iso14443
                return call.RequestStartTransaction(
                    id_token={"id_token": command.id_tag, "type": kind},
                    remote_start_id=command.remote_start_id,
                    evse_id=command.connector_id,
                )
            case RemoteStop():
                return call.RequestStopTransaction(transaction_id=command.transaction_id)
            case ChangeAvailability():
                status = (
                    OperationalStatusEnumType.operative
                    if command.operative
                    else OperationalStatusEnumType.inoperative
                )
                evse = None if command.connector_id is None else {"id": command.connector_id}
                return call.ChangeAvailability(operational_status=status, evse=evse)
            case Reset():
                return call.Reset(type=ResetEnumType.immediate if command.hard else ResetEnumType.on_idle)
            case UnlockConnector():
                # The portal's charge point is the EVSE; cpms does not track the connectors within
                # it, and one is what nearly every EVSE has.
                return call.UnlockConnector(evse_id=command.connector_id, connector_id=1)

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
        await self._network.status_notified(
            self.id,
            connector_id=evse_id,
            ocpp_status=connector_status,
            occurred_at=charger_time(timestamp),
            ocpp_connector_id=connector_id,
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        token = card_token(id_token)
        if token is None:
            return call_result.Authorize(id_token_info={"status": AuthorizationStatusEnumType.unknown})
        outcome = await self._network.authorize(self.id, token)
        return call_result.Authorize(id_token_info=_id_token_info(outcome))

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        id_token: dict[str, Any] | None = None,
        evse: dict[str, Any] | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        offline: bool = False,
        **_: Any,
    ) -> call_result.TransactionEvent:
        report = transaction_report(
            event_type=event_type,
            timestamp=timestamp,
            trigger_reason=trigger_reason,
            seq_no=seq_no,
            transaction_info=transaction_info,
            id_token=id_token,
            evse=evse,
            meter_value=meter_value,
        )
        outcome = await self._network.report_transaction(
            self.id, report, ocpp_version=self._connection.subprotocol or "ocpp2.0.1"
        )
        if id_token is None:
            return call_result.TransactionEvent()
        if outcome is None:  # a token kind cards cannot match (e.g. NoAuthorization, eMAID)
            return call_result.TransactionEvent(id_token_info={"status": AuthorizationStatusEnumType.unknown})
        return call_result.TransactionEvent(id_token_info=_id_token_info(outcome))

    @on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        # Readings outside a transaction are not kept yet; what is malformed is still refused.
        await self._network.record_readings(
            self.id,
            connector_id=evse_id,
            transaction_id=None,
            samples=meter_samples(meter_value),
        )
        return call_result.MeterValues()


def _id_token_info(outcome: AuthorizationOutcome) -> dict[str, str]:
    # Unknown says a token is not known here (no card, no partner's yes or no); Invalid that a
    # roaming partner knows it and refused it.
    if outcome.accepted:
        return {"status": AuthorizationStatusEnumType.accepted}
    return {
        "status": AuthorizationStatusEnumType.invalid
        if outcome.known
        else AuthorizationStatusEnumType.unknown
    }


class CentralSystem21(CentralSystem201):
    """OCPP 2.1 keeps 2.0.1's shapes for every message cpms handles; its own schemas validate."""

    _call = v21.call
    _call_result = v21.call_result
    _ocpp_version = "2.1"
    known_actions = frozenset(action.value for action in V21Action)
