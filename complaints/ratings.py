"""Ratings (好差评) from the window pads, the rectification of bad ones, and appeals (申诉复核)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import ColumnElement, case
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from complaints import guards, rollup, visibility
from complaints.models import (
    BAD_LEVELS,
    AppealDecision,
    Channel,
    Rating,
    RatingAppeal,
    RatingPush,
    RequestType,
    Satisfaction,
    WorkOrderCreate,
)
from complaints.settings import get_complaints_settings
from complaints.workorders import Clock, cancel_order, prepare_order
from supervision import audit, incidents, ledger
from supervision.access import Permission, Principal
from supervision.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from supervision.models import Role, Site, Staff, Window
from supervision.org import parse
from supervision.scoring import points as scoring_points

logger = logging.getLogger(__name__)

LEVEL_KEYS = {
    1: "level.very_dissatisfied",
    2: "level.dissatisfied",
    3: "level.basic",
    4: "level.satisfied",
    5: "level.very_satisfied",
}


def push_rating(
    session: Session,
    actor: Principal,
    data: dict[str, Any] | RatingPush,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> tuple[Rating, bool]:
    """Take a pad's rating; returns (rating, created). The same case posted again returns the first rating.

    A bad rating (不满意/非常不满意) needs a reason; it writes a ledger entry and an incident and opens a
    rectification order (answer within 1 working day, put right within 15, then a callback).
    """
    actor.require(Permission.RATINGS_PUSH)
    model = data if isinstance(data, RatingPush) else parse(RatingPush, data)
    digest = guards.request_hash(model.model_dump(mode="json", exclude={"rated_at"}))
    existing = session.exec(select(Rating).where(col(Rating.case_no) == model.case_no)).first()
    if existing is not None:
        return _replay(existing, digest)
    window, staff = _resolve(session, actor, model)
    level = Satisfaction(model.level)
    if level in BAD_LEVELS and not model.reason:
        raise InvalidInput("reason", "complaints.error.bad_rating_reason")
    clock = Clock.at(model.rated_at or now)
    rating = Rating(
        case_no=model.case_no,
        site_id=window.site_id,
        window_id=window.id or 0,
        staff_id=staff.id if staff else None,
        department_id=window.department_id,
        level=int(level),
        reason=model.reason,
        rated_at=clock.now,
        rated_on=clock.today,
        rated_month=clock.today.strftime("%Y-%m"),
        source=actor.audit_name[:80],
        request_hash=digest,
    )
    try:
        # A pad retrying while its first post is still committing meets the unique case number here.
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        existing = session.exec(select(Rating).where(col(Rating.case_no) == model.case_no)).first()
        if existing is None:  # pragma: no cover
            raise
        return _replay(existing, digest)
    rollup.count_rating(session, rating, 1)
    audit.record(
        session,
        actor,
        "rating.create",
        object_kind="rating",
        object_id=rating.id,
        site_id=rating.site_id,
        summary=f"{rating.case_no} {rating.level}",
        ip=ip,
    )
    if level in BAD_LEVELS:
        _bad_rating(session, actor, rating, clock, ip)
    return rating, True


def _replay(existing: Rating, digest: str) -> tuple[Rating, bool]:
    if existing.request_hash != digest:
        raise Conflict("complaints.error.rating_exists", case_no=existing.case_no)
    return existing, False


def _resolve(session: Session, actor: Principal, model: RatingPush) -> tuple[Window, Staff | None]:
    problems: list[FieldProblem] = []
    window: Window | None = None
    if model.window_id is not None:
        window = session.get(Window, model.window_id)
    elif model.window_code:
        window = session.exec(select(Window).where(col(Window.code) == model.window_code)).first()
    else:
        problems.append(FieldProblem("window_id", "error.required"))
    if window is not None and not visibility.in_jurisdiction(session, actor, window.site_id):
        window = None
    if window is None and not problems:
        problems.append(
            FieldProblem(
                "window_id",
                "error.unknown_ref",
                {"kind": "kind.window", "value": model.window_id or model.window_code},
            )
        )
    staff: Staff | None = None
    if model.staff_id is not None or model.staff_code:
        staff = (
            session.get(Staff, model.staff_id)
            if model.staff_id is not None
            else session.exec(select(Staff).where(col(Staff.code) == model.staff_code)).first()
        )
        if staff is None or (window is not None and staff.site_id != window.site_id):
            problems.append(
                FieldProblem(
                    "staff_id",
                    "error.unknown_ref",
                    {"kind": "kind.staff", "value": model.staff_id or model.staff_code},
                )
            )
    if problems:
        raise InvalidInput(problems=problems)
    assert window is not None
    return window, staff


def _bad_rating(session: Session, actor: Principal, rating: Rating, clock: Clock, ip: str) -> None:
    settings = get_complaints_settings()
    label = LEVEL_KEYS[rating.level]
    entry = ledger.record_entry(
        session,
        actor=actor,
        day=clock.today,
        kind="bad_rating",
        # The points of the scoring rule set in force that day.
        points=scoring_points(session, "rating.bad", on=clock.today),
        reason=f"{rating.case_no}: {rating.reason}"[:400],
        source_kind="rating",
        source_id=rating.id,
        staff_id=rating.staff_id,
        window_id=rating.window_id,
        ip=ip,
    )
    incidents.record_incident(
        session,
        kind="bad_rating",
        source_kind="rating",
        source_id=rating.id,
        occurred_at=rating.rated_at,
        window_id=rating.window_id,
        staff_id=rating.staff_id,
        summary=f"{rating.case_no} {label}",
    )
    order = prepare_order(
        session,
        actor,
        WorkOrderCreate(
            channel=Channel.RATING,
            type=RequestType.COMPLAINT,
            anonymous=True,
            site_id=rating.site_id,
            title=f"差评整改 {rating.case_no}",
            content=rating.reason,
            window_id=rating.window_id,
            staff_id=rating.staff_id,
            source_ref=f"rating:{rating.id}",
            received_at=rating.rated_at,
            lead_department_id=rating.department_id,
        ),
        ip=ip,
        now=clock.now,
        respond_within=settings.rating_answer_workdays,
        time_limit=settings.rating_fix_workdays,
    ).insert(session)
    rating.ledger_entry_id = entry.id
    rating.work_order_id = order.id
    session.add(rating)
    session.flush()


class RatingFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_id: int | None = None
    staff_id: int | None = None
    level: int | None = PydField(None, ge=1, le=5)
    bad_only: bool = False
    since: date | None = None
    until: date | None = None
    include_void: bool = True
    appeal_pending: bool = False  # only ratings whose appeal waits for a decision


def list_ratings(
    session: Session,
    actor: Principal,
    filters: dict[str, Any] | RatingFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Rating], int]:
    """Ratings of the jurisdiction, newest first; window staff see their own."""
    f = filters if isinstance(filters, RatingFilter) else parse(RatingFilter, dict(filters or {}))
    where: list[ColumnElement[bool]] = [_in_jurisdiction(actor)]
    # Those who decide appeals (managers by default) read the jurisdiction's ratings to weigh them.
    if not actor.can(Permission.COMPLAINTS_READ) and not decides_appeals(actor):
        if not actor.can(Permission.OWN_RECORDS) or actor.staff_id is None:
            raise Forbidden("error.forbidden_permission", permission=Permission.COMPLAINTS_READ.value)
        where.append(col(Rating.staff_id) == actor.staff_id)
    for name in ("window_id", "staff_id", "level"):
        value = getattr(f, name)
        if value is not None:
            where.append(getattr(Rating, name) == value)
    if f.bad_only:
        where.append(col(Rating.level) <= int(Satisfaction.DISSATISFIED))
    if f.since is not None:
        where.append(col(Rating.rated_on) >= f.since)
    if f.until is not None:
        where.append(col(Rating.rated_on) <= f.until)
    if not f.include_void:
        where.append(col(Rating.void).is_(False))
    if f.appeal_pending:
        where.append(col(Rating.id).in_(select(RatingAppeal.rating_id).where(col(RatingAppeal.decision) == "")))
    total = session.exec(select(func.count()).select_from(Rating).where(*where)).one()
    rows = session.exec(
        select(Rating)
        .where(*where)
        .order_by(col(Rating.rated_at).desc(), col(Rating.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    return list(rows), int(total)


# Who may decide appeals under each value of the setting (SUPERVISION_RATING_APPEAL_DECIDERS).
APPEAL_DECIDERS: dict[str, frozenset[Role]] = {
    "managers": frozenset({Role.MANAGER}),
    "officers": frozenset({Role.OFFICER}),
    "both": frozenset({Role.MANAGER, Role.OFFICER}),
}


def decides_appeals(actor: Principal) -> bool:
    """Whether the actor decides rating appeals in their jurisdiction (by role, as the setting says)."""
    roles = APPEAL_DECIDERS[get_complaints_settings().rating_appeal_deciders]
    return actor.kind == "user" and actor.role in roles and actor.can(Permission.LEDGER_WRITE)


def pending_appeals(session: Session, actor: Principal) -> int:
    """How many appeals of the actor's jurisdiction wait for a decision (0 for those who do not decide)."""
    if not decides_appeals(actor):
        return 0
    return int(session.exec(
        select(func.count()).select_from(RatingAppeal)
        .join(Rating, col(Rating.id) == col(RatingAppeal.rating_id))
        .where(col(RatingAppeal.decision) == "", _in_jurisdiction(actor))
    ).one())


