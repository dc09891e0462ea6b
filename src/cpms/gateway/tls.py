"""The gateway's TLS server context (security profiles 2 and 3), built once from settings."""

from __future__ import annotations

import ssl
from pathlib import Path

from cpms.infra.settings import SettingsError


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """A TLS 1.2+ server context presenting `cert`; with `client_ca`, it asks stations for a client
    certificate signed by those CAs (profile 3) but lets them connect without one (profile 2),
    since the profile is the station's, known only after the TLS handshake.

    Built from a bare PROTOCOL_TLS_SERVER context on purpose: `ssl.create_default_context` would
    also trust the system's public CAs for client certificates, and any certificate a public CA
    issued with a matching CN would then pass as a station.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP security profiles require TLS 1.2+
    try:
        context.load_cert_chain(certfile=cert, keyfile=key)
    except OSError as error:  # ssl.SSLError included
        raise SettingsError(
            f"CPMS_TLS_CERT / CPMS_TLS_KEY: cannot load {cert} with {key}: {_reason(error)}"
        ) from None
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=client_ca)
        except OSError as error:  # ssl.SSLError included
            raise SettingsError(f"CPMS_TLS_CLIENT_CA: cannot load {client_ca}: {_reason(error)}") from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
