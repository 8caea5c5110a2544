"""What the pages show: the month grid (people × days), one person's month, attendance rate per department."""

from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from supervision import audit
from supervision.access import Permission, Principal, site_path_clause
from supervision.attendance.days import DayRow, _day_row
from supervision.attendance.models import AttendanceDay, DayStatus
from supervision.errors import InvalidInput, NotFound
from supervision.models import Department, Site, Staff, Window

ABSENT_LIKE = (DayStatus.ABSENT, DayStatus.ABSENT_HALF)
NOT_EXPECTED = (DayStatus.LEAVE, DayStatus.TRIP, DayStatus.DUTY)


def month_days(year: int, month: int) -> list[date]:
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise InvalidInput("month", "error.invalid_month")
    return [date(year, month, d) for d in range(1, _calendar.monthrange(year, month)[1] + 1)]


@dataclass
class Totals:
    present: int = 0
    late: int = 0
    late_minutes: int = 0
    early: int = 0
    missed: int = 0
    absent_halves: int = 0
    leave: int = 0
    trip: int = 0


@dataclass(frozen=True)
class GridCell:
    day_id: int
    status: str  # a DayStatus value
    on_duty: bool = False  # on the duty roster that day (a working day keeps its own status)


@dataclass
class GridRow:
    staff_id: int
    code: str
    name: str
    department: str
    window: str
    cells: dict[date, GridCell] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    line: list[GridCell | None] = field(default_factory=list)  # one per day of the month, in order


@dataclass
class MonthGrid:
    year: int
    month: int
    days: list[date]
    rows: list[GridRow]


def _add(totals: Totals, d: AttendanceDay) -> None:
    _count(totals, d.status, d.late_minutes, d.early_minutes, d.missed_punches, d.absent_halves)


def _count(totals: Totals, status: DayStatus, late: int, early: int, missed: int, halves: int) -> None:
    if status == DayStatus.LEAVE:
        totals.leave += 1
    elif status == DayStatus.TRIP:
        totals.trip += 1
    elif status != DayStatus.DUTY and halves < 2:
        totals.present += 1
    if late:
        totals.late += 1
        totals.late_minutes += late
    if early:
        totals.early += 1
    totals.missed += missed
    totals.absent_halves += halves


def month_grid(session: Session, *, actor: Principal, year: int, month: int, site_id: int | None = None,
               department_id: int | None = None, window_id: int | None = None) -> MonthGrid:
    """Everyone in the jurisdiction (filtered) with their days of the month and totals."""
    actor.require(Permission.ATTENDANCE_READ)
    days = month_days(year, month)
    stmt = (select(Staff, col(Department.name), col(Window.name))
            .join(Site, col(Site.id) == Staff.site_id)
            .outerjoin(Department, col(Department.id) == Staff.department_id)
            .outerjoin(Window, col(Window.id) == Staff.window_id)
            .where(site_path_clause(actor), col(Staff.active)))
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or not actor.covers_path(site.path):
            raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
        stmt = stmt.where(col(Site.path).startswith(site.path, autoescape=True))
    if department_id is not None:
        stmt = stmt.where(col(Staff.department_id) == department_id)
    if window_id is not None:
        stmt = stmt.where(col(Staff.window_id) == window_id)
    rows: dict[int, GridRow] = {}
    for staff, dept, window in session.exec(stmt.order_by(col(Department.name), col(Staff.code))):
        rows[staff.id or 0] = GridRow(staff.id or 0, staff.code, staff.name, dept or "", window or "")
    if rows:
        # Columns, not ORM objects: a month of 400 people is 12,000 rows (the page's budget is 300 ms).
        table = AttendanceDay.__table__  # type: ignore[attr-defined]
        day_stmt = (sa_select(table.c.id, table.c.staff_id, table.c.day, table.c.status, table.c.late_minutes,
                              table.c.early_minutes, table.c.missed_punches, table.c.absent_halves,
                              table.c.on_duty)
                    .join(Site.__table__, Site.__table__.c.id == table.c.site_id)  # type: ignore[attr-defined]
                    .where(site_path_clause(actor), table.c.day >= days[0], table.c.day <= days[-1]))
        for day_id, staff_id, on, status, late, early, missed, halves, duty in session.connection().execute(day_stmt):
            row = rows.get(staff_id)
            if row is not None:
                row.cells[on] = GridCell(day_id, status.value, bool(duty))
                _count(row.totals, status, late, early, missed, halves)
        for row in rows.values():
            row.line = [row.cells.get(d) for d in days]
    return MonthGrid(year, month, days, list(rows.values()))


