"""Settings, read once from the environment by the composition root."""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from psycopg.conninfo import make_conninfo

DEFAULT_DATABASE_URL = "sqlite:///./data/cpms.sqlite"


class SettingsError(ValueError):
    """A setting has a value cpms cannot use; the message names the variable."""


@dataclass(frozen=True)
class Database:
    """Where events and read models live: a SQLite file pair or one PostgreSQL schema."""

    kind: str  # "sqlite" or "postgresql"
    sqlite_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = "postgres"
    schema: str = "public"

    @classmethod
    def from_url(cls, url: str) -> Database:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them.
            path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
            if not path or path == ":memory:":
                raise SettingsError(
                    "CPMS_DATABASE_URL: a SQLite URL needs a file path, e.g. " + DEFAULT_DATABASE_URL
                )
            return cls(kind="sqlite", sqlite_path=Path(path))
        if parts.scheme in ("postgresql", "postgres"):
            query = parse_qs(parts.query)
            try:
                port = parts.port or 5432
            except ValueError:
                raise SettingsError("CPMS_DATABASE_URL: the port is not a number") from None
            return cls(
                kind="postgresql",
                host=parts.hostname or "127.0.0.1",
                port=port,
                user=unquote(parts.username or "postgres"),
                password=unquote(parts.password or ""),
                dbname=parts.path.lstrip("/") or "postgres",
                schema=query.get("schema", ["public"])[0],
            )
        raise SettingsError(
            f"CPMS_DATABASE_URL: unsupported scheme {parts.scheme!r} (use sqlite:/// or postgresql://)"
        )

    @property
    def views_path(self) -> Path:
        """Read models sit beside the event store, in a file of their own (one writer each)."""
        assert self.sqlite_path is not None
        return self.sqlite_path.with_name(self.sqlite_path.stem + "-views.sqlite")

    def conninfo(self) -> str:
        # make_conninfo quotes values, so a password with a space or a quote stays one value.
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=self.dbname,
            password=self.password or None,
        )


@dataclass(frozen=True)
class Variable:
    """One environment variable cpms reads: what `--help` and the README say about it."""

    name: str
    default: str
    meaning: str
    roles: frozenset[str]  # what reads it: the roles gateway, projector, api, or admin commands


