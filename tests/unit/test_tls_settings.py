"""TLS settings of the gateway: read from the environment, refused unless complete and loadable."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from cpms.gateway.tls import server_context
from cpms.infra.settings import Settings, SettingsError

BASE = {"CPMS_NODE_ID": "node-1"}


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    directory = tmp_path_factory.mktemp("pem")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert, key, ca_pem = directory / "cert.pem", directory / "key.pem", directory / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_pem))
    return cert, key, ca_pem


def test_without_tls_settings_the_gateway_serves_plain_ws_only() -> None:
    settings = Settings.from_env(BASE)
    assert (settings.tls_cert, settings.tls_key, settings.tls_client_ca) == (None, None, None)
    assert settings.ocpp_tls_port == 9443


def test_tls_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "CPMS_TLS_CERT": "/etc/cpms/cert.pem",
            "CPMS_TLS_KEY": "/etc/cpms/key.pem",
            "CPMS_TLS_CLIENT_CA": "/etc/cpms/stations-ca.pem",
            "CPMS_OCPP_TLS_PORT": "443",
        }
    )
    assert settings.tls_cert == Path("/etc/cpms/cert.pem")
    assert settings.tls_key == Path("/etc/cpms/key.pem")
    assert settings.tls_client_ca == Path("/etc/cpms/stations-ca.pem")
    assert settings.ocpp_tls_port == 443


@pytest.mark.parametrize("given", ["CPMS_TLS_CERT", "CPMS_TLS_KEY"])
def test_a_certificate_without_its_key_or_the_other_way_round_is_refused(given: str) -> None:
    with pytest.raises(SettingsError, match="CPMS_TLS_CERT and CPMS_TLS_KEY must be set together"):
        Settings.from_env({**BASE, given: "/etc/cpms/x.pem"})


def test_a_client_ca_without_a_server_certificate_is_refused() -> None:
    with pytest.raises(SettingsError, match="CPMS_TLS_CLIENT_CA needs CPMS_TLS_CERT"):
        Settings.from_env({**BASE, "CPMS_TLS_CLIENT_CA": "/etc/cpms/ca.pem"})


def test_a_tls_port_out_of_range_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="CPMS_OCPP_TLS_PORT must be between 0 and 65535"):
        Settings.from_env({**BASE, "CPMS_OCPP_TLS_PORT": "99999"})


def test_the_server_context_asks_for_no_client_certificate_without_a_client_ca(pem_files) -> None:
    cert, key, _ = pem_files
    context = server_context(cert, key)
    assert context.verify_mode == ssl.CERT_NONE
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_with_a_client_ca_a_certificate_is_requested_but_not_required(pem_files) -> None:
    cert, key, ca_pem = pem_files
    context = server_context(cert, key, ca_pem)
    assert context.verify_mode == ssl.CERT_OPTIONAL
    assert len(context.get_ca_certs()) == 1  # the configured CA only, not the system's


def test_a_missing_certificate_file_is_refused_naming_the_variables(pem_files, tmp_path: Path) -> None:
    _, key, _ = pem_files
    with pytest.raises(SettingsError, match="CPMS_TLS_CERT / CPMS_TLS_KEY: cannot load"):
        server_context(tmp_path / "missing.pem", key)


def test_a_client_ca_that_is_not_pem_is_refused_naming_the_variable(pem_files, tmp_path: Path) -> None:
    cert, key, _ = pem_files
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(SettingsError, match="CPMS_TLS_CLIENT_CA: cannot load"):
        server_context(cert, key, garbage)
