"""Compute, correct and score people's working days; every scored fact goes to the ledger.

A day's ledger entries carry the source `attendance:<day id>`. When a recomputation or a correction changes
what a day scores, its standing entries are reversed and the new ones written: the ledger keeps the story.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from supervision import audit, ledger
from supervision.access import Permission, Principal, site_path_clause
from supervision.attendance import sources
from supervision.attendance.models import AttendanceDay, DayStatus, Punch
from supervision.attendance.rules import DayResult, compute_day, scored_facts
from supervision.db import utcnow
from supervision.errors import InvalidInput, NotFound
from supervision.models import LedgerEntry, Site, Staff
from supervision.scoring import closing_for, items_in_force
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

SOURCE_KIND = "attendance"
MAX_RANGE_DAYS = 93
_CHUNK = 500


@dataclass
class ComputeSummary:
    days: int = 0
    changed: int = 0
    ledger_entries: int = 0
    reversals: int = 0


def _chunks(items: Sequence[int], size: int = _CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _staff_in_scope(session: Session, actor: Principal, *, site_id: int | None,
                    staff_ids: Sequence[int] | None) -> list[tuple[int, int]]:
    stmt = (select(Staff.id, Staff.site_id).join(Site, col(Site.id) == Staff.site_id)
            .where(site_path_clause(actor), col(Staff.active)))
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or not actor.covers_path(site.path):
            raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
        stmt = stmt.where(col(Site.path).startswith(site.path, autoescape=True))
    if staff_ids is not None:
        stmt = stmt.where(col(Staff.id).in_(list(staff_ids)))
    return [(s, site) for s, site in session.exec(stmt) if s is not None]


def _result_fields(result: DayResult) -> dict[str, object]:
    return {"status": result.status, "late_minutes": result.late_minutes, "early_minutes": result.early_minutes,
            "missed_punches": result.missed_punches, "absent_halves": result.absent_halves,
            "leave_kind": result.leave_kind, "on_duty": result.on_duty, "first_in": result.first_in,
            "last_out": result.last_out}


def _as_result(day: AttendanceDay) -> DayResult:
    return DayResult(day.status, day.late_minutes, day.early_minutes, day.missed_punches, day.absent_halves,
                     day.leave_kind, day.on_duty, day.first_in, day.last_out)


class _Scorer:
    """The ledger side: what a day should score now against what it has scored, per month's rule set."""

    def __init__(self, session: Session, actor: Principal, *, strict: bool = False) -> None:
        self.session = session
        self.actor = actor
        self._items: dict[date, dict[str, float]] = {}
        self.rows: list[dict[str, object]] = []
        self.reversals = 0
        # A month closed for a site (its scores frozen) takes no ledger rows: a recomputation leaves its days'
        # entries as they are; a correction by hand (strict) is refused naming the month.
        self.strict = strict
        self._closed: dict[tuple[date, int], bool] = {}

    def _month_closed(self, on: date, site_id: int) -> bool:
        key = (on.replace(day=1), site_id)
        if key not in self._closed:
            site = self.session.get(Site, site_id)
            self._closed[key] = site is not None and closing_for(self.session, month=on,
                                                                 site_path=site.path) is not None
            if self._closed[key] and self.strict and site is not None:
                ledger.refuse_closed_month(self.session, day=on, site_path=site.path)
        return self._closed[key]

    def _points(self, day: date) -> dict[str, float]:
        month = day.replace(day=1)
        if month not in self._items:
            self._items[month] = {k: v.points for k, v in items_in_force(self.session, on=month).items()}
        return self._items[month]

    def wanted(self, day: date, result: DayResult) -> list[tuple[str, float, str]]:
        points = self._points(day)
        # Stored as a key and parameters (supervision.ledger.keyed_reason): each reader sees it in their language.
        return [(f.ledger_kind, points.get(f.item, 0.0),
                 ledger.keyed_reason(f.detail, day=day.isoformat(), minutes=str(f.minutes)))
                for f in scored_facts(result) if points.get(f.item, 0.0)]

    def standing(self, day_ids: Sequence[int]) -> dict[int, list[LedgerEntry]]:
        """The entries of these days that no reversal has undone."""
        out: dict[int, list[LedgerEntry]] = defaultdict(list)
        for chunk in _chunks(day_ids):
            entries = self.session.exec(select(LedgerEntry).where(
                col(LedgerEntry.source_kind) == SOURCE_KIND,
                col(LedgerEntry.source_id).in_([str(i) for i in chunk]))).all()
            reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
            for e in entries:
                if e.reverses_id is None and e.id not in reversed_ids:
                    out[int(e.source_id)].append(e)
        return out

    def sync(self, day: AttendanceDay, standing: list[LedgerEntry], reason: str) -> None:
        assert day.id is not None
        self.sync_result(day.id, day.staff_id, day.site_id, day.day, _as_result(day), standing, reason)

    def sync_result(self, day_id: int, staff_id: int, site_id: int, on: date, result: DayResult,
                    standing: list[LedgerEntry], reason: str) -> None:
        if self._month_closed(on, site_id):
            return
        wanted = self.wanted(on, result)
        have = sorted((e.kind, e.points) for e in standing)
        if have == sorted((k, p) for k, p, _ in wanted):
            return
        now = utcnow()
        who = self.actor.audit_name[:80]
        for e in standing:
            self.rows.append({"staff_id": e.staff_id, "window_id": e.window_id, "site_id": e.site_id, "day": e.day,
                              "kind": e.kind, "points": -e.points, "reason": reason[:400],
                              "source_kind": SOURCE_KIND, "source_id": e.source_id, "recorded_by": who,
                              "recorded_at": now, "reverses_id": e.id})
            self.reversals += 1
        for kind, pts, detail in wanted:
            self.rows.append({"staff_id": staff_id, "window_id": None, "site_id": site_id, "day": on,
                              "kind": kind, "points": pts, "reason": detail,
                              "source_kind": SOURCE_KIND, "source_id": str(day_id), "recorded_by": who,
                              "recorded_at": now, "reverses_id": None})

    def flush(self) -> int:
        if self.rows:
            # Core executemany: thousands of rows at once (the demo's three months), no ORM objects.
            self.session.connection().execute(insert(LedgerEntry), self.rows)
        written, self.rows = len(self.rows), []
        return written


