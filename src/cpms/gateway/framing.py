"""OCPP-J framing done right where the `ocpp` package (2.1.0) is not.

Every frame a charger sends gets an answer the spec allows: a frame that cannot be read, or holds
what we cannot store, a CALLERROR (`frames.py`; message id `-1` when none can be read) instead of
silence; an action the version does not know `NotImplemented`, a known one we do not handle
`NotSupported` (the package swaps them); on 1.6 a payload that breaks the schema
`FormationViolation`, as 1.6 spells it; and a handler's error the answer `errors.py` gives it.
Each refusal is one warning line naming the station, message id, action and error code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import ocpp.messages
from ocpp.charge_point import LOGGER as OCPP_LOGGER
from ocpp.exceptions import (
    FormatViolationError,
    NotSupportedError,
    OCPPError,
    PropertyConstraintViolationError,
)
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplemented,
)
from ocpp.messages import CallError, MessageType
from websockets.exceptions import ConnectionClosed

from cpms.application import ChargingNetwork
from cpms.application.station_link import Delivery, StationCommand
from cpms.gateway.errors import internal_error, refusal_for
from cpms.gateway.frames import BrokenFrame, decode_frame
from cpms.timestamps import parse_iso

log = logging.getLogger(__name__)

# Schema checks take microseconds; handing each to a thread pool costs more than it saves.
ocpp.messages.ASYNC_VALIDATION = False


class FrameBudget:
    """A token bucket per connection. A charger sends one CALL at a time and waits for its
    answer, so even one flushing its offline queue stays within the burst and the rate; a
    sustained flood is a fault or an attack, and only that connection pays for it."""

    def __init__(
        self, rate: float = 100.0, burst: float = 1000.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._clock = clock
        self._last = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class OcppFraming:
    """Mixin for `ocpp` ChargePoint classes; `known_actions` is the version's action set."""

    known_actions: frozenset[str]
    on_frame: Callable[[], None] | None = None
    budget: FrameBudget | None = None

    async def route_message(self, raw_msg: Any) -> None:
        if self.on_frame is not None:
            self.on_frame()
        if self.budget is not None and not self.budget.allow():
            log.warning("%s: closing the connection, it sends frames faster than allowed", self.id)  # type: ignore[attr-defined]
            await _close_flooded(self._connection)  # type: ignore[attr-defined]
            return
        try:
            msg = decode_frame(raw_msg)
        except BrokenFrame as broken:
            await self._refuse(broken.unique_id, broken.action, broken.error)
            return
        if msg.message_type_id != MessageType.Call:
            self._response_queue.put_nowait(msg)  # type: ignore[attr-defined]
            return
        if not isinstance(msg.action, str) or not isinstance(msg.payload, dict):
            await self._refuse(
                msg.unique_id,
                None,
                FormatViolationError(description="Action must be a string and payload an object"),
            )
            return
        if msg.action not in self.route_map:  # type: ignore[attr-defined]
            if msg.action in self.known_actions:
                refusal: OCPPError = NotSupportedError(
                    description=f"{msg.action} is not supported by this central system"
                )
            else:
                refusal = OcppNotImplemented(
                    description=f"{msg.action} is not an action of OCPP {self._ocpp_version}"  # type: ignore[attr-defined]
                )
            await self._refuse(msg.unique_id, msg.action, refusal)
            return
        try:
            await self._handle_call(msg)  # type: ignore[attr-defined]
        except OCPPError as error:  # the schema refused the payload, before any handler ran
            await self._refuse(msg.unique_id, msg.action, error)

    async def _refuse(self, unique_id: str, action: str | None, error: OCPPError) -> None:
        self._log_refusal(unique_id, action, error)
        await self._send_error(unique_id, error)

    async def _send_error(self, unique_id: str, error: OCPPError) -> None:
        details = {k: v for k, v in (error.details or {}).items() if k != "ocpp_message"}
        frame = CallError(unique_id, self._spelled(error.code), error.description or "", details)
        await self._send(frame.to_json())  # type: ignore[attr-defined]

    def _log_refusal(self, unique_id: str, action: str | None, error: OCPPError) -> None:
        """A charger's bad input is its problem and ours to see, not a fault of ours: one line."""
        log.warning(
            "%s: refused %s %s with %s: %s",
            self.id,  # type: ignore[attr-defined]
            action or "frame",
            unique_id,
            self._spelled(error.code),
            error.description,
        )

    def _spelled(self, code: str) -> str:
        """OCPP 1.6 spells FormatViolation `FormationViolation`."""
        if code == "FormatViolation" and self._ocpp_version == "1.6":  # type: ignore[attr-defined]
            return "FormationViolation"
        return code


async def _close_flooded(connection: Any) -> None:
    """Send the close frame, but do not wait long for the answer: it sits behind the flood."""
    try:
        await asyncio.wait_for(connection.close(1008, "message rate exceeded"), 1.0)
    except TimeoutError:
        connection.transport.abort()


