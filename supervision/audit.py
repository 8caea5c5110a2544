"""The audit log: append-only entries, each chained by hash to the one before."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, func, select

from supervision import keys
from supervision.access import SYSTEM, Principal
from supervision.db import after_read, session_scope, table_of, utcnow
from supervision.models import AuditEntry, AuditHead

GENESIS = "0" * 64


_CHAINED = ("seq", "at", "actor_kind", "actor_id", "actor_name", "action", "object_kind", "object_id",
            "site_id", "summary", "detail", "ip", "prev_hash")


def _canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in _CHAINED}
    body["at"] = fields["at"].isoformat(timespec="microseconds")
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _chain_key(key: keys.Key) -> bytes:
    return key.derive("audit-chain")


def entry_hash(entry: AuditEntry | Mapping[str, Any], key: keys.Key | None = None) -> str:
    """HMAC of the entry's content: without the installation key nobody can forge a consistent chain."""
    fields = entry if isinstance(entry, Mapping) else {name: getattr(entry, name) for name in _CHAINED}
    return hmac.new(_chain_key(key or keys.ring().newest), _canonical(fields), hashlib.sha256).hexdigest()


def head_mac(key: keys.Key, seq: int, last_hash: str) -> str:
    """The head's seal: lowering its counter (after removing the newest entries) needs the key."""
    return hmac.new(_chain_key(key), f"head:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


# Built once: statements whose values come as parameters compile once and hit SQLAlchemy's cache cheaply.
_HEAD_TABLE, _ENTRY_TABLE = table_of(AuditHead), table_of(AuditEntry)
_HEAD = _HEAD_TABLE.c
_ENTRY = _ENTRY_TABLE.c
_ENTRY_COLUMNS = (*_CHAINED, "hash", "key_id")
# FOR UPDATE takes the head row's lock (PostgreSQL) until commit, and after waiting reads the row the other
# writer committed. SQLite has no row locks: a no-op UPDATE takes the write lock at once, so a transaction that
# began deferred cannot read the head and find it moved by the time it writes (SQLITE_BUSY_SNAPSHOT).
_HEAD_FIELDS = (_HEAD.seq, _HEAD.last_hash, _HEAD.key_id, _HEAD.mac)
_READ_HEAD = select(*_HEAD_FIELDS).where(_HEAD.id == 1).with_for_update()
_LOCK_HEAD = select(_HEAD.id).where(_HEAD.id == 1).with_for_update()
_HEAD_HELD_IN = "audit_head_held_in"  # Connection.info: the (sub)transaction that holds the head (hold_head)
_READ_HEAD_SQLITE = update(_HEAD_TABLE).where(_HEAD.id == 1).values(seq=_HEAD.seq).returning(*_HEAD_FIELDS)
_SET_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD.id == 1, _HEAD.seq == bindparam("head_prev_seq"))
    .values(seq=bindparam("head_seq"), last_hash=bindparam("head_hash"), key_id=bindparam("head_key"),
            mac=bindparam("head_mac"))
)
_INSERT_ENTRY = insert(_ENTRY_TABLE).values({name: bindparam(name, type_=_ENTRY[name].type) for name in _ENTRY_COLUMNS})
# PostgreSQL: the entry and the head in one statement, so an entry costs two round trips (read head, write).
_INSERT_ENTRY_AND_SET_HEAD = _SET_HEAD.add_cte(_INSERT_ENTRY.cte("new_entry"))


_PREVIOUS_HASH = select(_ENTRY.hash).where(_ENTRY.seq == bindparam("prev"))
_SEQ_OF_HASH = select(_ENTRY.seq).where(_ENTRY.hash == bindparam("hash"))
_UNKEYED_AFTER = (select(func.count()).select_from(_ENTRY_TABLE)
                  .where(_ENTRY.seq > bindparam("after"), _ENTRY.seq <= bindparam("upto"), _ENTRY.key_id == ""))


def _seal_holds(ring: keys.KeyRing, kid: str, seq: int, last_hash: str, mac: str) -> bool:
    key = ring.get(kid)
    return key is not None and hmac.compare_digest(head_mac(key, seq, last_hash), mac)


def _legacy_tail(conn: Connection, ring: keys.KeyRing, seq: int, last_hash: str, kid: str, mac: str) -> bool:
    """Whether every entry after the head's seal was written by a process of the version before seals.

    During a rolling upgrade such a process still bumps the counter without sealing; its entries carry no key
    id. Anything else that moved the counter away from its seal is tampering.
    """
    if last_hash or mac:
        sealed_at = conn.execute(_SEQ_OF_HASH, {"hash": last_hash}).scalar()
        if sealed_at is None or sealed_at >= seq or not _seal_holds(ring, kid, sealed_at, last_hash, mac):
            return False
    else:
        sealed_at = 0  # never sealed: only a chain no sealing process has written to yet
    return bool(conn.execute(_UNKEYED_AFTER, {"after": sealed_at, "upto": seq}).scalar() == seq - sealed_at)


