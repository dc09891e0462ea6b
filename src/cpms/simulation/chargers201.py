"""A simulated OCPP 2.0.1 charging station: the `ocpp` package's ChargePoint, one connector per EVSE.

A session: Occupied, Authorize, TransactionEvent Started (the transaction starts once authorized),
Updated as charging starts and with periodic meter values, Ended when the driver stops with the
card, then Available as the cable comes out. A token that is not Accepted starts nothing.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from ocpp.v201 import ChargePoint, call
from ocpp.v201.enums import AuthorizationStatusEnumType, ConnectorStatusEnumType

from cpms.simulation.charger import SimulatedCharger, Transaction
from cpms.timestamps import now_iso

SUBPROTOCOL = "ocpp2.0.1"
CONNECTOR = 1  # the connector within each EVSE


class Charger201(SimulatedCharger, ChargePoint):
    async def boot(self) -> None:
        result = await self.send(
            call.BootNotification(
                charging_station={
                    "vendor_name": "cpms-sim",
                    "model": "Simulated AC 22",
                    "serial_number": f"SN-{self.id}",
                    "firmware_version": "1.0.0",
                },
                reason="PowerUp",
            )
        )
        self.heartbeat_interval = result.interval
        for evse in range(1, self.connectors + 1):
            await self.status(evse, ConnectorStatusEnumType.available)

    async def heartbeat(self) -> None:
        await self.send(call.Heartbeat())

    async def status(self, evse: int, status: ConnectorStatusEnumType) -> None:
        await self.send(
            call.StatusNotification(
                timestamp=now_iso(), connector_status=status, evse_id=evse, connector_id=CONNECTOR
            )
        )

    async def plug_in_and_out(self, connector: int) -> None:
        for status in (ConnectorStatusEnumType.occupied, ConnectorStatusEnumType.available):
            await self.status(connector, status)
            await self.wait()

    async def charge(self, connector: int, id_tag: str) -> None:
        await self.status(connector, ConnectorStatusEnumType.occupied)
        await self.wait()
        authorized = await self.send(call.Authorize(id_token=_token(id_tag)))
        if authorized.id_token_info["status"] != AuthorizationStatusEnumType.accepted:
            self.stats.refused += 1
            await self.wait()
            await self.status(connector, ConnectorStatusEnumType.available)  # the driver gave up
            return
        transaction = self.open_transaction(connector, id_tag)
        transaction.transaction_id = str(uuid.uuid4())
        started = await self.event(
            transaction,
            "Started",
            "Authorized",
            charging_state="EVConnected",
            context="Transaction.Begin",
            evse={"id": connector, "connector_id": CONNECTOR},
            id_token=_token(id_tag),
        )
        if started.id_token_info and started.id_token_info["status"] != AuthorizationStatusEnumType.accepted:
            self.stats.refused += 1
            await self.end_transaction(transaction, "Deauthorized", "DeAuthorized")
        else:
            self.stats.started += 1
            await self.event(transaction, "Updated", "ChargingStateChanged", charging_state="Charging")
            for _ in range(random.randint(2, 4)):
                await self.wait()
                await self.event(transaction, "Updated", "MeterValuePeriodic", context="Sample.Periodic")
            await self.wait()
            await self.end_transaction(transaction, "StopAuthorized", "Local", id_token=_token(id_tag))
            self.stats.completed += 1
        await self.wait()
        await self.status(connector, ConnectorStatusEnumType.available)

    async def stop_transaction(self, transaction: Transaction, *, reason: str) -> None:
        await self.end_transaction(transaction, "AbnormalCondition", reason)
        self.stats.completed += 1

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
        **fields: Any,
    ) -> Any:
        """A TransactionEvent of `transaction`, its meter read now when a `context` is given."""
        seq_no, transaction.seq_no = transaction.seq_no, transaction.seq_no + 1
        info = {"transaction_id": transaction.transaction_id, "charging_state": charging_state}
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
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


def _token(uid: str) -> dict[str, str]:
    return {"id_token": uid, "type": "ISO14443"}


def _sample(measurand: str, value: float, unit: str, context: str) -> dict[str, Any]:
    return {"value": value, "context": context, "measurand": measurand, "unit_of_measure": {"unit": unit}}