@dataclass
class PersonMonth:
    staff: Staff
    year: int
    month: int
    days: list[date]
    rows: dict[date, DayRow]
    totals: Totals


def person_month(session: Session, *, actor: Principal, staff_id: int, year: int, month: int) -> PersonMonth:
    """One person's month; staff see only their own. The view is audited (personal records)."""
    staff = session.get(Staff, staff_id)
    site = session.get(Site, staff.site_id) if staff is not None else None
    own = actor.staff_id is not None and actor.staff_id == staff_id
    if staff is None or site is None or not actor.covers_path(site.path) or not (
            own or actor.can(Permission.ATTENDANCE_READ)):
        raise NotFound("error.not_found_kind", kind="kind.staff", id=staff_id)
    days = month_days(year, month)
    totals = Totals()
    out: dict[date, DayRow] = {}
    for d in session.exec(select(AttendanceDay).where(col(AttendanceDay.staff_id) == staff_id,
                                                      col(AttendanceDay.day) >= days[0],
                                                      col(AttendanceDay.day) <= days[-1])):
        out[d.day] = _day_row(d, staff.code, staff.name)
        _add(totals, d)
    if not own:
        audit.record(session, actor, "attendance.view_person", object_kind="staff", object_id=staff_id,
                     site_id=staff.site_id, summary=f"{year}-{month:02d}")
    return PersonMonth(staff, year, month, days, out, totals)


@dataclass
class RateSeries:
    department: str
    rates: dict[str, float | None]  # "2026-10" -> 0.0..1.0


def department_rates(session: Session, *, actor: Principal, months: list[tuple[int, int]]) -> list[RateSeries]:
    """Attendance rate per department and month: expected half-days worked over expected half-days.

    Leave, trips and duty-only days are not expected; an absent half-day is one half not worked.
    """
    actor.require(Permission.ATTENDANCE_READ)
    if not months:
        return []
    first = date(months[0][0], months[0][1], 1)
    last = month_days(*months[-1])[-1]
    halves_sum = func.sum(col(AttendanceDay.absent_halves))
    stmt = (select(col(Department.name), col(AttendanceDay.day), func.count(), halves_sum)
            .join(Staff, col(Staff.id) == AttendanceDay.staff_id)
            .outerjoin(Department, col(Department.id) == Staff.department_id)
            .join(Site, col(Site.id) == AttendanceDay.site_id)
            .where(site_path_clause(actor), col(AttendanceDay.day) >= first, col(AttendanceDay.day) <= last,
                   col(AttendanceDay.status).not_in(list(NOT_EXPECTED)))
            .group_by(col(Department.name), col(AttendanceDay.day)))
    expected: dict[tuple[str, str], int] = defaultdict(int)
    missing: dict[tuple[str, str], int] = defaultdict(int)
    names: set[str] = set()
    for dept, day, n, halves in session.exec(stmt):
        key = (dept or "", f"{day.year}-{day.month:02d}")
        names.add(dept or "")
        expected[key] += 2 * int(n)
        missing[key] += int(halves or 0)
    labels = [f"{y}-{m:02d}" for y, m in months]
    return [RateSeries(name, {m: (1 - missing[(name, m)] / expected[(name, m)]) if expected[(name, m)] else None
                              for m in labels}) for name in sorted(names)]
