"""Read views of the register for pages and the API: lists with filters, the heat table, a post's page,
a point's page and the printable register.

Flags are filters here (SQL over the stored due dates) and labels on each row (risk.flags on the same facts).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, case, exists, false, or_
from sqlmodel import Session, col, func, select

from risk.flags import MeasureFacts, MeasureFlag, PointFacts, PointFlag, measure_flags, point_flags
from risk.models import (
    CheckFrequency,
    CheckResult,
    Countermeasure,
    CountermeasureCheck,
    GradingCriteria,
    MeasureType,
    RiskCategory,
    RiskIncidentLink,
    RiskPoint,
    RiskPointMeasure,
    RiskReview,
)
from risk.provisional import due_changes
from risk.register import current_criteria, get_countermeasure, get_risk_point
from risk.reviews import signal_incidents
from risk.scope import (
    local_today,
    measure_visibility,
    point_visibility,
    require_read,
    scoped_points,
    window_start,
)
from risk.settings import RiskSettings, get_risk_settings
from risk.signal import LinkedPoint, counted, links_of_incidents
from supervision.access import Principal
from supervision.errors import InvalidInput, NotFound
from supervision.i18n import has_message
from supervision.incidents import standing as incident_standing
from supervision.models import Department, Incident, Post, Site, Staff, Window

MAX_PAGE = 500


# --- shapes ---------------------------------------------------------------------------------------


class StaffRef(BaseModel):
    id: int
    code: str
    name: str


class RiskPointFilter(BaseModel):
    """Filters of the register; every field optional."""

    site_id: int | None = None  # the site and everything under it
    department_id: int | None = None
    post_id: int | None = None
    category: RiskCategory | None = None
    level: int | None = None
    flag: PointFlag | None = None
    q: str | None = None
    active: bool | None = True
    is_demo: bool | None = None


class CountermeasureFilter(BaseModel):
    site_id: int | None = None
    department_id: int | None = None
    post_id: int | None = None
    point_id: int | None = None
    measure_type: MeasureType | None = None
    owner_id: int | None = None
    flag: MeasureFlag | None = None
    q: str | None = None
    active: bool | None = True


class RiskPointRow(BaseModel):
    id: int
    code: str
    name: str
    manifestation: str
    category: RiskCategory
    level: int
    grading_basis: str
    criteria_version: str
    power: str
    process_step: str
    post_id: int
    post_code: str
    post_name: str
    department_id: int | None
    department_name: str
    site_id: int
    site_name: str
    direct_responsible: StaffRef | None
    department_responsible: StaffRef | None
    leader_responsible: StaffRef | None
    next_review_due: date
    review_due_provisional: bool = False  # counted in a year the calendar does not know: recomputed later
    last_reviewed_on: date | None
    measure_ids: list[int]
    incident_count: int
    flags: list[PointFlag]
    active: bool
    is_demo: bool


class CountermeasureRow(BaseModel):
    id: int
    code: str
    content: str
    measure_type: MeasureType
    owner: StaffRef | None
    check_frequency: CheckFrequency
    check_method: str
    site_id: int
    next_check_due: date
    check_due_provisional: bool = False
    last_checked_on: date | None
    last_result: CheckResult | None
    point_ids: list[int]
    point_codes: list[str]
    flags: list[MeasureFlag]
    active: bool
    is_demo: bool


class CheckRow(BaseModel):
    id: int
    measure_id: int
    measure_code: str
    checked_on: date
    checker_name: str
    result: CheckResult
    notes: str
    has_evidence: bool
    evidence_name: str
    evidence_sha256: str
    recorded_by: str
    recorded_at: datetime


class ReviewRow(BaseModel):
    id: int
    point_id: int
    point_code: str
    reviewed_on: date
    reviewer_name: str
    outcome: str
    level_before: int
    level_after: int
    criteria_version: str
    grading_basis: str
    notes: str
    trigger: str
    incident_count: int
    recorded_at: datetime


class IncidentRow(BaseModel):
    id: int
    kind: str
    source_kind: str
    source_id: str
    occurred_at: datetime
    summary: str
    # The summary as a text in the reader's language: t(text_key, ref=ref, detail=t(detail_key)); "" if none.
    text_key: str = ""
    ref: str = ""
    detail_key: str = ""
    window_id: int | None
    staff_id: int | None
    links: list[LinkedPoint] = []


class HeatCell(BaseModel):
    highest_level: int | None
    count: int


class HeatRow(BaseModel):
    department_id: int | None
    department_name: str
    cells: dict[RiskCategory, HeatCell]
    highest_level: int | None
    count: int


class HeatTable(BaseModel):
    """Department × category: the highest level (colour) and the number of points of each cell."""

    categories: list[RiskCategory]
    rows: list[HeatRow]
    totals: dict[RiskCategory, HeatCell]
    count: int


class PostSummary(BaseModel):
    id: int
    code: str
    name: str
    duties: str
    duties_changed_at: datetime | None
    site_id: int
    site_name: str
    department_id: int | None
    department_name: str
    window_id: int | None
    window_name: str


class SignalSummary(BaseModel):
    window_days: int
    threshold: int
    incident_count: int
    prompted: bool


class PostRiskPage(BaseModel):
    """Everything the post's page shows: its points, their measures and checks, reviews and incidents."""

    post: PostSummary
    points: list[RiskPointRow]
    measures: list[CountermeasureRow]
    checks: list[CheckRow]
    reviews: list[ReviewRow]
    incidents: list[IncidentRow]
    signal: SignalSummary