class CentralSystem(OcppFraming):
    """What the handlers of every OCPP version share: the network they report to, the
    heartbeat interval they hand out, how they read a charger's timestamps, and how their
    errors are answered."""

    def __init__(
        self, ocpp_id: str, connection: Any, network: ChargingNetwork, *, heartbeat_interval: int
    ) -> None:
        super().__init__(ocpp_id, connection, logger=_PackageLog(OCPP_LOGGER))  # type: ignore[call-arg]
        self._network = network
        self._heartbeat_interval = heartbeat_interval
        self._turn = asyncio.Lock()  # one command at a time, in the order they came
        for action, routes in self.route_map.items():  # type: ignore[attr-defined]
            if "_on_action" in routes:
                routes["_on_action"] = self._answering(str(action), routes["_on_action"])

    def _answering(
        self, action: str, handler: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        """The handler, its exceptions translated once for all by `errors.py`. The package
        passes `call_unique_id` to a handler that names it, so the log line can name the message."""

        async def answer(call_unique_id: str, **payload: Any) -> Any:
            try:
                return await handler(**payload)
            except Exception as error:
                known = refusal_for(error)
                if known is None:
                    log.error("%s: %s %s failed", self.id, action, call_unique_id, exc_info=error)  # type: ignore[attr-defined]
                    refusal: OCPPError = internal_error(action)
                else:
                    refusal = known.error
                    if known.logged:
                        self._log_refusal(call_unique_id, action, refusal)
                # The package answers with this error's code itself, so spell it for the version here.
                refusal.code = self._spelled(refusal.code)
                if refusal is error:
                    raise
                raise refusal from error

        return answer

    # -- commands to the station ----------------------------------------------------------------

    # The status words by which a charger says yes to a command (Scheduled: once its transaction ends).
    YES = frozenset({"Accepted", "Scheduled", "Unlocked"})

    def request(self, command: StationCommand) -> Any:
        """The version's CALL payload for `command`."""
        raise NotImplementedError

    async def deliver(self, command: StationCommand, timeout: float) -> Delivery:
        """Send `command` once the commands before it are answered, and read the answer. This
        runs in the caller's task, never in the receive loop, which must stay free to read the
        answer; `timeout` bounds the wait for a turn and then for the answer."""
        try:
            async with asyncio.timeout(timeout):
                await self._turn.acquire()
        except TimeoutError:
            return Delivery.timed_out(timeout, sent=False)
        try:
            self._drop_late_answers()
            self._response_timeout = timeout
            try:
                answer = await self._call_while_connected(command)
            except TimeoutError:
                log.warning("%s: no answer to %s within %g s", self.id, type(command).__name__, timeout)  # type: ignore[attr-defined]
                return Delivery.timed_out(timeout)
            except OCPPError as error:
                cause = error.description or (error.details or {}).get("cause")
                return Delivery.failed(self._spelled(error.code), None if cause is None else str(cause)[:300])
            except ConnectionClosed:
                return Delivery.offline()
            status = str(answer.status)
            return Delivery.answered(status, yes=status in self.YES)
        finally:
            self._turn.release()

    async def _call_while_connected(self, command: StationCommand) -> Any:
        """The answer to `command`; a connection that closes first ends the wait at once rather
        than at the timeout (ConnectionClosed)."""
        connection = self._connection  # type: ignore[attr-defined]
        answering = asyncio.ensure_future(self.call(self.request(command), suppress=False))  # type: ignore[attr-defined]
        closing = asyncio.ensure_future(connection.wait_closed())
        try:
            await asyncio.wait({answering, closing}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            answering.cancel()
            raise
        finally:
            closing.cancel()
        if not answering.done():
            answering.cancel()
            raise ConnectionClosed(None, None)
        return answering.result()

    def _drop_late_answers(self) -> None:
        """Answers that came after their command timed out would be taken for the next one's."""
        queue = self._response_queue  # type: ignore[attr-defined]
        while not queue.empty():
            late = queue.get_nowait()
            log.info("%s: dropped a late answer to CALL %s", self.id, late.unique_id)  # type: ignore[attr-defined]


class _PackageLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to the `ocpp` package. Its `_handle_call` logs every handler error with
    a traceback; `CentralSystem._answering` has already reported each once (a warning line for
    a charger's bad input, the traceback for a fault of ours), so the package's copy is debug."""

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        kwargs.pop("exc_info", None)
        self.debug(msg, *args, **kwargs)


def charger_time(timestamp: str) -> datetime:
    """A charger's own timestamp; an unreadable one is a constraint violation, not a crash."""
    try:
        return parse_iso(timestamp)
    except ValueError:
        raise PropertyConstraintViolationError(
            description=f"timestamp {timestamp[:40]!r} is not ISO 8601"
        ) from None
