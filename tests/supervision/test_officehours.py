"""Office hours: seasons, lunch, swapped working days, inheritance, extended hours and a server in UTC."""

from __future__ import annotations

import os
import time as time_module
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision import officehours
from supervision.access import SYSTEM
from supervision.errors import Forbidden, InvalidInput, NotFound
from supervision.officehours import PeriodSpec, Season

SHANGHAI = ZoneInfo("Asia/Shanghai")
W, S = Season.WINTER, Season.SUMMER


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def _county_hours() -> list[PeriodSpec]:
    """A county with its own summer: summer afternoons 15:00–18:00, and a Wednesday evening of extended hours."""
    periods = [PeriodSpec(W, d, time(8, 30), time(12)) for d in range(5)]
    periods += [PeriodSpec(W, d, time(13), time(17)) for d in range(5)]
    periods += [PeriodSpec(S, d, time(8, 30), time(12)) for d in range(5)]
    periods += [PeriodSpec(S, d, time(15), time(18)) for d in range(5)]
    periods += [PeriodSpec(W, 2, time(17), time(19), extended=True)]
    return periods


def test_default_city_hours_follow_the_seasons_with_a_lunch_break(session: Session, org_data: SimpleNamespace,
                                                                  ) -> None:
    winter = officehours.hours_for(session, site_id=org_data.city, day=date(2026, 12, 7))  # a Monday
    assert winter is not None
    assert winter.periods == ((time(9), time(12)), (time(13, 30), time(17)))
    assert not winter.extended
    summer = officehours.hours_for(session, site_id=org_data.city, day=date(2026, 6, 15))
    assert summer is not None and summer.periods == ((time(9), time(12)), (time(14), time(17, 30)))
    # The summer range includes both ends: 05-01 is a holiday, so 04-30 and 05-06 are the edges seen.
    assert officehours.hours_for(session, site_id=org_data.city, day=date(2026, 9, 30)).periods[1][0] == time(14)  # type: ignore[union-attr]
    assert officehours.hours_for(session, site_id=org_data.city, day=date(2026, 4, 30)).periods[1][0] == time(13, 30)  # type: ignore[union-attr]
    assert officehours.is_open_at(session, site_id=org_data.city, at=_at("2026-12-07T10:00"))
    assert not officehours.is_open_at(session, site_id=org_data.city, at=_at("2026-12-07T12:30"))  # lunch
    assert officehours.is_open_at(session, site_id=org_data.city, at=_at("2026-12-07T13:30"))
    assert not officehours.is_open_at(session, site_id=org_data.city, at=_at("2026-06-15T13:45"))  # summer lunch
    assert not officehours.is_open_at(session, site_id=org_data.city, at=_at("2026-12-07T17:00"))  # end excluded


def test_the_calendar_decides_the_day_swapped_working_days_included(session: Session, org_data: SimpleNamespace,
                                                                     ) -> None:
    # 2026 National Day: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are worked (调休).
    assert officehours.hours_for(session, site_id=org_data.city, day=date(2026, 10, 1)) is None
    assert officehours.hours_for(session, site_id=org_data.city, day=date(2026, 12, 5)) is None  # a Saturday
    sunday = officehours.hours_for(session, site_id=org_data.city, day=date(2026, 9, 20))
    assert sunday is not None and sunday.periods == ((time(9), time(12)), (time(14), time(17, 30)))  # summer
    saturday = officehours.hours_for(session, site_id=org_data.city, day=date(2026, 10, 10))
    assert saturday is not None and saturday.periods == ((time(9), time(12)), (time(13, 30), time(17)))
    days = officehours.hours_for_range(session, site_id=org_data.city, start=date(2026, 9, 28),
                                       end=date(2026, 10, 11))
    assert sorted(days) == [date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 8),
                            date(2026, 10, 9), date(2026, 10, 10)]


def test_a_site_inherits_its_nearest_ancestors_timetable(session: Session, org_data: SimpleNamespace) -> None:
    officehours.set_timetable(session, SYSTEM, site_id=org_data.county, summer=((6, 1), (8, 31)),
                              periods=_county_hours(), note="涪城区夏季作息")
    session.commit()
    town = officehours.hours_for(session, site_id=org_data.township, day=date(2026, 6, 3))  # a Wednesday
    assert town is not None and town.site_id == org_data.township
    assert town.periods == ((time(8, 30), time(12)), (time(15), time(18)))
    assert not town.extended  # the extended evening is a winter Wednesday's
    may = officehours.hours_for(session, site_id=org_data.township, day=date(2026, 5, 21))  # county: not summer yet
    assert may is not None and may.periods == ((time(8, 30), time(12)), (time(13), time(17)))
    wednesday = officehours.hours_for(session, site_id=org_data.county, day=date(2026, 12, 9))
    assert wednesday is not None and wednesday.extended
    assert wednesday.periods == ((time(8, 30), time(12)), (time(13), time(17)), (time(17), time(19)))
    assert officehours.is_open_at(session, site_id=org_data.township, at=_at("2026-12-09T18:30"))
    # The other county and the city keep the default (city) hours.
    other = officehours.hours_for(session, site_id=org_data.county2, day=date(2026, 6, 3))
    assert other is not None and other.periods == ((time(9), time(12)), (time(14), time(17, 30)))
    officehours.clear_timetable(session, SYSTEM, site_id=org_data.county)
    session.commit()
    again = officehours.hours_for(session, site_id=org_data.township, day=date(2026, 6, 3))
    assert again is not None and again.periods == ((time(9), time(12)), (time(14), time(17, 30)))


