"""Pure leave arithmetic: working half-days on the calendar, and the national annual entitlement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Literal

from supervision.workdays import WorkCalendar

Half = Literal["am", "pm"]


def working_days(calendar: WorkCalendar, start: date, start_pm: bool, end: date, end_am: bool,
                 ) -> Iterator[tuple[date, Half | None]]:
    """Each working day the leave covers, with the half it covers (None = the whole day)."""
    day = start
    while day <= end:
        if calendar.is_workday(day).value:
            half: Half | None = None
            if day == start and start_pm:
                half = "pm"
            if day == end and end_am:
                half = None if half == "pm" else "am"  # both on one day is refused before this is asked
            yield day, half
        day += timedelta(days=1)


def half_days(calendar: WorkCalendar, start: date, start_pm: bool, end: date, end_am: bool) -> int:
    """The working half-days in the leave: 2 a whole working day, 1 a morning or an afternoon; days off 0."""
    return sum(1 if half else 2 for _, half in working_days(calendar, start, start_pm, end, end_am))


def years_of_service(service_start: date, on: date) -> int:
    """Full years from the service start to `on`."""
    years = on.year - service_start.year - ((on.month, on.day) < (service_start.month, service_start.day))
    return max(years, 0)


def annual_entitlement(service_start: date | None, year: int) -> int:
    """Paid annual leave days by 《职工带薪年休假条例》 §3, on the years of service completed by 1 January.

    Full 1 to under 10 years: 5 days; 10 to under 20: 10; 20 or more: 15; under one year (or unknown): 0.
    Taking the years at 1 January keeps the figure fixed for the whole year (no mid-year proration).
    """
    if service_start is None:
        return 0
    years = years_of_service(service_start, date(year, 1, 1))
    if years >= 20:
        return 15
    if years >= 10:
        return 10
    if years >= 1:
        return 5
    return 0
