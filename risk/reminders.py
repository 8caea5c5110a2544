"""Reminders of reviews and checks falling due, stored as rows: for the discipline officers of the site
(the officer's home page lists them) and addressed to each responsible person.

The scheduler runs `run_reminder_job` every morning; running it twice a day creates nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from risk.models import Countermeasure, ReminderKind, RiskIncidentLink, RiskPoint, RiskReminder
from risk.provisional import sweep_provisional
from risk.scope import local_date_of, local_today, window_start
from risk.settings import RiskSettings, get_risk_settings
from risk.signal import counted, relink_incidents
from supervision import audit
from supervision.access import SYSTEM, Permission, Principal, site_path_clause
from supervision.db import get_engine, session_scope, utcnow
from supervision.errors import Forbidden, NotFound
from supervision.models import Incident, Post, Site, Staff
from supervision.scheduler import JobSpec

logger = logging.getLogger(__name__)

_REVIEW_KINDS = (ReminderKind.REVIEW_DUE, ReminderKind.REVIEW_OVERDUE)
_CHECK_KINDS = (ReminderKind.CHECK_DUE, ReminderKind.CHECK_OVERDUE)


class ReminderRow(BaseModel):
    id: int
    kind: ReminderKind
    site_id: int
    point_id: int | None
    point_code: str
    measure_id: int | None
    measure_code: str
    post_id: int | None
    due_on: date
    overdue: bool
    recipient_staff_id: int | None
    recipient_name: str
    summary: str
    done: bool


@dataclass(frozen=True)
class _Wanted:
    kind: ReminderKind
    site_id: int
    point_id: int | None
    measure_id: int | None
    due_on: date
    recipient: int | None
    summary: str

    @property
    def key(self) -> str:
        # Due and overdue share a key: one reminder per due date and person, which escalates when it passes.
        family = "review" if self.kind in _REVIEW_KINDS else "check" if self.kind in _CHECK_KINDS else self.kind.value
        return f"{family}:{self.point_id or ''}:{self.measure_id or ''}:{self.due_on}:{self.recipient or ''}"


def generate_reminders(session: Session, *, today: date | None = None, settings: RiskSettings | None = None) -> int:
    """Create the reminders due today (and escalate, or close, earlier ones); return how many were created."""
    day = today or local_today()
    settings = settings or get_risk_settings()
    horizon = day + timedelta(days=settings.reminder_lead_days)
    wanted: list[_Wanted] = []

    points = session.exec(
        select(RiskPoint, Post).join(Post, col(Post.id) == col(RiskPoint.post_id)).where(col(RiskPoint.active))
    ).all()
    for point, post in points:
        people = _people(point.direct_responsible_id, point.department_responsible_id, point.leader_responsible_id)
        if point.next_review_due <= horizon:
            kind = ReminderKind.REVIEW_OVERDUE if point.next_review_due < day else ReminderKind.REVIEW_DUE
            wanted += _for_all(
                kind,
                post.site_id,
                point.id,
                None,
                point.next_review_due,
                people,
                f"{point.code} {point.name}",
            )
        if post.duties_changed_at is not None and (
            point.duties_seen_at is None or post.duties_changed_at > point.duties_seen_at
        ):
            wanted += _for_all(
                ReminderKind.DUTIES_CHANGED,
                post.site_id,
                point.id,
                None,
                local_date_of(post.duties_changed_at),
                people,
                f"{point.code} {post.name}",
            )

    # Links the listener did not make (incidents from before the table, points added since) first.
    relink_incidents(session, today=day, window_days=settings.signal_window_days)
    since = window_start(day, settings.signal_window_days)
    signal = session.exec(
        select(RiskPoint.id, func.count(col(Incident.id)))
        .join(RiskIncidentLink, col(RiskIncidentLink.point_id) == col(RiskPoint.id))
        .join(Incident, col(Incident.id) == col(RiskIncidentLink.incident_id))
        .where(col(RiskPoint.active), *counted(since))
        .group_by(col(RiskPoint.id))
        .having(func.count(col(Incident.id)) >= settings.signal_threshold)
    ).all()
    by_id = {p.id: (p, post) for p, post in points}
    for point_id, count in signal:
        point, post = by_id[point_id]
        # One prompt per review cycle: keyed on the last review, so the next comes only after a review.
        anchor = point.last_reviewed_on or local_date_of(point.created_at)
        wanted += _for_all(
            ReminderKind.REGRADE,
            post.site_id,
            point.id,
            None,
            anchor,
            [],
            f"{point.code} {point.name} ({count})",
        )

    for measure in session.exec(
        select(Countermeasure).where(col(Countermeasure.active), col(Countermeasure.next_check_due) <= horizon)
    ):
        kind = ReminderKind.CHECK_OVERDUE if measure.next_check_due < day else ReminderKind.CHECK_DUE
        wanted += _for_all(
            kind,
            measure.site_id,
            None,
            measure.id,
            measure.next_check_due,
            [measure.owner_id],
            f"{measure.code} {measure.content[:80]}",
        )

    created = _store(session, wanted)
    closed = _close_stale(session, day)
    if created or closed:
        audit.record(
            session,
            SYSTEM,
            "risk.reminders",
            object_kind="risk_reminder",
            summary=f"created {created}, closed {closed}",
        )
    logger.info("risk reminders: %d created, %d closed", created, closed)
    return created


def _people(*ids: int | None) -> list[int]:
    return list(dict.fromkeys(i for i in ids if i is not None))


def _for_all(
    kind: ReminderKind,
    site_id: int,
    point_id: int | None,
    measure_id: int | None,
    due_on: date,
    people: Sequence[int],
    summary: str,
) -> list[_Wanted]:
    return [
        _Wanted(kind, site_id, point_id, measure_id, due_on, recipient, summary[:400]) for recipient in [None, *people]
    ]


def _store(session: Session, wanted: list[_Wanted]) -> int:
    if not wanted:
        return 0
    existing = {
        r.dedupe_key: r
        for r in session.exec(select(RiskReminder).where(col(RiskReminder.dedupe_key).in_([w.key for w in wanted])))
    }
    created = 0
    for w in {w.key: w for w in wanted}.values():
        row = existing.get(w.key)
        if row is None:
            session.add(
                RiskReminder(
                    kind=w.kind,
                    site_id=w.site_id,
                    point_id=w.point_id,
                    measure_id=w.measure_id,
                    due_on=w.due_on,
                    recipient_staff_id=w.recipient,
                    summary=w.summary,
                    dedupe_key=w.key,
                )
            )
            created += 1
        elif row.done_at is None and row.kind != w.kind:
            row.kind = w.kind
            session.add(row)
    session.flush()
    return created


def _close_stale(session: Session, day: date) -> int:
    """Close open reminders whose reason has gone (reviewed, checked, retired) by another way."""
    closed = 0
    now = utcnow()
    open_rows = session.exec(select(RiskReminder).where(col(RiskReminder.done_at).is_(None))).all()
    point_ids = {r.point_id for r in open_rows if r.point_id is not None}
    measure_ids = {r.measure_id for r in open_rows if r.measure_id is not None}
    points = {p.id: p for p in session.exec(select(RiskPoint).where(col(RiskPoint.id).in_(point_ids)))}
    measures = {m.id: m for m in session.exec(select(Countermeasure).where(col(Countermeasure.id).in_(measure_ids)))}
    for r in open_rows:
        stale = False
        if r.kind in _REVIEW_KINDS:
            p = points.get(r.point_id)
            stale = p is None or not p.active or p.next_review_due != r.due_on
        elif r.kind in _CHECK_KINDS:
            m = measures.get(r.measure_id)
            stale = m is None or not m.active or m.next_check_due != r.due_on
        if stale:
            r.done_at, r.done_by = now, "system"
            session.add(r)
            closed += 1
    session.flush()
    return closed


def list_reminders(
    session: Session,
    actor: Principal,
    *,
    mine: bool = False,
    include_done: bool = False,
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> tuple[list[ReminderRow], int]:
    """Open reminders: the officers' list of their jurisdiction, or (`mine`, and always for window staff)
    those addressed to the actor's own staff record. Overdue first, then by due date."""
    day = today or local_today()
    stmt = select(RiskReminder).join(Site, col(Site.id) == col(RiskReminder.site_id))
    if mine or not actor.can(Permission.RISK_READ):
        if actor.staff_id is None:
            return [], 0
        stmt = stmt.where(col(RiskReminder.recipient_staff_id) == actor.staff_id)
    else:
        stmt = stmt.where(site_path_clause(actor), col(RiskReminder.recipient_staff_id).is_(None))
    if not include_done:
        stmt = stmt.where(col(RiskReminder.done_at).is_(None))
    total = session.exec(
        select(func.count()).select_from(stmt.with_only_columns(col(RiskReminder.id)).subquery())
    ).one()
    rows = session.exec(
        stmt.order_by(col(RiskReminder.due_on), col(RiskReminder.id))
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    return _rows(session, list(rows), day), int(total)


def close_reminder(session: Session, actor: Principal, reminder_id: int, *, ip: str = "") -> RiskReminder:
    """Mark a reminder done (an officer of its site, or the person it is addressed to)."""
    row = session.get(RiskReminder, reminder_id)
    site = session.get(Site, row.site_id) if row is not None else None
    if row is None or site is None:
        raise NotFound("error.not_found_kind", kind="kind.risk_reminder", id=reminder_id)
    addressed = row.recipient_staff_id is not None and row.recipient_staff_id == actor.staff_id
    if not addressed and not (actor.can(Permission.RISK_WRITE) and actor.covers_path(site.path)):
        if actor.can(Permission.RISK_READ) and actor.covers_path(site.path):
            raise Forbidden("error.forbidden_permission", permission=Permission.RISK_WRITE.value)
        raise NotFound("error.not_found_kind", kind="kind.risk_reminder", id=reminder_id)
    if row.done_at is None:
        row.done_at, row.done_by = utcnow(), actor.audit_name[:80]
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "risk.reminder.close",
            object_kind="risk_reminder",
            object_id=row.id,
            site_id=row.site_id,
            summary=row.summary,
            ip=ip,
        )
    return row


