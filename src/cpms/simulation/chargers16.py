"""A simulated OCPP 1.6 charge point: the `ocpp` package's ChargePoint sending what a real one does.

A session: Preparing, Authorize, StartTransaction, Charging, MeterValues, StopTransaction,
Finishing, Available. Like a real 1.6 charger, it does not start when Authorize is not Accepted
(the driver unplugs), and stops at once a transaction whose start was not Accepted
(StopTransactionOnInvalidId, true by default).
"""

from __future__ import annotations

import random
from typing import Any

from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import AuthorizationStatus, ChargePointErrorCode, ChargePointStatus

from cpms.simulation.charger import SimulatedCharger, Transaction
from cpms.timestamps import now_iso

SUBPROTOCOL = "ocpp1.6"


class Charger16(SimulatedCharger, ChargePoint):
    async def boot(self) -> None:
        result = await self.send(
            call.BootNotification(
                charge_point_vendor="cpms-sim",
                charge_point_model="Simulated AC 22",
                charge_point_serial_number=f"SN-{self.id}",
                firmware_version="1.0.0",
            )
        )
        self.heartbeat_interval = result.interval
        for connector in range(1, self.connectors + 1):
            await self.status(connector, ChargePointStatus.available)

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

    async def plug_in_and_out(self, connector: int) -> None:
        for status in (
            ChargePointStatus.preparing,
            ChargePointStatus.charging,
            ChargePointStatus.finishing,
            ChargePointStatus.available,
        ):
            await self.status(connector, status)
            await self.wait()

    async def charge(self, connector: int, id_tag: str) -> None:
        await self.status(connector, ChargePointStatus.preparing)
        await self.wait()
        authorized = await self.send(call.Authorize(id_tag=id_tag))
        if authorized.id_tag_info["status"] != AuthorizationStatus.accepted:
            self.stats.refused += 1
            await self.wait()
            await self.status(connector, ChargePointStatus.available)  # the driver gave up
            return
        transaction = self.open_transaction(connector, id_tag)
        started = await self.send(
            call.StartTransaction(
                connector_id=connector,
                id_tag=id_tag,
                meter_start=int(transaction.meter_start),
                timestamp=now_iso(),
            )
        )
        transaction.transaction_id = started.transaction_id
        if started.id_tag_info["status"] != AuthorizationStatus.accepted:
            self.stats.refused += 1
            await self.stop_transaction(transaction, reason="DeAuthorized", completed=False)
        else:
            self.stats.started += 1
            await self.status(connector, ChargePointStatus.charging)
            for _ in range(random.randint(2, 4)):
                await self.wait()
                await self.meter_values(transaction)
            await self.wait()
            await self.stop_transaction(transaction, reason="Local")
        await self.status(connector, ChargePointStatus.finishing)
        await self.wait()
        await self.status(connector, ChargePointStatus.available)

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
        self.stats.completed += completed


def _sample(measurand: str, value: str, unit: str) -> dict[str, Any]:
    return {"value": value, "context": "Sample.Periodic", "measurand": measurand, "unit": unit}
