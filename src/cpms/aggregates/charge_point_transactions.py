"""Which transaction each charge point began last: how a new transaction finds, by key and without
reading the log, the session the charger left open there, which it supersedes."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.charging_session import ChargingSession

CHARGE_POINT_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:charge-point-transactions")


class ChargePointTransactions(Aggregate):
    """The transactions of one charge point (a station's connector, or a 2.0.1 EVSE), as far as a
    new one needs them: the one that began last. One charge point runs one transaction at a time,
    so a transaction beginning while that one is open means the charger lost it."""

    @staticmethod
    def create_id(ocpp_id: str, connector_id: int) -> UUID:
        return uuid5(CHARGE_POINT_NAMESPACE, f"{ocpp_id}|{connector_id}")

    def __init__(self, ocpp_id: str, connector_id: int) -> None:
        self.ocpp_id = ocpp_id
        self.connector_id = connector_id
        self.latest: str | None = None

    def begin(self, session: ChargingSession, latest: ChargingSession | None) -> None:
        """`session` opened on this charge point; `latest` is the session of the transaction that
        began here last, if any. Still open, it is superseded. One that began after `session` is
        not: then `session` is an older transaction a station reported late (2.0.1 reports may
        arrive in any order), and the charge point has moved on."""
        if latest is not None:
            if latest.started_at > session.started_at:
                return
            latest.supersede(by=session)
        self._began(transaction_id=session.transaction_id)

    @event("TransactionBegan")
    def _began(self, transaction_id: str) -> None:
        self.latest = transaction_id