def compute_days(session: Session, *, actor: Principal, start: date, end: date, site_id: int | None = None,
                 staff_ids: Sequence[int] | None = None, ip: str = "") -> ComputeSummary:
    """Compute every person's days in a range from punches, office hours, calendar, leave and roster.

    Corrected days keep their correction. Days whose result changed are rewritten and rescored.
    """
    actor.require(Permission.ATTENDANCE_MANAGE)
    if end < start:
        raise InvalidInput("end", "error.range_order")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput("end", "error.range_too_long", days=MAX_RANGE_DAYS)
    today = datetime.now(get_settings().tz).date()
    if end >= today:
        # Today is not over: people are still coming and going.
        end = today - timedelta(days=1)
    summary = ComputeSummary()
    if end < start:
        return summary
    people = _staff_in_scope(session, actor, site_id=site_id, staff_ids=staff_ids)
    if not people:
        return summary
    ids = [s for s, _ in people]
    hours = sources.office_hours(session, site_ids={site for _, site in people}, start=start, end=end)
    leave = sources.absences(session, staff_ids=ids, start=start, end=end)
    duty = sources.on_duty(session, staff_ids=ids, start=start, end=end)
    tz = get_settings().tz
    punches: dict[tuple[int, date], list[datetime]] = defaultdict(list)
    existing: dict[tuple[int, date], AttendanceDay] = {}
    for chunk in _chunks(ids):
        punch_stmt = select(col(Punch.staff_id), col(Punch.local_day), col(Punch.punched_at)).where(
            col(Punch.staff_id).in_(chunk), col(Punch.local_day) >= start, col(Punch.local_day) <= end)
        for staff_id, day, at in session.exec(punch_stmt):
            punches[(staff_id, day)].append(at.astimezone(tz).replace(tzinfo=None))
        for row in session.exec(select(AttendanceDay).where(
                col(AttendanceDay.staff_id).in_(chunk), col(AttendanceDay.day) >= start,
                col(AttendanceDay.day) <= end)):
            existing[(row.staff_id, row.day)] = row
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    new_results: dict[tuple[int, date], DayResult] = {}
    changed: list[AttendanceDay] = []
    day = start
    days = []
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    for staff_id, site in people:
        site_hours = hours.get(site, {})
        for day in days:
            old = existing.get((staff_id, day))
            if old is not None and old.corrected:
                continue
            result = compute_day(day, site_hours.get(day), punches.get((staff_id, day), ()),
                                 leave=leave.get((staff_id, day)), on_duty=(staff_id, day) in duty)
            if result is None:
                continue
            summary.days += 1
            fields = _result_fields(result)
            if old is None:
                new_results[(staff_id, day)] = result
                new_rows.append({"staff_id": staff_id, "site_id": site, "day": day, "computed_at": now,
                                 "corrected": False, "correction_reason": "", "corrected_by": "", **fields})
            elif _as_result(old) != result:
                for name, value in fields.items():
                    setattr(old, name, value)
                old.computed_at = now
                changed.append(old)
    session.flush()
    if new_rows:
        session.connection().execute(insert(AttendanceDay), new_rows)
    summary.changed = len(new_rows) + len(changed)
    scorer = _Scorer(session, actor)
    reason = ledger.keyed_reason("ledger_reason.attendance_recomputed")
    # New days that score something need their ids (most days score nothing and are not read back).
    scored = {key for key, result in new_results.items() if scored_facts(result)}
    if scored:
        scored_ids = sorted({staff for staff, _ in scored})
        for chunk in _chunks(scored_ids):
            for day_id, staff_id, on, site in session.exec(
                    select(col(AttendanceDay.id), col(AttendanceDay.staff_id), col(AttendanceDay.day),
                           col(AttendanceDay.site_id)).where(
                        col(AttendanceDay.staff_id).in_(chunk), col(AttendanceDay.day) >= start,
                        col(AttendanceDay.day) <= end)):
                if (staff_id, on) in scored and day_id is not None:
                    scorer.sync_result(day_id, staff_id, site, on, new_results[(staff_id, on)], [], reason)
    standing = scorer.standing([d.id for d in changed if d.id is not None])
    for row in changed:
        scorer.sync(row, standing.get(row.id or 0, []), reason)
    summary.reversals = scorer.reversals
    summary.ledger_entries = scorer.flush()
    if summary.changed:
        audit.record(session, actor, "attendance.compute", object_kind="attendance_day", site_id=site_id,
                     summary=f"{start}..{end}: {summary.changed} days changed, {summary.ledger_entries} ledger rows",
                     ip=ip)
    return summary


