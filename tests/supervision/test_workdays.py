from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlmodel import Session

from supervision import workdays as wd
from supervision.errors import CalendarNotCovered, Forbidden
from supervision.workdays import WorkCalendar


def test_swapped_working_days_and_holidays_of_2026() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2026, 10, 1)).value is False  # National Day
    assert cal.is_workday(date(2026, 10, 10)).value is True  # a Saturday worked in exchange
    # Received on 30 September with a 3-working-day limit: 8, 9 and 10 October.
    assert cal.add_workdays(date(2026, 9, 30), 3).value == date(2026, 10, 10)
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 12)).value == 4


def test_a_strict_calendar_names_the_year_nobody_entered() -> None:
    with pytest.raises(CalendarNotCovered) as err:
        WorkCalendar(strict=True).add_workdays(date(2026, 12, 28), 5)
    assert err.value.year == 2027
    assert "2027" in err.value.message("zh-CN") and "2027" in err.value.message("en")
    assert "chinese-calendar" not in err.value.message("zh-CN") + err.value.message("en")


# The provisional rule, written out independently: weekends, New Year's Day, Qingming (5 April 2027),
# Labour Day (1–2 May), National Day (1–3 October) are off; every other weekday of 2027 is worked.
@pytest.mark.parametrize(("day", "worked"), [
    (date(2027, 1, 1), False),  # Friday, New Year's Day
    (date(2027, 1, 4), True),  # Monday
    (date(2027, 1, 9), False),  # Saturday
    (date(2027, 2, 8), True),  # Spring Festival eve is lunar: not known without the notice
    (date(2027, 4, 5), False),  # Monday, Qingming's solar term
    (date(2027, 4, 6), True),
    (date(2027, 4, 30), True),
    (date(2027, 5, 3), True),  # Monday: 1–2 May fell on a weekend, their swap needs the notice
    (date(2027, 10, 1), False),  # Friday
    (date(2028, 5, 1), False),  # Monday
    (date(2028, 5, 2), False),  # Tuesday
    (date(2028, 10, 3), False),  # Tuesday
    (date(2028, 10, 4), True),
])
def test_a_year_nobody_entered_is_answered_provisionally(day: date, worked: bool) -> None:
    answer = WorkCalendar().is_workday(day)
    assert answer.value is worked and answer.provisional is True and answer.source == "provisional"


def test_provisional_counts_skip_the_fixed_holidays() -> None:
    cal = WorkCalendar()
    answer = cal.add_workdays(date(2026, 12, 30), 3)  # Thu 31 Dec (2026, official), Mon 4, Tue 5 Jan 2027
    assert answer.value == date(2027, 1, 5) and answer.provisional is True
    assert cal.add_workdays(date(2026, 12, 1), 3).provisional is False
    assert cal.workdays_between(date(2026, 12, 31), date(2027, 1, 5)).value == 2


def test_next_years_holidays_are_asked_for_from_october() -> None:
    cal = WorkCalendar()
    assert wd.year_to_enter(cal, date(2026, 9, 30)) is None
    assert wd.year_to_enter(cal, date(2026, 10, 1)) == 2027
    assert wd.year_to_enter(WorkCalendar(declared_years=[2027]), date(2026, 12, 14)) is None
    assert wd.year_to_enter(cal, date(2025, 11, 1)) is None  # the package knows 2026


def test_admin_overrides_cover_the_next_year(session: Session, org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    wd.set_override(session, admin, day=date(2027, 1, 1), is_workday=False, name="元旦")
    wd.declare_year(session, admin, year=2027, notice="国办发明电〔2026〕X号")
    session.commit()
    cal = wd.load_calendar(session)
    answer = cal.add_workdays(date(2026, 12, 31), 1)
    assert answer.value == date(2027, 1, 4) and answer.provisional is False
    with pytest.raises(Forbidden):
        wd.set_override(session, org_data.principals["officer"], day=date(2027, 2, 1), is_workday=False)


def test_only_a_city_level_admin_changes_the_calendar(session: Session, org_data: SimpleNamespace) -> None:
    county_admin = org_data.principals["county_admin"]
    assert wd.can_change(org_data.principals["admin"]) and not wd.can_change(county_admin)
    for change in (
        lambda: wd.set_override(session, county_admin, day=date(2027, 2, 1), is_workday=False),
        lambda: wd.declare_year(session, county_admin, year=2027, notice="国办发明电"),
        lambda: wd.delete_override(session, county_admin, date(2027, 2, 1)),
    ):
        with pytest.raises(Forbidden) as err:
            change()
        assert "市级" in err.value.message("zh-CN") and "city-level" in err.value.message("en")
    session.rollback()
    assert wd.overrides(session, year=2027) == [] and wd.declared_years(session) == []


def test_override_wins_over_the_package(session: Session, org_data: SimpleNamespace) -> None:
    wd.set_override(session, org_data.principals["admin"], day=date(2026, 10, 9), is_workday=False, name="特殊")
    session.commit()
    assert wd.load_calendar(session).is_workday(date(2026, 10, 9)).value is False
