"""The installation's keys: a ring of secrets, oldest first, newest last; the newest encrypts and signs.

The ring comes from `SUPERVISION_SECRET_KEY` (with `SUPERVISION_PREVIOUS_SECRET_KEYS` before it) or from a key
file, one key a line, that every machine of an installation shares. Each key is known by a short fingerprint
(its id), so an audit entry can name the key that signed it and be verified after the key was rotated.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from supervision.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# A running process sees a key another machine added to the shared file within this time.
RELOAD_EVERY_SECONDS = 1.0


@lru_cache(maxsize=32)
def derive(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose ("data-key", "audit-chain", "lookup-hash"…), never the secret itself."""
    return hashlib.sha256(f"supervision-{purpose}:".encode() + secret.encode()).digest()


def key_id(secret: str) -> str:
    """The key's public name: a fingerprint that reveals nothing usable about it."""
    return derive(secret, "key-id").hex()[:12]


@dataclass(frozen=True)
class Key:
    id: str
    secret: str

    def derive(self, purpose: str) -> bytes:
        return derive(self.secret, purpose)


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[Key, ...]  # oldest first

    @property
    def newest(self) -> Key:
        return self.keys[-1]

    def get(self, kid: str) -> Key | None:
        return next((k for k in self.keys if k.id == kid), None)

    def position(self, kid: str) -> int:
        """Where the key stands in the ring (0 = oldest); -1 when unknown."""
        return next((i for i, k in enumerate(self.keys) if k.id == kid), -1)


def _ring(secrets_oldest_first: list[str]) -> KeyRing:
    unique = list(dict.fromkeys(s for s in secrets_oldest_first if s))
    return KeyRing(tuple(Key(key_id(s), s) for s in unique))


def parse_key_file(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class _Cached:
    ring: KeyRing
    mtime_ns: int
    checked: float


_FILES: dict[Path, _Cached] = {}


def ring(settings: Settings | None = None, *, refresh: bool = False) -> KeyRing:
    """The keys this process knows; a key file is read again when it changed (checked at most once a second)."""
    settings = settings or get_settings()
    if settings.secret_key:
        return _env_ring(settings.secret_key, settings.previous_secret_keys, settings.environment)
    path = settings.key_file_path
    cached = _FILES.get(path)
    now = time.monotonic()
    if cached is not None and not refresh and now - cached.checked < RELOAD_EVERY_SECONDS:
        return cached.ring
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        create_key_file(path)
        mtime = path.stat().st_mtime_ns
    if cached is not None and cached.mtime_ns == mtime:
        cached.checked = now
        return cached.ring
    found = _ring(parse_key_file(path.read_text()))
    if not found.keys:
        raise ValueError(f"the key file {path} holds no key")
    if cached is not None and found.newest != cached.ring.newest:
        logger.info("key file %s changed: now encrypting with key %s", path, found.newest.id)
    _FILES[path] = _Cached(found, mtime, now)
    return found


@lru_cache(maxsize=8)
def _env_ring(secret_key: str, previous: str, environment: str) -> KeyRing:
    olds = [s for s in previous.replace(",", " ").split() if s]
    if environment == "production" and any(len(s) < 32 for s in [*olds, secret_key]):
        raise ValueError("SUPERVISION_SECRET_KEY must be at least 32 characters in production")
    return _ring([*reversed(olds), secret_key])


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def _write_temp(path: Path, text: str) -> Path:
    """Write `text` to a new file beside `path`, readable by the owner only from its creation, and sync it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_key_file(path: Path) -> None:
    """Create the key file with one new key, unless another process or machine made it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path, new_secret() + "\n")
    try:
        # link, not rename: two processes starting at once must end with one key, not each its own.
        os.link(tmp, path)
        _sync_dir(path.parent)
        logger.warning("generated a new installation key in %s", path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def add_key(settings: Settings | None = None) -> Key:
    """Append a new key to the key file (atomically), to be the newest; refused when keys come from the environment."""
    settings = settings or get_settings()
    if settings.secret_key:
        raise KeysFromEnvironment()
    path = settings.key_file_path
    ring(settings)  # creates the file if there is none yet
    with _file_lock(path):
        olds = parse_key_file(path.read_text())
        secret = new_secret()
        tmp = _write_temp(path, "".join(s + "\n" for s in [*olds, secret]))
        os.replace(tmp, path)
        _sync_dir(path.parent)
    ring(settings, refresh=True)
    return Key(key_id(secret), secret)


class KeysFromEnvironment(Exception):
    """The keys are set in the environment, which this process cannot change."""


__all__ = ["Key", "KeyRing", "KeysFromEnvironment", "add_key", "create_key_file", "derive", "key_id", "ring"]
