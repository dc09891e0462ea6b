"""The composition root: builds the event store, writer, projections, gateway and API from
settings, and runs whichever roles a process is asked to run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn

from cpms.aggregates.station import Station
from cpms.api.app import create_app
from cpms.api.context import ApiServices
from cpms.api.ocpi.authorize import RealtimeAuthorization
from cpms.api.ocpi.push import PushWorker
from cpms.application import ChargingNetwork, Clock, utc_now
from cpms.audit.history import SiteHistory, Snapshotter
from cpms.gateway.connections import StationConnections
from cpms.gateway.guard import CredentialGuard, GuardPolicy
from cpms.gateway.presence import Presence
from cpms.gateway.server import OcppGateway
from cpms.gateway.tls import server_context
from cpms.gateway.verifier import PasswordVerifier, verification_threads
from cpms.infra.eventstore import EventStore, open_event_store
from cpms.infra.health import (
    EVENT_STORE,
    NATS,
    VIEW_STORE,
    DependencyMonitor,
    NatsProbe,
    PostgresProbe,
    Probe,
    SqliteProbe,
)
from cpms.infra.settings import Settings
from cpms.infra.startup import bind, listening, prepare_database
from cpms.infra.writer import Writer
from cpms.portal import mount as portal_mount
from cpms.projections.access_groups import AccessGroupsProjection
from cpms.projections.analytics import AnalyticsProjection
from cpms.projections.charge_points import ChargePointsProjection
from cpms.projections.roaming import RoamingProjection
from cpms.projections.roaming_partners import RoamingPartnersProjection
from cpms.projections.runner import ProjectionLagging, ProjectionRunner
from cpms.projections.sessions import SessionsProjection
from cpms.projections.site_history import SiteHistoryProjection
from cpms.projections.sites import SitesProjection
from cpms.projections.station_commands import StationCommandsProjection
from cpms.projections.station_configuration import StationConfigurationProjection
from cpms.projections.stations import StationsProjection, connected_stations, record_presence
from cpms.projections.store import ViewStore, open_view_store

log = logging.getLogger(__name__)

STALE_SESSIONS_WAIT = 30.0  # seconds the gateway waits at start for the stations view


def all_projections() -> list:  # type: ignore[type-arg]
    return [
        SitesProjection(),
        ChargePointsProjection(),
        StationsProjection(),
        AccessGroupsProjection(),
        StationConfigurationProjection(),
        SessionsProjection(),
        RoamingPartnersProjection(),
        RoamingProjection(),
        StationCommandsProjection(),
        AnalyticsProjection(),
        SiteHistoryProjection(),
    ]


class _Uvicorn(uvicorn.Server):
    """uvicorn inside our own loop: the node, not uvicorn, owns the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Node:
    settings: Settings
    store: EventStore
    views: ViewStore
    writer: Writer
    network: ChargingNetwork
    projections: ProjectionRunner
    presence: Presence
    health: DependencyMonitor
    realtime: RealtimeAuthorization
    push: PushWorker
    connections: StationConnections
    gateway: OcppGateway | None = None
    ocpp_port: int | None = None
    ocpp_tls_port: int | None = None
    http_port: int | None = None
    _http: _Uvicorn | None = None
    _api_services: ApiServices | None = None
    _http_task: asyncio.Task[None] | None = None
    _snapshotter: Snapshotter | None = None
    _started: list[str] = field(default_factory=list)
    _closed: bool = False

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utc_now) -> Node:
        prepare_database(settings.database)
        store = open_event_store(settings.database)
        views = open_view_store(settings.database)
        health = DependencyMonitor(_probes(settings))
        projections = ProjectionRunner(store, views, all_projections(), on_unavailable=health.report)
        writer = Writer(
            store,
            on_stored=projections.notify,
            unavailable=lambda: health.unavailable(EVENT_STORE),
            on_unavailable=lambda error: health.report(EVENT_STORE, error),
            deadline=settings.write_timeout,
        )
        presence = Presence(lambda seen: record_presence(views, seen))
        realtime = RealtimeAuthorization(timeout=settings.ocpi_authorize_timeout)
        # The stations this process's gateway (if it runs one) holds: the port commands go through.
        connections = StationConnections(timeout=settings.command_timeout)
        network = ChargingNetwork(
            writer,
            clock,
            realtime=realtime,
            stations=connections,
            remote_start_window=settings.remote_start_window,
        )
        push = PushWorker(
            views,
            network,
            currency=settings.ocpi_currency,
            retry_first=settings.ocpi_push_retry_first,
            retry_max=settings.ocpi_push_retry_max,
        )
        projections.on_folded = push.wake
        return cls(
            settings=settings,
            store=store,
            views=views,
            writer=writer,
            network=network,
            projections=projections,
            presence=presence,
            health=health,
            realtime=realtime,
            push=push,
            connections=connections,
        )

    async def start(self, *, gateway: bool = True, projector: bool = True, api: bool = True) -> None:
        """Start the roles asked for; `cpms serve` runs all three in one process.

        Projections catch up in the background: a long log, or a projection stopped at a
        failing event, never holds the gateway or the API back. If a role cannot start (a port
        in use, say), the roles already started are stopped again before the error is raised."""
        try:
            await self._start(gateway=gateway, projector=projector, api=api)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, *, gateway: bool, projector: bool, api: bool) -> None:
        await asyncio.to_thread(self.projections.setup)
        await self.health.start()
        self._started.append("health")
        await self.writer.start()
        self._started.append("writer")
        if projector:
            self.projections.start()
            self._started.append("projections")
            # The role that folds the outbox also works it off: pushes to eMSPs (api/ocpi/push.py).
            await self.push.start()
            self._started.append("push")
            # And keeps the snapshots of sites' past views close behind the log (audit/history.py).
            self._snapshotter = Snapshotter(SiteHistory(self.store, self.views))
            await self._snapshotter.start()
            self._started.append("snapshots")
        if gateway:
            tls = self._tls_context()
            await self.presence.start()
            self.gateway = OcppGateway(
                self.network,
                self.presence,
                node_id=self.settings.node_id,
                heartbeat_interval=self.settings.heartbeat_interval,
                guard=self._credential_guard(),
                verifier=PasswordVerifier(threads=verification_threads()),
                connections=self.connections,
                ssl_context=tls,
            )
            self._started.append("gateway")  # from here on, stop() closes what it opened
            await self._disconnect_stale_sessions()
            settings = self.settings
            with listening("OCPP", "CPMS_OCPP_PORT", settings.host, settings.ocpp_port):
                self.ocpp_port = await self.gateway.start(settings.host, settings.ocpp_port)
            if self.gateway.serves_tls:
                with listening("OCPP over TLS", "CPMS_OCPP_TLS_PORT", settings.host, settings.ocpp_tls_port):
                    self.ocpp_tls_port = await self.gateway.start_tls(settings.host, settings.ocpp_tls_port)
        if api:
            with listening("HTTP", "CPMS_HTTP_PORT", self.settings.host, self.settings.http_port):
                sock = bind(self.settings.host, self.settings.http_port)
            # Bound first: the OCPI URL partners are given names the port really bound.
            ocpi_url = self.settings.ocpi_base(sock.getsockname()[1])
            self._api_services = ApiServices(
                self.network,
                self.views,
                self.projections,
                self.health,
                ocpi_url,
                self.settings.ocpi_currency,
                operator_key=self.settings.operator_api_key,
                history=SiteHistory(self.store, self.views),
            )
            app = create_app(self._api_services, pages=[portal_mount()])
            config = uvicorn.Config(
                app,
                host=self.settings.host,
                port=self.settings.http_port,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
            self._http = _Uvicorn(config)
            self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]), name="cpms-http")
            while not self._http.started:
                if self._http_task.done():
                    self._http_task.result()  # raises why it could not start
                    raise RuntimeError("HTTP server stopped during start-up")
                await asyncio.sleep(0.01)
            self.http_port = self._http.servers[0].sockets[0].getsockname()[1]
            self._started.append("api")

    async def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        if "api" in self._started and self._http is not None and self._http_task is not None:
            if self._api_services is not None:
                self._api_services.stopping.set()  # live pages end their streams
            self._http.should_exit = True
            await self._http_task
        if "gateway" in self._started and self.gateway is not None:
            await self.gateway.stop()
            await self.presence.stop()
        if "snapshots" in self._started and self._snapshotter is not None:
            await self._snapshotter.stop()
        if "push" in self._started:
            await self.push.stop()
        if "projections" in self._started:
            self.projections.stop()
        if "writer" in self._started:
            await self.writer.stop()
        await self.realtime.aclose()
        if "health" in self._started:
            await self.health.stop()
        self._started.clear()
        self.views.close()
        self.store.close()

    def _tls_context(self) -> ssl.SSLContext | None:
        """wss beside ws when a certificate is configured; only the gateway role loads it."""
        settings = self.settings
        if settings.tls_cert is None or settings.tls_key is None:
            return None
        return server_context(settings.tls_cert, settings.tls_key, settings.tls_client_ca)

    def _credential_guard(self) -> CredentialGuard:
        settings = self.settings
        policy = GuardPolicy(
            max_failures=settings.auth_max_failures,
            lockout_max=settings.auth_lockout_max,
            remember=settings.auth_remember,
        )
        return CredentialGuard(policy)

    async def _disconnect_stale_sessions(self) -> None:
        """Sessions this node held when it last stopped uncleanly are over: record that.

        The stations view says which stations are connected, once it has folded the log as it
        stands; if it cannot (stopped at a failing event, or far behind), the gateway starts
        anyway and those sessions stay open in the view until their stations reconnect."""
        head = await asyncio.to_thread(self.store.recorder.max_notification_id)
        try:
            await self.projections.wait_for(
                head, event_types=(Station.StationConnected,), timeout=STALE_SESSIONS_WAIT
            )
        except ProjectionLagging as error:
            log.warning("not closing sessions left open by an earlier run of this node: %s", error)
            return

        def connected() -> list[str]:
            with self.views.read() as tx:
                return connected_stations(tx)

        for ocpp_id in await asyncio.to_thread(connected):
            await self.network.station_disconnected(
                ocpp_id, reason="Gateway restarted", only_via_node=self.settings.node_id
            )


def _probes(settings: Settings) -> dict[str, Probe]:
    """What this node depends on: its event store, its view store and, when configured, NATS."""
    database = settings.database
    probes: dict[str, Probe] = {}
    if database.kind == "sqlite":
        assert database.sqlite_path is not None
        probes[EVENT_STORE] = SqliteProbe(database.sqlite_path)
        probes[VIEW_STORE] = SqliteProbe(database.views_path)
    else:
        # One database holds both today; probed apart, so that /health names each.
        probes[EVENT_STORE] = PostgresProbe(database.conninfo())
        probes[VIEW_STORE] = PostgresProbe(database.conninfo())
    if settings.nats_url:
        probes[NATS] = NatsProbe(settings.nats_url)
    return probes