def _rows(session: Session, rows: list[RiskReminder], day: date) -> list[ReminderRow]:
    point_ids = {r.point_id for r in rows if r.point_id is not None}
    measure_ids = {r.measure_id for r in rows if r.measure_id is not None}
    staff_ids = {r.recipient_staff_id for r in rows if r.recipient_staff_id is not None}
    points = {p.id: p for p in session.exec(select(RiskPoint).where(col(RiskPoint.id).in_(point_ids)))}
    measures = {m.id: m for m in session.exec(select(Countermeasure).where(col(Countermeasure.id).in_(measure_ids)))}
    staff = {s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(staff_ids)))}
    out = []
    for r in rows:
        p = points.get(r.point_id) if r.point_id is not None else None
        m = measures.get(r.measure_id) if r.measure_id is not None else None
        s = staff.get(r.recipient_staff_id) if r.recipient_staff_id is not None else None
        out.append(
            ReminderRow(
                id=r.id or 0,
                kind=r.kind,
                site_id=r.site_id,
                point_id=r.point_id,
                point_code=p.code if p else "",
                measure_id=r.measure_id,
                measure_code=m.code if m else "",
                post_id=p.post_id if p else None,
                due_on=r.due_on,
                overdue=r.due_on < day,
                recipient_staff_id=r.recipient_staff_id,
                recipient_name=s.name if s else "",
                summary=r.summary,
                done=r.done_at is not None,
            )
        )
    return out


def run_reminder_job() -> None:
    """The scheduler's entry point: one transaction for the day's reminders."""
    # First the dates a calendar change left provisional (its follow-up may have stopped with its process),
    # in short transactions of their own, so the reminders go out against the dates as they now are.
    sweep_provisional(get_engine())
    with session_scope(write=True) as session:
        created = generate_reminders(session)
    logger.info("risk reminder job done (%d new)", created)


REMINDER_JOB = JobSpec("risk.reminders", "risk.reminders:run_reminder_job", "cron", {"hour": 6, "minute": 30})
