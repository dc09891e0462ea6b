"""Pushing Sessions and CDRs to eMSPs' receivers (OCPI 2.2.1 push model), from the outbox the
roaming projection fills: `PUT {sessions url}/{our country}/{our party}/{session id}` with the
whole Session on every change, `POST {cdrs url}` with the CDR once it is issued.

Each partner is worked off by a task of its own, one row at a time and oldest first, so a slow
or failing eMSP delays only its own deliveries. A failure worth retrying (no connection, a
timeout, HTTP 5xx or 429, OCPI 3xxx) holds that partner back for a back-off doubling from
`retry_first` to `retry_max`; any other refusal (HTTP 4xx, OCPI 2xxx, no OCPI answer) is final
for that version of the object, recorded with its message. The outbox is in the view store, so
a restarted node resumes what was owed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from cpms.api.ocpi.envelope import authorization
from cpms.api.ocpi_models.cdrs import CDR
from cpms.api.ocpi_models.sessions import Session
from cpms.application import ChargingNetwork
from cpms.application.roaming import PushTarget
from cpms.projections import roaming
from cpms.projections import roaming_outbox as outbox
from cpms.projections.store import ViewStore

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(5.0, connect=3.0)
LEASE = 30.0  # seconds a claimed row is this process's: longer than any one request


@dataclass
class Backoff:
    """Per partner: nothing to wait after a success; after `n` failures in a row, `first * 2**(n-1)`
    seconds, at most `maximum`."""

    first: float = 1.0
    maximum: float = 300.0
    _failures: dict[str, int] = field(default_factory=dict)
    _until: dict[str, float] = field(default_factory=dict)

    def failed(self, key: str, now: float) -> float:
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        delay = min(self.maximum, self.first * 2 ** (failures - 1))
        self._until[key] = now + delay
        return delay

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
        self._until.pop(key, None)

    def due(self, key: str, now: float) -> bool:
        return self._until.get(key, now) <= now

    def next_due(self, now: float) -> float | None:
        """Seconds until the earliest partner held back becomes due, if any is."""
        waits = [until - now for until in self._until.values() if until > now]
        return min(waits) if waits else None


class Retry(Exception):
    """A failure worth trying again later."""


class Refused(Exception):
    """A final answer: this version of the object is not sent again."""


class Missing(Exception):
    """The read model does not hold the object (yet): a rebuild in progress, say."""


class PushWorker:
    def __init__(
        self,
        views: ViewStore,
        network: ChargingNetwork,
        *,
        currency: str,
        retry_first: float = 1.0,
        retry_max: float = 300.0,
        poll_interval: float = 1.0,
        timeout: httpx.Timeout = TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._views = views
        self._network = network
        self._currency = currency
        self._backoff = Backoff(retry_first, retry_max)
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._clock = clock
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient(timeout=self._timeout)
        self._task = asyncio.create_task(self._run(), name="cpms-ocpi-push")

    def wake(self) -> None:
        """Something may be owed: look now. Safe from any thread (the projections call it)."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._busy.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._busy.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                owing = await asyncio.to_thread(self._owing)
            except Exception as error:  # the view store is down: the outbox waits for it
                log.warning("OCPI push cannot read its outbox: %s: %s", type(error).__name__, error)
                owing = []
            now = self._clock()
            for partner_id in owing:
                if partner_id not in self._busy and self._backoff.due(partner_id, now):
                    task = asyncio.create_task(
                        self._work_off(partner_id), name=f"cpms-ocpi-push-{partner_id}"
                    )
                    self._busy[partner_id] = task
                    task.add_done_callback(functools.partial(self._done, partner_id))
            wait = self._poll_interval
            held = self._backoff.next_due(now)
            if held is not None:
                wait = min(wait, held)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    def _done(self, partner_id: str, _task: asyncio.Task[None]) -> None:
        self._busy.pop(partner_id, None)

    def _owing(self) -> list[str]:
        with self._views.read() as tx:
            return outbox.owing_partners(tx)

    async def _work_off(self, partner_id: str) -> None:
        """Deliver the partner's owed rows one after another until none is left or one fails."""
        try:
            while (delivery := await self._claimed(partner_id)) is not None:
                try:
                    delivered = await self._deliver(delivery)
                except asyncio.CancelledError:
                    # Stopping: give the row back now, so that a restarted node (or another
                    # projector) sends it at once rather than after the lease.
                    await self._record(outbox.release, delivery)
                    raise
                if not delivered:
                    return
        except Exception as error:
            log.warning("OCPI push to partner %s stopped: %s: %s", partner_id, type(error).__name__, error)
        finally:
            if self._wake is not None:
                self._wake.set()  # what came in meanwhile is looked at now, not at the next poll

    async def _claimed(self, partner_id: str) -> outbox.Delivery | None:
        """The partner's next row, leased to us. A stop arriving while the claim is written lets
        the write finish and gives the row straight back: no lease outlives this worker."""
        claim = asyncio.ensure_future(asyncio.to_thread(self._claim, partner_id))
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            delivery = await claim
            if delivery is not None:
                await self._record(outbox.release, delivery)
            raise

    def _claim(self, partner_id: str) -> outbox.Delivery | None:
        with self._views.transaction() as tx:
            return outbox.claim(tx, partner_id, datetime.now(UTC), LEASE)

    async def _deliver(self, delivery: outbox.Delivery) -> bool:
        """Send one row and record how it went; False when the partner must wait before the next."""
        target = await self._network.push_target(delivery.partner_id)
        url = _receiver(target, delivery.kind)
        if target is None or url is None or target.party is None or target.token_b is None:
            await self._record(outbox.settle, delivery, "skipped")
            return True
        try:
            location = await self._send(delivery, target, url)
        except Missing:
            # The read model does not hold it yet (a rebuild under way): give it back and hold
            # this partner back as after a failure, in order, rather than spin on it.
            self._backoff.failed(delivery.partner_id, self._clock())
            await self._record(outbox.release, delivery)
            return False
        except Retry as error:
            delay = self._backoff.failed(delivery.partner_id, self._clock())
            log.warning(
                "OCPI push of %s %s to partner %s failed (attempt %d), retrying in %.0f s: %s",
                delivery.kind,
                delivery.object_id,
                delivery.partner_id,
                delivery.attempts + 1,
                delay,
                error,
            )
            await self._record(outbox.retry_later, delivery, str(error))
            return False
        except Refused as error:
            log.warning(
                "OCPI push of %s %s to partner %s refused, not retried: %s",
                delivery.kind,
                delivery.object_id,
                delivery.partner_id,
                error,
            )
            await self._record(outbox.settle, delivery, "failed", error=str(error))
            return True
        self._backoff.succeeded(delivery.partner_id)
        await self._record(outbox.settle, delivery, "delivered", location=location)
        return True

    async def _record(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        def run() -> None:
            with self._views.transaction() as tx:
                write(tx, *args, **kwargs)

        await asyncio.to_thread(run)

    async def _send(self, delivery: outbox.Delivery, target: PushTarget, url: str) -> str | None:
        party = target.party
        assert party is not None and target.token_b is not None and self._client is not None

        def read() -> dict[str, Any] | None:
            with self._views.read() as tx:
                return roaming.ocpi_object(
                    tx,
                    delivery.kind,
                    delivery.object_id,
                    country_code=party.country_code,
                    party_id=party.party_id,
                    currency=self._currency,
                )

        found = await asyncio.to_thread(read)
        if found is None:
            raise Missing(delivery.object_id)
        model = Session if delivery.kind == outbox.SESSION else CDR
        body = msgspec.json.encode(msgspec.convert(found, model))  # what OCPI defines, or nothing
        request_id = str(uuid.uuid4())
        headers = {
            "Authorization": authorization(target.token_b),
            "Content-Type": "application/json",
            "X-Request-ID": request_id,
            "X-Correlation-ID": request_id,
            "OCPI-from-country-code": party.country_code,
            "OCPI-from-party-id": party.party_id,
            "OCPI-to-country-code": target.country_code,
            "OCPI-to-party-id": target.party_id,
        }
        try:
            if delivery.kind == outbox.SESSION:
                path = f"{url.rstrip('/')}/{party.country_code}/{party.party_id}/{delivery.object_id}"
                response = await self._client.put(path, content=body, headers=headers)
            else:
                response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise Retry(f"{type(error).__name__} calling {url}") from None
        _judge(response)
        return response.headers.get("location")


def _receiver(target: PushTarget | None, kind: str) -> str | None:
    if target is None or not target.registered:
        return None
    return target.sessions_url if kind == outbox.SESSION else target.cdrs_url


def _judge(response: httpx.Response) -> None:
    """Raise unless the eMSP took it: Retry for what may pass later, Refused for the rest."""
    status = response.status_code
    if status >= 500 or status == 429:
        raise Retry(f"HTTP {status}")
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("status_code") if isinstance(body, dict) else None
    message = body.get("status_message") if isinstance(body, dict) else None
    if not isinstance(code, int):
        raise Refused(f"HTTP {status} without an OCPI answer")
    if 3000 <= code < 4000:
        raise Retry(f"HTTP {status}, OCPI {code}: {message or ''}".rstrip(": "))
    if status >= 300 or not 1000 <= code < 2000:
        raise Refused(f"HTTP {status}, OCPI {code}: {message or ''}".rstrip(": "))