def _previous_hash(conn: Connection, seq: int) -> str:
    return str(conn.execute(_PREVIOUS_HASH, {"prev": seq}).scalar_one())


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
    # One write of the head row per entry: a bulk import writes thousands, and PostgreSQL pays for every
    # version of the row within a transaction. Core statements on the session's connection: the ORM's
    # bookkeeping around them costs more than they do.
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    prev_seq, prev_hash, head_key, seal = conn.execute(_READ_HEAD if postgres else _READ_HEAD_SQLITE).one()
    if postgres:
        conn.info[_HEAD_HELD_IN] = conn.get_nested_transaction() or conn.get_transaction()
    ring = keys.ring()
    if head_key and ring.position(head_key) < 0:
        ring = keys.ring(refresh=True)  # another machine rotated the key: sign with the new one too
    key = ring.newest
    seq = int(prev_seq) + 1
    sealed = not prev_seq or _seal_holds(ring, head_key, prev_seq, prev_hash, seal)
    if not sealed and _legacy_tail(conn, ring, prev_seq, prev_hash, head_key, seal):
        prev_hash, sealed = _previous_hash(conn, prev_seq), True
    # A head whose seal does not hold was tampered with (a truncated chain, a lowered counter): the entry
    # still chains on, so the service keeps working, but the broken seal is kept for `audit verify` to
    # report; resealing it would make the truncation invisible.
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
        "prev_hash": prev_hash if prev_seq else GENESIS,
        "key_id": key.id,
    }
    row["hash"] = entry_hash(row, key)
    row.update(head_prev_seq=prev_seq, head_seq=seq, head_hash=row["hash"], head_key=key.id if sealed else head_key,
               head_mac=head_mac(key, seq, row["hash"]) if sealed else seal)
    if postgres:
        moved = conn.execute(_INSERT_ENTRY_AND_SET_HEAD, row).rowcount
    else:
        conn.execute(_INSERT_ENTRY, row)
        moved = conn.execute(_SET_HEAD, row).rowcount
    if moved != 1:  # only if a writer bypassed the head's lock; the chain must not fork
        raise RuntimeError("the audit chain's head moved during the write")
    return seq


def hold_head(session: Session) -> None:
    """Take the chain's head now, before another row every writer queues on (the day's order number, the
    complaints statistics rows): their writers call this first.

    Writers that take two such rows must take them in one order, or two transactions each wait for the other's
    (PostgreSQL "deadlock detected"): a batch whose reader's audit entry came before an intake unit took the head
    and then the number, one whose intake came first the number and then the head; a transition moved its
    order's statistics row and then audited, while intake audited and then counted its order in that row. The
    head comes first. On SQLite one writer runs at a time and there is nothing to take.

    Taken once per (sub)transaction: the connection remembers in which one it holds the head (a savepoint rolled
    back releases what was taken in it, and the next unit's savepoint is another one).
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    current = conn.get_nested_transaction() or conn.get_transaction()
    if conn.info.get(_HEAD_HELD_IN) is current:
        return
    conn.execute(_LOCK_HEAD)
    conn.info[_HEAD_HELD_IN] = current


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


def _signed_by(entry: AuditEntry, ring: keys.KeyRing, hint: int) -> int:
    """The position in the ring of the key whose HMAC the entry carries; -1 if none matches."""
    if entry.key_id:
        key = ring.get(entry.key_id)
        return ring.position(entry.key_id) if key is not None and entry_hash(entry, key) == entry.hash else -1
    # Entries from before keys had ids: try the key of the entry before first.
    order = sorted(range(len(ring.keys)), key=lambda i: i != hint)
    return next((i for i in order if entry_hash(entry, ring.keys[i]) == entry.hash), -1)


def verify(session: Session, batch: int = 5000) -> ChainBreak | None:
    """Walk the chain from the start; return the first altered or missing entry, or a tampered head, or None."""
    ring = keys.ring(refresh=True)
    # The head first: entries committed after it was read are not walked (the head and its entry commit
    # together, so every entry up to its counter is there to read), and a live service can be verified.
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).first()
    if head is None:
        return ChainBreak(1, "the chain's head row is missing")
    expected_prev = GENESIS
    expected_seq = 1
    signer = 0
    while expected_seq <= head.seq:
        entries = session.exec(
            select(AuditEntry).where(col(AuditEntry.seq) >= expected_seq, col(AuditEntry.seq) <= head.seq)
            .order_by(col(AuditEntry.seq)).limit(batch)
        ).all()
        if not entries:
            break
        for entry in entries:
            if entry.seq != expected_seq:
                return ChainBreak(expected_seq, f"missing (the next entry present is #{entry.seq})")
            if entry.prev_hash != expected_prev:
                return ChainBreak(entry.seq, "does not link to the entry before it")
            position = _signed_by(entry, ring, signer)
            if position < 0:
                if entry.key_id and ring.get(entry.key_id) is None:
                    return ChainBreak(entry.seq, f"signed with key {entry.key_id}, which this installation lacks")
                return ChainBreak(entry.seq, "altered: its content does not match its hash")
            if position < signer:
                return ChainBreak(entry.seq, "signed with an older key than the entry before it")
            signer = position
            expected_prev = entry.hash
            expected_seq += 1
        session.expunge_all()
    if expected_seq <= head.seq:
        return ChainBreak(expected_seq, f"missing (the chain's head says {head.seq} entries exist)")
    if head.seq == 0 and not head.mac:
        if session.exec(select(AuditEntry.seq).limit(1)).first() is not None:
            return ChainBreak(1, "the chain's head carries no seal")
        return None
    if _seal_holds(ring, head.key_id, head.seq, head.last_hash, head.mac):
        if head.last_hash != expected_prev:
            return ChainBreak(head.seq, "the chain's head does not name this entry as the newest")
        return None
    if _legacy_tail(session.connection(), ring, head.seq, head.last_hash, head.key_id, head.mac):
        return None
    if not head.mac:
        return ChainBreak(head.seq, "the chain's head carries no seal")
    return ChainBreak(head.seq, "the chain's head was altered: its seal does not match its counter "
                                "(entries may have been removed from the end)")


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
