"""Encryption of secrets and personal data (camera passwords, phone numbers) with the installation's keys.

The newest key of the ring encrypts; every key of the ring decrypts, so values written before a rotation stay
readable until `supervision keys rotate` has re-encrypted them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from supervision import keys


@lru_cache(maxsize=16)
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(keys.derive(secret, "data-key")))


@lru_cache(maxsize=8)
def _multi(ring: keys.KeyRing) -> MultiFernet:
    return MultiFernet([_fernet(k.secret) for k in reversed(ring.keys)])


def encrypt(plain: str) -> str:
    """Encrypt a short text with the newest key; the empty text stays empty."""
    if not plain:
        return ""
    return _fernet(keys.ring().newest.secret).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever key of the ring encrypted it (the ring is read again once if none did)."""
    if not token:
        return ""
    for refresh in (False, True):
        try:
            return _multi(keys.ring(refresh=refresh)).decrypt(token.encode()).decode()
        except InvalidToken:
            continue
    raise ValueError("cannot decrypt: the secret key changed or the value was altered")


def reencrypt(token: str) -> str | None:
    """The value encrypted with the newest key, or None when it already is (or is empty)."""
    if not token:
        return None
    newest = _fernet(keys.ring().newest.secret)
    try:
        newest.decrypt(token.encode())
        return None
    except InvalidToken:
        return newest.encrypt(decrypt(token).encode()).decode()


def _lookup_key(secret: str) -> bytes:
    return keys.derive(secret, "lookup-hash")


def keyed_hash(value: str) -> str:
    """A stable, keyed digest (for looking up an encrypted value without decrypting all rows)."""
    return hmac.new(_lookup_key(keys.ring().newest.secret), value.encode(), hashlib.sha256).hexdigest()


def lookup_hashes(value: str) -> list[str]:
    """Every digest a stored row may carry for `value`: under each key of the ring, newest first.

    Rows written before a rotation (or by a process that had not yet seen the new key) keep the older digest
    until `supervision keys rotate` rewrites them; a look-up must still find them. The last forms are those
    made before the digest had a key of its own (keyed with the secret itself).
    """
    ring = keys.ring()
    found = [hmac.new(_lookup_key(k.secret), value.encode(), hashlib.sha256).hexdigest() for k in reversed(ring.keys)]
    found += [hmac.new(k.secret.encode(), value.encode(), hashlib.sha256).hexdigest() for k in reversed(ring.keys)]
    return found


def mask_phone(phone: str) -> str:
    """Show a phone number as 138****5678."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
