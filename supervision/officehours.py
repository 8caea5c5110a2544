"""Office hours (办公时间) per site: a timetable with a summer and a winter season, per weekday, in local time.

Every rule that asks "was this in office hours?" (attendance, duty, the video analytics) asks this module.
A site without a timetable of its own follows its nearest ancestor's; a city without one follows
`DEFAULT_PERIODS` (the winter and summer hours of DOMAIN.md). A day is open only when it is a working
day on the calendar (`supervision.workdays`, swapped working days included) and its weekday has periods;
a swapped working day on a weekend keeps the hours of an ordinary weekday (Monday's).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Column, Enum, Time, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from supervision import audit
from supervision.access import Permission, Principal, check_site
from supervision.db import UTCDateTime, utcnow
from supervision.errors import InvalidInput, NotFound
from supervision.models import Site
from supervision.settings import get_settings
from supervision.workdays import MAX_SPAN_DAYS, load_calendar


class Season(StrEnum):
    WINTER = "winter"  # also the whole year when the timetable has no summer range
    SUMMER = "summer"


class OfficeTimetable(SQLModel, table=True):
    """A site's own timetable; its summer season runs from (month, day) to (month, day), both included."""

    __tablename__ = "office_timetable"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", unique=True, index=True)
    summer_start_month: int | None = None
    summer_start_day: int | None = None
    summer_end_month: int | None = None
    summer_end_day: int | None = None
    note: str = Field(default="", max_length=200)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    is_demo: bool = False


