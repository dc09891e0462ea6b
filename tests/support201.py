"""An OCPP 2.0.1 charging station from the `ocpp` package, driven by the tests."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from ocpp.v201 import ChargePoint, call

from cpms.node import Node
from tests.support import peer_connected


class Station201(ChargePoint):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seq = 0

    async def boot(self) -> Any:
        return await self.call(
            call.BootNotification(
                charging_station={"model": "Wallbox Q2", "vendor_name": "Alfen", "firmware_version": "7.0"},
                reason="PowerUp",
            ),
            suppress=False,
        )

    async def status(self, evse_id: int, connector_status: str, timestamp: str) -> Any:
        return await self.call(
            call.StatusNotification(
                timestamp=timestamp, connector_status=connector_status, evse_id=evse_id, connector_id=1
            ),
            suppress=False,
        )

    async def authorize(self, token: str, kind: str = "ISO14443") -> str:
        result = await self.call(call.Authorize(id_token={"id_token": token, "type": kind}), suppress=False)
        return result.id_token_info["status"]

    async def transaction(
        self,
        event_type: str,
        transaction_id: str,
        timestamp: str,
        trigger_reason: str,
        *,
        seq_no: int | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        token: str | None = None,
        evse_id: int | None = None,
        meter_wh: float | None = None,
        offline: bool | None = None,
    ) -> Any:
        """Send a TransactionEvent; seqNo counts up unless given (to replay or reorder)."""
        if seq_no is None:
            seq_no = self.seq
            self.seq += 1
        info: dict[str, Any] = {"transaction_id": transaction_id}
        if charging_state:
            info["charging_state"] = charging_state
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        meter_value = None
        if meter_wh is not None:
            context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
                event_type, "Sample.Periodic"
            )
            meter_value = [
                {
                    "timestamp": timestamp,
                    "sampled_value": [
                        {
                            "value": meter_wh,
                            "context": context,
                            "measurand": "Energy.Active.Import.Register",
                            "unit_of_measure": {"unit": "Wh"},
                        }
                    ],
                }
            ]
        return await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=timestamp,
                trigger_reason=trigger_reason,
                seq_no=seq_no,
                transaction_info=info,
                id_token={"id_token": token, "type": "ISO14443"} if token else None,
                evse={"id": evse_id, "connector_id": 1} if evse_id else None,
                meter_value=meter_value,
                offline=offline,
            ),
            suppress=False,
        )


def connected201(node: Node, ocpp_id: str) -> AbstractAsyncContextManager[Station201]:
    """An OCPP 2.0.1 station connected to the node's gateway, its receive loop running."""
    return peer_connected(node, ocpp_id, Station201, "ocpp2.0.1")
