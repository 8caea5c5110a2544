"""Incidents: the link through which complaints, ratings and video alerts reach the risk register."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from supervision.db import utcnow
from supervision.errors import InvalidInput
from supervision.models import Incident, Post, Staff, Window


class Concern(StrEnum):
    """What an incident is about: the words the domains map their records to and the register its points to.

    A complaint about a clerk's manner is an `attitude` incident; it concerns the points whose 表现形式 is
    about manner, not the post's 优亲厚友 (`favouritism`) point.
    """

    ATTITUDE = "attitude"  # 服务态度 (冷硬横推、不耐烦)
    DELAY = "delay"  # 推诿拖延、超时办理
    OBSTRUCTION = "obstruction"  # 故意刁难、不予受理
    GRAFT = "graft"  # 吃拿卡要、收受好处
    FAVOURITISM = "favouritism"  # 优亲厚友、插队办理
    FEES = "fees"  # 乱收费
    OFF_POST = "off_post"  # 脱岗、离岗
    LAX_REVIEW = "lax_review"  # 审查不严、违规审批


# What an incident of each kind is about whatever its source says (a bad rating is the citizen's verdict on
# the service; a video alert is an empty post). A source's reader adds what its own record tells.
KIND_CONCERNS: Mapping[str, frozenset[Concern]] = {
    "bad_rating": frozenset({Concern.ATTITUDE}),
    "video_alert": frozenset({Concern.OFF_POST}),
    "card": frozenset({Concern.DELAY}),
}

# The concerns a domain reads off its own records: source ids → concerns (ids it does not know are left out).
ConcernReader = Callable[[Session, Sequence[str]], Mapping[str, frozenset[Concern]]]
# Called with each newly recorded incident, in the recording transaction (the register links it to its points).
IncidentListener = Callable[[Session, Incident], None]


@dataclass
class _Wiring:
    readers: dict[str, ConcernReader] = field(default_factory=dict)
    listeners: list[IncidentListener] = field(default_factory=list)


_wiring = _Wiring()


def wire(*, readers: Mapping[str, ConcernReader], listeners: Sequence[IncidentListener]) -> None:
    """Install the domains' concern readers (by source kind) and incident listeners; called by the composition.

    Replaces what was installed before, so calling it twice is harmless.
    """
    _wiring.readers = dict(readers)
    _wiring.listeners = list(listeners)


def concerns_of(session: Session, incidents: Sequence[Incident]) -> dict[int, frozenset[Concern]]:
    """What each incident is about: its kind's concerns and what its source's reader finds in the record."""
    out = {i.id or 0: KIND_CONCERNS.get(i.kind, frozenset()) for i in incidents}
    by_source: dict[str, list[Incident]] = {}
    for i in incidents:
        by_source.setdefault(i.source_kind, []).append(i)
    for source_kind, group in by_source.items():
        reader = _wiring.readers.get(source_kind)
        if reader is None:
            continue
        found = reader(session, [i.source_id for i in group])
        for i in group:
            out[i.id or 0] = out[i.id or 0] | found.get(i.source_id, frozenset())
    return out


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
    for listener in _wiring.listeners:
        listener(session, incident)
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
