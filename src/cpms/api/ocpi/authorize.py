"""Real-time authorization: `POST {tokens url}/{uid}/authorize` to the eMSPs that may know a token,
bounded by one timeout (CPMS_OCPI_AUTHORIZE_TIMEOUT) whatever they do.

Called on the event loop with async httpx, outside any unit of work: the charger whose token it
is waits for its answer, no other charger does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any
from urllib.parse import quote

import httpx

from cpms.aggregates.authorization import (
    ROAMING_ACCEPTED,
    ROAMING_ERROR,
    ROAMING_REJECTED,
    ROAMING_TIMEOUT,
    RoamingDecision,
)
from cpms.api.ocpi.envelope import SUCCESS, UNKNOWN_TOKEN, authorization
from cpms.application.roaming_authorization import RealtimePartner, RealtimeRequest, realtime_decision
from cpms.projections.roaming_locations import evse_uid

log = logging.getLogger(__name__)

ALLOWED = "ALLOWED"
ALLOWED_VALUES = frozenset({"ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED"})
MAX_REFERENCE_LENGTH = 36  # CiString(36)


class RealtimeAuthorization:
    """The `RealtimeAuthorizer` the composition root wires: asks partners over OCPI 2.2.1.

    One HTTP client for the node's life, opened on first use: its connections to each eMSP
    (TLS handshakes included) are kept and reused, so a driver waits for the eMSP's answer, not
    for a new connection each time."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, request: RealtimeRequest) -> tuple[RoamingDecision, ...]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout))
        tasks = {
            asyncio.create_task(_ask(self._client, partner, request)): partner for partner in request.partners
        }
        answered: dict[RealtimePartner, RoamingDecision] = {}
        try:
            async with asyncio.timeout(self._timeout):
                for next_done in asyncio.as_completed(tasks):
                    decision = await next_done
                    if decision.accepted:
                        return (decision,)  # the first ALLOWED decides; the others are cancelled
                    answered[_partner_of(decision, request)] = decision
        except TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return tuple(
            answered.get(partner) or realtime_decision(partner, request, ROAMING_TIMEOUT)
            for partner in request.partners
        )


def _partner_of(decision: RoamingDecision, request: RealtimeRequest) -> RealtimePartner:
    return next(p for p in request.partners if p.partner_id == decision.partner_id)


async def _ask(
    client: httpx.AsyncClient, partner: RealtimePartner, request: RealtimeRequest
) -> RoamingDecision:
    """One partner's answer as a decision: accepted on ALLOWED, rejected on any other answer
    (an unknown token, 2004, included), timeout, or error for what is no OCPI answer."""
    url = f"{partner.tokens_url}/{quote(request.uid, safe='')}/authorize"
    body: dict[str, Any] = {"location_id": request.location_id}
    if request.connector_id:
        body["evse_uids"] = [evse_uid(request.ocpp_id, request.connector_id)]
    request_id = str(uuid.uuid4())
    headers = {
        "Authorization": authorization(partner.token_b),
        "X-Request-ID": request_id,
        "X-Correlation-ID": request_id,
    }
    try:
        response = await client.post(url, params={"type": request.token_type}, json=body, headers=headers)
    except httpx.TimeoutException:
        return realtime_decision(partner, request, ROAMING_TIMEOUT)
    except httpx.HTTPError as error:
        log.warning("real-time authorization at %s failed: %s", url, type(error).__name__)
        return realtime_decision(partner, request, ROAMING_ERROR)
    return _decision(partner, request, response)


def _decision(
    partner: RealtimePartner, request: RealtimeRequest, response: httpx.Response
) -> RoamingDecision:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        log.warning("real-time authorization: %s answered no OCPI envelope", response.url)
        return realtime_decision(partner, request, ROAMING_ERROR)
    if answer.get("status_code") == UNKNOWN_TOKEN:
        return realtime_decision(partner, request, ROAMING_REJECTED)
    info = answer.get("data")
    if (
        response.status_code != 200
        or answer.get("status_code") != SUCCESS
        or not isinstance(info, dict)
        or info.get("allowed") not in ALLOWED_VALUES
    ):
        log.warning("real-time authorization: %s answered no AuthorizationInfo", response.url)
        return realtime_decision(partner, request, ROAMING_ERROR)
    if info["allowed"] != ALLOWED:
        return realtime_decision(partner, request, ROAMING_REJECTED)
    token = info["token"] if isinstance(info.get("token"), dict) else {}
    reference = info.get("authorization_reference")
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE_LENGTH:
        reference = None
    contract_id = token.get("contract_id")
    token_type = token.get("type")
    return realtime_decision(
        partner,
        request,
        ROAMING_ACCEPTED,
        authorization_reference=reference,
        contract_id=contract_id if isinstance(contract_id, str) else None,
        token_type=token_type if isinstance(token_type, str) else None,
    )