class DueChange(BaseModel):
    """A review or check date the calendar moved: when, by whom, why, from and to."""

    at: datetime
    cause: str  # "declare_year" | "override" | "override_delete" | "calendar" (the catch-up sweep)
    year: int
    reason: str
    previous_due_on: date
    due_on: date
    provisional: bool


class RiskPointDetail(BaseModel):
    point: RiskPointRow
    measures: list[CountermeasureRow]
    checks: list[CheckRow]
    reviews: list[ReviewRow]
    incidents: list[IncidentRow]
    # The post's other incidents of the window: not linked to this point (or taken off), for an officer to link.
    other_incidents: list[IncidentRow] = []
    signal: SignalSummary
    # Review dates recomputed after a calendar change (oldest first): why the date moved.
    due_changes: list[DueChange] = []


def _due_changes(session: Session, kind: str, object_id: int) -> list[DueChange]:
    out = []
    for entry in due_changes(session, kind, object_id):
        detail = json.loads(entry.detail or "{}")
        out.append(DueChange(at=entry.at, cause=detail.get("cause", ""), year=int(detail.get("year") or 0),
                             reason=detail.get("reason", ""), previous_due_on=detail["previous_due_on"],
                             due_on=detail["due_on"], provisional=bool(detail.get("provisional"))))
    return out


class PrintPoint(BaseModel):
    point: RiskPointRow
    measures: list[CountermeasureRow]


class PrintPost(BaseModel):
    post_id: int
    post_code: str
    post_name: str
    points: list[PrintPoint]


class PrintDepartment(BaseModel):
    department_id: int | None
    department_name: str
    posts: list[PrintPost]


class PrintableRegister(BaseModel):
    """The register as filed with the discipline commission: by department, then post."""

    title_site: str
    generated_on: date
    criteria_version: str
    criteria_title: str
    departments: list[PrintDepartment]
    point_count: int
    measure_count: int
    level_counts: dict[int, int]


# --- the register ---------------------------------------------------------------------------------


def _today(today: date | None) -> date:
    return today or local_today()


# The flag filters are uncorrelated IN (…) subqueries: the database computes each set once instead of
# once per point (a correlated EXISTS made the "measures failing" filter three times slower on SQLite).


def _points_with_signal(since: datetime, threshold: int) -> Any:
    # Only the incidents linked to the point count (risk.signal): not every incident of its post.
    return (
        select(RiskPoint.id)
        .join(RiskIncidentLink, col(RiskIncidentLink.point_id) == col(RiskPoint.id))
        .join(Incident, col(Incident.id) == col(RiskIncidentLink.incident_id))
        .where(*counted(since))
        .group_by(col(RiskPoint.id))
        .having(func.count(col(Incident.id)) >= threshold)
    )


def _points_with_measures() -> Any:
    return (
        select(RiskPointMeasure.point_id)
        .join(Countermeasure, col(Countermeasure.id) == col(RiskPointMeasure.measure_id))
        .where(col(Countermeasure.active))
    )


def _points_with_failing_measures_only(today: date) -> Any:
    healthy = and_(
        col(Countermeasure.next_check_due) >= today,
        or_(col(Countermeasure.last_result).is_(None), col(Countermeasure.last_result) != CheckResult.NOT_EFFECTIVE),
    )
    return (
        select(RiskPointMeasure.point_id)
        .join(Countermeasure, col(Countermeasure.id) == col(RiskPointMeasure.measure_id))
        .where(col(Countermeasure.active))
        .group_by(col(RiskPointMeasure.point_id))
        .having(func.sum(case((healthy, 1), else_=0)) == 0)
    )


