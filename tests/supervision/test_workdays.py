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


def test_a_year_nobody_knows_is_an_error_naming_the_year() -> None:
    with pytest.raises(CalendarNotCovered) as err:
        WorkCalendar().add_workdays(date(2026, 12, 28), 5)
    assert err.value.year == 2027
    assert "2027" in err.value.message("zh-CN") and "2027" in err.value.message("en")


def test_weekday_fallback_is_marked_provisional() -> None:
    cal = WorkCalendar(allow_weekday_fallback=True)
    answer = cal.add_workdays(date(2026, 12, 30), 3)
    assert answer.value == date(2027, 1, 4) and answer.provisional is True
    assert cal.add_workdays(date(2026, 12, 1), 3).provisional is False


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


def test_override_wins_over_the_package(session: Session, org_data: SimpleNamespace) -> None:
    wd.set_override(session, org_data.principals["admin"], day=date(2026, 10, 9), is_workday=False, name="特殊")
    session.commit()
    assert wd.load_calendar(session).is_workday(date(2026, 10, 9)).value is False
