"""Password hashing (argon2) and random tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from supervision.settings import get_settings


@lru_cache(maxsize=2)
def _make_hasher(fast: bool) -> PasswordHasher:
    # The fast profile exists for test suites only (settings refuse it in production).
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()


def _hasher() -> PasswordHasher:
    return _make_hasher(get_settings().password_hash_fast)


@lru_cache(maxsize=2)
def _dummy_hash(fast: bool) -> str:
    # Verifying against this keeps a wrong username as slow as a wrong password.
    return _make_hasher(fast).hash("not-a-password")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        fast = get_settings().password_hash_fast
        return _hasher().verify(password_hash or _dummy_hash(fast), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Tokens are stored as sha256 digests only."""
    return hashlib.sha256(token.encode()).hexdigest()
