"""Secrets: random tokens shown once and stored as SHA-256 (they carry ≥128 bits, so a slow hash adds
nothing but latency on every request), and agents' passwords under argon2."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_hex(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 32 random bytes."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
