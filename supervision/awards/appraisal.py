"""The yearly appraisal (年度考核): per person the year's monthly scores, awards, attendance and leave, a grade
suggested under the 优秀 quota, and the manager's confirmation (or change, with a reason)."""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.attendance import AttendanceDay, DayStatus
from supervision.awards.models import Appraisal, AwardSelection, Grade
from supervision.awards.ranking import jurisdiction
from supervision.awards.scores import monthly_finals
from supervision.awards.settings import AwardsSettings, get_awards_settings
from supervision.db import utcnow
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.i18n import translate
from supervision.leave import absences
from supervision.models import Site, Staff, Window

LATE = (DayStatus.LATE, DayStatus.EARLY, DayStatus.LATE_EARLY)
ABSENT = {DayStatus.ABSENT: 1.0, DayStatus.ABSENT_HALF: 0.5}


@dataclass(frozen=True)
class Figures:
    """What a person's year is judged on."""

    staff_id: int
    average: float | None  # mean of the monthly final scores
    months: int
    awards: int
    days_late: int
    days_absent: float
    leave_days: float


@dataclass(frozen=True)
class AppraisalRow:
    staff_id: int
    name: str
    site_id: int
    site_name: str
    window_name: str
    figures: Figures
    suggested: Grade
    grade: Grade | None  # confirmed
    reason: str
    confirmed_by: str
    confirmed_at: str


@dataclass(frozen=True)
class YearView:
    year: int
    site_id: int
    site_name: str
    quota: int  # the most 优秀 of this jurisdiction
    rows: list[AppraisalRow]


def excellent_quota(people: int, percent: float) -> int:
    """The most people graded 优秀: the percentage of those appraised, rounded down (the quota is a ceiling)."""
    return math.floor(people * percent / 100 + 1e-9)


def suggest(figures: Sequence[Figures], settings: AwardsSettings) -> dict[int, Grade]:
    """Suggested grades: by the yearly average (称职 from `competent_min`, 基本称职 from `basic_min`, below it
    不称职; more absent days than `absent_days_max` caps at 基本称职); then 优秀 for the best 称职 up to the
    quota, ordered by average, then fewer absent days, then fewer late days. People still equal at the quota's
    edge are all left 称职, so the quota is never exceeded: the manager decides between them, with a reason."""
    grades: dict[int, Grade] = {}
    for f in figures:
        if f.average is None or f.average >= settings.competent_min:
            grade = Grade.COMPETENT
        elif f.average >= settings.basic_min:
            grade = Grade.BASIC
        else:
            grade = Grade.INCOMPETENT
        if f.days_absent > settings.absent_days_max and grade is Grade.COMPETENT:
            grade = Grade.BASIC
        grades[f.staff_id] = grade
    quota = excellent_quota(len(figures), settings.excellent_quota)

    def order(f: Figures) -> tuple[float, float, int]:
        return (-(f.average or 0), f.days_absent, f.days_late)

    contenders = sorted((f for f in figures if grades[f.staff_id] is Grade.COMPETENT and f.average is not None),
                        key=order)
    chosen = contenders[:quota]
    if quota and len(contenders) > quota and order(contenders[quota]) == order(contenders[quota - 1]):
        edge = order(contenders[quota - 1])
        chosen = [f for f in chosen if order(f) != edge]
    for f in chosen:
        grades[f.staff_id] = Grade.EXCELLENT
    return grades


def _people(session: Session, site: Site) -> list[Staff]:
    return list(session.exec(select(Staff).join(Site, col(Site.id) == Staff.site_id).where(
        col(Site.path).startswith(site.path, autoescape=True), col(Staff.active).is_(True),
        col(Staff.window_id).is_not(None)).order_by(col(Staff.id))).all())