def test_the_city_timetable_replaces_the_default_for_everyone_below(session: Session, org_data: SimpleNamespace,
                                                                    ) -> None:
    periods = [PeriodSpec(W, d, time(9), time(17)) for d in range(6)]  # no summer, open on Saturdays
    officehours.set_timetable(session, SYSTEM, site_id=org_data.city, summer=None, periods=periods)
    session.commit()
    june = officehours.hours_for(session, site_id=org_data.township, day=date(2026, 6, 15))
    assert june is not None and june.periods == ((time(9), time(17)),)
    # A Saturday that is not a working day stays closed: the calendar decides first.
    assert officehours.hours_for(session, site_id=org_data.township, day=date(2026, 12, 5)) is None


def test_a_month_of_hours_is_one_set_of_queries(engine: Engine, session: Session, org_data: SimpleNamespace) -> None:
    officehours.set_timetable(session, SYSTEM, site_id=org_data.county, summer=((6, 1), (8, 31)),
                              periods=_county_hours())
    session.commit()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as fresh:
            month = officehours.hours_for_range(fresh, site_id=org_data.township, start=date(2026, 12, 1),
                                                end=date(2026, 12, 31))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(month) == 23  # December 2026: 23 working days
    assert len(statements) <= 5, statements


def test_a_server_in_utc_does_not_shift_the_day(session: Session, org_data: SimpleNamespace) -> None:
    with _process_tz("UTC"):
        # 2026-12-07 01:00 UTC is 09:00 on Monday in Shanghai: open, although the server's clock says 01:00.
        assert officehours.is_open_at(session, site_id=org_data.city, at=datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
        # Friday 16:30 UTC is Saturday 00:30 locally: closed, and Saturday's hours are asked, not Friday's.
        assert not officehours.is_open_at(session, site_id=org_data.city, at=datetime(2026, 12, 4, 16, 30, tzinfo=UTC))
        # Sunday 23:30 UTC is Monday 07:30 locally: a working day, but before opening.
        assert not officehours.is_open_at(session, site_id=org_data.city, at=datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
        assert officehours.is_open_at(session, site_id=org_data.city, at=datetime(2026, 12, 7, 8, 59, tzinfo=UTC))
        with pytest.raises(InvalidInput) as err:
            officehours.is_open_at(session, site_id=org_data.city, at=datetime(2026, 12, 7, 10, 0))
        assert err.value.problems[0].field == "at"


def test_bad_timetables_are_refused_by_field(session: Session, org_data: SimpleNamespace) -> None:
    overlapping = [PeriodSpec(W, 0, time(9), time(12)), PeriodSpec(W, 0, time(11), time(17))]
    with pytest.raises(InvalidInput) as err:
        officehours.set_timetable(session, SYSTEM, site_id=org_data.city, summer=None, periods=overlapping)
    assert err.value.problems[0].field == "periods"
    with pytest.raises(InvalidInput) as err:
        officehours.set_timetable(session, SYSTEM, site_id=org_data.city, summer=None,
                                  periods=[PeriodSpec(W, 0, time(12), time(9))])
    assert err.value.problems[0].field == "periods"
    with pytest.raises(InvalidInput) as err:
        officehours.set_timetable(session, SYSTEM, site_id=org_data.city, summer=((2, 30), (9, 30)),
                                  periods=_county_hours())
    assert err.value.problems[0].field == "summer_start"
    with pytest.raises(Forbidden):
        officehours.set_timetable(session, org_data.principals["manager"], site_id=org_data.city, summer=None,
                                  periods=_county_hours())
    with pytest.raises(NotFound):  # a county admin cannot change the city's hours
        officehours.set_timetable(session, org_data.principals["county_admin"], site_id=org_data.city,
                                  summer=None, periods=_county_hours())
    officehours.set_timetable(session, org_data.principals["county_admin"], site_id=org_data.township,
                              summer=None, periods=_county_hours())


class _TZ:
    def __init__(self, zone: str) -> None:
        self.zone = zone

    def __enter__(self) -> None:
        self.before = os.environ.get("TZ")
        os.environ["TZ"] = self.zone
        time_module.tzset()

    def __exit__(self, *exc: object) -> None:
        if self.before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = self.before
        time_module.tzset()


def _process_tz(zone: str) -> _TZ:
    return _TZ(zone)


@pytest.fixture(autouse=True)
def _shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SUPERVISION_TIMEZONE", "Asia/Shanghai")
    yield
