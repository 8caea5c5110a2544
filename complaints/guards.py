"""What keeps submissions single and the public form civil: numbers, idempotency keys, rate limits.

Everything here is a row, not process memory, so it holds across restarts and across web replicas
on PostgreSQL.

Rate limiting of the public form is a sliding window over `complaints_rate_hit` rows: a submission
counts the hits of its bucket and key (a keyed hash of the address, never the address itself)
in the window and refuses at the limit, counting and adding under one lock per bucket and key so
concurrent posts cannot slip past it; a second bucket caps all addresses together, against a
flood from many addresses. A nightly job deletes hits older than a day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, func, select

from complaints.models import IdempotencyKey, NumberSequence, RateHit
from supervision import audit, crypto
from supervision.db import table_of, utcnow
from supervision.errors import Conflict, InvalidInput, TooManyAttempts

MAX_KEY_LENGTH = 100


# --- numbers ----------------------------------------------------------------------------------


def next_number(session: Session, prefix: str, day: str) -> str:
    """The next number of a prefix and local day: GD20261127-0001."""
    name = f"{prefix}{day}"
    audit.hold_head(session)  # the rows every writer queues on, in one order: the audit head first
    # One statement that inserts or increments: concurrent writers queue on the row, never collide.
    value = session.connection().execute(_statements(session).next_number, {"name": name}).scalar_one()
    return f"{name}-{int(value):04d}"


@dataclass(frozen=True)
class _Statements:
    """This module's statements for one dialect, built once: their values come as parameters."""

    next_number: Any
    claim: Any
    find_claim: Any
    settle: Any


@lru_cache(maxsize=4)
def _statements_for(dialect: str) -> _Statements:
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    seq = table_of(NumberSequence).c
    keys = table_of(IdempotencyKey).c
    upsert = ins(table_of(NumberSequence)).values(name=bindparam("name"), last=1)
    number = upsert.on_conflict_do_update(index_elements=["name"], set_={"last": seq.last + 1}).returning(seq.last)
    claim_insert = ins(table_of(IdempotencyKey)).values(scope=bindparam("scope"), key=bindparam("key"),
                                                 request_hash=bindparam("request_hash"),
                                                 created_at=bindparam("created_at", type_=keys.created_at.type))
    claim = claim_insert.on_conflict_do_nothing(index_elements=["scope", "key"]).returning(keys.id)
    find = select(keys.id, keys.request_hash, keys.result_kind, keys.result_id).where(
        keys.scope == bindparam("scope"), keys.key == bindparam("key"))
    settle = update(table_of(IdempotencyKey)).where(keys.id == bindparam("claim_id")).values(
        result_kind=bindparam("result_kind"), result_id=bindparam("result_id"))
    return _Statements(number, claim, find, settle)


def _statements(session: Session) -> _Statements:
    return _statements_for(session.get_bind().dialect.name)


# --- idempotency ------------------------------------------------------------------------------


def request_hash(payload: Any) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Claim:
    """An idempotency key held by this submission (result_id None) or settled by an earlier one."""

    id: int
    result_kind: str | None
    result_id: int | None


def claim_key(session: Session, scope: str, key: str | None, payload: Any) -> Claim | None:
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
    # the caller's transaction, and then finds the first claim. Core statements: this is on every intake.
    conn = session.connection()
    statements = _statements(session)
    params = {"scope": scope[:90], "key": key}
    new_id = conn.execute(statements.claim, {**params, "request_hash": digest, "created_at": utcnow()}
                          ).scalar_one_or_none()
    if new_id is not None:
        return Claim(int(new_id), None, None)
    existing = conn.execute(statements.find_claim, params).first()
    if existing is None:  # pragma: no cover - the twin rolled back; let the client retry
        raise Conflict("complaints.error.idempotency_busy")
    if existing.request_hash != digest:
        raise Conflict("complaints.error.idempotency_mismatch")
    if existing.result_id is None:
        raise Conflict("complaints.error.idempotency_busy")
    return Claim(int(existing.id), existing.result_kind, int(existing.result_id))


def settle_key(session: Session, claim: Claim | None, kind: str, result_id: int | None) -> None:
    if claim is None:
        return
    claim.result_kind = kind
    claim.result_id = result_id
    session.connection().execute(_statements(session).settle,
                                 {"claim_id": claim.id, "result_kind": kind, "result_id": result_id})


def release_key(session: Session, claim: Claim | None) -> None:
    """Give a claimed key back (the submission was refused and the client may retry with it)."""
    if claim is not None:
        session.connection().execute(delete(IdempotencyKey).where(col(IdempotencyKey.id) == claim.id))


def is_replay(claim: Claim | None) -> bool:
    return claim is not None and claim.result_id is not None


# --- rate limits ------------------------------------------------------------------------------


def address_key(address: str) -> str:
    """A keyed hash of a client address: counts without keeping the address."""
    return crypto.keyed_hash("rate:" + (address or "unknown"))[:64]


# pg_advisory_xact_lock(int, int): the two-key space, apart from the scheduler's one-key lock.
_RATE_LOCK = text("SELECT pg_advisory_xact_lock(:space, :id)")
_RATE_LOCK_SPACE = 0x52617465  # "Rate"


def _lock_id(bucket: str, key: str) -> int:
    """A signed 32-bit number for a bucket and key (a rare collision only makes two addresses queue)."""
    return int.from_bytes(hashlib.sha256(f"{bucket}\0{key}".encode()).digest()[:4], "big", signed=True)


def hit(session: Session, bucket: str, key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> None:
    """Count one request; TooManyAttempts when the bucket already holds `limit` in the window.

    Counting and adding the hit are one step per bucket and key: on PostgreSQL a transaction-scoped
    advisory lock on the pair makes concurrent requests of one address queue (without it, ten
    simultaneous posts all counted zero and all passed a limit of three); on SQLite the caller's
    write transaction (BEGIN IMMEDIATE) already serialises them.
    """
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_RATE_LOCK, {"space": _RATE_LOCK_SPACE, "id": _lock_id(bucket, key)})
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
    "Claim",
    "address_key",
    "claim_key",
    "hit",
    "is_replay",
    "next_number",
    "purge_hits",
    "purge_keys",
    "release_key",
    "request_hash",
    "settle_key",
]
