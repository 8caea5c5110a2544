"""What a day's computation reads besides the punches: office hours, leave and the duty roster.

Office hours and leave are the core's (supervision.officehours, supervision.leave); the roster is
supervision.duty's. Until those land, the fallback is the working-day calendar with the DOMAIN.md
timetable (winter 9:00–12:00 and 13:30–17:00; summer afternoons 14:00–17:30), no leave, nobody on duty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta

from sqlmodel import Session

from supervision.attendance.rules import Leave
from supervision.workdays import load_calendar

Periods = tuple[tuple[time, time], ...]

WINTER: Periods = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 0)))
SUMMER: Periods = ((time(9, 0), time(12, 0)), (time(14, 0), time(17, 30)))


def _season(day: date) -> Periods:
    # Summer timetable from 1 May to 30 September.
    return SUMMER if 5 <= day.month <= 9 else WINTER


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def office_hours(session: Session, *, site_ids: Iterable[int], start: date,
                 end: date) -> dict[int, dict[date, Periods]]:
    """The open periods per site and day (a day that is absent is closed)."""
    calendar = load_calendar(session)
    open_days = {day: _season(day) for day in _days(start, end) if calendar.is_workday(day).value}
    return {site_id: dict(open_days) for site_id in site_ids}


def absences(session: Session, *, staff_ids: Iterable[int], start: date, end: date) -> dict[tuple[int, date], Leave]:
    """Approved leave and trips per (staff, day)."""
    return {}


def on_duty(session: Session, *, staff_ids: Iterable[int], start: date, end: date) -> set[tuple[int, date]]:
    """Who is on duty (值班) which day."""
    return set()
