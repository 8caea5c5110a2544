"""Incidents: the link through which complaints, ratings and video alerts reach the risk register."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from supervision.db import utcnow
from supervision.errors import InvalidInput
from supervision.models import Incident, Post, Staff, Window


def record_incident(
    session: Session,
    *,
    kind: str,
    source_kind: str,
    source_id: object,
    occurred_at: datetime,
    post_id: int | None = None,
    window_id: int | None = None,
    staff_id: int | None = None,
    summary: str = "",
) -> Incident:
    """Record (or return the existing) incident for a source; the post is inferred from staff or window.

    An incident withdrawn earlier stands again (an outcome revised back to upheld).
    """
    existing = _find(session, kind, source_kind, source_id)
    if existing is not None:
        if existing.withdrawn_at is not None:
            existing.withdrawn_at, existing.withdrawn_reason = None, ""
            session.add(existing)
            session.flush()
        return existing
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    if post_id is None and staff is not None:
        post_id = staff.post_id
    if window_id is None and staff is not None:
        window_id = staff.window_id
    post = session.get(Post, post_id) if post_id is not None else None
    window = session.get(Window, window_id) if window_id is not None else None
    site_id = (post.site_id if post else None) or (window.site_id if window else None) or (
        staff.site_id if staff else None)
    if site_id is None:
        raise InvalidInput("post_id", "error.incident_needs_subject")
    incident = Incident(
        kind=kind, source_kind=source_kind, source_id=str(source_id)[:40], site_id=site_id,
        post_id=post_id, window_id=window_id, staff_id=staff_id, occurred_at=occurred_at, summary=summary[:400],
    )
    session.add(incident)
    session.flush()
    return incident


def _find(session: Session, kind: str, source_kind: str, source_id: object) -> Incident | None:
    return session.exec(select(Incident).where(
        col(Incident.source_kind) == source_kind, col(Incident.source_id) == str(source_id)[:40],
        col(Incident.kind) == kind,
    )).first()


def withdraw_incident(session: Session, *, kind: str, source_kind: str, source_id: object, reason: str,
                      at: datetime | None = None) -> Incident | None:
    """The source no longer stands: keep the incident, stop counting it. None if there was none."""
    incident = _find(session, kind, source_kind, source_id)
    if incident is not None and incident.withdrawn_at is None:
        incident.withdrawn_at, incident.withdrawn_reason = at or utcnow(), reason[:400]
        session.add(incident)
        session.flush()
    return incident


def standing() -> ColumnElement[bool]:
    """The incidents that count: not withdrawn (every query of incidents for the register uses this)."""
    return col(Incident.withdrawn_at).is_(None)


def incidents_for_posts(
    session: Session, post_ids: Sequence[int], *, since: datetime, until: datetime | None = None
) -> Sequence[Incident]:
    """Incidents about the given posts (directly, or through their windows' staff) in a period."""
    if not post_ids:
        return []
    stmt = select(Incident).where(col(Incident.post_id).in_(list(post_ids)), col(Incident.occurred_at) >= since,
                                  standing())
    if until is not None:
        stmt = stmt.where(col(Incident.occurred_at) < until)
    return session.exec(stmt.order_by(col(Incident.occurred_at).desc())).all()


def count_by_post(session: Session, *, since: datetime) -> dict[int, int]:
    rows = session.exec(
        select(Incident.post_id, func.count()).where(
            col(Incident.occurred_at) >= since, col(Incident.post_id).is_not(None), standing()
        ).group_by(col(Incident.post_id))
    ).all()
    return {int(p): int(n) for p, n in rows if p is not None}