def _point_flag_clause(flag: PointFlag, today: date, settings: RiskSettings) -> ColumnElement[bool]:
    lead = today + timedelta(days=settings.reminder_lead_days)
    if flag is PointFlag.REVIEW_OVERDUE:
        return col(RiskPoint.next_review_due) < today
    if flag is PointFlag.REVIEW_DUE:
        return and_(col(RiskPoint.next_review_due) >= today, col(RiskPoint.next_review_due) <= lead)
    if flag is PointFlag.DUTIES_CHANGED:
        return and_(
            col(Post.duties_changed_at).is_not(None),
            or_(
                col(RiskPoint.duties_seen_at).is_(None),
                col(Post.duties_changed_at) > col(RiskPoint.duties_seen_at),
            ),
        )
    if flag is PointFlag.NO_MEASURES:
        return col(RiskPoint.id).not_in(_points_with_measures())
    if flag is PointFlag.MEASURES_FAILING:
        return col(RiskPoint.id).in_(_points_with_failing_measures_only(today))
    if flag is PointFlag.REGRADE:
        since = window_start(today, settings.signal_window_days)
        return col(RiskPoint.id).in_(_points_with_signal(since, settings.signal_threshold))
    return false()


def _point_query(
    session: Session, actor: Principal, filters: RiskPointFilter, today: date, settings: RiskSettings
) -> Any:
    stmt = scoped_points().where(point_visibility(session, actor))
    if filters.site_id is not None:
        anchor = session.get(Site, filters.site_id)
        if anchor is None or not actor.covers_path(anchor.path):
            raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=filters.site_id)
        stmt = stmt.where(col(Site.path).startswith(anchor.path, autoescape=True))
    if filters.department_id is not None:
        stmt = stmt.where(col(Post.department_id) == filters.department_id)
    if filters.post_id is not None:
        stmt = stmt.where(col(RiskPoint.post_id) == filters.post_id)
    if filters.category is not None:
        stmt = stmt.where(col(RiskPoint.category) == filters.category)
    if filters.level is not None:
        if filters.level not in (1, 2, 3):
            raise InvalidInput("level", "error.choice", choices="1, 2, 3")
        stmt = stmt.where(col(RiskPoint.level) == filters.level)
    if filters.active is not None:
        stmt = stmt.where(col(RiskPoint.active) == filters.active)
    if filters.is_demo is not None:
        stmt = stmt.where(col(RiskPoint.is_demo) == filters.is_demo)
    if filters.q:
        like = f"%{filters.q.strip()}%"
        stmt = stmt.where(
            or_(
                col(RiskPoint.code).ilike(like),
                col(RiskPoint.name).ilike(like),
                col(RiskPoint.manifestation).ilike(like),
                col(RiskPoint.power).ilike(like),
            )
        )
    if filters.flag is not None:
        stmt = stmt.where(_point_flag_clause(filters.flag, today, settings))
    return stmt


def list_risk_points(
    session: Session,
    actor: Principal,
    *,
    filters: RiskPointFilter | None = None,
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> tuple[list[RiskPointRow], int]:
    """The register, filtered and paged: (rows, total). Ordered by department, post and code."""
    require_read(actor)
    filters = filters or RiskPointFilter()
    day, settings = _today(today), get_risk_settings()
    stmt = _point_query(session, actor, filters, day, settings)
    total = session.exec(select(func.count()).select_from(stmt.with_only_columns(col(RiskPoint.id)).subquery())).one()
    points = session.exec(
        stmt.order_by(col(Post.department_id), col(Post.code), col(RiskPoint.code))
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), MAX_PAGE))
    ).all()
    return point_rows(session, list(points), today=day, settings=settings), int(total)