ALL_ROLES = frozenset({"gateway", "projector", "api"})
ADMIN = frozenset({"admin"})  # `cpms admin ...`, `cpms projections status`
GATEWAY = frozenset({"gateway"})
AUDIT = frozenset({"audit"})  # `cpms audit checkpoint`, `cpms audit verify`

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "CPMS_DATABASE_URL",
        DEFAULT_DATABASE_URL,
        "event store and read models: sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB?schema=NAME",
        ALL_ROLES | ADMIN | AUDIT,
    ),
    Variable("CPMS_NATS_URL", "unset", "NATS JetStream (nats://HOST:4222); /health probes it", ALL_ROLES),
    Variable(
        "CPMS_HOST", "127.0.0.1", "interface to bind (0.0.0.0 in containers)", frozenset({"gateway", "api"})
    ),
    Variable("CPMS_OCPP_PORT", "9000", "OCPP-J websocket port: ws://HOST:PORT/ocpp/{ocpp_id}", GATEWAY),
    Variable(
        "CPMS_OCPP_TLS_PORT", "9443", "OCPP-J over TLS (wss), served when a certificate is set", GATEWAY
    ),
    Variable("CPMS_TLS_CERT", "unset", "PEM certificate (chain) of the gateway; with CPMS_TLS_KEY", GATEWAY),
    Variable("CPMS_TLS_KEY", "unset", "PEM private key of the gateway; with CPMS_TLS_CERT", GATEWAY),
    Variable("CPMS_TLS_CLIENT_CA", "unset", "PEM of the CAs signing stations' client certificates", GATEWAY),
    Variable("CPMS_HTTP_PORT", "8000", "HTTP API port: http://HOST:PORT/api/v1", frozenset({"api"})),
    Variable(
        "CPMS_OPERATOR_API_KEY",
        "unset",
        "the operator's Bearer key (24 characters or more) for operator endpoints such as"
        " GET /api/v1/projections; unset, they answer 403 to everyone",
        frozenset({"api"}),
    ),
    Variable(
        "CPMS_OCPI_URL",
        "http://{CPMS_HOST}:{CPMS_HTTP_PORT}/ocpi",
        "public base URL of the OCPI endpoints, given to eMSPs in versions and credentials",
        frozenset({"api"}) | ADMIN,
    ),
    Variable(
        "CPMS_OCPI_CURRENCY",
        "EUR",
        "ISO 4217 currency of OCPI Sessions and CDRs at sites without a tariff (they cost zero)",
        frozenset({"api"}),
    ),
    Variable(
        "CPMS_OCPI_AUTHORIZE_TIMEOUT",
        "3",
        "seconds a charger's token waits for eMSPs' real-time authorization before it is refused (1-30)",
        GATEWAY,
    ),
    Variable(
        "CPMS_COMMAND_TIMEOUT",
        "30",
        "seconds a command to a station (remote start, reset, ...) waits for its turn, then for the"
        " charger's answer, before it ends as timed out (1-300)",
        GATEWAY,
    ),
    Variable(
        "CPMS_REMOTE_START_WINDOW",
        "180",
        "seconds after a remote or Scan2Pay start during which the transaction the charger begins"
        " with its token is linked to it (and a Scan2Pay token is accepted, once) (10-3600)",
        frozenset({"gateway", "api"}),
    ),
    Variable("CPMS_HEARTBEAT_INTERVAL", "300", "seconds, given to chargers in BootNotification", GATEWAY),
    Variable("CPMS_NODE_ID", "host name", "names this gateway in StationConnected events", GATEWAY),
    Variable(
        "CPMS_WRITE_TIMEOUT",
        "5",
        "seconds a write waits for the event store before it is answered with an error (1-120)",
        frozenset({"gateway", "api"}),
    ),
    Variable(
        "CPMS_AUTH_MAX_FAILURES", "5", "free failed basic-auth attempts per station and address", GATEWAY
    ),
    Variable("CPMS_AUTH_LOCKOUT_MAX", "300", "seconds: the longest basic-auth back-off", GATEWAY),
    Variable(
        "CPMS_AUDIT_KEY_FILE",
        "unset",
        "the operator's Ed25519 private key (PEM, from `cpms audit keygen`) signing chain checkpoints",
        AUDIT,
    ),
    Variable("CPMS_AUTH_REMEMBER", "600", "seconds a verified station password is trusted again", GATEWAY),
)


