"""What a day's computation reads besides the punches: office hours, leave and the duty roster.

Office hours (supervision.officehours: seasons, lunch, extended hours, on the working-day calendar) and
leave (supervision.leave: approved, not cancelled, halves) and the roster (supervision.duty) are the core's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time

from sqlmodel import Session

from supervision import duty, leave, officehours
from supervision.attendance.rules import Leave

Periods = tuple[tuple[time, time], ...]


def office_hours(session: Session, *, site_ids: Iterable[int], start: date,
                 end: date) -> dict[int, dict[date, Periods]]:
    """The open periods per site and day (a day that is absent is closed)."""
    return {site_id: {day: hours.periods for day, hours in
                      officehours.hours_for_range(session, site_id=site_id, start=start, end=end).items()}
            for site_id in site_ids}


def absences(session: Session, *, staff_ids: Iterable[int], start: date, end: date) -> dict[tuple[int, date], Leave]:
    """Approved leave and trips per (staff, day); `half` "am"/"pm" for half a day."""
    found = leave.absences(session, staff_ids=list(staff_ids), start=start, end=end)
    return {key: Leave(str(a.kind.value), a.half) for key, a in found.items()}


def on_duty(session: Session, *, staff_ids: Iterable[int], start: date, end: date) -> set[tuple[int, date]]:
    """Who is on duty (带班/值班) which day, from supervision.duty's roster."""
    return duty.on_duty(session, staff_ids=list(staff_ids), start=start, end=end)