def point_rows(
    session: Session, points: Sequence[RiskPoint], *, today: date, settings: RiskSettings | None = None
) -> list[RiskPointRow]:
    """Shape points into register rows with names, measures, incident counts and flags (batched queries)."""
    if not points:
        return []
    settings = settings or get_risk_settings()
    ids = [p.id or 0 for p in points]
    posts = _by_id(session, Post, {p.post_id for p in points})
    sites = _by_id(session, Site, {p.site_id for p in posts.values()})
    depts = _by_id(session, Department, {p.department_id for p in posts.values() if p.department_id is not None})
    staff = _by_id(
        session,
        Staff,
        {
            getattr(p, f)
            for p in points
            for f in ("direct_responsible_id", "department_responsible_id", "leader_responsible_id")
            if getattr(p, f) is not None
        },
    )
    criteria = {c.id: c.version for c in session.exec(select(GradingCriteria))}
    links: dict[int, list[Countermeasure]] = defaultdict(list)
    for pid, measure in session.exec(
        select(RiskPointMeasure.point_id, Countermeasure)
        .join(Countermeasure, col(Countermeasure.id) == col(RiskPointMeasure.measure_id))
        .where(col(RiskPointMeasure.point_id).in_(ids))
        .order_by(col(Countermeasure.code))
    ):
        links[pid].append(measure)
    since = window_start(today, settings.signal_window_days)
    counts = _signal_counts(session, points, since)
    rows = []
    for p in points:
        post = posts[p.post_id]
        dept = depts.get(post.department_id) if post.department_id is not None else None
        measures = links.get(p.id or 0, [])
        duties_changed = post.duties_changed_at is not None and (
            p.duties_seen_at is None or post.duties_changed_at > p.duties_seen_at
        )
        facts = PointFacts(
            p.next_review_due,
            duties_changed,
            [MeasureFacts(m.next_check_due, _result(m.last_result), m.active) for m in measures],
            counts.get(p.id or 0, 0),
        )
        flags = (
            point_flags(facts, today=today, lead_days=settings.reminder_lead_days, threshold=settings.signal_threshold)
            if p.active
            else set()
        )
        rows.append(
            RiskPointRow(
                id=p.id or 0,
                code=p.code,
                name=p.name,
                manifestation=p.manifestation,
                category=p.category,
                level=p.level,
                grading_basis=p.grading_basis,
                criteria_version=criteria.get(p.criteria_id, ""),
                power=p.power,
                process_step=p.process_step,
                post_id=p.post_id,
                post_code=post.code,
                post_name=post.name,
                department_id=post.department_id,
                department_name=dept.name if dept else "",
                site_id=post.site_id,
                site_name=sites[post.site_id].name if post.site_id in sites else "",
                direct_responsible=_ref(staff, p.direct_responsible_id),
                department_responsible=_ref(staff, p.department_responsible_id),
                leader_responsible=_ref(staff, p.leader_responsible_id),
                next_review_due=p.next_review_due,
                review_due_provisional=p.review_due_provisional,
                last_reviewed_on=p.last_reviewed_on,
                measure_ids=[m.id or 0 for m in measures],
                incident_count=counts.get(p.id or 0, 0),
                flags=sorted(flags),
                active=p.active,
                is_demo=p.is_demo,
            )
        )
    return rows


def _signal_counts(session: Session, points: Sequence[RiskPoint], since: datetime) -> dict[int, int]:
    """Incidents linked to each point in the window, not yet weighed by its last review."""
    rows = session.exec(
        select(RiskPoint.id, func.count(col(Incident.id)))
        .join(RiskIncidentLink, col(RiskIncidentLink.point_id) == col(RiskPoint.id))
        .join(Incident, col(Incident.id) == col(RiskIncidentLink.incident_id))
        .where(col(RiskPoint.id).in_([p.id for p in points]), *counted(since))
        .group_by(col(RiskPoint.id))
    ).all()
    found = {int(pid): int(n) for pid, n in rows if pid is not None}
    return {p.id or 0: found.get(p.id or 0, 0) for p in points}


def _result(value: Any) -> CheckResult | None:
    return CheckResult(value) if value is not None else None


def _ref(staff: dict[int, Any], staff_id: int | None) -> StaffRef | None:
    s = staff.get(staff_id) if staff_id is not None else None
    return StaffRef(id=s.id, code=s.code, name=s.name) if s is not None else None


def _by_id(session: Session, table: Any, ids: set[Any]) -> dict[int, Any]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {row.id: row for row in session.exec(select(table).where(col(table.id).in_(wanted)))}


# --- countermeasures ------------------------------------------------------------------------------


def _measure_flag_clause(flag: MeasureFlag, today: date, settings: RiskSettings) -> ColumnElement[bool]:
    if flag is MeasureFlag.CHECK_OVERDUE:
        return col(Countermeasure.next_check_due) < today
    if flag is MeasureFlag.CHECK_DUE:
        return and_(
            col(Countermeasure.next_check_due) >= today,
            col(Countermeasure.next_check_due) <= today + timedelta(days=settings.reminder_lead_days),
        )
    if flag is MeasureFlag.NOT_EFFECTIVE:
        return col(Countermeasure.last_result) == CheckResult.NOT_EFFECTIVE
    return false()