def environment_help(roles: frozenset[str]) -> str:
    """The variables these roles read, for a command's `--help`."""
    lines = ["environment (a bad value stops the process with a message naming it):"]
    for variable in VARIABLES:
        if variable.roles & roles:
            text = f"{variable.meaning} [default: {variable.default}]"
            lines.append(
                textwrap.fill(
                    text, width=100, initial_indent=f"  {variable.name:<25}", subsequent_indent=" " * 27
                )
            )
    return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    database: Database
    nats_url: str | None = None
    host: str = "127.0.0.1"
    ocpp_port: int = 9000
    http_port: int = 8000
    heartbeat_interval: int = 300
    node_id: str = "embedded"
    # TLS for the OCPP gateway (security profiles 2 and 3): with a certificate and key, wss is
    # served on ocpp_tls_port beside plain ws on ocpp_port; with a client CA, stations may present
    # certificates it signed (profile 3).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    ocpp_tls_port: int = 9443
    # Seconds a charger's message or an API write waits for the event store before it is
    # answered with an error (a CALLERROR, a 503): chargers retry as OCPP says.
    write_timeout: float = 5.0
    # Basic-auth guessing (gateway/guard.py): free failures per station identity and per source
    # address, the longest back-off (seconds), and how long a verified password is let in again
    # without scrypt (seconds, 0 = never).
    auth_max_failures: int = 5
    auth_lockout_max: int = 300
    auth_remember: int = 600
    # The public base URL of the OCPI endpoints (behind a proxy, say); None: this node's own.
    ocpi_url: str | None = None
    # The currency of OCPI Sessions and CDRs where the site has no tariff (they cost zero).
    ocpi_currency: str = "EUR"
    # Seconds a token waits for eMSPs' real-time authorization (all partners asked together).
    ocpi_authorize_timeout: float = 3.0
    # Station commands: how long one waits for its turn and then for the charger's answer, and
    # how long a remote start's token stays good for the transaction it asks for.
    command_timeout: float = 30.0
    remote_start_window: float = 180.0
    # Pushing Sessions and CDRs (api/ocpi/push.py): a partner's first retry after a failure, in
    # seconds, doubling up to the second; not read from the environment, tests shorten them.
    ocpi_push_retry_first: float = 1.0
    ocpi_push_retry_max: float = 300.0
    # The operator's own API key (not an organization's): operator endpoints need it.
    operator_api_key: str | None = None
    # The operator's key signing the hash chain's checkpoints (cpms audit checkpoint).
    audit_key_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("CPMS_TLS_CERT and CPMS_TLS_KEY must be set together (or neither)")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise SettingsError("CPMS_TLS_CLIENT_CA needs CPMS_TLS_CERT and CPMS_TLS_KEY (wss) as well")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database=Database.from_url(env.get("CPMS_DATABASE_URL") or DEFAULT_DATABASE_URL),
            nats_url=env.get("CPMS_NATS_URL") or None,
            host=env.get("CPMS_HOST") or "127.0.0.1",
            ocpp_port=_int(env, "CPMS_OCPP_PORT", 9000, 0, 65535),
            http_port=_int(env, "CPMS_HTTP_PORT", 8000, 0, 65535),
            heartbeat_interval=_int(env, "CPMS_HEARTBEAT_INTERVAL", 300, 1, 86400),
            node_id=env.get("CPMS_NODE_ID") or socket.gethostname(),
            tls_cert=_path(env, "CPMS_TLS_CERT"),
            tls_key=_path(env, "CPMS_TLS_KEY"),
            tls_client_ca=_path(env, "CPMS_TLS_CLIENT_CA"),
            ocpp_tls_port=_int(env, "CPMS_OCPP_TLS_PORT", 9443, 0, 65535),
            write_timeout=_int(env, "CPMS_WRITE_TIMEOUT", 5, 1, 120),
            auth_max_failures=_int(env, "CPMS_AUTH_MAX_FAILURES", 5, 1, 1000),
            auth_lockout_max=_int(env, "CPMS_AUTH_LOCKOUT_MAX", 300, 1, 86400),
            auth_remember=_int(env, "CPMS_AUTH_REMEMBER", 600, 0, 86400),
            ocpi_url=_url(env, "CPMS_OCPI_URL"),
            ocpi_currency=_currency(env, "CPMS_OCPI_CURRENCY"),
            ocpi_authorize_timeout=_int(env, "CPMS_OCPI_AUTHORIZE_TIMEOUT", 3, 1, 30),
            command_timeout=_int(env, "CPMS_COMMAND_TIMEOUT", 30, 1, 300),
            remote_start_window=_int(env, "CPMS_REMOTE_START_WINDOW", 180, 10, 3600),
            operator_api_key=_secret(env, "CPMS_OPERATOR_API_KEY", 24),
            audit_key_file=_path(env, "CPMS_AUDIT_KEY_FILE"),
        )

    def ocpi_base(self, http_port: int | None = None) -> str:
        """The OCPI base URL partners are given, without a trailing slash."""
        if self.ocpi_url:
            return self.ocpi_url.rstrip("/")
        return f"http://{self.host}:{http_port or self.http_port}/ocpi"


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw


def _currency(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name) or "EUR"
    if not (len(raw) == 3 and raw.isascii() and raw.isalpha()):
        raise SettingsError(f"{name} must be an ISO 4217 code of 3 letters, got {raw!r}")
    return raw.upper()


def _secret(env: Mapping[str, str], name: str, length: int) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if len(raw) < length or not raw.isascii() or not raw.isprintable() or " " in raw:
        raise SettingsError(f"{name} must be {length} or more printable ASCII characters without spaces")
    return raw


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value