def figures(session: Session, *, year: int, site: Site, people: Sequence[Staff]) -> dict[int, Figures]:
    """Each person's figures for the year (months up to today's)."""
    ids = [p.id for p in people if p.id is not None]
    sites = [s for s in session.exec(select(Site.id).where(col(Site.path).startswith(site.path, autoescape=True)))]
    finals = monthly_finals(session, months=[date(year, m, 1) for m in range(1, 13)], site_path=site.path,
                            site_ids=[s for s in sites if s is not None], kinds=("staff",))
    start, end = date(year, 1, 1), date(year, 12, 31)
    awards = Counter(session.exec(select(AwardSelection.subject_id).where(
        col(AwardSelection.subject_kind) == "staff", col(AwardSelection.quarter).startswith(f"{year}Q"),
        col(AwardSelection.subject_id).in_(ids))).all())
    late: Counter[int] = Counter()
    absent: Counter[int] = Counter()
    for staff_id, status in session.exec(select(AttendanceDay.staff_id, AttendanceDay.status).where(
            col(AttendanceDay.staff_id).in_(ids), col(AttendanceDay.day) >= start, col(AttendanceDay.day) <= end)):
        if status in LATE:
            late[staff_id] += 1
        absent[staff_id] += ABSENT.get(status, 0.0)  # type: ignore[call-overload]
    leave: Counter[int] = Counter()
    for (staff_id, _day), away in absences(session, staff_ids=ids, start=start, end=end).items():
        leave[staff_id] += 1.0 if away.half is None else 0.5  # type: ignore[assignment]
    out = {}
    for staff_id in ids:
        scores = finals.get(("staff", staff_id), [])
        out[staff_id] = Figures(staff_id, round(sum(scores) / len(scores), 2) if scores else None, len(scores),
                                awards[staff_id], late[staff_id], float(absent[staff_id]), float(leave[staff_id]))
    return out


def year_view(session: Session, *, actor: Principal, year: int, site_id: int | None = None,
              settings: AwardsSettings | None = None) -> YearView:
    """The jurisdiction's appraisal of a year (window staff: their own row only), suggested and confirmed."""
    settings = settings or get_awards_settings()
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "error.awards_year")
    if actor.can(Permission.SCORING_READ):
        site = jurisdiction(session, actor, site_id)
        people = _people(session, site)
    else:
        actor.require(Permission.OWN_RECORDS)
        person = session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
        if person is None:
            raise NotFound("error.not_found_kind", kind="kind.staff", id=actor.staff_id or 0)
        site = session.get(Site, person.site_id)  # type: ignore[assignment]
        assert site is not None
        # Their grade is suggested within their own centre, as their manager sees it.
        people = _people(session, site)
    figs = figures(session, year=year, site=site, people=people)
    grades = suggest(list(figs.values()), settings)
    stored = {a.staff_id: a for a in session.exec(select(Appraisal).where(
        col(Appraisal.year) == year, col(Appraisal.staff_id).in_(list(figs)))).all()}
    site_names = {s.id: s.name for s in session.exec(select(Site).where(
        col(Site.id).in_({p.site_id for p in people})))}
    window_names = {w.id: w.name for w in session.exec(select(Window).where(
        col(Window.id).in_({p.window_id for p in people if p.window_id is not None})))}
    rows = []
    for person in people:
        assert person.id is not None
        if not actor.can(Permission.SCORING_READ) and person.id != actor.staff_id:
            continue
        done = stored.get(person.id)
        rows.append(AppraisalRow(
            person.id, person.name, person.site_id, site_names.get(person.site_id, ""),
            window_names.get(person.window_id, "") if person.window_id else "", figs[person.id], grades[person.id],
            Grade(done.grade) if done is not None and done.grade else None, done.reason if done else "",
            done.confirmed_by if done else "",
            done.confirmed_at.isoformat(timespec="minutes") if done and done.confirmed_at else ""))
    if actor.can(Permission.SCORING_READ):
        audit.record(session, actor, "appraisal.view", object_kind="appraisal", object_id=year, site_id=site.id,
                     summary=f"{year}: {len(rows)}")
    return YearView(year, site.id or 0, site.name, excellent_quota(len(people), settings.excellent_quota), rows)


class ConfirmIn(BaseModel):
    year: int = Field(ge=2000, le=2100)
    staff_id: int = Field(ge=1)
    grade: Grade | None = None  # None: confirm the suggestion
    reason: str = Field(default="", max_length=400)


