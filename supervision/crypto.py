"""Encryption of secrets and personal data (camera passwords, phone numbers) with the installation key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from supervision.settings import get_settings


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(b"supervision-data-key:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _key() -> str:
    return get_settings().resolved_secret_key()


def encrypt(plain: str) -> str:
    """Encrypt a short text; the empty text stays empty."""
    if not plain:
        return ""
    return _fernet(_key()).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(_key()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: the secret key changed or the value was altered") from exc


def keyed_hash(value: str) -> str:
    """A stable, keyed digest (for looking up an encrypted value without decrypting all rows)."""
    return hmac.new(_key().encode(), value.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """Show a phone number as 138****5678."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
