"""Working days (工作日) on the official calendar, with swapped days (调休) and an admin's overrides.

The pure part (`WorkCalendar`) does no I/O; `load_calendar` builds one from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

import chinese_calendar
from sqlmodel import Session, select

from supervision.errors import CalendarNotCovered, InvalidInput
from supervision.models import WorkdayOverride, WorkdayYear

T = TypeVar("T")

def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# The package raises for years it has no data for; ask it once which years it knows.
PACKAGE_YEARS: frozenset[int] = frozenset(y for y in range(1990, 2100) if _package_knows(y))
MAX_SPAN_DAYS = 3700  # ten years: a guard against runaway loops on absurd input


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A calendar result; `provisional` when part of it came from the Mon–Fri fallback."""

    value: T
    provisional: bool = False
    source: str = "official"


class WorkCalendar:
    """Decide working days from overrides, the package's official data, declared years and a fallback."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        declared_years: Iterable[int] = (),
        *,
        allow_weekday_fallback: bool = False,
        package_years: frozenset[int] = PACKAGE_YEARS,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.declared_years = frozenset(declared_years)
        self.allow_weekday_fallback = allow_weekday_fallback
        self.package_years = package_years

    def covers(self, year: int) -> bool:
        return year in self.package_years or year in self.declared_years

    def _day(self, day: date) -> tuple[bool, bool]:
        """Return (is_workday, provisional) for one day."""
        if day in self.overrides:
            return self.overrides[day], False
        if day.year in self.package_years:
            return bool(chinese_calendar.is_workday(day)), False
        if day.year in self.declared_years:
            return day.weekday() < 5, False
        if self.allow_weekday_fallback:
            return day.weekday() < 5, True
        raise CalendarNotCovered(day.year)

    def is_workday(self, day: date) -> Answer[bool]:
        value, provisional = self._day(day)
        return Answer(value, provisional, "fallback" if provisional else "official")

    def add_workdays(self, start: date, days: int) -> Answer[date]:
        """The day `days` working days after `start` (start itself not counted); 0 gives `start`.

        Negative counts go backwards. This is how a time limit of N working days from the day
        of receipt gives the due date.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        current = start
        provisional = False
        guard = 0
        while remaining:
            current += timedelta(days=step)
            is_work, prov = self._day(current)
            provisional |= prov
            if is_work:
                remaining -= 1
            guard += 1
            if guard > MAX_SPAN_DAYS:
                raise InvalidInput("days", "error.calendar_span")
        return Answer(current, provisional, "fallback" if provisional else "official")

    def workdays_between(self, start: date, end: date) -> Answer[int]:
        """Working days after `start` up to and including `end` (negative if end is before start)."""
        if end < start:
            back = self.workdays_between(end, start)
            return Answer(-back.value, back.provisional, back.source)
        if (end - start).days > MAX_SPAN_DAYS:
            raise InvalidInput("end", "error.calendar_span")
        count = 0
        provisional = False
        current = start
        while current < end:
            current += timedelta(days=1)
            is_work, prov = self._day(current)
            provisional |= prov
            count += int(is_work)
        return Answer(count, provisional, "fallback" if provisional else "official")


def load_calendar(session: Session, *, allow_weekday_fallback: bool | None = None) -> WorkCalendar:
    """Build the calendar from the override table and the declared years."""
    from supervision.settings import get_settings

    overrides = {o.day: o.is_workday for o in session.exec(select(WorkdayOverride))}
    years = [y.year for y in session.exec(select(WorkdayYear))]
    fallback = get_settings().calendar_weekday_fallback if allow_weekday_fallback is None else allow_weekday_fallback
    return WorkCalendar(overrides, years, allow_weekday_fallback=fallback)