def list_countermeasures(
    session: Session,
    actor: Principal,
    *,
    filters: CountermeasureFilter | None = None,
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> tuple[list[CountermeasureRow], int]:
    """Countermeasures, filtered and paged: (rows, total). Ordered by code."""
    require_read(actor)
    filters = filters or CountermeasureFilter()
    day, settings = _today(today), get_risk_settings()
    stmt = select(Countermeasure).where(measure_visibility(session, actor))
    linked = (
        select(RiskPointMeasure.measure_id)
        .join(RiskPoint, col(RiskPoint.id) == col(RiskPointMeasure.point_id))
        .join(Post, col(Post.id) == col(RiskPoint.post_id))
        .join(Site, col(Site.id) == col(Post.site_id))
        .where(col(RiskPointMeasure.measure_id) == col(Countermeasure.id))
    )
    if filters.point_id is not None:
        stmt = stmt.where(exists(linked.where(col(RiskPoint.id) == filters.point_id)))
    if filters.post_id is not None:
        stmt = stmt.where(exists(linked.where(col(RiskPoint.post_id) == filters.post_id)))
    if filters.department_id is not None:
        stmt = stmt.where(exists(linked.where(col(Post.department_id) == filters.department_id)))
    if filters.site_id is not None:
        anchor = session.get(Site, filters.site_id)
        if anchor is None or not actor.covers_path(anchor.path):
            raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=filters.site_id)
        stmt = stmt.where(exists(linked.where(col(Site.path).startswith(anchor.path, autoescape=True))))
    if filters.measure_type is not None:
        stmt = stmt.where(col(Countermeasure.measure_type) == filters.measure_type)
    if filters.owner_id is not None:
        stmt = stmt.where(col(Countermeasure.owner_id) == filters.owner_id)
    if filters.active is not None:
        stmt = stmt.where(col(Countermeasure.active) == filters.active)
    if filters.q:
        like = f"%{filters.q.strip()}%"
        stmt = stmt.where(or_(col(Countermeasure.code).ilike(like), col(Countermeasure.content).ilike(like)))
    if filters.flag is not None:
        stmt = stmt.where(col(Countermeasure.active), _measure_flag_clause(filters.flag, day, settings))
    total = session.exec(
        select(func.count()).select_from(stmt.with_only_columns(col(Countermeasure.id)).subquery())
    ).one()
    rows = session.exec(
        stmt.order_by(col(Countermeasure.code)).offset(max(offset, 0)).limit(min(max(limit, 1), MAX_PAGE))
    ).all()
    return measure_rows(session, list(rows), today=day, settings=settings), int(total)


def measure_rows(
    session: Session, measures: Sequence[Countermeasure], *, today: date, settings: RiskSettings | None = None
) -> list[CountermeasureRow]:
    if not measures:
        return []
    settings = settings or get_risk_settings()
    ids = [m.id or 0 for m in measures]
    owners = _by_id(session, Staff, {m.owner_id for m in measures})
    points: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for mid, pid, code in session.exec(
        select(RiskPointMeasure.measure_id, RiskPoint.id, RiskPoint.code)
        .join(RiskPoint, col(RiskPoint.id) == col(RiskPointMeasure.point_id))
        .where(col(RiskPointMeasure.measure_id).in_(ids))
        .order_by(col(RiskPoint.code))
    ):
        points[mid].append((pid or 0, code))
    out = []
    for m in measures:
        facts = MeasureFacts(m.next_check_due, _result(m.last_result), m.active)
        linked = points.get(m.id or 0, [])
        out.append(
            CountermeasureRow(
                id=m.id or 0,
                code=m.code,
                content=m.content,
                measure_type=m.measure_type,
                owner=_ref(owners, m.owner_id),
                check_frequency=m.check_frequency,
                check_method=m.check_method,
                site_id=m.site_id,
                next_check_due=m.next_check_due,
                check_due_provisional=m.check_due_provisional,
                last_checked_on=m.last_checked_on,
                last_result=_result(m.last_result),
                point_ids=[p for p, _ in linked],
                point_codes=[c for _, c in linked],
                flags=sorted(measure_flags(facts, today=today, lead_days=settings.reminder_lead_days)),
                active=m.active,
                is_demo=m.is_demo,
            )
        )
    return out


# --- heat table -----------------------------------------------------------------------------------


