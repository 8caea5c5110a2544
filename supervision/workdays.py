"""Working days (工作日) on the official calendar, with swapped days (调休) and an admin's overrides.

The pure part (`WorkCalendar`) does no I/O; `load_calendar` builds one from the database.

The rule for every date counted in working days (deadlines, rosters, attendance, leave, reviews): a
year nobody has entered yet is never an error. Its days are decided provisionally — weekends off, and
the statutory holidays whose date is the same every year — and the answer says so (`provisional`).
Whoever stores such a date stores the flag too, and follows the calendar's changes (`follow_changes`)
to recompute it once an admin enters the year.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Generic, TypeVar

import chinese_calendar
from sqlalchemy import Boolean, Date, Integer, event, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import table_of
from supervision.errors import CalendarNotCovered, Forbidden, InvalidInput, NotFound
from supervision.models import WorkdayOverride, WorkdayYear

T = TypeVar("T")
logger = logging.getLogger(__name__)


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# The package raises for years it has no data for; ask it once which years it knows.
PACKAGE_YEARS: frozenset[int] = frozenset(y for y in range(1990, 2100) if _package_knows(y))
MAX_SPAN_DAYS = 3700  # ten years: a guard against runaway loops on absurd input

# Statutory holidays on the same solar date every year (《全国年节及纪念日放假办法》 as amended in
# 2024, in force from 2025): New Year's Day, Labour Day (two days since 2025) and National Day.
FIXED_HOLIDAYS: dict[tuple[int, int], str] = {
    (1, 1): "new_years_day", (5, 1): "labour_day", (5, 2): "labour_day",
    (10, 1): "national_day", (10, 2): "national_day", (10, 3): "national_day",
}
# Months from which next year's holidays should be entered: the State Council's notice comes out in
# October to December, and a 15-working-day limit reaches into January from mid-December.
REMIND_FROM_MONTH = 10


@lru_cache(maxsize=64)
def _qingming(year: int) -> date | None:
    """Tomb-Sweeping Day (清明) is a holiday on its solar term, which the package computes for any year."""
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    return next((day for day, name in terms if name == "清明"), None)


def provisional_is_workday(day: date) -> bool:
    """A working day by the rule for a year nobody has entered: Mon–Fri, less the fixed-date holidays.

    The lunar holidays (Spring Festival, Dragon Boat, Mid-Autumn) and the swapped working days are left
    out: they need the year's notice. A provisional due date is therefore never later than the official one.
    """
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS and day != _qingming(day.year)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A calendar result; `provisional` when part of it came from a year nobody has entered yet."""

    value: T
    provisional: bool = False
    source: str = "official"


def _source(provisional: bool) -> str:
    return "provisional" if provisional else "official"


