"""Read the roster: who is on duty when."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlmodel import Session, col, select

from supervision.duty.models import DutyAssignment


def on_duty(session: Session, *, staff_ids: Collection[int] | None, start: date,
            end: date) -> set[tuple[int, date]]:
    """Return the (staff, day) pairs on the roster (leader or cadre) in [start, end], at any site.

    `staff_ids` None: everybody. Attendance asks this to mark a day "on duty".
    """
    if staff_ids is not None and not staff_ids:
        return set()
    query = select(col(DutyAssignment.staff_id), col(DutyAssignment.day)).where(
        col(DutyAssignment.day) >= start, col(DutyAssignment.day) <= end)
    if staff_ids is not None:
        query = query.where(col(DutyAssignment.staff_id).in_(list(staff_ids)))
    return {(int(staff_id), day) for staff_id, day in session.exec(query)}
