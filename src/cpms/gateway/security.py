"""Security profiles at the handshake: the transport and proof of identity each profile requires.

Pure rules, so that every combination is unit-tested; the server only gathers the facts (which
listener, which client certificate) and verifies basic-auth passwords, which needs a thread.
"""

from __future__ import annotations

from typing import Any

from cpms.aggregates.station import CLIENT_CERTIFICATE, PASSWORD_PROFILES, TLS_PROFILES


def transport_refusal(
    profile: int, *, ocpp_id: str, serial_number: str, over_tls: bool, client_cn: str | None
) -> str | None:
    """Why a station may not connect this way, in words an operator can act on; None if it may
    (basic-auth credentials still to be checked, see `needs_password`).

    A station is held to its own profile both ways: a profile 2/3 station on plain ws would send
    its password or identity unprotected, and a profile 0/1 station on wss is misconfigured (or
    not the station it claims to be), so both are refused rather than silently accepted.
    """
    if profile in TLS_PROFILES and not over_tls:
        return f"station {ocpp_id!r} uses security profile {profile} and must connect over wss"
    if profile not in TLS_PROFILES and over_tls:
        return f"station {ocpp_id!r} uses security profile {profile} and must connect over plain ws"
    if profile == CLIENT_CERTIFICATE:
        if client_cn is None:
            return (
                f"station {ocpp_id!r} uses security profile 3 and presented no client certificate"
                " signed by a CA of CPMS_TLS_CLIENT_CA"
            )
        if client_cn != serial_number:
            return (
                f"station {ocpp_id!r} uses security profile 3 and its client certificate names"
                f" CN {client_cn!r}, not its serial number {serial_number!r}"
            )
    return None


def needs_password(profile: int) -> bool:
    """Profiles 1 and 2 authenticate with HTTP basic auth."""
    return profile in PASSWORD_PROFILES


def common_name(peer_certificate: dict[str, Any] | None) -> str | None:
    """The subject CN of a verified peer certificate (`SSLObject.getpeercert()`), or None when
    there is none, it was not verified (an empty dict), or its subject names no or several CNs."""
    if not peer_certificate:
        return None
    names = [
        value
        for relative_name in peer_certificate.get("subject", ())
        for key, value in relative_name
        if key == "commonName"
    ]
    return names[0] if len(names) == 1 else None