class WorkCalendar:
    """Decide working days from overrides, the package's official data, declared years and the provisional rule."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        declared_years: Iterable[int] = (),
        *,
        strict: bool = False,
        package_years: frozenset[int] = PACKAGE_YEARS,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.declared_years = frozenset(declared_years)
        # Strict: a year nobody entered raises `CalendarNotCovered` instead of a provisional answer.
        self.strict = strict
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
        if self.strict:
            raise CalendarNotCovered(day.year)
        return provisional_is_workday(day), True

    def is_workday(self, day: date) -> Answer[bool]:
        value, provisional = self._day(day)
        return Answer(value, provisional, _source(provisional))

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
        return Answer(current, provisional, _source(provisional))

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
        return Answer(count, provisional, _source(provisional))


def holiday_key(calendar: WorkCalendar, day: date) -> str:
    """Which holiday a day belongs to ("national_day"…; a swapped working day names its holiday), or ""."""
    if day.year in calendar.package_years:
        _, name = chinese_calendar.get_holiday_detail(day)
        return chinese_calendar.Holiday(name).name if name else ""
    if day.year in calendar.declared_years:
        return ""
    if day == _qingming(day.year):
        return "tomb_sweeping_day"
    return FIXED_HOLIDAYS.get((day.month, day.day), "")


@dataclass(frozen=True)
class GridDay:
    """One day of the month grid: worked or off, and why it differs from an ordinary week, if it does."""

    day: date
    workday: bool
    swapped: bool  # a weekend worked, or a weekday off (holidays and their swaps)
    overridden: bool  # an admin's entry
    provisional: bool
    holiday: str = ""  # the package's holiday key, e.g. "national_day"
    name: str = ""  # the admin's name for an overridden day


def month_grid(calendar: WorkCalendar, year: int, month: int, names: Mapping[date, str] | None = None,
               ) -> list[list[GridDay | None]]:
    """The weeks of one month, Monday first; None pads the days of the neighbouring months."""
    first = date(year, month, 1)
    weeks: list[list[GridDay | None]] = [[None] * first.weekday()]
    day = first
    while day.month == month:
        answer = calendar.is_workday(day)
        if len(weeks[-1]) == 7:
            weeks.append([])
        weeks[-1].append(GridDay(day, answer.value, answer.value != (day.weekday() < 5), day in calendar.overrides,
                                 answer.provisional,
                                 "" if day in calendar.overrides else holiday_key(calendar, day),
                                 (names or {}).get(day, "")))
        day += timedelta(days=1)
    weeks[-1].extend([None] * (7 - len(weeks[-1])))
    return weeks


_SESSION_KEY = "supervision.workdays.calendar"
_OVERRIDE = table_of(WorkdayOverride).c
_YEAR = table_of(WorkdayYear).c
_CALENDAR_ROWS = union_all(
    sa_select(_OVERRIDE.day, _OVERRIDE.is_workday, literal(None, Integer).label("year")),
    sa_select(literal(None, Date), literal(None, Boolean), _YEAR.year),
)


def load_calendar(session: Session, *, strict: bool = False) -> WorkCalendar:
    """Build the calendar from the override table and the declared years.

    Kept for the rest of the session's transaction (a batch of intake writes asks once, not per order);
    the changes below drop it, and a new transaction reads the tables again. `strict`: a year nobody
    entered raises `CalendarNotCovered` instead of answering provisionally.
    """
    cached = session.info.get(_SESSION_KEY)
    if isinstance(cached, WorkCalendar):
        return WorkCalendar(cached.overrides, cached.declared_years, strict=True) if strict else cached
    # Both tables in one Core statement: this runs in every transaction that computes a deadline.
    overrides: dict[date, bool] = {}
    years: list[int] = []
    for day, is_work, year in session.connection().execute(_CALENDAR_ROWS):
        if year is None:
            overrides[day] = bool(is_work)
        else:
            years.append(int(year))
    calendar = WorkCalendar(overrides, years)
    session.info[_SESSION_KEY] = calendar
    return WorkCalendar(overrides, years, strict=True) if strict else calendar


_PENDING_KEY = "supervision.workdays.pending"


def _forget(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        _forget(session)
        session.info.pop(_PENDING_KEY, None)  # rolled back, or already followed after the commit


@event.listens_for(Session, "after_commit")
def _follow_after_commit(session: Session) -> None:
    pending: list[tuple[Principal, CalendarChange]] = session.info.pop(_PENDING_KEY, None) or []
    if not pending:
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    for actor, change in pending:
        for name in sorted(_followers):
            try:
                _followers[name](engine, actor, change)
            except Exception:  # the change is committed; the follower's own sweep catches up later
                logger.exception("calendar follower %s failed after %s", name, change.cause)


def year_to_enter(calendar: WorkCalendar, today: date) -> int | None:
    """Next year, when its holidays should be entered by now (from October) and nobody has; else None."""
    upcoming = today.year + 1
    if today.month >= REMIND_FROM_MONTH and not calendar.covers(upcoming):
        return upcoming
    return None


# --- who follows a change -----------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarChange:
    """What an admin changed: the years whose days may now count differently, and why."""

    years: frozenset[int]
    cause: str  # "declare_year" | "override" | "override_delete"
    reason: str  # the notice declared, or the day and name of the override


CalendarFollower = Callable[[Engine, Principal, CalendarChange], object]
_followers: dict[str, CalendarFollower] = {}


def follow_changes(name: str, follower: CalendarFollower) -> None:
    """Have `follower` recompute provisional dates after every committed calendar change.

    It runs once the change has committed, in short transactions of its own: recomputing a few thousand
    orders must not hold SQLite's write lock for seconds. A follower is safe to run again (it writes only
    what differs), so a periodic sweep catches up when a process dies between the commit and its end.
    """
    _followers[name] = follower


def _changed(session: Session, actor: Principal, change: CalendarChange) -> None:
    _forget(session)
    session.info.setdefault(_PENDING_KEY, []).append((actor, change))


# --- the admin's override table ---------------------------------------------------------------


def can_change(actor: Principal) -> bool:
    """Whether `actor` may change the calendar: it holds for the whole city, so only a city-level admin may."""
    # A root site's path is "/<id>/"; the system principal's is "/".
    return actor.can(Permission.CALENDAR_WRITE) and actor.site_path.count("/") <= 2


def _require_change(actor: Principal) -> None:
    actor.require(Permission.CALENDAR_WRITE)
    if not can_change(actor):
        raise Forbidden("error.calendar_city_only")


def set_override(session: Session, actor: Principal, *, day: date, is_workday: bool, name: str = "",
                 ip: str = "") -> WorkdayOverride:
    """Mark one day as a working day or a holiday, overriding the package (audited)."""
    _require_change(actor)
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
    audit.record(session, actor, "calendar.override", object_kind="workday", object_id=day.isoformat(),
                 summary=f"{day} {'workday' if is_workday else 'holiday'} {name}",
                 detail={"before": before, "after": is_workday}, ip=ip)
    _changed(session, actor, CalendarChange(frozenset({day.year}), "override", f"{day} {name}".strip()))
    return row


def delete_override(session: Session, actor: Principal, day: date, *, ip: str = "") -> None:
    _require_change(actor)
    row = session.get(WorkdayOverride, day)
    if row is None:
        raise NotFound("error.not_found_kind", kind="kind.workday_override", id=day.isoformat())
    name = row.name
    session.delete(row)
    session.flush()  # the calendar is read by a Core statement, which does not flush pending ORM changes
    audit.record(session, actor, "calendar.override_delete", object_kind="workday", object_id=day.isoformat(),
                 ip=ip)
    _changed(session, actor, CalendarChange(frozenset({day.year}), "override_delete", f"{day} {name}".strip()))


def declare_year(session: Session, actor: Principal, *, year: int, notice: str, ip: str = "") -> WorkdayYear:
    """Declare a year entered from the State Council's notice: its days not overridden follow Mon–Fri."""
    _require_change(actor)
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "error.invalid_value", detail="2000–2100")
    if not notice.strip():
        raise InvalidInput("notice", "error.required")
    row = session.get(WorkdayYear, year) or WorkdayYear(year=year)
    row.notice, row.declared_by_id = notice.strip()[:200], actor.id
    session.add(row)
    session.flush()
    audit.record(session, actor, "calendar.declare_year", object_kind="workday_year", object_id=year,
                 summary=notice[:200], ip=ip)
    _changed(session, actor, CalendarChange(frozenset({year}), "declare_year", row.notice))
    return row


def overrides(session: Session, *, year: int | None = None) -> list[WorkdayOverride]:
    stmt = select(WorkdayOverride).order_by(col(WorkdayOverride.day))
    if year is not None and not 2000 <= year <= 2100:  # the years declare_year accepts; date() refuses year 0
        raise InvalidInput("year", "error.invalid_value", detail="2000–2100")
    if year is not None:
        if not 1 <= year <= 9999:
            raise InvalidInput("year", "error.invalid_value", detail="1–9999")
        stmt = stmt.where(col(WorkdayOverride.day) >= date(year, 1, 1), col(WorkdayOverride.day) <= date(year, 12, 31))
    return list(session.exec(stmt).all())


def declared_years(session: Session) -> list[WorkdayYear]:
    return list(session.exec(select(WorkdayYear).order_by(col(WorkdayYear.year))).all())
