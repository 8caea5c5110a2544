"""Risk points and countermeasures: create, edit, delete, and the grading criteria they are graded under."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, delete, select

from risk import deadlines, provisional
from risk.grading import (
    DEFAULT_CRITERIA_FROM,
    DEFAULT_CRITERIA_TEXT,
    DEFAULT_CRITERIA_TITLE,
    DEFAULT_CRITERIA_VERSION,
)
from risk.models import (
    CheckFrequency,
    Countermeasure,
    CountermeasureCheck,
    CountermeasureCreate,
    CountermeasureUpdate,
    GradingCriteria,
    GradingCriteriaCreate,
    RiskPoint,
    RiskPointCreate,
    RiskPointMeasure,
    RiskPointUpdate,
    RiskReminder,
    RiskReview,
)
from risk.scope import (
    common_site,
    local_today,
    measure_visibility,
    point_visibility,
    scoped_points,
    writable_post,
)
from risk.settings import RiskSettings, get_risk_settings
from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import utcnow
from supervision.errors import Conflict, FieldProblem, InvalidInput, NotFound
from supervision.models import Post, Site, Staff
from supervision.org import CODE_RE, parse
from supervision.shapes import without_refused_nulls
from supervision.workdays import WorkCalendar, load_calendar

logger = logging.getLogger(__name__)

RESPONSIBLE_FIELDS = ("direct_responsible_id", "department_responsible_id", "leader_responsible_id")
# Fields an update may not set to null (code, name, content, post and owner are checked on their own).
POINT_REQUIRED = ("code", "name", "post_id", "manifestation", "category", "power", "process_step")
_CHECKED_ALONE = ("code", "name", "content", "post_id", "owner_id")
MEASURE_REQUIRED = ("code", "content", "measure_type", "owner_id", "check_frequency", "check_method", "active")


# --- grading criteria -----------------------------------------------------------------------------


def current_criteria(session: Session, *, on: date | None = None) -> GradingCriteria:
    """The criteria version in force on a day (today by default); the default version is made on first use."""
    day = on or local_today()
    row = session.exec(
        select(GradingCriteria)
        .where(col(GradingCriteria.effective_from) <= day)
        .order_by(col(GradingCriteria.effective_from).desc(), col(GradingCriteria.id).desc())
    ).first()
    if row is not None:
        return row
    existing = session.exec(
        select(GradingCriteria).where(col(GradingCriteria.version) == DEFAULT_CRITERIA_VERSION)
    ).first()
    if existing is not None:
        return existing
    row = GradingCriteria(
        version=DEFAULT_CRITERIA_VERSION,
        title=DEFAULT_CRITERIA_TITLE,
        effective_from=DEFAULT_CRITERIA_FROM,
        text=DEFAULT_CRITERIA_TEXT,
    )
    session.add(row)
    session.flush()
    return row


def list_criteria(session: Session, actor: Principal) -> Sequence[GradingCriteria]:
    """Every version of the grading criteria, newest first."""
    if not (actor.can(Permission.RISK_READ) or actor.can(Permission.OWN_RECORDS)):
        actor.require(Permission.RISK_READ)
    current_criteria(session)
    return session.exec(select(GradingCriteria).order_by(col(GradingCriteria.effective_from).desc())).all()


def create_criteria(session: Session, actor: Principal, data: dict[str, Any], *, ip: str = "") -> GradingCriteria:
    """Add a version of the grading criteria (older ones stay: points keep the one they were graded under)."""
    actor.require(Permission.RISK_WRITE)
    model: GradingCriteriaCreate = parse(GradingCriteriaCreate, data)
    problems: list[FieldProblem] = []
    if not model.version.strip():
        problems.append(FieldProblem("version", "error.required"))
    elif session.exec(select(GradingCriteria).where(col(GradingCriteria.version) == model.version.strip())).first():
        problems.append(FieldProblem("version", "error.duplicate_code", {"code": model.version}))
    if not model.title.strip():
        problems.append(FieldProblem("title", "error.required"))
    if problems:
        raise InvalidInput(problems=problems)
    current_criteria(session)
    row = GradingCriteria(
        version=model.version.strip(),
        title=model.title.strip(),
        effective_from=model.effective_from,
        text=model.text,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "risk.criteria.create",
        object_kind="risk_criteria",
        object_id=row.id,
        summary=f"{row.version} {row.title}",
        ip=ip,
    )
    return row


def criteria_by_version(session: Session, version: str | None, *, on: date | None = None) -> GradingCriteria | None:
    """The named version, or the one in force on the day when none is named."""
    if not version:
        return current_criteria(session, on=on)
    current_criteria(session, on=on)
    return session.exec(select(GradingCriteria).where(col(GradingCriteria.version) == version.strip())).first()


# --- reading one ----------------------------------------------------------------------------------


def get_risk_point(session: Session, actor: Principal, point_id: int) -> RiskPoint:
    """One point the actor may read, or NotFound."""
    row = session.exec(scoped_points().where(col(RiskPoint.id) == point_id, point_visibility(session, actor))).first()
    if row is None:
        raise NotFound("error.not_found_kind", kind="kind.risk_point", id=point_id)
    return row  # type: ignore[no-any-return]


def get_countermeasure(session: Session, actor: Principal, measure_id: int) -> Countermeasure:
    """One measure the actor may read, or NotFound."""
    row = session.exec(
        select(Countermeasure).where(col(Countermeasure.id) == measure_id, measure_visibility(session, actor))
    ).first()
    if row is None:
        raise NotFound("error.not_found_kind", kind="kind.countermeasure", id=measure_id)
    return row


def _writable_point(session: Session, actor: Principal, point_id: int) -> RiskPoint:
    actor.require(Permission.RISK_WRITE)
    return get_risk_point(session, actor, point_id)


def writable_measure(session: Session, actor: Principal, measure_id: int) -> Countermeasure:
    actor.require(Permission.RISK_WRITE)
    measure = session.get(Countermeasure, measure_id)
    site = session.get(Site, measure.site_id) if measure is not None else None
    if measure is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.countermeasure", id=measure_id)
    return measure


# --- validation -----------------------------------------------------------------------------------


class _RowCheck:
    """Collects every problem of one row so the user sees them all at once."""

    def __init__(self, session: Session, actor: Principal) -> None:
        self.session = session
        self.actor = actor
        self.problems: list[FieldProblem] = []

    def add(self, field: str, key: str, **params: Any) -> None:
        self.problems.append(FieldProblem(field, key, params))

    def code(self, table: type[RiskPoint] | type[Countermeasure], code: str, own_id: int | None) -> None:
        if not CODE_RE.match(code or ""):
            self.add("code", "error.code_format")
            return
        existing = self.session.exec(select(table.id).where(col(table.code) == code)).first()
        if existing is not None and existing != own_id:
            self.add("code", "error.duplicate_code", code=code)

    def text(self, field: str, value: str | None) -> None:
        if not (value or "").strip():
            self.add(field, "error.required")

    def post(self, post_id: int | None) -> Post | None:
        post = writable_post(self.session, self.actor, post_id)
        if post is None:
            self.add("post_id", "error.unknown_ref", kind="kind.post", value=post_id)
        return post

    def staff(self, field: str, staff_id: int | None, *, required: bool = False) -> Staff | None:
        if staff_id is None:
            if required:
                self.add(field, "error.required")
            return None
        staff = self.session.get(Staff, staff_id)
        if staff is None or not staff.active:
            self.add(field, "error.unknown_ref", kind="kind.staff", value=staff_id)
            return None
        return staff

    def points(self, point_ids: Iterable[int]) -> list[RiskPoint]:
        out = []
        for pid in dict.fromkeys(point_ids):
            point = self.session.get(RiskPoint, pid)
            if point is None or writable_post(self.session, self.actor, point.post_id) is None:
                self.add("point_ids", "error.unknown_ref", kind="kind.risk_point", value=pid)
            else:
                out.append(point)
        return out

    def measures(self, measure_ids: Iterable[int]) -> list[Countermeasure]:
        out = []
        for mid in dict.fromkeys(measure_ids):
            measure = self.session.get(Countermeasure, mid)
            site = self.session.get(Site, measure.site_id) if measure is not None else None
            if measure is None or site is None or not self.actor.covers_path(site.path):
                self.add("measure_ids", "error.unknown_ref", kind="kind.countermeasure", value=mid)
            else:
                out.append(measure)
        return out

    def nulls(self, changes: dict[str, Any], required: tuple[str, ...]) -> None:
        for field in required:
            if field in changes and changes[field] is None and field not in _CHECKED_ALONE:
                self.add(field, "error.required")

    def raise_if_any(self, session: Session | None = None, row: Any = None) -> None:
        if self.problems:
            if session is not None and row is not None:
                session.expire(row)  # drop the refused changes
            raise InvalidInput(problems=self.problems)


def _calendar(session: Session) -> WorkCalendar:
    return load_calendar(session)


# --- risk points ----------------------------------------------------------------------------------


def create_risk_point(
    session: Session, actor: Principal, data: dict[str, Any], *, ip: str = "", today: date | None = None
) -> RiskPoint:
    """Record a risk point of a post (with its level, basis and criteria version); audited."""
    actor.require(Permission.RISK_WRITE)
    model: RiskPointCreate = parse(RiskPointCreate, data)
    check = _RowCheck(session, actor)
    check.code(RiskPoint, model.code, None)
    check.text("name", model.name)
    check.text("grading_basis", model.grading_basis)
    post = check.post(model.post_id)
    for field in RESPONSIBLE_FIELDS:
        check.staff(field, getattr(model, field))
    day = today or local_today()
    criteria = criteria_by_version(session, model.criteria_version, on=day)
    if criteria is None:
        check.add("criteria_version", "risk.error.unknown_criteria", version=model.criteria_version)
    measures = check.measures(model.measure_ids)
    check.raise_if_any()
    assert post is not None and criteria is not None
    settings = get_risk_settings()
    values = model.model_dump(exclude={"level", "criteria_version", "measure_ids"})
    values.update(code=model.code.strip(), name=model.name.strip())
    point = RiskPoint.model_validate(
        {
            **values,
            "level": int(model.level),
            "criteria_id": criteria.id,
            "next_review_due": day,  # set below, with whether it is provisional
            "duties_seen_at": post.duties_changed_at,
        }
    )
    provisional.set_review_due(point, deadlines.review_due(
        day, int(model.level), settings.review_days(int(model.level)), _calendar(session)))
    session.add(point)
    session.flush()
    _link(session, [point.id or 0], [m.id or 0 for m in measures])
    audit.record(
        session,
        actor,
        "risk.point.create",
        object_kind="risk_point",
        object_id=point.id,
        site_id=post.site_id,
        summary=f"{point.code} {point.name}",
        detail={
            **values,
            "level": point.level,
            "criteria": criteria.version,
            "measure_ids": [m.id for m in measures],
        },
        ip=ip,
    )
    return point


def update_risk_point(
    session: Session, actor: Principal, point_id: int, data: dict[str, Any], *, ip: str = ""
) -> RiskPoint:
    """Change the fields given; the level changes only through a review, which keeps the history."""
    point = _writable_point(session, actor, point_id)
    data, nulls = without_refused_nulls(RiskPointUpdate, data)  # reported with the other problems: check.nulls
    changes = {**parse(RiskPointUpdate, data).model_dump(exclude_unset=True), **dict.fromkeys(nulls)}
    measure_ids = changes.pop("measure_ids", None)
    before = {k: getattr(point, k) for k in changes}
    # No autoflush: a refused change must never reach the database (a duplicate code would fail the flush
    # with an IntegrityError instead of naming the field), and is dropped from the session on refusal.
    with session.no_autoflush:
        for key, value in changes.items():
            setattr(point, key, value.strip() if isinstance(value, str) and key in ("code", "name") else value)
        check = _RowCheck(session, actor)
        check.nulls(changes, POINT_REQUIRED)
        check.code(RiskPoint, point.code or "", point.id)
        check.text("name", point.name)
        post = check.post(point.post_id)
        for field in RESPONSIBLE_FIELDS:
            if field in changes:
                check.staff(field, getattr(point, field))
        measures = check.measures(measure_ids) if measure_ids is not None else None
        check.raise_if_any(session, point)
    assert post is not None
    if "post_id" in changes and before["post_id"] != point.post_id:
        # A point moved to another post has not been seen against that post's duties yet.
        point.duties_seen_at = post.duties_changed_at
    point.updated_at = utcnow()
    session.add(point)
    session.flush()
    diff: dict[str, Any] = {k: [before[k], changes[k]] for k in changes if before[k] != changes[k]}
    if measures is not None:
        old = _measure_ids_of(session, point.id or 0)
        new = [m.id or 0 for m in measures]
        session.exec(delete(RiskPointMeasure).where(col(RiskPointMeasure.point_id) == point.id))
        _link(session, [point.id or 0], new)
        if sorted(old) != sorted(new):
            diff["measure_ids"] = [sorted(old), sorted(new)]
    audit.record(
        session,
        actor,
        "risk.point.update",
        object_kind="risk_point",
        object_id=point.id,
        site_id=post.site_id,
        summary=f"{point.code} {point.name}",
        detail=diff,
        ip=ip,
    )
    return point


def delete_risk_point(session: Session, actor: Principal, point_id: int, *, ip: str = "") -> None:
    """Delete a point entered by mistake; a point with reviews is retired by a review instead."""
    point = _writable_point(session, actor, point_id)
    has_reviews = session.exec(select(RiskReview.id).where(col(RiskReview.point_id) == point_id)).first()
    if has_reviews is not None:
        raise Conflict("risk.error.has_history", code=point.code)
    post = session.get(Post, point.post_id)
    session.exec(delete(RiskPointMeasure).where(col(RiskPointMeasure.point_id) == point_id))
    session.exec(delete(RiskReminder).where(col(RiskReminder.point_id) == point_id))
    summary = f"{point.code} {point.name}"
    session.delete(point)
    session.flush()
    audit.record(
        session,
        actor,
        "risk.point.delete",
        object_kind="risk_point",
        object_id=point_id,
        site_id=post.site_id if post else None,
        summary=summary,
        ip=ip,
    )


# --- countermeasures ------------------------------------------------------------------------------


def create_countermeasure(
    session: Session, actor: Principal, data: dict[str, Any], *, ip: str = "", today: date | None = None
) -> Countermeasure:
    """Record a countermeasure covering one or more points; audited."""
    actor.require(Permission.RISK_WRITE)
    model: CountermeasureCreate = parse(CountermeasureCreate, data)
    check = _RowCheck(session, actor)
    check.code(Countermeasure, model.code, None)
    check.text("content", model.content)
    owner = check.staff("owner_id", model.owner_id, required=True)
    points = check.points(model.point_ids)
    site_id = _measure_site(session, actor, points, owner)
    check.raise_if_any()
    day = today or local_today()
    values = model.model_dump(exclude={"point_ids"})
    values.update(code=model.code.strip(), content=model.content.strip())
    measure = Countermeasure.model_validate(
        {
            **values,
            "site_id": site_id,
            "next_check_due": day,  # set below, with whether it is provisional
        }
    )
    provisional.set_check_due(measure, deadlines.check_due(day, model.check_frequency, _calendar(session)))
    session.add(measure)
    session.flush()
    _link(session, [p.id or 0 for p in points], [measure.id or 0])
    audit.record(
        session,
        actor,
        "risk.measure.create",
        object_kind="countermeasure",
        object_id=measure.id,
        site_id=site_id,
        summary=f"{measure.code} {measure.content[:60]}",
        detail={**values, "point_ids": [p.id for p in points]},
        ip=ip,
    )
    return measure


def update_countermeasure(
    session: Session, actor: Principal, measure_id: int, data: dict[str, Any], *, ip: str = ""
) -> Countermeasure:
    """Change the fields given; a new frequency moves the next check from the last one."""
    measure = writable_measure(session, actor, measure_id)
    data, nulls = without_refused_nulls(CountermeasureUpdate, data)  # see update_risk_point
    changes = {**parse(CountermeasureUpdate, data).model_dump(exclude_unset=True), **dict.fromkeys(nulls)}
    point_ids = changes.pop("point_ids", None)
    before = {k: getattr(measure, k) for k in changes}
    with session.no_autoflush:  # see update_risk_point
        for key, value in changes.items():
            setattr(measure, key, value.strip() if isinstance(value, str) and key in ("code", "content") else value)
        check = _RowCheck(session, actor)
        check.nulls(changes, MEASURE_REQUIRED)
        check.code(Countermeasure, measure.code or "", measure.id)
        check.text("content", measure.content)
        owner = check.staff("owner_id", measure.owner_id, required=True) if "owner_id" in changes else None
        points = check.points(point_ids) if point_ids is not None else None
        check.raise_if_any(session, measure)
    if points is not None:
        measure.site_id = _measure_site(session, actor, points, owner or session.get(Staff, measure.owner_id))
    if "check_frequency" in changes and before["check_frequency"] != measure.check_frequency:
        last = measure.last_checked_on or measure.created_at.date()
        provisional.set_check_due(measure, deadlines.check_due(
            last, CheckFrequency(measure.check_frequency), _calendar(session)))
    measure.updated_at = utcnow()
    session.add(measure)
    session.flush()
    diff: dict[str, Any] = {k: [before[k], changes[k]] for k in changes if before[k] != changes[k]}
    if points is not None:
        old = _point_ids_of(session, measure.id or 0)
        new = [p.id or 0 for p in points]
        session.exec(delete(RiskPointMeasure).where(col(RiskPointMeasure.measure_id) == measure.id))
        _link(session, new, [measure.id or 0])
        if sorted(old) != sorted(new):
            diff["point_ids"] = [sorted(old), sorted(new)]
    audit.record(
        session,
        actor,
        "risk.measure.update",
        object_kind="countermeasure",
        object_id=measure.id,
        site_id=measure.site_id,
        summary=f"{measure.code} {measure.content[:60]}",
        detail=diff,
        ip=ip,
    )
    return measure


def delete_countermeasure(session: Session, actor: Principal, measure_id: int, *, ip: str = "") -> None:
    """Delete a measure entered by mistake; a measure that has been checked is deactivated instead."""
    measure = writable_measure(session, actor, measure_id)
    if session.exec(select(CountermeasureCheck.id).where(col(CountermeasureCheck.measure_id) == measure_id)).first():
        raise Conflict("risk.error.has_history", code=measure.code)
    session.exec(delete(RiskPointMeasure).where(col(RiskPointMeasure.measure_id) == measure_id))
    session.exec(delete(RiskReminder).where(col(RiskReminder.measure_id) == measure_id))
    summary, site_id = f"{measure.code} {measure.content[:60]}", measure.site_id
    session.delete(measure)
    session.flush()
    audit.record(
        session,
        actor,
        "risk.measure.delete",
        object_kind="countermeasure",
        object_id=measure_id,
        site_id=site_id,
        summary=summary,
        ip=ip,
    )


# --- helpers --------------------------------------------------------------------------------------


def _measure_site(session: Session, actor: Principal, points: Sequence[RiskPoint], owner: Staff | None) -> int:
    """The site a measure belongs to: the deepest site above all its points' posts, else its owner's."""
    post_sites = {p.site_id for p in (session.get(Post, pt.post_id) for pt in points) if p is not None}
    site_id = common_site(session, post_sites) if post_sites else None
    if site_id is None and owner is not None:
        owner_site = session.get(Site, owner.site_id)
        if owner_site is not None and actor.covers_path(owner_site.path):
            site_id = owner_site.id
    return int(site_id if site_id is not None else actor.site_id or 0)


def _link(session: Session, point_ids: Sequence[int], measure_ids: Sequence[int]) -> None:
    for pid in dict.fromkeys(point_ids):
        for mid in dict.fromkeys(measure_ids):
            session.add(RiskPointMeasure(point_id=pid, measure_id=mid))
    session.flush()


def _measure_ids_of(session: Session, point_id: int) -> list[int]:
    return list(
        session.exec(select(RiskPointMeasure.measure_id).where(col(RiskPointMeasure.point_id) == point_id)).all()
    )


def _point_ids_of(session: Session, measure_id: int) -> list[int]:
    return list(
        session.exec(select(RiskPointMeasure.point_id).where(col(RiskPointMeasure.measure_id) == measure_id)).all()
    )


def settings_or_default(settings: RiskSettings | None) -> RiskSettings:
    return settings if settings is not None else get_risk_settings()
