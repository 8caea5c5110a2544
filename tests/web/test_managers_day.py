"""The manager's day as its users live it (issue 11 review): what they would trip on, each fixed and kept fixed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision import attendance
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyRole
from supervision.settings import get_settings
from supervision.workdays import load_calendar
from tests.conftest import SYSTEM

Login = Callable[[str], tuple[TestClient, str]]


def _workday(engine: Engine) -> date:
    day = datetime.now(get_settings().tz).date() - timedelta(days=3)
    with session_scope(engine) as s:
        cal = load_calendar(s)
        while not cal.is_workday(day).value:
            day -= timedelta(days=1)
    return day


def test_the_month_grid_shows_who_was_on_duty_on_a_working_day(logged_in: Login, engine: Engine,
                                                              org_data: SimpleNamespace) -> None:
    """The roster's 带班/值班 of a working day shows in the grid beside the day's own result, in both languages."""
    day = _workday(engine)
    with session_scope(engine, write=True) as s:
        s.add(DutyAssignment(site_id=org_data.city, day=day, role=DutyRole.CADRE, staff_id=org_data.staff,
                             source=AssignmentSource.MANUAL))
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=SYSTEM, start=day, end=day)
    client, csrf = logged_in("manager")
    page = client.get(f"/attendance?month={day:%Y-%m}")
    assert page.status_code == 200
    rows = {r.name: r for r in page.context["grid"].rows}  # type: ignore[attr-defined]
    cell = rows["张三"].cells[day]
    assert cell.on_duty and cell.status != "duty"  # the day keeps its result (absent, here: no punch)
    assert not rows["李四"].cells[day].on_duty
    marked = f'href="/attendance/days/{cell.day_id}" title="'
    html = page.text
    start = html.index(marked)
    assert 'data-duty="1"' in html[start:start + 200] and "值班" in html[start:start + 200]
    assert html.count('class="duty-mark"') == 1
    client.post("/locale", data={"locale": "en", "csrf_token": csrf})
    english = client.get(f"/attendance?month={day:%Y-%m}").text
    start = english.index(marked)
    assert "on duty" in english[start:start + 200]