def _in_jurisdiction(actor: Principal) -> ColumnElement[bool]:
    return col(Rating.site_id).in_(
        select(Site.id).where(col(Site.path).startswith(actor.site_path, autoescape=True)))


def _rating_in_reach(session: Session, actor: Principal, rating_id: int) -> Rating:
    rating = session.get(Rating, rating_id)
    if rating is None or not visibility.in_jurisdiction(session, actor, rating.site_id):
        raise NotFound("error.not_found_kind", kind="kind.rating", id=rating_id)
    return rating


def appeal_rating(session: Session, actor: Principal, rating_id: int, reason: str, *, ip: str = "") -> RatingAppeal:
    """File an appeal against a malicious or mistaken rating: by the person rated or a supervisor/manager."""
    rating = _rating_in_reach(session, actor, rating_id)
    own = actor.staff_id is not None and actor.staff_id == rating.staff_id
    if not (own or actor.can(Permission.COMPLAINTS_WRITE) or actor.can(Permission.LEDGER_WRITE)):
        raise Forbidden("error.forbidden_permission", permission=Permission.COMPLAINTS_WRITE.value)
    if not reason.strip():
        raise InvalidInput("reason", "error.required")
    if rating.level not in BAD_LEVELS:
        raise Conflict("complaints.error.appeal_good_rating")
    if session.exec(select(RatingAppeal).where(col(RatingAppeal.rating_id) == rating_id)).first() is not None:
        raise Conflict("complaints.error.appeal_exists")
    appeal = RatingAppeal(rating_id=rating_id, reason=reason.strip(), filed_by=actor.audit_name[:80])
    session.add(appeal)
    session.flush()
    audit.record(
        session,
        actor,
        "rating.appeal",
        object_kind="rating",
        object_id=rating_id,
        site_id=rating.site_id,
        summary=rating.case_no,
        detail={"reason": reason[:200]},
        ip=ip,
    )
    return appeal


