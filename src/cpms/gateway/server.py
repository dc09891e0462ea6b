"""The websocket server: handshake checks, one OCPP session per connection, connect/disconnect facts."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
import ssl
from collections.abc import Sequence
from http import HTTPStatus
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from cpms.application import ChargingNetwork, StationAccess
from cpms.gateway.connections import StationConnections
from cpms.gateway.framing import FrameBudget
from cpms.gateway.guard import Attempt, CredentialGuard, Limited, Undecided, source_key
from cpms.gateway.presence import Presence
from cpms.gateway.security import common_name, needs_password, transport_refusal
from cpms.gateway.v16 import CentralSystem16
from cpms.gateway.v201 import CentralSystem21, CentralSystem201
from cpms.gateway.verifier import PasswordVerifier, VerifierBusy
from cpms.infra.health import Unavailable

log = logging.getLogger(__name__)

PATH = re.compile(r"^/ocpp/([^/?#]+)/?$")
# In order of preference: 2.0.1 is the mature one; 2.1 is welcome; 1.6 for the installed base.
CENTRAL_SYSTEMS: dict[str, type[CentralSystem201 | CentralSystem16]] = {
    "ocpp2.0.1": CentralSystem201,
    "ocpp2.1": CentralSystem21,
    "ocpp1.6": CentralSystem16,
}
SUBPROTOCOLS = [Subprotocol(name) for name in CENTRAL_SYSTEMS]  # in order of preference
MAX_FRAME_BYTES = 64 * 1024


class OcppGateway:
    def __init__(
        self,
        network: ChargingNetwork,
        presence: Presence,
        *,
        node_id: str,
        heartbeat_interval: int,
        guard: CredentialGuard,
        verifier: PasswordVerifier,
        connections: StationConnections | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._network = network
        self.connections = connections or StationConnections()
        self.guard = guard
        self.verifier = verifier
        self._outcome = asyncio.Event()  # set, and replaced, whenever the guard learns an outcome
        self._presence = presence
        self._node_id = node_id
        self._heartbeat_interval = heartbeat_interval
        self._ssl = ssl_context
        self._server: Server | None = None
        self._tls_server: Server | None = None
        self._sessions: dict[str, ServerConnection] = {}
        self.port: int | None = None
        self.tls_port: int | None = None

    @property
    def serves_tls(self) -> bool:
        return self._ssl is not None

    async def start(self, host: str, port: int) -> int:
        """Serve plain ws on `port`; `start_tls` adds wss beside it, with one handshake for
        both, which holds each station to its security profile's transport."""
        self._server = await self._serve(host, port, None)
        self.connections.serve()
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("OCPP gateway listening on %s:%d (ws)", host, self.port)
        return self.port

    async def start_tls(self, host: str, port: int) -> int:
        assert self._ssl is not None, "wss needs the gateway's TLS context"
        self._tls_server = await self._serve(host, port, self._ssl)
        self.tls_port = self._tls_server.sockets[0].getsockname()[1]
        log.info("OCPP gateway listening on %s:%d (wss)", host, self.tls_port)
        return self.tls_port

    async def _serve(self, host: str, port: int, tls: ssl.SSLContext | None) -> Server:
        return await serve(
            self._session,
            host,
            port,
            subprotocols=SUBPROTOCOLS,
            select_subprotocol=_select_subprotocol,
            process_request=self._handshake,
            max_size=MAX_FRAME_BYTES,
            ssl=tls,
            ping_interval=60,
            ping_timeout=60,
        )

    async def stop(self) -> None:
        servers = [server for server in (self._server, self._tls_server) if server is not None]
        for server in servers:
            server.close()  # closes every session; each records its StationDisconnected
        for server in servers:
            await server.wait_closed()
        self._server = self._tls_server = None
        self.connections.serve(False)
        self.verifier.close()

    @property
    def connected(self) -> list[str]:
        return list(self._sessions)

    # -- handshake ----------------------------------------------------------------------------

    async def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        match = PATH.match(request.path)
        if match is None:
            return _refuse(connection, HTTPStatus.NOT_FOUND, "OCPP endpoint is /ocpp/{ocpp_id}")
        ocpp_id = unquote(match.group(1))
        try:
            access = await self._network.station_access(ocpp_id)
        except Unavailable:  # logged once by the health monitor
            return _retry_later(connection, HTTPStatus.SERVICE_UNAVAILABLE, 2, "central system unavailable")
        if access is None:
            log.warning("refused unknown station %r from %s", ocpp_id, connection.remote_address)
            return _refuse(connection, HTTPStatus.NOT_FOUND, f"unknown station {ocpp_id}")
        tls = connection.transport.get_extra_info("ssl_object")
        refusal = transport_refusal(
            access.security_profile,
            ocpp_id=access.ocpp_id,
            serial_number=access.serial_number,
            over_tls=tls is not None,
            client_cn=None if tls is None else common_name(tls.getpeercert()),
        )
        if refusal is not None:
            log.warning("refused at the handshake: %s (from %s)", refusal, connection.remote_address)
            return _refuse(connection, HTTPStatus.UNAUTHORIZED, "refused by the station's security profile")
        if needs_password(access.security_profile):
            response = await self._authenticate(connection, access, request.headers)
            if response is not None:
                return response
        connection.ocpp_id = access.ocpp_id  # type: ignore[attr-defined]
        return None

    async def _authenticate(
        self, connection: ServerConnection, access: StationAccess, headers: Headers
    ) -> Response | None:
        """Security profiles 1 and 2: HTTP basic auth, guessing bounded by the guard. Attempts
        without a password for this identity are refused at no cost, so they are not counted."""
        password = _basic_password(access, headers)
        if password is None or access.password_hash is None:
            log.warning("refused station %r: no basic-auth credentials for it", access.ocpp_id)
            return _unauthorized(connection)
        if self.guard.remembers(access.ocpp_id, password, access.password_hash):
            return None
        attempt = await self._admit(access.ocpp_id, source_key(connection.remote_address))
        if isinstance(attempt, Limited):
            return _retry_later(
                connection, HTTPStatus.TOO_MANY_REQUESTS, attempt.retry_after, "too many failed attempts"
            )
        verified = await self._verify(attempt, password, access.password_hash)
        if verified is None:
            return _retry_later(connection, HTTPStatus.SERVICE_UNAVAILABLE, 1, "verification busy")
        if verified:
            return None
        log.warning("refused station %r: wrong basic-auth password", access.ocpp_id)
        return _unauthorized(connection)

    async def _admit(self, ocpp_id: str, source: str) -> Attempt | Limited:
        """The guard's answer, waited for while attempts under way decide it (no longer than
        the handshake's own timeout, which cancels this)."""
        while isinstance(decision := self.guard.admit(ocpp_id, source), Undecided):
            await self._outcome.wait()
        return decision

    async def _verify(self, attempt: Attempt, password: str, password_hash: str) -> bool | None:
        """Verify an admitted attempt (None: the verifier is full) and report its outcome to the
        guard whatever happens: cancelled with its handshake, it must not stay pending."""
        verified: bool | None = None
        try:
            verified = await self.verifier.verify(password, password_hash)
        except VerifierBusy:
            pass
        finally:
            if verified is None:
                self.guard.abandoned(attempt)
            elif verified:
                self.guard.succeeded(attempt, password, password_hash)
            else:
                self.guard.failed(attempt)
            self._outcome.set()  # wakes the handshakes waiting in _admit
            self._outcome = asyncio.Event()
        return verified

    # -- session ------------------------------------------------------------------------------

    async def _session(self, connection: ServerConnection) -> None:
        ocpp_id: str = connection.ocpp_id  # type: ignore[attr-defined]
        if connection.subprotocol is None:
            offered = connection.request.headers.get("Sec-WebSocket-Protocol") if connection.request else None
            log.warning(
                "station %r offered no supported OCPP version (offered %r, we speak %s); closing",
                ocpp_id,
                offered,
                ", ".join(SUBPROTOCOLS),
            )
            await connection.close(1002, "no supported OCPP subprotocol")
            return
        previous = self._sessions.get(ocpp_id)
        self._sessions[ocpp_id] = connection
        if previous is not None:
            log.warning("station %r connected again; closing the previous connection", ocpp_id)
            await previous.close(1000, "replaced by a new connection")
        try:
            await self._network.station_connected(
                ocpp_id, node=self._node_id, ocpp_version=connection.subprotocol
            )
        except Exception:
            log.exception("could not record the connection of %r; closing", ocpp_id)
            self._forget(ocpp_id, connection)
            await connection.close(1011, "central system unavailable")
            return
        central_system = CENTRAL_SYSTEMS[connection.subprotocol]
        charge_point = central_system(
            ocpp_id, connection, self._network, heartbeat_interval=self._heartbeat_interval
        )
        charge_point.on_frame = lambda: self._presence.seen(ocpp_id)
        charge_point.budget = FrameBudget()
        self.connections.opened(ocpp_id, charge_point)
        reason = "Connection closed"
        try:
            await charge_point.start()
        except ConnectionClosed as closed:
            reason = _close_reason(closed)
        except Exception:
            log.exception("session of %r failed", ocpp_id)
            reason = "Internal error"
        finally:
            self.connections.closed(ocpp_id, charge_point)
            if self._forget(ocpp_id, connection):
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._network.station_disconnected(ocpp_id, reason=reason))

    def _forget(self, ocpp_id: str, connection: ServerConnection) -> bool:
        """Drop a session unless a newer connection of the same station replaced it."""
        if self._sessions.get(ocpp_id) is connection:
            del self._sessions[ocpp_id]
            return True
        return False


