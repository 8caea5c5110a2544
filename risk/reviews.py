"""Reviews (复核) of risk points: history kept, the point's level changes only through one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from risk import deadlines, provisional
from risk.models import (
    ReminderKind,
    ReviewCreate,
    ReviewOutcome,
    RiskIncidentLink,
    RiskPoint,
    RiskReminder,
    RiskReview,
)
from risk.register import criteria_by_version, get_risk_point
from risk.scope import local_today, window_start
from risk.settings import get_risk_settings
from risk.signal import counted
from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import utcnow
from supervision.errors import FieldProblem, InvalidInput
from supervision.models import Incident, Post
from supervision.org import parse
from supervision.workdays import load_calendar

REVIEW_REMINDERS = (
    ReminderKind.REVIEW_DUE,
    ReminderKind.REVIEW_OVERDUE,
    ReminderKind.DUTIES_CHANGED,
    ReminderKind.REGRADE,
)


def record_review(
    session: Session,
    actor: Principal,
    point_id: int,
    data: dict[str, Any],
    *,
    ip: str = "",
    today: date | None = None,
) -> RiskReview:
    """Record a review; a re-grading changes the level, basis and criteria (the review keeps the old)."""
    actor.require(Permission.RISK_WRITE)
    point = get_risk_point(session, actor, point_id)
    model: ReviewCreate = parse(ReviewCreate, data)
    day = today or local_today()
    problems: list[FieldProblem] = []
    if model.reviewed_on > day:
        problems.append(FieldProblem("reviewed_on", "risk.error.future_date"))
    if point.last_reviewed_on is not None and model.reviewed_on < point.last_reviewed_on:
        problems.append(
            FieldProblem("reviewed_on", "risk.error.review_before_last", {"last": point.last_reviewed_on.isoformat()})
        )
    if not point.active:
        problems.append(FieldProblem("point_id", "risk.error.point_retired", {"code": point.code}))
    new_level = int(model.level) if model.level is not None else point.level
    if model.outcome is ReviewOutcome.REGRADED:
        if new_level == point.level:
            problems.append(FieldProblem("level", "risk.error.regrade_needs_level"))
        if not model.grading_basis.strip():
            problems.append(FieldProblem("grading_basis", "error.required"))
    elif new_level != point.level:
        problems.append(FieldProblem("outcome", "risk.error.level_change_is_regrade"))
    criteria = criteria_by_version(session, model.criteria_version, on=model.reviewed_on)
    if criteria is None:
        problems.append(
            FieldProblem("criteria_version", "risk.error.unknown_criteria", {"version": model.criteria_version})
        )
    if problems:
        raise InvalidInput(problems=problems)
    assert criteria is not None
    settings = get_risk_settings()
    incidents = count_signal(session, point, today=day, window_days=settings.signal_window_days)
    review = RiskReview(
        point_id=point.id or 0,
        reviewed_on=model.reviewed_on,
        reviewer_name=(model.reviewer_name.strip() or actor.name)[:60],
        reviewer_user_id=actor.id if actor.kind == "user" else None,
        outcome=model.outcome,
        level_before=point.level,
        level_after=new_level,
        criteria_id=criteria.id or 0,
        grading_basis=model.grading_basis.strip() or point.grading_basis,
        notes=model.notes,
        trigger=model.trigger,
        incident_count=incidents,
        recorded_by=actor.audit_name[:80],
    )
    session.add(review)
    post = session.get(Post, point.post_id)
    apply_review(session, point, review, post_duties_changed_at=post.duties_changed_at if post else None)
    audit.record(
        session,
        actor,
        "risk.point.review",
        object_kind="risk_point",
        object_id=point.id,
        site_id=post.site_id if post else None,
        summary=f"{point.code} {model.reviewed_on} {model.outcome.value}",
        detail={
            "level": [review.level_before, review.level_after],
            "criteria": criteria.version,
            "incidents": incidents,
            "notes": model.notes,
        },
        ip=ip,
    )
    return review


def apply_review(
    session: Session, point: RiskPoint, review: RiskReview, *, post_duties_changed_at: datetime | None
) -> None:
    """Bring the point's current state in line with a review just recorded, and close its review reminders."""
    settings = get_risk_settings()
    point.level = review.level_after
    point.criteria_id = review.criteria_id
    point.grading_basis = review.grading_basis
    point.last_reviewed_on = review.reviewed_on
    provisional.set_review_due(point, deadlines.review_due(
        review.reviewed_on, point.level, settings.review_days(point.level), load_calendar(session)))
    point.duties_seen_at = post_duties_changed_at
    # The reviewer weighed the incidents up to now; only later ones count towards the next re-grading.
    point.signal_reset_at = utcnow()
    if review.outcome is ReviewOutcome.RETIRED:
        point.active = False
    point.updated_at = utcnow()
    session.add(point)
    now = utcnow()
    for reminder in session.exec(
        select(RiskReminder).where(
            col(RiskReminder.point_id) == point.id,
            col(RiskReminder.done_at).is_(None),
            col(RiskReminder.kind).in_(REVIEW_REMINDERS),
        )
    ):
        reminder.done_at = now
        reminder.done_by = "review"
        session.add(reminder)
    session.flush()


def list_reviews(session: Session, actor: Principal, point_id: int) -> Sequence[RiskReview]:
    """A point's review history, newest first."""
    get_risk_point(session, actor, point_id)
    return session.exec(
        select(RiskReview)
        .where(col(RiskReview.point_id) == point_id)
        .order_by(col(RiskReview.reviewed_on).desc(), col(RiskReview.id).desc())
    ).all()


def _signal_query(point: RiskPoint, today: date, window_days: int) -> Any:
    return (
        select(Incident)
        .join(RiskIncidentLink, col(RiskIncidentLink.incident_id) == col(Incident.id))
        .join(RiskPoint, col(RiskPoint.id) == col(RiskIncidentLink.point_id))
        .where(col(RiskIncidentLink.point_id) == point.id, *counted(window_start(today, window_days)))
    )


def count_signal(session: Session, point: RiskPoint, *, today: date, window_days: int) -> int:
    """Incidents linked to the point in the window that the last review has not yet weighed."""
    return len(signal_incidents(session, point, today=today, window_days=window_days))


def signal_incidents(session: Session, point: RiskPoint, *, today: date, window_days: int) -> Sequence[Incident]:
    """The incidents behind the re-grading signal, newest first."""
    stmt = _signal_query(point, today, window_days)
    return list(session.exec(stmt.order_by(col(Incident.occurred_at).desc(), col(Incident.id).desc())).all())
