"""Secrets as the domain keeps them: API keys and station passwords are stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_PREFIX = "cpms_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_digest(api_key: str) -> str:
    """API keys carry 256 random bits, so an unsalted SHA-256 is a safe, indexable digest."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Salted scrypt hash of a station's OCPP basic-auth password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)