def heat_table(session: Session, actor: Principal, *, site_id: int | None = None) -> HeatTable:
    """Department × category → highest level and count, over the active points the actor may read."""
    require_read(actor)
    stmt = (
        select(Post.department_id, RiskPoint.category, func.min(RiskPoint.level), func.count(col(RiskPoint.id)))
        .select_from(RiskPoint)
        .join(Post, col(Post.id) == col(RiskPoint.post_id))
        .join(Site, col(Site.id) == col(Post.site_id))
        .where(point_visibility(session, actor), col(RiskPoint.active))
    )
    if site_id is not None:
        anchor = session.get(Site, site_id)
        if anchor is None or not actor.covers_path(anchor.path):
            raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=site_id)
        stmt = stmt.where(col(Site.path).startswith(anchor.path, autoescape=True))
    cells: dict[int | None, dict[RiskCategory, HeatCell]] = defaultdict(dict)
    for dept_id, category, level, count in session.exec(
        stmt.group_by(col(Post.department_id), col(RiskPoint.category))
    ):
        cells[dept_id][RiskCategory(category)] = HeatCell(highest_level=int(level), count=int(count))
    depts = _by_id(session, Department, {d for d in cells if d is not None})
    categories = list(RiskCategory)
    rows = []
    for dept_id, by_cat in cells.items():
        full = {c: by_cat.get(c, HeatCell(highest_level=None, count=0)) for c in categories}
        rows.append(
            HeatRow(
                department_id=dept_id,
                department_name=depts[dept_id].name if dept_id in depts else "",
                cells=full,
                highest_level=_highest(full.values()),
                count=sum(c.count for c in full.values()),
            )
        )
    rows.sort(key=lambda r: (r.highest_level or 9, -r.count, r.department_name))
    totals = {
        c: HeatCell(highest_level=_highest(r.cells[c] for r in rows), count=sum(r.cells[c].count for r in rows))
        for c in categories
    }
    return HeatTable(categories=categories, rows=rows, totals=totals, count=sum(r.count for r in rows))


def _highest(cells: Any) -> int | None:
    levels = [c.highest_level for c in cells if c.highest_level is not None]
    return min(levels) if levels else None


# --- a post's page, a point's page ----------------------------------------------------------------


def post_risk_page(session: Session, actor: Principal, post_id: int, *, today: date | None = None) -> PostRiskPage:
    """The post's page: points (active and retired), measures, checks, reviews and incidents."""
    require_read(actor)
    post_row = session.exec(
        select(Post)
        .join(Site, col(Site.id) == col(Post.site_id))
        .where(col(Post.id) == post_id, point_visibility(session, actor))
    ).first()
    if post_row is None:
        raise NotFound("error.not_found_kind", kind="kind.post", id=post_id)
    day, settings = _today(today), get_risk_settings()
    points = list(
        session.exec(
            select(RiskPoint)
            .where(col(RiskPoint.post_id) == post_id)
            .order_by(col(RiskPoint.active).desc(), col(RiskPoint.code))
        ).all()
    )
    rows = point_rows(session, points, today=day, settings=settings)
    measures = _measures_of_points(session, [p.id or 0 for p in points])
    since = window_start(day, settings.signal_window_days)
    incidents = session.exec(
        select(Incident)
        .where(col(Incident.post_id) == post_id, col(Incident.occurred_at) >= since, incident_standing())
        .order_by(col(Incident.occurred_at).desc())
    ).all()
    highest = max((r.incident_count for r in rows if r.active), default=0)
    return PostRiskPage(
        post=_post_summary(session, post_row),
        points=rows,
        measures=measure_rows(session, measures, today=day, settings=settings),
        checks=_check_rows(session, measures),
        reviews=_review_rows(session, points),
        incidents=_incident_rows(session, incidents),
        signal=SignalSummary(
            window_days=settings.signal_window_days,
            threshold=settings.signal_threshold,
            incident_count=highest,
            prompted=highest >= settings.signal_threshold,
        ),
    )


def risk_point_detail(
    session: Session, actor: Principal, point_id: int, *, today: date | None = None
) -> RiskPointDetail:
    """A point with its measures, their checks, its reviews and the incidents behind its signal."""
    point = get_risk_point(session, actor, point_id)
    day, settings = _today(today), get_risk_settings()
    row = point_rows(session, [point], today=day, settings=settings)[0]
    measures = _measures_of_points(session, [point.id or 0])
    incidents = signal_incidents(session, point, today=day, window_days=settings.signal_window_days)
    counted_ids = {i.id for i in incidents}
    others = [i for i in session.exec(
        select(Incident)
        .where(col(Incident.post_id) == point.post_id,
               col(Incident.occurred_at) >= window_start(day, settings.signal_window_days), incident_standing())
        .order_by(col(Incident.occurred_at).desc(), col(Incident.id).desc())
    ).all() if i.id not in counted_ids]
    return RiskPointDetail(
        point=row,
        measures=measure_rows(session, measures, today=day, settings=settings),
        checks=_check_rows(session, measures),
        reviews=_review_rows(session, [point]),
        incidents=_incident_rows(session, incidents),
        other_incidents=_incident_rows(session, others),
        signal=SignalSummary(
            window_days=settings.signal_window_days,
            threshold=settings.signal_threshold,
            incident_count=row.incident_count,
            prompted=PointFlag.REGRADE in row.flags,
        ),
        due_changes=_due_changes(session, "risk_point", point.id or 0),
    )


