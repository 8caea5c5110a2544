"""Working days (工作日) on the official calendar, with swapped days (调休) and an admin's overrides.

The pure part (`WorkCalendar`) does no I/O; `load_calendar` builds one from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

import chinese_calendar
from sqlalchemy import Boolean, Date, Integer, event, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import table_of
from supervision.errors import CalendarNotCovered, InvalidInput, NotFound
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


_SESSION_KEY = "supervision.workdays.calendar"
_OVERRIDE = table_of(WorkdayOverride).c
_YEAR = table_of(WorkdayYear).c
_CALENDAR_ROWS = union_all(
    sa_select(_OVERRIDE.day, _OVERRIDE.is_workday, literal(None, Integer).label("year")),
    sa_select(literal(None, Date), literal(None, Boolean), _YEAR.year),
)


def load_calendar(session: Session, *, allow_weekday_fallback: bool | None = None) -> WorkCalendar:
    """Build the calendar from the override table and the declared years.

    Kept for the rest of the session's transaction (a batch of intake writes asks once, not per order);
    the changes below drop it, and a new transaction reads the tables again.
    """
    from supervision.settings import get_settings

    fallback = get_settings().calendar_weekday_fallback if allow_weekday_fallback is None else allow_weekday_fallback
    cached = session.info.get(_SESSION_KEY)
    if isinstance(cached, WorkCalendar) and cached.allow_weekday_fallback == fallback:
        return cached
    # Both tables in one Core statement: this runs in every transaction that computes a deadline.
    overrides: dict[date, bool] = {}
    years: list[int] = []
    for day, is_work, year in session.connection().execute(_CALENDAR_ROWS):
        if year is None:
            overrides[day] = bool(is_work)
        else:
            years.append(int(year))
    calendar = WorkCalendar(overrides, years, allow_weekday_fallback=fallback)
    session.info[_SESSION_KEY] = calendar
    return calendar


def _changed(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        _changed(session)


# --- the admin's override table ---------------------------------------------------------------


def set_override(session: Session, actor: Principal, *, day: date, is_workday: bool, name: str = "",
                 ip: str = "") -> WorkdayOverride:
    """Mark one day as a working day or a holiday, overriding the package (audited)."""
    actor.require(Permission.CALENDAR_WRITE)
    if not isinstance(day, date):
        raise InvalidInput("day", "error.invalid_date")
    row = session.get(WorkdayOverride, day)
    before = None if row is None else row.is_workday
    if row is None:
        row = WorkdayOverride(day=day, is_workday=is_workday, name=name[:60], created_by_id=actor.id)
    else:
        row.is_workday, row.name = is_workday, name[:60]
    session.add(row)
    session.flush()
    _changed(session)
    audit.record(session, actor, "calendar.override", object_kind="workday", object_id=day.isoformat(),
                 summary=f"{day} {'workday' if is_workday else 'holiday'} {name}",
                 detail={"before": before, "after": is_workday}, ip=ip)
    return row


def delete_override(session: Session, actor: Principal, day: date, *, ip: str = "") -> None:
    actor.require(Permission.CALENDAR_WRITE)
    row = session.get(WorkdayOverride, day)
    if row is None:
        raise NotFound("error.not_found_kind", kind="kind.workday_override", id=day.isoformat())
    session.delete(row)
    session.flush()  # the calendar is read by a Core statement, which does not flush pending ORM changes
    _changed(session)
    audit.record(session, actor, "calendar.override_delete", object_kind="workday", object_id=day.isoformat(),
                 ip=ip)


def declare_year(session: Session, actor: Principal, *, year: int, notice: str, ip: str = "") -> WorkdayYear:
    """Declare a year entered from the State Council's notice: its days not overridden follow Mon–Fri."""
    actor.require(Permission.CALENDAR_WRITE)
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "error.invalid_value", detail="2000–2100")
    if not notice.strip():
        raise InvalidInput("notice", "error.required")
    row = session.get(WorkdayYear, year) or WorkdayYear(year=year)
    row.notice, row.declared_by_id = notice.strip()[:200], actor.id
    session.add(row)
    session.flush()
    _changed(session)
    audit.record(session, actor, "calendar.declare_year", object_kind="workday_year", object_id=year,
                 summary=notice[:200], ip=ip)
    return row


def overrides(session: Session, *, year: int | None = None) -> list[WorkdayOverride]:
    stmt = select(WorkdayOverride).order_by(col(WorkdayOverride.day))
    if year is not None and not 2000 <= year <= 2100:  # the years declare_year accepts; date() refuses year 0
        raise InvalidInput("year", "error.invalid_value", detail="2000–2100")
    if year is not None:
        stmt = stmt.where(col(WorkdayOverride.day) >= date(year, 1, 1), col(WorkdayOverride.day) <= date(year, 12, 31))
    return list(session.exec(stmt).all())


def declared_years(session: Session) -> list[WorkdayYear]:
    return list(session.exec(select(WorkdayYear).order_by(col(WorkdayYear.year))).all())