class OfficePeriod(SQLModel, table=True):
    """One opening period of one weekday (0 = Monday) in one season; lunch is the gap between two periods."""

    __tablename__ = "office_period"
    __table_args__ = (UniqueConstraint("timetable_id", "season", "weekday", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    timetable_id: int = Field(foreign_key="office_timetable.id", index=True)
    season: Season = Field(sa_column=Column(Enum(Season, name="office_season"), nullable=False))
    weekday: int
    start: time = Field(sa_column=Column(Time(), nullable=False))
    end: time = Field(sa_column=Column(Time(), nullable=False))
    extended: bool = False  # an extended-hours period (延时服务): the day counts as an extended-hours day


@dataclass(frozen=True)
class DayHours:
    site_id: int  # the site asked about (hours may be inherited from an ancestor site)
    day: date
    periods: tuple[tuple[time, time], ...]  # local times, e.g. ((09:00, 12:00), (13:30, 17:30))
    extended: bool  # an extended-hours day (延时服务)


@dataclass(frozen=True)
class PeriodSpec:
    """One period as given by an admin (or the default)."""

    season: Season
    weekday: int
    start: time
    end: time
    extended: bool = False


@dataclass(frozen=True)
class Timetable:
    """A timetable as the service sees it: the site it belongs to (None for the built-in default)."""

    site_id: int | None
    summer: tuple[tuple[int, int], tuple[int, int]] | None
    periods: tuple[PeriodSpec, ...]
    note: str = ""

    def season_of(self, day: date) -> Season:
        if self.summer is None:
            return Season.WINTER
        start, end = self.summer
        key = (day.month, day.day)
        inside = start <= key <= end if start <= end else (key >= start or key <= end)
        return Season.SUMMER if inside else Season.WINTER

    def periods_on(self, day: date, *, workday: bool) -> tuple[tuple[tuple[time, time], ...], bool]:
        """The (periods, extended) of a day; a swapped working weekend day takes Monday's periods."""
        season = self.season_of(day)
        chosen = [p for p in self.periods if p.season == season and p.weekday == day.weekday()]
        if not chosen and workday and day.weekday() >= 5:
            chosen = [p for p in self.periods if p.season == season and p.weekday == 0]
        chosen.sort(key=lambda p: p.start)
        return tuple((p.start, p.end) for p in chosen), any(p.extended for p in chosen)


def _weekdays(season: Season, periods: Sequence[tuple[time, time]], days: Iterable[int] = range(5),
              ) -> list[PeriodSpec]:
    return [PeriodSpec(season, d, s, e) for d in days for s, e in periods]


# DOMAIN.md "Time": 9:00–12:00 and 13:30–17:00 in winter; in summer the afternoon is 14:00–17:30.
DEFAULT_SUMMER = ((5, 1), (9, 30))
DEFAULT_PERIODS: tuple[PeriodSpec, ...] = tuple(
    _weekdays(Season.WINTER, ((time(9), time(12)), (time(13, 30), time(17)))) +
    _weekdays(Season.SUMMER, ((time(9), time(12)), (time(14), time(17, 30))))
)
DEFAULT_TIMETABLE = Timetable(None, DEFAULT_SUMMER, DEFAULT_PERIODS)


# --- reading ------------------------------------------------------------------------------------


def _ancestor_ids(site: Site) -> list[int]:
    """The site's own id and its ancestors', nearest first (from the materialised path "/1/4/37/")."""
    return [int(part) for part in reversed(site.path.strip("/").split("/")) if part]


def timetable_for(session: Session, *, site_id: int) -> Timetable:
    """The timetable that applies at a site: its own, else its nearest ancestor's, else the default."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
    chain = _ancestor_ids(site) or [site_id]
    rows = {t.site_id: t for t in session.exec(
        select(OfficeTimetable).where(col(OfficeTimetable.site_id).in_(chain))).all()}
    row = next((rows[s] for s in chain if s in rows), None)
    if row is None or row.id is None:
        return DEFAULT_TIMETABLE
    periods = session.exec(select(OfficePeriod).where(OfficePeriod.timetable_id == row.id)).all()
    return _as_timetable(row, periods)


def site_name(session: Session, site_id: int | None) -> str:
    """The name of the site a timetable comes from ("" for the built-in default)."""
    site = session.get(Site, site_id) if site_id is not None else None
    return "" if site is None else site.name


def own_timetable(session: Session, *, site_id: int) -> Timetable | None:
    """The site's own timetable, or None when it inherits."""
    row = session.exec(select(OfficeTimetable).where(OfficeTimetable.site_id == site_id)).first()
    if row is None or row.id is None:
        return None
    periods = session.exec(select(OfficePeriod).where(OfficePeriod.timetable_id == row.id)).all()
    return _as_timetable(row, periods)


def _as_timetable(row: OfficeTimetable, periods: Iterable[OfficePeriod]) -> Timetable:
    summer = None
    if None not in (row.summer_start_month, row.summer_start_day, row.summer_end_month, row.summer_end_day):
        summer = ((int(row.summer_start_month or 0), int(row.summer_start_day or 0)),
                  (int(row.summer_end_month or 0), int(row.summer_end_day or 0)))
    specs = tuple(PeriodSpec(Season(p.season), p.weekday, p.start, p.end, p.extended) for p in periods)
    return Timetable(row.site_id, summer, specs, row.note)


def hours_for_range(session: Session, *, site_id: int, start: date, end: date) -> dict[date, DayHours]:
    """Bulk form for a month's attendance: only the open days, one query set, not one per day."""
    for name, value in (("start", start), ("end", end)):
        if not 2000 <= value.year <= 2100:  # the years the calendar answers for (as its own API)
            raise InvalidInput(name, "error.invalid_value", detail="2000–2100")
    if end < start:
        raise InvalidInput("end", "error.range_order")
    if (end - start).days > MAX_SPAN_DAYS:
        raise InvalidInput("end", "error.calendar_span")
    timetable = timetable_for(session, site_id=site_id)
    calendar = load_calendar(session)
    out: dict[date, DayHours] = {}
    day = start
    while day <= end:
        if calendar.is_workday(day).value:
            periods, extended = timetable.periods_on(day, workday=True)
            if periods:
                out[day] = DayHours(site_id, day, periods, extended)
        day += timedelta(days=1)
    return out


def hours_for(session: Session, *, site_id: int, day: date) -> DayHours | None:
    """None when the site is closed that day: not a working day on the calendar, or no hours that weekday."""
    return hours_for_range(session, site_id=site_id, start=day, end=day).get(day)


def local(at: datetime) -> datetime:
    """An aware moment in the centre's time zone (settings.tz); a naive one is refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at", "error.naive_time")
    try:
        moment = at.astimezone(get_settings().tz)
    except OverflowError:  # 9999-12-31T23:59+00:00 is past the last local moment
        raise InvalidInput("at", "error.invalid_value", detail="2000–2100") from None
    if not 2000 <= moment.year <= 2100:
        raise InvalidInput("at", "error.invalid_value", detail="2000–2100")
    return moment


def is_open_at(session: Session, *, site_id: int, at: datetime) -> bool:
    """`at` is aware; converted to the centre's time zone (settings.tz); True inside a period."""
    moment = local(at)
    hours = hours_for(session, site_id=site_id, day=moment.date())
    if hours is None:
        return False
    clock = moment.time().replace(tzinfo=None)
    return any(s <= clock < e for s, e in hours.periods)


# --- the admin's edits --------------------------------------------------------------------------


def _check_summer(summer: tuple[tuple[int, int], tuple[int, int]] | None) -> None:
    if summer is None:
        return
    for name, (month, day) in (("summer_start", summer[0]), ("summer_end", summer[1])):
        try:
            date(2024, month, day)  # a leap year: 02-29 is a valid bound
        except (TypeError, ValueError):
            raise InvalidInput(name, "error.month_day") from None


def _check_periods(periods: Sequence[PeriodSpec]) -> None:
    if not periods:
        raise InvalidInput("periods", "error.required")
    by_day: dict[tuple[Season, int], list[PeriodSpec]] = {}
    for p in periods:
        if not 0 <= p.weekday <= 6:
            raise InvalidInput("weekday", "error.invalid_value", detail="0–6")
        if p.end <= p.start:
            raise InvalidInput("periods", "error.period_order", start=p.start.strftime("%H:%M"),
                               end=p.end.strftime("%H:%M"))
        by_day.setdefault((p.season, p.weekday), []).append(p)
    for group in by_day.values():
        group.sort(key=lambda p: p.start)
        for before, after in itertools.pairwise(group):
            if after.start < before.end:
                raise InvalidInput("periods", "error.period_overlap", start=after.start.strftime("%H:%M"),
                                   end=before.end.strftime("%H:%M"))


def set_timetable(session: Session, actor: Principal, *, site_id: int,
                  summer: tuple[tuple[int, int], tuple[int, int]] | None, periods: Sequence[PeriodSpec],
                  note: str = "", is_demo: bool = False, ip: str = "") -> Timetable:
    """Give a site its own timetable (replacing the one it had), audited; admins only, in their jurisdiction."""
    actor.require(Permission.ORG_WRITE)
    check_site(session, actor, site_id)
    _check_summer(summer)
    _check_periods(periods)
    row = session.exec(select(OfficeTimetable).where(OfficeTimetable.site_id == site_id)).first()
    before = None if row is None else _describe(own_timetable(session, site_id=site_id))
    if row is None:
        row = OfficeTimetable(site_id=site_id, is_demo=is_demo)
    (row.summer_start_month, row.summer_start_day), (row.summer_end_month, row.summer_end_day) = (
        summer if summer is not None else ((None, None), (None, None)))
    row.note, row.updated_by_id, row.updated_at = note[:200], actor.id if actor.kind == "user" else None, utcnow()
    session.add(row)
    session.flush()
    assert row.id is not None
    for old in session.exec(select(OfficePeriod).where(OfficePeriod.timetable_id == row.id)).all():
        session.delete(old)
    session.flush()
    for p in periods:
        session.add(OfficePeriod(timetable_id=row.id, season=p.season, weekday=p.weekday, start=p.start, end=p.end,
                                 extended=p.extended))
    session.flush()
    result = Timetable(site_id, summer, tuple(periods), row.note)
    audit.record(session, actor, "office_hours.set", object_kind="site", object_id=site_id, site_id=site_id,
                 summary=note[:200], detail={"before": before, "after": _describe(result)}, ip=ip)
    return result


def clear_timetable(session: Session, actor: Principal, *, site_id: int, ip: str = "") -> None:
    """Drop a site's own timetable: it inherits its ancestor's again (audited)."""
    actor.require(Permission.ORG_WRITE)
    check_site(session, actor, site_id)
    row = session.exec(select(OfficeTimetable).where(OfficeTimetable.site_id == site_id)).first()
    if row is None:
        raise NotFound("error.not_found_kind", kind="kind.office_timetable", id=site_id)
    before = _describe(own_timetable(session, site_id=site_id))
    for old in session.exec(select(OfficePeriod).where(OfficePeriod.timetable_id == row.id)).all():
        session.delete(old)
    session.flush()
    session.delete(row)
    session.flush()
    audit.record(session, actor, "office_hours.clear", object_kind="site", object_id=site_id, site_id=site_id,
                 detail={"before": before}, ip=ip)


def _describe(timetable: Timetable | None) -> dict[str, object] | None:
    if timetable is None:
        return None
    return {
        "summer": None if timetable.summer is None else
        [f"{m:02d}-{d:02d}" for m, d in timetable.summer],
        "periods": [[p.season.value, p.weekday, p.start.strftime("%H:%M"), p.end.strftime("%H:%M"), p.extended]
                    for p in sorted(timetable.periods, key=lambda p: (p.season, p.weekday, p.start))],
    }


def timetables_in_jurisdiction(session: Session, actor: Principal) -> list[tuple[Site, Timetable | None]]:
    """Every site of the actor's jurisdiction down to the townships, with its own timetable (None = inherits)."""
    actor.require(Permission.ORG_READ)
    sites = session.exec(select(Site).where(col(Site.path).startswith(actor.site_path, autoescape=True),
                                            col(Site.depth) <= 2).order_by(col(Site.path))).all()
    ids = [s.id for s in sites if s.id is not None]
    rows = session.exec(select(OfficeTimetable).where(col(OfficeTimetable.site_id).in_(ids))).all()
    periods: dict[int, list[OfficePeriod]] = {}
    if rows:
        for p in session.exec(select(OfficePeriod).where(
                col(OfficePeriod.timetable_id).in_([r.id for r in rows]))).all():
            periods.setdefault(p.timetable_id, []).append(p)
    own = {r.site_id: _as_timetable(r, periods.get(r.id or 0, [])) for r in rows}
    return [(s, own.get(s.id or 0)) for s in sites]


# --- the admin's form: periods as text ("09:00-12:00 13:30-17:00") ------------------------------


def parse_clock(text: str, field: str) -> time:
    try:
        hour, minute = text.strip().split(":")
        return time(int(hour), int(minute))
    except ValueError:
        raise InvalidInput(field, "error.clock", value=text.strip()) from None


def parse_periods(text: str, *, season: Season, weekday: int, extended: bool, field: str) -> list[PeriodSpec]:
    """Periods typed as "09:00-12:00 13:30-17:00" (also with "–", "~" or commas) for one weekday of one season."""
    out = []
    for chunk in text.replace(",", " ").replace("，", " ").replace("、", " ").split():
        parts = chunk.replace("–", "-").replace("~", "-").replace("～", "-").split("-")
        if len(parts) != 2:
            raise InvalidInput(field, "error.period_text", value=chunk)
        start, end = parse_clock(parts[0], field), parse_clock(parts[1], field)
        if end <= start:
            raise InvalidInput(field, "error.period_order", start=parts[0], end=parts[1])
        out.append(PeriodSpec(season, weekday, start, end, extended))
    return out


def parse_month_day(text: str, field: str) -> tuple[int, int] | None:
    """"05-01" → (5, 1); empty → None."""
    if not text.strip():
        return None
    try:
        month, day = (int(x) for x in text.strip().split("-"))
        date(2024, month, day)
    except ValueError:
        raise InvalidInput(field, "error.month_day") from None
    return month, day


def format_periods(periods: Iterable[PeriodSpec]) -> str:
    return " ".join(f"{p.start:%H:%M}-{p.end:%H:%M}" for p in sorted(periods, key=lambda p: p.start))