class CountermeasureDetail(BaseModel):
    measure: CountermeasureRow
    points: list[RiskPointRow]
    checks: list[CheckRow]
    due_changes: list[DueChange] = []


def countermeasure_detail(
    session: Session, actor: Principal, measure_id: int, *, today: date | None = None
) -> CountermeasureDetail:
    """A measure with the points it covers (those the actor may read) and its checks, newest first."""
    measure = get_countermeasure(session, actor, measure_id)
    day, settings = _today(today), get_risk_settings()
    points = list(
        session.exec(
            scoped_points()
            .where(
                point_visibility(session, actor),
                col(RiskPoint.id).in_(
                    select(RiskPointMeasure.point_id).where(col(RiskPointMeasure.measure_id) == measure_id)
                ),
            )
            .order_by(col(RiskPoint.code))
        ).all()
    )
    return CountermeasureDetail(
        measure=measure_rows(session, [measure], today=day, settings=settings)[0],
        points=point_rows(session, points, today=day, settings=settings),
        checks=_check_rows(session, [measure]),
        due_changes=_due_changes(session, "countermeasure", measure.id or 0),
    )


def _measures_of_points(session: Session, point_ids: list[int]) -> list[Countermeasure]:
    if not point_ids:
        return []
    return list(
        session.exec(
            select(Countermeasure)
            .where(
                col(Countermeasure.id).in_(
                    select(RiskPointMeasure.measure_id).where(col(RiskPointMeasure.point_id).in_(point_ids))
                )
            )
            .order_by(col(Countermeasure.code))
        ).all()
    )


def _post_summary(session: Session, post: Post) -> PostSummary:
    site = session.get(Site, post.site_id)
    dept = session.get(Department, post.department_id) if post.department_id is not None else None
    window = session.get(Window, post.window_id) if post.window_id is not None else None
    return PostSummary(
        id=post.id or 0,
        code=post.code,
        name=post.name,
        duties=post.duties,
        duties_changed_at=post.duties_changed_at,
        site_id=post.site_id,
        site_name=site.name if site else "",
        department_id=post.department_id,
        department_name=dept.name if dept else "",
        window_id=post.window_id,
        window_name=window.name if window else "",
    )


def _check_rows(session: Session, measures: Sequence[Countermeasure], limit: int = 300) -> list[CheckRow]:
    if not measures:
        return []
    codes = {m.id: m.code for m in measures}
    checks = session.exec(
        select(CountermeasureCheck)
        .where(col(CountermeasureCheck.measure_id).in_(list(codes)))
        .order_by(col(CountermeasureCheck.checked_on).desc(), col(CountermeasureCheck.id).desc())
        .limit(limit)
    ).all()
    return [
        CheckRow(
            id=c.id or 0,
            measure_id=c.measure_id,
            measure_code=codes.get(c.measure_id, ""),
            checked_on=c.checked_on,
            checker_name=c.checker_name,
            result=c.result,
            notes=c.notes,
            has_evidence=bool(c.evidence_sha256),
            evidence_name=c.evidence_name,
            evidence_sha256=c.evidence_sha256,
            recorded_by=c.recorded_by,
            recorded_at=c.recorded_at,
        )
        for c in checks
    ]


def _review_rows(session: Session, points: Sequence[RiskPoint]) -> list[ReviewRow]:
    if not points:
        return []
    codes = {p.id: p.code for p in points}
    criteria = {c.id: c.version for c in session.exec(select(GradingCriteria))}
    reviews = session.exec(
        select(RiskReview)
        .where(col(RiskReview.point_id).in_(list(codes)))
        .order_by(col(RiskReview.reviewed_on).desc(), col(RiskReview.id).desc())
    ).all()
    return [
        ReviewRow(
            id=r.id or 0,
            point_id=r.point_id,
            point_code=codes.get(r.point_id, ""),
            reviewed_on=r.reviewed_on,
            reviewer_name=r.reviewer_name,
            outcome=r.outcome,
            level_before=r.level_before,
            level_after=r.level_after,
            criteria_version=criteria.get(r.criteria_id, ""),
            grading_basis=r.grading_basis,
            notes=r.notes,
            trigger=r.trigger,
            incident_count=r.incident_count,
            recorded_at=r.recorded_at,
        )
        for r in reviews
    ]


