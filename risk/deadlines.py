"""Due dates of reviews and checks. Pure: the working-day calendar is passed in.

A due date that falls on a rest day moves to the next working day. When the official calendar does not
know the year yet (the package lags a year behind and the admin enters the next year in November), the
date is kept as counted and marked provisional rather than refused: a register entry must not fail
because of next year's holidays.
"""

from __future__ import annotations

import calendar as _months
from dataclasses import dataclass, field
from datetime import date, timedelta

from risk.models import CheckFrequency
from supervision.errors import CalendarNotCovered
from supervision.workdays import WorkCalendar

_FREQUENCY_MONTHS: dict[CheckFrequency, int] = {
    CheckFrequency.MONTHLY: 1,
    CheckFrequency.QUARTERLY: 3,
    CheckFrequency.HALF_YEARLY: 6,
    CheckFrequency.YEARLY: 12,
}
# A week later can never be more than this many rest days away from a working day (Spring Festival: 9).
_MAX_REST_RUN = 15


@dataclass(frozen=True)
class DueDate:
    day: date
    provisional: bool = False
    # The day counted, before moving to a working day: what a recompute starts from (not part of the answer).
    counted: date | None = field(default=None, compare=False)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def on_workday(day: date, calendar: WorkCalendar | None) -> DueDate:
    """The day itself if it is a working day, else the next working day."""
    if calendar is None:
        return DueDate(day, True, day)
    current = day
    provisional = False
    try:
        for _ in range(_MAX_REST_RUN):
            answer = calendar.is_workday(current)
            # A rest day passed on the way counts too: declared a working day, it would be the due day.
            provisional = provisional or answer.provisional
            if answer.value:
                return DueDate(current, provisional, day)
            current += timedelta(days=1)
    except CalendarNotCovered:
        return DueDate(day, True, day)
    return DueDate(day, True, day)


def review_due(last: date, level: int, interval_days: int, calendar: WorkCalendar | None) -> DueDate:
    """When a point reviewed (or created) on `last` is next due, given its level's interval."""
    del level  # the interval already depends on it; kept in the signature so callers say which level
    return on_workday(last + timedelta(days=interval_days), calendar)


def check_due(last: date, frequency: CheckFrequency, calendar: WorkCalendar | None) -> DueDate:
    """When a measure checked (or created) on `last` must next be checked."""
    if frequency is CheckFrequency.WEEKLY:
        raw = last + timedelta(days=7)
    else:
        raw = add_months(last, _FREQUENCY_MONTHS[frequency])
    return on_workday(raw, calendar)


def frequency_days(frequency: CheckFrequency) -> int:
    """Roughly how many days apart checks are (for generating history and ordering)."""
    return {
        CheckFrequency.WEEKLY: 7,
        CheckFrequency.MONTHLY: 30,
        CheckFrequency.QUARTERLY: 91,
        CheckFrequency.HALF_YEARLY: 182,
        CheckFrequency.YEARLY: 365,
    }[frequency]