class DayCorrection(BaseModel):
    """A manager's correction of a day: the result it should have had, and why."""

    status: DayStatus
    late_minutes: int = Field(default=0, ge=0, le=600)
    early_minutes: int = Field(default=0, ge=0, le=600)
    missed_punches: int = Field(default=0, ge=0, le=2)
    leave_kind: str | None = Field(default=None, max_length=20)
    reason: str = Field(min_length=1, max_length=400)


def _day_in_scope(session: Session, actor: Principal, day_id: int) -> AttendanceDay:
    row = session.get(AttendanceDay, day_id)
    site = session.get(Site, row.site_id) if row is not None else None
    if row is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.attendance_day", id=day_id)
    return row


def correct_day(session: Session, *, actor: Principal, day_id: int, correction: DayCorrection,
                ip: str = "") -> AttendanceDay:
    """Set a day's result by hand (audited); its ledger entries are reversed and rewritten."""
    actor.require(Permission.ATTENDANCE_MANAGE)
    if not correction.reason.strip():
        raise InvalidInput("reason", "error.required")
    row = _day_in_scope(session, actor, day_id)
    halves = {DayStatus.ABSENT: 2, DayStatus.ABSENT_HALF: 1}.get(correction.status, 0)
    if correction.status in (DayStatus.LEAVE, DayStatus.TRIP) and not correction.leave_kind:
        correction = correction.model_copy(update={"leave_kind": "trip" if correction.status == DayStatus.TRIP
                                                   else "personal"})
    before = _as_result(row)
    row.status = correction.status
    row.late_minutes = correction.late_minutes if correction.status in (DayStatus.LATE, DayStatus.LATE_EARLY) else 0
    row.early_minutes = (correction.early_minutes if correction.status in (DayStatus.EARLY, DayStatus.LATE_EARLY)
                         else 0)
    row.missed_punches = correction.missed_punches if correction.status == DayStatus.MISSED_PUNCH else 0
    row.absent_halves = halves
    row.leave_kind = correction.leave_kind if correction.status in (DayStatus.LEAVE, DayStatus.TRIP) else None
    row.corrected = True
    row.correction_reason = correction.reason.strip()
    row.corrected_by = actor.audit_name[:80]
    row.computed_at = utcnow()
    session.add(row)
    session.flush()
    scorer = _Scorer(session, actor, strict=True)
    scorer.sync(row, scorer.standing([day_id]).get(day_id, []),
               ledger.keyed_reason("ledger_reason.attendance_corrected", reason=correction.reason))
    scorer.flush()
    audit.record(session, actor, "attendance.correct", object_kind="attendance_day", object_id=day_id,
                 site_id=row.site_id, summary=f"{before.status} -> {row.status}",
                 detail={"reason": correction.reason, "staff_id": row.staff_id, "day": row.day.isoformat()}, ip=ip)
    return row