# How a source's summary ("GD20261105001 upheld", "BJ-102 level.very_dissatisfied") reads in the reader's
# language: the text, and the prefix of the key its last word names. Other summaries are shown as they are.
_SUMMARY_TEXTS: dict[tuple[str, str], tuple[str, str]] = {
    ("complaint", "work_order"): ("risk.incident_text.complaint", "risk.incident_outcome."),
    ("bad_rating", "rating"): ("risk.incident_text.bad_rating", "risk.incident_level."),
}


def _incident_text(i: Incident) -> tuple[str, str, str]:
    if i.source_kind == "risk_demo":
        return "risk.incident_text.demo", "", ""
    shape = _SUMMARY_TEXTS.get((i.kind, i.source_kind))
    ref, _, word = i.summary.rpartition(" ")
    if shape is None or not ref:
        return "", "", ""
    detail = shape[1] + word.removeprefix("level.")
    return (shape[0], ref, detail) if has_message(detail) else ("", "", "")


def _incident_rows(session: Session, incidents: Sequence[Incident]) -> list[IncidentRow]:
    links = links_of_incidents(session, [i.id or 0 for i in incidents])
    return [_incident_row(i, links.get(i.id or 0, [])) for i in incidents]


def _incident_row(i: Incident, links: list[LinkedPoint] | None = None) -> IncidentRow:
    text_key, ref, detail_key = _incident_text(i)
    return IncidentRow(
        id=i.id or 0,
        kind=i.kind,
        source_kind=i.source_kind,
        source_id=i.source_id,
        occurred_at=i.occurred_at,
        summary=i.summary,
        text_key=text_key,
        ref=ref,
        detail_key=detail_key,
        window_id=i.window_id,
        staff_id=i.staff_id,
        links=links or [],
    )


# --- the printable register -----------------------------------------------------------------------


def printable_register(
    session: Session,
    actor: Principal,
    *,
    site_id: int | None = None,
    department_id: int | None = None,
    today: date | None = None,
) -> PrintableRegister:
    """The active register grouped by department and post, with each point's measures."""
    require_read(actor)
    day = _today(today)
    filters = RiskPointFilter(site_id=site_id, department_id=department_id)
    stmt = _point_query(session, actor, filters, day, get_risk_settings())
    points = list(session.exec(stmt.order_by(col(Post.code), col(RiskPoint.code))).all())
    rows = point_rows(session, points, today=day)
    measures = {
        m.id: m for m in measure_rows(session, _measures_of_points(session, [p.id or 0 for p in points]), today=day)
    }
    by_dept: dict[int | None, dict[int, list[PrintPoint]]] = defaultdict(lambda: defaultdict(list))
    post_names: dict[int, tuple[str, str]] = {}
    dept_names: dict[int | None, str] = {}
    for row in rows:
        by_dept[row.department_id][row.post_id].append(
            PrintPoint(point=row, measures=[measures[m] for m in row.measure_ids if m in measures])
        )
        post_names[row.post_id] = (row.post_code, row.post_name)
        dept_names[row.department_id] = row.department_name
    departments = [
        PrintDepartment(
            department_id=dept_id,
            department_name=dept_names[dept_id],
            posts=[
                PrintPost(post_id=pid, post_code=post_names[pid][0], post_name=post_names[pid][1], points=pts)
                for pid, pts in sorted(posts.items(), key=lambda kv: post_names[kv[0]][0])
            ],
        )
        for dept_id, posts in sorted(by_dept.items(), key=lambda kv: (kv[0] is None, dept_names[kv[0]]))
    ]
    anchor = session.get(Site, site_id if site_id is not None else actor.site_id or 0)
    criteria = current_criteria(session, on=day)
    levels = {1: 0, 2: 0, 3: 0}
    for row in rows:
        levels[row.level] = levels.get(row.level, 0) + 1
    return PrintableRegister(
        title_site=anchor.name if anchor else "",
        generated_on=day,
        criteria_version=criteria.version,
        criteria_title=criteria.title,
        departments=departments,
        point_count=len(rows),
        measure_count=len(measures),
        level_counts=levels,
    )


__all__ = [
    "CheckRow",
    "CountermeasureDetail",
    "CountermeasureFilter",
    "CountermeasureRow",
    "HeatCell",
    "HeatRow",
    "HeatTable",
    "IncidentRow",
    "PostRiskPage",
    "PrintDepartment",
    "PrintPoint",
    "PrintPost",
    "PrintableRegister",
    "ReviewRow",
    "RiskPointDetail",
    "RiskPointFilter",
    "RiskPointRow",
    "SignalSummary",
    "StaffRef",
    "countermeasure_detail",
    "heat_table",
    "list_countermeasures",
    "list_risk_points",
    "measure_rows",
    "point_rows",
    "post_risk_page",
    "printable_register",
    "risk_point_detail",
]
