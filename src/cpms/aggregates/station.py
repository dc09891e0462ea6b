"""Stations (EVSE controllers): commissioning, connection and what the charger reports over OCPP."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from cpms.aggregates.authorization import RoamingDecision, is_recent
from cpms.aggregates.credentials import hash_password
from cpms.aggregates.errors import Conflict, InvalidValue
from cpms.aggregates.money import decimal_number, is_currency, plain_decimal
from cpms.aggregates.upcasting import authorization_token_named, vendor_of_the_error_code, versioned

STATION_NAMESPACE = uuid5(NAMESPACE_URL, "cpms:station")
OCPP_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:*+|@\-]{1,48}$")
MAX_CONNECTORS = 64
# OCPP 2.0.1 numbers connectors within an EVSE from 1. cpms does not commission them (the EVSE is
# the portal's charge point); the most a charger has on one EVSE is three or four (CCS, CHAdeMO,
# Type 2, GB/T), so 8 refuses only nonsense while every value stays small.
MAX_CONNECTORS_PER_EVSE = 8
PASSWORD_LENGTH = (16, 40)
# How long an accepted roaming decision at a station stands for the same uid: an Authorize, then
# the StartTransaction or TransactionEvent that follows it, ask the eMSP once.
ROAMING_REUSE_S = 600
MAX_SERIAL_NUMBER_LENGTH = 64
MAX_PLAN_LENGTH = 100
MAX_EVSE_ID_LENGTH = 48
# OCPP 1.6 idTag is CiString20; 2.0.1's idToken allows 36: a remote start's token fits both.
MAX_ID_TAG_LENGTH = 20
MAX_PAYMENT_REFERENCE_LENGTH = 100

# How a command sent to a station ended (`StationCommandAnswered`): the charger's answer said
# yes (Accepted, Scheduled, Unlocked) or no, or it answered with a CALLERROR (`failed`), or
# there was no connection (`offline`) or no answer in time (`timeout`).
ACCEPTED_OUTCOME, REJECTED_OUTCOME, FAILED_OUTCOME, OFFLINE_OUTCOME, TIMEOUT_OUTCOME = (
    "accepted",
    "rejected",
    "failed",
    "offline",
    "timeout",
)
COMMAND_OUTCOMES = (ACCEPTED_OUTCOME, REJECTED_OUTCOME, FAILED_OUTCOME, OFFLINE_OUTCOME, TIMEOUT_OUTCOME)

# OCPP security profiles (OCPP 1.6 security whitepaper, OCPP 2.0.1 part 2 A00): how a station
# proves who it is at the websocket handshake.
NO_AUTHENTICATION = 0  # plain ws, identity in the URL only
BASIC_AUTH = 1  # HTTP basic auth over plain ws
BASIC_AUTH_TLS = 2  # HTTP basic auth over TLS (wss)
CLIENT_CERTIFICATE = 3  # TLS with a client certificate whose subject CN is the serial number
SECURITY_PROFILES = (NO_AUTHENTICATION, BASIC_AUTH, BASIC_AUTH_TLS, CLIENT_CERTIFICATE)
PASSWORD_PROFILES = (BASIC_AUTH, BASIC_AUTH_TLS)
TLS_PROFILES = (BASIC_AUTH_TLS, CLIENT_CERTIFICATE)


def station_id(ocpp_id: str) -> UUID:
    """Stations are addressed by their OCPP identity, unique system-wide."""
    return uuid5(STATION_NAMESPACE, ocpp_id)


class Station(Aggregate):
    if TYPE_CHECKING:  # classes that eventsourcing's @event creates at runtime; projections match on them
        StationCommissioned: type[Any]
        StationBooted: type[Any]
        StationConnected: type[Any]
        StationDisconnected: type[Any]
        StatusNotification: type[Any]
        StationConfigured: type[Any]
        AuthorizationRequested: type[Any]
        RoamingAuthorizationDecided: type[Any]
        RemoteStartRequested: type[Any]
        Scan2PayStartRequested: type[Any]
        RemoteStopRequested: type[Any]
        AvailabilityChangeRequested: type[Any]
        ResetRequested: type[Any]
        UnlockRequested: type[Any]
        StationCommandAnswered: type[Any]
        RemoteStartTaken: type[Any]
        # Only declared: a class annotation would make eventsourcing process Station as a dataclass.
        access_group_ids: Sequence[str]
        roaming_decisions: dict[str, dict[str, Any]]
        pending_starts: dict[str, dict[str, Any]]

    # Fallbacks for snapshots taken before configuration existed.
    access_group_ids = ()
    roaming_enabled = False
    scan2pay_enabled = False
    # Accepted roaming decisions of the last `ROAMING_REUSE_S`, by upper-cased uid: a charger's
    # Authorize then StartTransaction (or TransactionEvent) ask the eMSP once. Replaced, never
    # mutated, so this class-level fallback stays empty.
    roaming_decisions = {}  # type: ignore[var-annotated]
    # Remote starts (plain or Scan2Pay) sent and not yet begun, by charge point number: the
    # transaction the charger begins there with that token is theirs (`remote_start_for`). One
    # per charge point, the latest; replaced, never mutated, like `roaming_decisions`.
    pending_starts = {}  # type: ignore[var-annotated]
    remote_starts = 0  # how many were asked for: 2.0.1's remoteStartId is the next one

    @cached_property
    def security_profile(self) -> int:
        """Fallback for snapshots taken before security profiles existed (an instance attribute,
        set when the station is commissioned, shadows it)."""
        return legacy_security_profile(self.password_hash)

    @staticmethod
    def create_id(ocpp_id: str) -> UUID:
        return station_id(ocpp_id)

    @classmethod
    def commission(
        cls,
        *,
        ocpp_id: str,
        organization_id: str,
        site_id: str,
        serial_number: str,
        plan: str | None = None,
        connectors: int = 2,
        evse_ids: Sequence[str] | None = None,
        password: str | None = None,
        security_profile: int | None = None,
        occurred_at: datetime,
    ) -> Station:
        ocpp_id = parse_ocpp_id(ocpp_id)
        if not 1 <= connectors <= MAX_CONNECTORS:
            raise InvalidValue(f"connectors must be between 1 and {MAX_CONNECTORS}")
        profile = _security_profile(security_profile, has_password=password is not None)
        return cls(
            ocpp_id=ocpp_id,
            organization_id=organization_id,
            site_id=site_id,
            serial_number=_text(serial_number, "serial_number", MAX_SERIAL_NUMBER_LENGTH),
            plan="" if plan is None else _text(plan, "plan", MAX_PLAN_LENGTH),
            connectors=connectors,
            evse_ids=_evse_ids(evse_ids, connectors),
            password_hash=None if password is None else hash_password(_password(password)),
            security_profile=profile,
            occurred_at=occurred_at,
        )

    @event("StationCommissioned")
    def __init__(
        self,
        ocpp_id: str,
        organization_id: str,
        site_id: str,
        serial_number: str,
        plan: str,
        connectors: int,
        evse_ids: list[str | None],
        password_hash: str | None,
        occurred_at: datetime,
        security_profile: int | None = None,  # absent from events stored before profiles existed
    ) -> None:
        self.ocpp_id = ocpp_id
        self.organization_id = organization_id
        self.site_id = site_id
        self.serial_number = serial_number
        self.plan = plan
        self.connectors = connectors
        self.evse_ids = evse_ids
        self.password_hash = password_hash
        self.security_profile = (
            legacy_security_profile(password_hash) if security_profile is None else security_profile
        )
        self.connected = False
        self.connection_node: str | None = None
        self.access_group_ids = []
        self.roaming_enabled = False
        self.scan2pay_enabled = False

    @event("StationBooted")
    def boot(
        self,
        *,
        vendor: str,
        model: str,
        serial_number: str | None,
        firmware_version: str | None,
        occurred_at: datetime,
    ) -> None:
        self.vendor = vendor
        self.model = model
        self.firmware_version = firmware_version

    def connect(self, *, node: str, ocpp_version: str, occurred_at: datetime) -> None:
        """A websocket was opened; a connection it replaces is closed first."""
        if self.connected:
            self.disconnect(reason="Replaced by a new connection", occurred_at=occurred_at)
        self._connected(node=node, ocpp_version=ocpp_version, occurred_at=occurred_at)

    @event("StationConnected")
    def _connected(self, node: str, ocpp_version: str, occurred_at: datetime) -> None:
        self.connected = True
        self.connection_node = node

    def disconnect(self, *, reason: str, occurred_at: datetime) -> None:
        if self.connected:
            self._disconnected(reason=reason, occurred_at=occurred_at)

    @event("StationDisconnected")
    def _disconnected(self, reason: str, occurred_at: datetime) -> None:
        self.connected = False
        self.connection_node = None

    def notify_status(
        self,
        *,
        connector_id: int,
        ocpp_status: str,
        error_code: str | None,
        info: str | None,
        vendor_error_code: str | None,
        occurred_at: datetime,
        ocpp_connector_id: int | None = None,
        vendor_id: str | None = None,
    ) -> None:
        """Record a StatusNotification; connector 0 describes the whole station.

        `connector_id` is the charge point's number, whatever the protocol calls it (the gateway
        translates); 2.0.1's connector within the EVSE is kept as `ocpp_connector_id`.
        """
        self.require_connector(connector_id, or_station=True, within_evse=ocpp_connector_id)
        self._status_notified(
            connector_id=connector_id,
            ocpp_status=ocpp_status,
            error_code=error_code,
            info=info,
            vendor_error_code=vendor_error_code,
            vendor_id=vendor_id,
            occurred_at=occurred_at,
            ocpp_connector_id=ocpp_connector_id,
        )

    @event("StatusNotification")
    def _status_notified(
        self,
        connector_id: int,
        ocpp_status: str,
        error_code: str | None,
        info: str | None,
        vendor_error_code: str | None,
        vendor_id: str | None,
        occurred_at: datetime,
        ocpp_connector_id: int | None = None,
    ) -> None:
        pass

    def configure(
        self,
        *,
        access_group_ids: Sequence[str],
        roaming_enabled: bool,
        scan2pay_enabled: bool,
        occurred_at: datetime,
    ) -> None:
        """Set who may charge here, each group once; recording nothing when nothing changes.

        That each group exists and belongs to this station's organization is checked by the
        command, which loads the groups.
        """
        group_ids = list(dict.fromkeys(access_group_ids))
        if (group_ids, roaming_enabled, scan2pay_enabled) == (
            self.access_group_ids,
            self.roaming_enabled,
            self.scan2pay_enabled,
        ):
            return
        self._configured(
            access_group_ids=group_ids,
            roaming_enabled=roaming_enabled,
            scan2pay_enabled=scan2pay_enabled,
            occurred_at=occurred_at,
        )

    @event("StationConfigured")
    def _configured(
        self,
        access_group_ids: list[str],
        roaming_enabled: bool,
        scan2pay_enabled: bool,
        occurred_at: datetime,
    ) -> None:
        self.access_group_ids = list(access_group_ids)
        self.roaming_enabled = roaming_enabled
        self.scan2pay_enabled = scan2pay_enabled

    def record_authorization(self, *, authorization: dict[str, Any], occurred_at: datetime) -> None:
        """An Authorize request and its outcome, kept whether accepted or not."""
        self._authorization_requested(authorization=authorization, occurred_at=occurred_at)

    @event("AuthorizationRequested")
    def _authorization_requested(self, authorization: dict[str, Any], occurred_at: datetime) -> None:
        pass

    def decide_roaming(self, decision: RoamingDecision, *, occurred_at: datetime) -> None:
        """A partner's say on a token here (whitelist or real-time), accepted or not: the roaming
        activity counts every one."""
        self._roaming_decided(
            partner_id=decision.partner_id,
            country_code=decision.country_code,
            party_id=decision.party_id,
            uid=decision.uid,
            token_type=decision.token_type,
            source=decision.source,
            outcome=decision.outcome,
            authorization_reference=decision.authorization_reference,
            contract_id=decision.contract_id,
            occurred_at=occurred_at,
        )

    @event("RoamingAuthorizationDecided")
    def _roaming_decided(
        self,
        partner_id: str,
        country_code: str,
        party_id: str,
        uid: str,
        token_type: str,
        source: str,
        outcome: str,
        authorization_reference: str | None,
        occurred_at: datetime,
        contract_id: str | None = None,
    ) -> None:
        kept = {
            key: decided
            for key, decided in self.roaming_decisions.items()
            if is_recent(decided["occurred_at"], occurred_at, ROAMING_REUSE_S)
        }
        if outcome == "accepted":
            kept[uid.upper()] = {
                "partner_id": partner_id,
                "country_code": country_code,
                "party_id": party_id,
                "uid": uid,
                "token_type": token_type,
                "source": source,
                "outcome": outcome,
                "authorization_reference": authorization_reference,
                "contract_id": contract_id,
                "occurred_at": occurred_at,
            }
        else:
            kept.pop(uid.upper(), None)  # a later refusal outweighs an earlier acceptance
        self.roaming_decisions = kept

    def recent_roaming(self, uid: str, now: datetime) -> RoamingDecision | None:
        """The accepted roaming decision on this uid here in the last `ROAMING_REUSE_S`, if any."""
        decided = self.roaming_decisions.get(uid.upper())
        if decided is None or not is_recent(decided["occurred_at"], now, ROAMING_REUSE_S):
            return None
        return RoamingDecision.from_dict(decided)

    # -- commands sent to the station ------------------------------------------------------------

    def request_remote_start(
        self,
        *,
        command_id: str,
        connector_id: int,
        id_tag: str,
        requested_by: str,
        client: str | None,
        expires_at: datetime,
        occurred_at: datetime,
        scan2pay: Scan2PayPayment | None = None,
    ) -> int:
        """Ask the charger to begin a transaction on `connector_id` for `id_tag`; returns the
        remoteStartId by which the charger's report names it (2.0.1). Until `expires_at` the
        transaction that begins there with that token is this command's. A Scan2Pay start is
        allowed only where `scan2pay_enabled`."""
        self.require_connector(connector_id)
        remote_start_id = self.remote_starts + 1
        common: dict[str, Any] = {
            "command_id": command_id,
            "connector_id": connector_id,
            "id_tag": _id_tag(id_tag),
            "remote_start_id": remote_start_id,
            "requested_by": requested_by,
            "client": client,
            "expires_at": expires_at,
            "occurred_at": occurred_at,
        }
        if scan2pay is None:
            self._remote_start_requested(**common)
        else:
            if not self.scan2pay_enabled:
                raise Conflict(f"Scan2Pay is not enabled at station {self.ocpp_id}")
            self._scan2pay_start_requested(**common, **scan2pay.as_dict())
        return remote_start_id

    @event("RemoteStartRequested")
    def _remote_start_requested(
        self,
        command_id: str,
        connector_id: int,
        id_tag: str,
        remote_start_id: int,
        requested_by: str,
        client: str | None,
        expires_at: datetime,
        occurred_at: datetime,
    ) -> None:
        self._await_start(command_id, connector_id, id_tag, remote_start_id, expires_at, None)

    @event("Scan2PayStartRequested")
    def _scan2pay_start_requested(
        self,
        command_id: str,
        connector_id: int,
        id_tag: str,
        remote_start_id: int,
        payment_reference: str,
        amount: str | None,
        currency: str | None,
        requested_by: str,
        client: str | None,
        expires_at: datetime,
        occurred_at: datetime,
    ) -> None:
        payment = {"payment_reference": payment_reference, "amount": amount, "currency": currency}
        self._await_start(command_id, connector_id, id_tag, remote_start_id, expires_at, payment)

    def _await_start(
        self,
        command_id: str,
        connector_id: int,
        id_tag: str,
        remote_start_id: int,
        expires_at: datetime,
        scan2pay: dict[str, Any] | None,
    ) -> None:
        self.remote_starts = remote_start_id
        self.pending_starts = {
            **self.pending_starts,
            str(connector_id): {
                "command_id": command_id,
                "connector_id": connector_id,
                "id_tag": id_tag,
                "remote_start_id": remote_start_id,
                "expires_at": expires_at,
                "scan2pay": scan2pay,
            },
        }

    def remote_start_for(
        self, connector_id: int | None, token: str | None, remote_start_id: int | None, now: datetime
    ) -> PendingStart | None:
        """The remote start a transaction beginning on `connector_id` answers: 2.0.1 names it by
        remoteStartId; 1.6 only by the token, on the charge point it was sent to, in time."""
        if connector_id is None:
            return None
        pending = self.pending_starts.get(str(connector_id))
        if pending is None or now > pending["expires_at"]:
            return None
        if remote_start_id is not None and remote_start_id == pending["remote_start_id"]:
            return PendingStart.from_dict(pending)
        if token is not None and token.upper() == pending["id_tag"].upper():
            return PendingStart.from_dict(pending)
        return None

    def awaited_scan2pay(self, token: str, now: datetime) -> PendingStart | None:
        """The Scan2Pay start `token` was made for, still to begin here: a charger may Authorize
        it first (1.6 AuthorizeRemoteTxRequests), naming no charge point."""
        for pending in self.pending_starts.values():
            if (
                pending["scan2pay"] is not None
                and pending["id_tag"].upper() == token.upper()
                and now <= pending["expires_at"]
            ):
                return PendingStart.from_dict(pending)
        return None

    def take_remote_start(self, pending: PendingStart, *, transaction_id: str, occurred_at: datetime) -> None:
        """The transaction `transaction_id` began for this remote start: it is used up."""
        self._remote_start_taken(
            command_id=pending.command_id,
            connector_id=pending.connector_id,
            transaction_id=transaction_id,
            occurred_at=occurred_at,
        )

    @event("RemoteStartTaken")
    def _remote_start_taken(
        self, command_id: str, connector_id: int, transaction_id: str, occurred_at: datetime
    ) -> None:
        self._forget_start(command_id)

    def request_remote_stop(
        self,
        *,
        command_id: str,
        transaction_id: str,
        session_id: str,
        requested_by: str,
        client: str | None,
        occurred_at: datetime,
    ) -> None:
        self._remote_stop_requested(
            command_id=command_id,
            transaction_id=transaction_id,
            session_id=session_id,
            requested_by=requested_by,
            client=client,
            occurred_at=occurred_at,
        )

    @event("RemoteStopRequested")
    def _remote_stop_requested(
        self,
        command_id: str,
        transaction_id: str,
        session_id: str,
        requested_by: str,
        client: str | None,
        occurred_at: datetime,
    ) -> None:
        pass

    def request_availability(
        self,
        *,
        command_id: str,
        operative: bool,
        connector_id: int | None,
        requested_by: str,
        client: str | None,
        occurred_at: datetime,
    ) -> None:
        """Operative or not (the portal's "temporarily deactivated"): the whole station when
        `connector_id` is None."""
        if connector_id is not None:
            self.require_connector(connector_id)
        self._availability_requested(
            command_id=command_id,
            operative=operative,
            connector_id=connector_id,
            requested_by=requested_by,
            client=client,
            occurred_at=occurred_at,
        )

    @event("AvailabilityChangeRequested")
    def _availability_requested(
        self,
        command_id: str,
        operative: bool,
        connector_id: int | None,
        requested_by: str,
        client: str | None,
        occurred_at: datetime,
    ) -> None:
        pass

    def request_reset(
        self, *, command_id: str, hard: bool, requested_by: str, client: str | None, occurred_at: datetime
    ) -> None:
        self._reset_requested(
            command_id=command_id,
            hard=hard,
            requested_by=requested_by,
            client=client,
            occurred_at=occurred_at,
        )

    @event("ResetRequested")
    def _reset_requested(
        self, command_id: str, hard: bool, requested_by: str, client: str | None, occurred_at: datetime
    ) -> None:
        pass

    def request_unlock(
        self,
        *,
        command_id: str,
        connector_id: int,
        requested_by: str,
        client: str | None,
        occurred_at: datetime,
    ) -> None:
        self.require_connector(connector_id)
        self._unlock_requested(
            command_id=command_id,
            connector_id=connector_id,
            requested_by=requested_by,
            client=client,
            occurred_at=occurred_at,
        )

    @event("UnlockRequested")
    def _unlock_requested(
        self, command_id: str, connector_id: int, requested_by: str, client: str | None, occurred_at: datetime
    ) -> None:
        pass

    def record_answer(
        self,
        *,
        command_id: str,
        outcome: str,
        charger_status: str | None,
        detail: str | None,
        occurred_at: datetime,
    ) -> None:
        """How a command ended: the charger's answer, or why there was none. A remote start the
        charger refused (or never got) will begin nothing; one that timed out may still begin."""
        if outcome not in COMMAND_OUTCOMES:
            raise InvalidValue(f"unknown command outcome {outcome!r}")
        self._command_answered(
            command_id=command_id,
            outcome=outcome,
            charger_status=charger_status,
            detail=detail,
            occurred_at=occurred_at,
        )

    @event("StationCommandAnswered")
    def _command_answered(
        self,
        command_id: str,
        outcome: str,
        charger_status: str | None,
        detail: str | None,
        occurred_at: datetime,
    ) -> None:
        if outcome not in (ACCEPTED_OUTCOME, TIMEOUT_OUTCOME):
            self._forget_start(command_id)

    def _forget_start(self, command_id: str) -> None:
        self.pending_starts = {
            connector: pending
            for connector, pending in self.pending_starts.items()
            if pending["command_id"] != command_id
        }

    def is_commissioned(self, connector_id: int) -> bool:
        """Whether `connector_id` is one of the charge points this station was commissioned with."""
        return 1 <= connector_id <= self.connectors

    def require_connector(
        self, connector_id: int, *, or_station: bool = False, within_evse: int | None = None
    ) -> None:
        """Refuse what a charger says of a connector it was not commissioned with.

        The operator commissions the number of connectors, and the portal shows exactly those
        charge points: a number beyond them (a misconfigured charger, or one that lies) is an
        InvalidValue naming the commissioned range, and nothing of its message is stored, rather
        than a charge point that appears on its own. `or_station` admits 0, the station itself
        (1.6 StatusNotification and MeterValues); `within_evse` is a 2.0.1 connector within the
        EVSE `connector_id`, from 1 to `MAX_CONNECTORS_PER_EVSE`.
        """
        if not (self.is_commissioned(connector_id) or (or_station and connector_id == 0)):
            commissioned = f"{0 if or_station else 1}..{self.connectors}"
            itself = ", 0 being the station itself" if or_station else ""
            raise InvalidValue(
                f"connector {connector_id} is not commissioned at station {self.ocpp_id}"
                f" (connectors {commissioned}{itself})"
            )
        if within_evse is not None and not 1 <= within_evse <= MAX_CONNECTORS_PER_EVSE:
            raise InvalidValue(
                f"connector {within_evse} of EVSE {connector_id} is out of range"
                f" (1..{MAX_CONNECTORS_PER_EVSE} within an EVSE)"
            )

    def evse_id(self, connector_id: int) -> str | None:
        if 1 <= connector_id <= len(self.evse_ids):
            return self.evse_ids[connector_id - 1]
        return None


# Events stored before the token was named in the portal's words (see `upcasting.py`).
versioned(Station.AuthorizationRequested, authorization_token_named)
# Status notifications stored before they kept whose vendor error code it is (see `upcasting.py`).
versioned(Station.StatusNotification, vendor_of_the_error_code)


@dataclass(frozen=True)
class Scan2PayPayment:
    """What a Scan2Pay start carries of its payment: the payment provider's reference, and the
    amount and currency when the payer was shown one (recorded, not charged by cpms)."""

    payment_reference: str
    amount: Decimal | str | None = None
    currency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Checked: a reference of printable text, an amount of 0 or more in an ISO 4217
        currency, both or neither; the amount kept as an exact decimal string."""
        reference = _text(self.payment_reference, "payment_reference", MAX_PAYMENT_REFERENCE_LENGTH)
        if (self.amount is None) != (self.currency is None):
            raise InvalidValue("amount and currency go together: give both or neither")
        amount = None
        if self.amount is not None:
            number = decimal_number(self.amount, "amount", 4)
            if number < 0:
                raise InvalidValue(f"amount must be 0 or more, got {number}")
            amount = plain_decimal(number)
        if self.currency is not None and not is_currency(self.currency):
            raise InvalidValue(
                f"currency must be an ISO 4217 code in capitals such as EUR, got {self.currency!r}"
            )
        return {"payment_reference": reference, "amount": amount, "currency": self.currency}


@dataclass(frozen=True)
class PendingStart:
    """A remote start sent to a charge point and not begun yet."""

    command_id: str
    connector_id: int
    id_tag: str
    remote_start_id: int
    expires_at: datetime
    scan2pay: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingStart:
        return cls(**data)


def _id_tag(value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= MAX_ID_TAG_LENGTH or not value.isprintable() or not value.isascii():
        raise InvalidValue(f"id_tag must be 1 to {MAX_ID_TAG_LENGTH} printable ASCII characters")
    return value


def legacy_security_profile(password_hash: str | None) -> int:
    """What a station commissioned before security profiles existed was held to: basic auth over
    plain ws when it had a password, nothing otherwise."""
    return BASIC_AUTH if password_hash is not None else NO_AUTHENTICATION


def parse_ocpp_id(value: str) -> str:
    if not OCPP_ID_PATTERN.fullmatch(value):
        raise InvalidValue("ocpp_id must be 1 to 48 characters of letters, digits and . _ : * + | @ -")
    return value


def _text(value: str, field: str, max_length: int) -> str:
    if not value.strip():
        raise InvalidValue(f"{field} must be a non-empty string")
    if len(value) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters")
    return value.strip()


def _evse_ids(value: Sequence[str] | None, connectors: int) -> list[str | None]:
    if value is None:
        return [None] * connectors
    if len(value) != connectors:
        raise InvalidValue(f"evse_ids must be a list of {connectors} strings, one per connector")
    evse_ids = [_text(v, "evse_ids[]", MAX_EVSE_ID_LENGTH) for v in value]
    if len(set(evse_ids)) != len(evse_ids):
        raise InvalidValue("evse_ids must be distinct")
    return list(evse_ids)


def _security_profile(value: int | None, *, has_password: bool) -> int:
    """The profile asked for, or the one the password implies; a password is required exactly by
    the basic-auth profiles (0 has no authentication, 3 proves identity with a certificate)."""
    if value is None:
        return BASIC_AUTH if has_password else NO_AUTHENTICATION
    if value not in SECURITY_PROFILES:
        raise InvalidValue("security_profile must be one of the integers 0, 1, 2, 3")
    if value in PASSWORD_PROFILES and not has_password:
        raise InvalidValue(f"security_profile {value} (HTTP basic auth) needs a password")
    if value not in PASSWORD_PROFILES and has_password:
        what = "a client certificate" if value == CLIENT_CERTIFICATE else "no authentication"
        raise InvalidValue(f"security_profile {value} uses {what} and takes no password")
    return value


def _password(value: str) -> str:
    low, high = PASSWORD_LENGTH
    if not low <= len(value) <= high:
        raise InvalidValue(f"password must be a string of {low} to {high} characters")
    return value
