"""Windows out of service (窗口暂停服务, issue 13 §3): while a window is closed its post is not watched.

An admin or a centre's manager closes a window from a time to a time with a reason (a system upgrade, a
training, a window merged for the day); ending one early shortens it to now. Both audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from cameras.models import WindowClosure, WindowClosureCreate, WindowClosurePublic
from supervision import audit
from supervision.access import Permission, Principal, site_path_clause
from supervision.db import utcnow
from supervision.errors import InvalidInput, NotFound
from supervision.models import Site, Window


def _window(session: Session, actor: Principal, window_id: int) -> Window:
    window = session.get(Window, window_id)
    site = session.get(Site, window.site_id) if window is not None else None
    if window is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.window", id=window_id)
    return window


def close_window(session: Session, actor: Principal, data: WindowClosureCreate, *, ip: str = "") -> WindowClosure:
    """Close a window of the actor's jurisdiction for a span of time; audited."""
    actor.require(Permission.WINDOWS_CLOSE)
    window = _window(session, actor, data.window_id)
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise InvalidInput("starts_at", "error.invalid_value", detail="timezone")
    if data.ends_at <= data.starts_at:
        raise InvalidInput("ends_at", "window_closure.error.ends_before_start")
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput("reason", "error.required")
    row = WindowClosure(window_id=int(window.id or 0), site_id=window.site_id, starts_at=data.starts_at,
                        ends_at=data.ends_at, reason=reason[:200], created_by=actor.audit_name[:80])
    session.add(row)
    session.flush()
    audit.record(session, actor, "window.close", object_kind="window", object_id=window.id, site_id=window.site_id,
                 summary=window.name, detail={"from": data.starts_at.isoformat(), "to": data.ends_at.isoformat(),
                                              "reason": reason}, ip=ip)
    return row


def end_closure(session: Session, actor: Principal, closure_id: int, *, ip: str = "") -> WindowClosure:
    """End a closure now (the window serves again); one already over stays as it was. Audited."""
    actor.require(Permission.WINDOWS_CLOSE)
    row = session.get(WindowClosure, closure_id)
    site = session.get(Site, row.site_id) if row is not None else None
    if row is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.window_closure", id=closure_id)
    now = utcnow()
    if row.ends_at > now:
        row.ends_at = max(now, row.starts_at)
        session.add(row)
        audit.record(session, actor, "window.reopen", object_kind="window", object_id=row.window_id,
                     site_id=row.site_id, summary=row.reason, ip=ip)
    return row


def list_closures(session: Session, actor: Principal, *, current_only: bool = False, limit: int = 200,
                  now: datetime | None = None, closure_id: int | None = None) -> list[WindowClosurePublic]:
    """Closures of the actor's jurisdiction, latest start first (current and coming ones with `current_only`)."""
    if not actor.can(Permission.WINDOWS_CLOSE):  # managers close windows; officers see what is closed
        actor.require(Permission.CAMERAS_VIEW)
    now = now or utcnow()
    stmt = (select(WindowClosure, Window).join(Window, col(Window.id) == col(WindowClosure.window_id))
            .join(Site, col(Site.id) == col(WindowClosure.site_id)).where(site_path_clause(actor)))
    if current_only:
        stmt = stmt.where(col(WindowClosure.ends_at) > now)
    if closure_id is not None:
        stmt = stmt.where(col(WindowClosure.id) == closure_id)
    rows = session.exec(stmt.order_by(col(WindowClosure.starts_at).desc(), col(WindowClosure.id).desc())
                        .limit(limit)).all()
    return [WindowClosurePublic(id=int(c.id or 0), window_id=c.window_id, window_name=w.name, site_id=c.site_id,
                                starts_at=c.starts_at, ends_at=c.ends_at, reason=c.reason, created_by=c.created_by,
                                active=c.starts_at <= now < c.ends_at) for c, w in rows]
