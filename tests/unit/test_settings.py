"""Settings: database URLs and environment variables, refused with a message naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from cpms.infra.settings import Database, Settings, SettingsError


def test_a_sqlite_url_with_three_slashes_is_a_relative_path() -> None:
    database = Database.from_url("sqlite:///./data/cpms.sqlite")
    assert database.kind == "sqlite"
    assert database.sqlite_path == Path("data/cpms.sqlite")
    assert not database.sqlite_path.is_absolute()


def test_a_sqlite_url_with_four_slashes_is_an_absolute_path() -> None:
    database = Database.from_url("sqlite:////var/lib/cpms/events.sqlite")
    assert database.sqlite_path == Path("/var/lib/cpms/events.sqlite")
    assert database.sqlite_path.is_absolute()


def test_sqlite_read_models_live_beside_the_event_store() -> None:
    database = Database.from_url("sqlite:////var/lib/cpms/events.sqlite")
    assert database.views_path == Path("/var/lib/cpms/events-views.sqlite")


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_a_sqlite_url_without_a_file_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="CPMS_DATABASE_URL"):
        Database.from_url(url)


def test_a_postgresql_url_gives_every_connection_setting() -> None:
    database = Database.from_url("postgresql://alice:s%40cret%20pw@db.example:6543/cpms?schema=tenant_a")
    assert database == Database(
        kind="postgresql",
        host="db.example",
        port=6543,
        user="alice",
        password="s@cret pw",
        dbname="cpms",
        schema="tenant_a",
    )


def test_a_bare_postgresql_url_falls_back_to_defaults() -> None:
    database = Database.from_url("postgres://")
    assert (database.kind, database.host, database.port) == ("postgresql", "127.0.0.1", 5432)
    assert (database.user, database.password, database.dbname, database.schema) == (
        "postgres",
        "",
        "postgres",
        "public",
    )


def test_a_postgresql_url_with_a_port_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(SettingsError, match="CPMS_DATABASE_URL: the port"):
        Database.from_url("postgresql://db.example:fivefour/cpms")


@pytest.mark.parametrize("url", ["mysql://db.example/cpms", "cpms.sqlite", "http://db.example/"])
def test_an_unsupported_database_scheme_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="CPMS_DATABASE_URL: unsupported scheme"):
        Database.from_url(url)


def test_the_postgresql_conninfo_keeps_a_password_with_spaces_and_quotes_whole() -> None:
    database = Database.from_url("postgresql://alice:it%27s%20secret@db.example:6543/cpms")
    assert conninfo_to_dict(database.conninfo()) == {
        "host": "db.example",
        "port": "6543",
        "user": "alice",
        "dbname": "cpms",
        "password": "it's secret",
    }


def test_the_postgresql_conninfo_has_no_password_when_none_is_set() -> None:
    assert "password" not in conninfo_to_dict(Database.from_url("postgresql://db.example/cpms").conninfo())


def test_settings_default_when_the_environment_is_empty() -> None:
    settings = Settings.from_env({"CPMS_NODE_ID": "node-1"})
    assert settings.database == Database.from_url("sqlite:///./data/cpms.sqlite")
    assert (settings.ocpp_port, settings.http_port, settings.heartbeat_interval) == (9000, 8000, 300)
    assert (settings.nats_url, settings.host, settings.node_id) == (None, "127.0.0.1", "node-1")


def test_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CPMS_DATABASE_URL": "postgresql://db.example/cpms",
            "CPMS_NATS_URL": "nats://127.0.0.1:4222",
            "CPMS_HTTP_PORT": "8080",
            "CPMS_OCPP_PORT": "9001",
            "CPMS_HEARTBEAT_INTERVAL": "60",
            "CPMS_NODE_ID": "node-2",
        }
    )
    assert settings.database.kind == "postgresql"
    assert (settings.http_port, settings.ocpp_port, settings.heartbeat_interval) == (8080, 9001, 60)
    assert (settings.nats_url, settings.node_id) == ("nats://127.0.0.1:4222", "node-2")


def test_a_http_port_that_is_not_a_number_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="CPMS_HTTP_PORT must be an integer, got 'eighty'"):
        Settings.from_env({"CPMS_HTTP_PORT": "eighty", "CPMS_NODE_ID": "n"})


def test_a_http_port_out_of_range_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="CPMS_HTTP_PORT must be between 0 and 65535"):
        Settings.from_env({"CPMS_HTTP_PORT": "70000", "CPMS_NODE_ID": "n"})


def test_a_zero_heartbeat_interval_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="CPMS_HEARTBEAT_INTERVAL"):
        Settings.from_env({"CPMS_HEARTBEAT_INTERVAL": "0", "CPMS_NODE_ID": "n"})


def test_the_basic_auth_guard_has_defaults_and_reads_the_environment() -> None:
    defaults = Settings.from_env({"CPMS_NODE_ID": "n"})
    assert (defaults.auth_max_failures, defaults.auth_lockout_max, defaults.auth_remember) == (5, 300, 600)
    settings = Settings.from_env(
        {
            "CPMS_AUTH_MAX_FAILURES": "10",
            "CPMS_AUTH_LOCKOUT_MAX": "900",
            "CPMS_AUTH_REMEMBER": "0",
            "CPMS_NODE_ID": "n",
        }
    )
    assert (settings.auth_max_failures, settings.auth_lockout_max, settings.auth_remember) == (10, 900, 0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CPMS_AUTH_MAX_FAILURES", "0", "CPMS_AUTH_MAX_FAILURES must be between 1 and 1000, got 0"),
        ("CPMS_AUTH_MAX_FAILURES", "five", "CPMS_AUTH_MAX_FAILURES must be an integer, got 'five'"),
        ("CPMS_AUTH_LOCKOUT_MAX", "0", "CPMS_AUTH_LOCKOUT_MAX must be between 1 and 86400, got 0"),
        ("CPMS_AUTH_LOCKOUT_MAX", "5m", "CPMS_AUTH_LOCKOUT_MAX must be an integer, got '5m'"),
        ("CPMS_AUTH_REMEMBER", "-1", "CPMS_AUTH_REMEMBER must be between 0 and 86400, got -1"),
    ],
)
def test_a_bad_basic_auth_guard_setting_is_refused_naming_the_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value, "CPMS_NODE_ID": "n"})