def recompute_day(session: Session, *, actor: Principal, staff_id: int, day: date, reason: str) -> AttendanceDay | None:
    """Compute one person's day again from scratch (after an approved 补卡), dropping a hand correction."""
    row = session.exec(select(AttendanceDay).where(col(AttendanceDay.staff_id) == staff_id,
                                                   col(AttendanceDay.day) == day)).first()
    if row is not None and row.corrected:
        row.corrected = False
        session.add(row)
        session.flush()
    compute_days(session, actor=actor, start=day, end=day, staff_ids=[staff_id])
    return session.exec(select(AttendanceDay).where(col(AttendanceDay.staff_id) == staff_id,
                                                    col(AttendanceDay.day) == day)).first()


class DayRow(BaseModel):
    id: int
    staff_id: int
    staff_code: str
    staff_name: str
    day: date
    status: DayStatus
    late_minutes: int
    early_minutes: int
    missed_punches: int
    absent_halves: int
    leave_kind: str | None
    on_duty: bool
    first_in: time | None
    last_out: time | None
    corrected: bool
    correction_reason: str


def _day_row(d: AttendanceDay, code: str, name: str) -> DayRow:
    return DayRow(id=d.id or 0, staff_id=d.staff_id, staff_code=code, staff_name=name, day=d.day, status=d.status,
                  late_minutes=d.late_minutes, early_minutes=d.early_minutes, missed_punches=d.missed_punches,
                  absent_halves=d.absent_halves, leave_kind=d.leave_kind, on_duty=d.on_duty, first_in=d.first_in,
                  last_out=d.last_out, corrected=d.corrected, correction_reason=d.correction_reason)


def list_days(session: Session, *, actor: Principal, start: date, end: date, staff_id: int | None = None,
              site_id: int | None = None, status: DayStatus | None = None, offset: int = 0,
              limit: int = 100) -> tuple[list[DayRow], int]:
    """Computed days in the jurisdiction (staff: their own), by day then person."""
    if end < start:
        raise InvalidInput("end", "error.range_order")
    stmt = (select(AttendanceDay, Staff.code, Staff.name).join(Staff, col(Staff.id) == AttendanceDay.staff_id)
            .join(Site, col(Site.id) == AttendanceDay.site_id)
            .where(site_path_clause(actor), col(AttendanceDay.day) >= start, col(AttendanceDay.day) <= end))
    if not actor.can(Permission.ATTENDANCE_READ):
        stmt = stmt.where(col(AttendanceDay.staff_id) == (actor.staff_id if actor.staff_id is not None else -1))
    if staff_id is not None:
        stmt = stmt.where(col(AttendanceDay.staff_id) == staff_id)
    if site_id is not None:
        site = session.get(Site, site_id)
        stmt = stmt.where(col(Site.path).startswith(site.path if site else "//none", autoescape=True))
    if status is not None:
        stmt = stmt.where(col(AttendanceDay.status) == status)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(AttendanceDay.day), col(Staff.code)).offset(offset).limit(limit)).all()
    return [_day_row(d, code, name) for d, code, name in rows], int(total)


def day_detail(session: Session, *, actor: Principal, day_id: int) -> DayRow:
    row = _day_in_scope(session, actor, day_id)
    if not actor.can(Permission.ATTENDANCE_READ) and row.staff_id != actor.staff_id:
        raise NotFound("error.not_found_kind", kind="kind.attendance_day", id=day_id)
    staff = session.get(Staff, row.staff_id)
    assert staff is not None
    if row.staff_id != actor.staff_id:
        audit.record(session, actor, "attendance.view_day", object_kind="attendance_day", object_id=day_id,
                     site_id=row.site_id, summary=f"{staff.code} {row.day.isoformat()}")
    return _day_row(row, staff.code, staff.name)


def days_readable(session: Session, *, actor: Principal, ids: Sequence[str]) -> dict[str, date]:
    """Of these attendance days (ids as a ledger entry names them), the ones this reader may open, with their dates.

    A manager or officer who reads attendance opens the days of their jurisdiction; anyone else only their own.
    """
    wanted = [int(i) for i in ids if i.isascii() and i.isdigit() and len(i) < 10]
    if not wanted:
        return {}
    rows = session.exec(
        select(col(AttendanceDay.id), col(AttendanceDay.day), col(AttendanceDay.staff_id), col(Site.path))
        .join(Site, col(Site.id) == AttendanceDay.site_id)
        .where(col(AttendanceDay.id).in_(wanted))
    ).all()
    reads_all = actor.can(Permission.ATTENDANCE_READ)
    return {
        str(day_id): day
        for day_id, day, staff_id, path in rows
        if actor.covers_path(path) and (reads_all or (actor.staff_id is not None and staff_id == actor.staff_id))
    }