def decide_appeal(
    session: Session,
    actor: Principal,
    rating_id: int,
    decision: AppealDecision | str,
    reason: str,
    *,
    ip: str = "",
) -> RatingAppeal:
    """Decide an appeal; granted voids the rating and reverses its ledger entry (the rows stay).

    Decided by the managers of the jurisdiction, its officers, or both (SUPERVISION_RATING_APPEAL_DECIDERS).
    """
    actor.require(Permission.LEDGER_WRITE)
    if not decides_appeals(actor):
        raise Forbidden("complaints.error.not_appeal_decider")
    rating = _rating_in_reach(session, actor, rating_id)
    appeal = session.exec(select(RatingAppeal).where(col(RatingAppeal.rating_id) == rating_id)).first()
    if appeal is None:
        raise NotFound("error.not_found_kind", kind="kind.rating_appeal", id=rating_id)
    try:
        verdict = AppealDecision(decision)
    except ValueError:
        raise InvalidInput("decision", "error.choice", choices="granted, rejected") from None
    if not reason.strip():
        raise InvalidInput("reason", "error.required")
    if appeal.decision:
        raise Conflict("complaints.error.appeal_decided")
    if appeal.filed_by == actor.audit_name:
        raise Conflict("complaints.error.decide_own_appeal")
    appeal.decision = verdict.value
    appeal.decision_reason = reason.strip()
    appeal.decided_by = actor.audit_name[:80]
    appeal.decided_at = Clock.at().now
    session.add(appeal)
    session.flush()
    if verdict is AppealDecision.GRANTED:
        rating.void = True
        rollup.count_rating(session, rating, -1)
        if rating.ledger_entry_id is not None and not ledger.reversed_among(session, [rating.ledger_entry_id]):
            ledger.reverse_entry(
                session,
                rating.ledger_entry_id,
                actor=actor,
                reason=ledger.keyed_reason("ledger_reason.appeal_granted", reason=reason.strip()),
                ip=ip,
            )
        # The risk register stops counting it (the incident row stays, marked withdrawn).
        incidents.withdraw_incident(session, kind="bad_rating", source_kind="rating", source_id=rating.id,
                                    reason=ledger.keyed_reason("wo_reason.appeal_granted", case_no=rating.case_no,
                                                               reason=reason.strip()), at=appeal.decided_at)
        if rating.work_order_id is not None:
            # The rectification the bad rating opened has no cause left: closed, naming the appeal.
            cancel_order(
                session,
                actor,
                rating.work_order_id,
                reason=ledger.keyed_reason("wo_reason.appeal_granted", case_no=rating.case_no, reason=reason.strip()),
                detail={"appeal_id": appeal.id, "rating_id": rating.id, "case_no": rating.case_no},
                ip=ip,
                now=appeal.decided_at,
            )
        session.add(rating)
        session.flush()
    audit.record(
        session,
        actor,
        "rating.appeal_decide",
        object_kind="rating",
        object_id=rating_id,
        site_id=rating.site_id,
        summary=f"{rating.case_no} {verdict.value}",
        detail={"reason": reason[:200]},
        ip=ip,
    )
    return appeal


def get_appeal(session: Session, actor: Principal, rating_id: int) -> RatingAppeal | None:
    _rating_in_reach(session, actor, rating_id)
    return session.exec(select(RatingAppeal).where(col(RatingAppeal.rating_id) == rating_id)).first()


# The rating pads' share of 满意 and 非常满意: the awards' citizens' part (passed to the core by the web layer).
SATISFIED = (4, 5)


def satisfaction_counts(session: Session, start: date, end: date, window_ids: Collection[int],
                        staff_ids: Collection[int]) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """(满意 + 非常满意, all) ratings of [start, end] per window and per person; voided ratings left out."""
    good = func.sum(case((col(Rating.level).in_(SATISFIED), 1), else_=0))

    def per(column: object, ids: Collection[int]) -> dict[int, tuple[int, int]]:
        if not ids:
            return {}
        rows = session.exec(select(column, good, func.count()).where(  # type: ignore[call-overload]
            col(Rating.rated_on) >= start, col(Rating.rated_on) <= end, col(Rating.void).is_(False),
            col(column).in_(list(ids))).group_by(column)).all()
        return {int(key): (int(n_good or 0), int(n)) for key, n_good, n in rows}

    return per(Rating.window_id, window_ids), per(Rating.staff_id, staff_ids)