def _select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """Our preferred version among those offered; with none in common, OCPP-J says to complete
    the handshake without one, then close."""
    for subprotocol in SUBPROTOCOLS:
        if subprotocol in offered:
            return subprotocol
    return None


def _refuse(connection: ServerConnection, status: HTTPStatus, message: str) -> Response:
    return connection.respond(status, message + "\n")


def _unauthorized(connection: ServerConnection) -> Response:
    response = _refuse(connection, HTTPStatus.UNAUTHORIZED, "credentials required")
    response.headers["WWW-Authenticate"] = 'Basic realm="cpms"'
    return response


def _retry_later(connection: ServerConnection, status: HTTPStatus, seconds: int, why: str) -> Response:
    """Refused without checking the password, so the status says nothing about it; Retry-After
    tells a well-behaved charger when trying again can succeed."""
    response = _refuse(connection, status, f"{why}, retry in {seconds} s")
    response.headers["Retry-After"] = str(seconds)
    return response


def _basic_password(access: StationAccess, headers: Headers) -> str | None:
    """The basic-auth password, if the username is the station's OCPP identity."""
    header = headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password if username == access.ocpp_id else None


def _close_reason(closed: ConnectionClosed) -> str:
    frame = closed.rcvd or closed.sent
    if frame is None:
        return "Connection lost"
    return f"Closed with code {frame.code}" + (f": {frame.reason}" if frame.reason else "")
