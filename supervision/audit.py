"""The audit log: append-only entries, each chained by hash to the one before."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supervision.access import SYSTEM, Principal
from supervision.db import after_read, session_scope, table_of, utcnow
from supervision.models import AuditEntry, AuditHead
from supervision.settings import get_settings

GENESIS = "0" * 64


_CHAINED = ("seq", "at", "actor_kind", "actor_id", "actor_name", "action", "object_kind", "object_id",
            "site_id", "summary", "detail", "ip", "prev_hash")


def _canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in _CHAINED}
    body["at"] = fields["at"].isoformat(timespec="microseconds")
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@lru_cache(maxsize=4)
def _chain_key(secret: str) -> bytes:
    return hashlib.sha256(b"supervision-audit-chain:" + secret.encode()).digest()


def entry_hash(entry: AuditEntry | Mapping[str, Any]) -> str:
    """HMAC of the entry's content: without the installation key nobody can forge a consistent chain."""
    fields = entry if isinstance(entry, Mapping) else {name: getattr(entry, name) for name in _CHAINED}
    key = _chain_key(get_settings().resolved_secret_key())
    return hmac.new(key, _canonical(fields), hashlib.sha256).hexdigest()


# Built once: statements whose values come as parameters compile once and hit SQLAlchemy's cache cheaply.
_HEAD = table_of(AuditHead).c
_ENTRY = table_of(AuditEntry).c
_BUMP_HEAD = update(table_of(AuditHead)).where(_HEAD.id == 1).values(seq=_HEAD.seq + 1).returning(_HEAD.seq)
_PREVIOUS_HASH = select(_ENTRY.hash).where(_ENTRY.seq == bindparam("prev"))
_INSERT_ENTRY = insert(table_of(AuditEntry))


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    object_kind: str = "",
    object_id: object = "",
    summary: str = "",
    detail: dict[str, Any] | None = None,
    site_id: int | None = None,
    ip: str = "",
) -> int:
    """Append an entry in the caller's transaction, so the change and its record commit together; its number.

    In a read session (a GET, `session_scope()`) the entry is queued instead, and written in a short write
    once the read has ended (its number is then 0 here): a read never takes the write lock.
    """
    if after_read(session, lambda write: record(write, actor, action, object_kind=object_kind, object_id=object_id,
                                                summary=summary, detail=detail, site_id=site_id, ip=ip)):
        return 0
    # The UPDATE takes the head row's lock (PostgreSQL) or the write lock (SQLite) until commit,
    # so two writers can never chain onto the same predecessor. One statement per entry: a bulk
    # import writes thousands, and PostgreSQL pays for every version of the row within a transaction.
    # Core statements on the session's connection: the ORM's bookkeeping around them costs more than they do.
    conn = session.connection()
    seq = int(conn.execute(_BUMP_HEAD).scalar_one())
    # A statement of its own, after the bump: it sees the entry of a writer this one waited for (a subquery
    # in the bump's RETURNING would read PostgreSQL's snapshot from before that writer committed).
    prev_hash = GENESIS if seq == 1 else str(conn.execute(_PREVIOUS_HASH, {"prev": seq - 1}).scalar_one())
    row: dict[str, Any] = {
        "seq": seq,
        "at": utcnow(),
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name[:80],
        "action": action,
        "object_kind": object_kind,
        "object_id": str(object_id)[:40],
        "site_id": site_id,
        "summary": summary[:400],
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        "ip": ip[:64],
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(row)
    conn.execute(_INSERT_ENTRY, row)
    return seq


def record_now(engine: Engine | None, actor: Principal, action: str, **kwargs: Any) -> None:
    """Append an entry in a transaction of its own (for views and failed logins, where nothing else commits)."""
    with session_scope(engine, write=True) as session:
        record(session, actor, action, **kwargs)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"entry #{self.seq}: {self.reason}"


def verify(session: Session, batch: int = 5000) -> ChainBreak | None:
    """Walk the chain from the start; return the first altered or missing entry, or None."""
    expected_prev = GENESIS
    expected_seq = 1
    last_seen = 0
    while True:
        entries = session.exec(
            select(AuditEntry).where(col(AuditEntry.seq) > last_seen).order_by(col(AuditEntry.seq)).limit(batch)
        ).all()
        if not entries:
            break
        for entry in entries:
            if entry.seq != expected_seq:
                return ChainBreak(expected_seq, f"missing (the next entry present is #{entry.seq})")
            if entry.prev_hash != expected_prev:
                return ChainBreak(entry.seq, "does not link to the entry before it")
            if entry_hash(entry) != entry.hash:
                return ChainBreak(entry.seq, "altered: its content does not match its hash")
            expected_prev = entry.hash
            expected_seq += 1
            last_seen = entry.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.seq >= expected_seq:
        return ChainBreak(expected_seq, f"missing (the chain's head says {head.seq} entries exist)")
    return None


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEntry)).one())


def iter_entries(session: Session, since: datetime | None = None) -> Iterator[AuditEntry]:
    stmt = select(AuditEntry).order_by(col(AuditEntry.seq))
    if since is not None:
        stmt = stmt.where(col(AuditEntry.at) >= since)
    yield from session.exec(stmt)


__all__ = ["SYSTEM", "ChainBreak", "count", "entry_hash", "record", "record_now", "verify"]


def search(
    session: Session,
    actor: Principal,
    *,
    action: str | None = None,
    actor_name: str | None = None,
    object_kind: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEntry], int]:
    """Entries the actor may read, newest first: those of their sites (and, at the top, site-less ones)."""
    from supervision.access import Permission, site_path_clause
    from supervision.models import Site

    actor.require(Permission.AUDIT_READ)
    site_ids = select(Site.id).where(site_path_clause(actor))
    top_level = actor.site_path.count("/") <= 2
    where: ColumnElement[bool] = col(AuditEntry.site_id).in_(site_ids)
    if top_level:
        where = where | col(AuditEntry.site_id).is_(None)
    stmt = select(AuditEntry).where(where)
    if action:
        stmt = stmt.where(col(AuditEntry.action).startswith(action, autoescape=True))
    if actor_name:
        stmt = stmt.where(col(AuditEntry.actor_name).ilike(f"%{actor_name}%"))
    if object_kind:
        stmt = stmt.where(col(AuditEntry.object_kind) == object_kind)
    if object_id:
        stmt = stmt.where(col(AuditEntry.object_id) == object_id)
    if since is not None:
        stmt = stmt.where(col(AuditEntry.at) >= since)
    if until is not None:
        stmt = stmt.where(col(AuditEntry.at) < until)
    total = int(session.exec(select(func.count()).select_from(stmt.subquery())).one())
    rows = session.exec(stmt.order_by(col(AuditEntry.seq).desc()).offset(offset).limit(limit)).all()
    return list(rows), total