def confirm(session: Session, *, actor: Principal, body: ConfirmIn, site_id: int | None = None,
            settings: AwardsSettings | None = None, ip: str = "") -> Appraisal:
    """Confirm a person's grade (the suggestion, or another with a reason); 优秀 stays within the quota."""
    actor.require(Permission.SCORING_MANAGE)
    settings = settings or get_awards_settings()
    site = jurisdiction(session, actor, site_id)
    people = _people(session, site)
    person = next((p for p in people if p.id == body.staff_id), None)
    if person is None:
        raise NotFound("error.not_found_kind", kind="kind.staff", id=body.staff_id)
    figs = figures(session, year=body.year, site=site, people=people)
    suggested = suggest(list(figs.values()), settings)[body.staff_id]
    return record_confirmation(
        session, actor=actor, year=body.year, person=person, figures=figs[body.staff_id], suggested=suggested,
        grade=body.grade or suggested, reason=body.reason, people_ids=[p.id for p in people if p.id is not None],
        quota=excellent_quota(len(people), settings.excellent_quota), ip=ip)


def record_confirmation(session: Session, *, actor: Principal, year: int, person: Staff, figures: Figures,
                        suggested: Grade, grade: Grade, reason: str, people_ids: Sequence[int], quota: int,
                        ip: str = "") -> Appraisal:
    """Store a confirmed grade with the figures it rests on (`confirm` computes them; the demo reuses a view's)."""
    actor.require(Permission.SCORING_MANAGE)
    reason = reason.strip()
    if grade is not suggested and not reason:
        raise InvalidInput("reason", "error.appraisal_reason_needed")
    stored = session.exec(select(Appraisal).where(col(Appraisal.year) == year,
                                                  col(Appraisal.staff_id) == person.id)).first()
    if grade is Grade.EXCELLENT:
        others = session.exec(select(Appraisal.staff_id).where(
            col(Appraisal.year) == year, col(Appraisal.grade) == Grade.EXCELLENT.value,
            col(Appraisal.staff_id).in_(list(people_ids)), col(Appraisal.staff_id) != person.id)).all()
        if len(others) >= quota:
            raise Conflict("error.appraisal_quota_full", quota=quota)
    f = figures
    assert person.id is not None
    row = stored or Appraisal(year=year, staff_id=person.id, site_id=person.site_id, suggested=suggested)
    before = row.grade
    for name, value in (("average", f.average), ("months", f.months), ("awards", f.awards),
                        ("days_late", f.days_late), ("days_absent", f.days_absent), ("leave_days", f.leave_days)):
        setattr(row, name, value)
    row.suggested, row.grade, row.reason = suggested.value, grade.value, reason[:400]
    row.confirmed_by, row.confirmed_at = actor.audit_name[:80], utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "appraisal.confirm", object_kind="appraisal", object_id=row.id,
                 site_id=person.site_id, summary=f"{year} {person.name}",
                 detail={"staff_id": person.id, "grade": grade.value, "suggested": suggested.value,
                         "before": before, "reason": reason}, ip=ip)
    return row


def export_workbook(view: YearView, locale: str) -> bytes:
    """The year's appraisal as an Excel workbook, headed in the reader's language."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(view.year)
    heads = ("name", "site", "window", "average", "months", "awards", "days_late", "days_absent", "leave_days",
             "suggested", "grade", "reason", "confirmed_by", "confirmed_at")
    sheet.append([translate(f"appraisal.col.{h}", locale) for h in heads])
    for r in view.rows:
        f = r.figures
        sheet.append([r.name, r.site_name, r.window_name, f.average, f.months, f.awards, f.days_late, f.days_absent,
                      f.leave_days, translate(f"grade.{r.suggested.value}", locale),
                      translate(f"grade.{r.grade.value}", locale) if r.grade else "", r.reason, r.confirmed_by,
                      r.confirmed_at])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["AppraisalRow", "ConfirmIn", "Figures", "YearView", "confirm", "excellent_quota", "export_workbook",
           "figures", "record_confirmation", "suggest", "year_view"]
