"""What keeps submissions single and the public form civil: numbers, idempotency keys, rate limits.

Everything here is a row, not process memory, so it holds across restarts and across web replicas
on PostgreSQL.

Rate limiting of the public form is a sliding window over `complaints_rate_hit` rows: a submission
counts the hits of its bucket and key (a keyed hash of the address, never the address itself)
in the window and refuses at the limit; a second bucket caps all addresses together, against a
flood from many addresses. A nightly job deletes hits older than a day.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, func, select

from complaints.models import IdempotencyKey, NumberSequence, RateHit
from supervision import crypto
from supervision.db import utcnow
from supervision.errors import Conflict, InvalidInput, TooManyAttempts

MAX_KEY_LENGTH = 100


# --- numbers ----------------------------------------------------------------------------------


def next_number(session: Session, prefix: str, day: str) -> str:
    """The next number of a prefix and local day: GD20261127-0001."""
    name = f"{prefix}{day}"
    stmt = _insert(session)(NumberSequence).values(name=name, last=1)
    # One statement that inserts or increments: concurrent writers queue on the row, never collide.
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"last": NumberSequence.last + 1})
    value = session.execute(stmt.returning(col(NumberSequence.last))).scalar_one()
    return f"{name}-{int(value):04d}"


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- idempotency ------------------------------------------------------------------------------


def request_hash(payload: Any) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def claim_key(session: Session, scope: str, key: str | None, payload: Any) -> IdempotencyKey | None:
    """Claim a key for this submission, or return the earlier claim whose result should be returned.

    Returns None when no key was given. When the key is new, the claim is added with no result yet
    (call `settle_key` once the result exists) and its `result_id` is None. A key reused with a
    different body is refused: it is a client bug, and returning the old result would hide it.
    """
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("idempotency_key", "complaints.error.idempotency_key", max=MAX_KEY_LENGTH)
    digest = request_hash(payload)
    # Insert-or-nothing in one statement: a concurrent twin waits on the unique key instead of failing
    # the caller's transaction, and then finds the first claim.
    stmt = _insert(session)(IdempotencyKey).values(scope=scope[:90], key=key, request_hash=digest, created_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["scope", "key"])
    new_id = session.execute(stmt.returning(col(IdempotencyKey.id))).scalar_one_or_none()
    if new_id is not None:
        claim = session.get(IdempotencyKey, new_id)
        assert claim is not None
        return claim
    existing = _find_key(session, scope, key)
    if existing is None:  # pragma: no cover - the twin rolled back; let the client retry
        raise Conflict("complaints.error.idempotency_busy")
    if existing.request_hash != digest:
        raise Conflict("complaints.error.idempotency_mismatch")
    if existing.result_id is None:
        raise Conflict("complaints.error.idempotency_busy")
    return existing


def _find_key(session: Session, scope: str, key: str) -> IdempotencyKey | None:
    return session.exec(
        select(IdempotencyKey).where(col(IdempotencyKey.scope) == scope[:90], col(IdempotencyKey.key) == key)
    ).first()


def settle_key(session: Session, claim: IdempotencyKey | None, kind: str, result_id: int | None) -> None:
    if claim is None:
        return
    claim.result_kind = kind
    claim.result_id = result_id
    session.add(claim)


def is_replay(claim: IdempotencyKey | None) -> bool:
    return claim is not None and claim.result_id is not None


# --- rate limits ------------------------------------------------------------------------------


def address_key(address: str) -> str:
    """A keyed hash of a client address: counts without keeping the address."""
    return crypto.keyed_hash("rate:" + (address or "unknown"))[:64]


def hit(session: Session, bucket: str, key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> None:
    """Count one request; TooManyAttempts when the bucket already holds `limit` in the window."""
    now = now or utcnow()
    used = session.exec(
        select(func.count())
        .select_from(RateHit)
        .where(col(RateHit.bucket) == bucket, col(RateHit.key) == key, col(RateHit.at) > now - window)
    ).one()
    if int(used) >= limit:
        raise TooManyAttempts("complaints.error.rate_limited", minutes=max(1, int(window.total_seconds() // 60)))
    session.add(RateHit(bucket=bucket, key=key, at=now))
    session.flush()


def purge_hits(session: Session, *, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    now = now or utcnow()
    result = session.exec(delete(RateHit).where(col(RateHit.at) < now - older_than))
    return int(result.rowcount or 0)


def purge_keys(session: Session, *, older_than: timedelta = timedelta(days=30), now: datetime | None = None) -> int:
    now = now or utcnow()
    result = session.exec(delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < now - older_than))
    return int(result.rowcount or 0)


__all__ = [
    "address_key",
    "claim_key",
    "hit",
    "is_replay",
    "next_number",
    "purge_hits",
    "purge_keys",
    "request_hash",
    "settle_key",
]
