"""The manager's day as its users live it (issue 11 review): what they would trip on, each fixed and kept fixed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from supervision import attendance, duty, org
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyLogEntry, DutyRole
from supervision.leave import LeaveKind, LeaveRequest, LeaveStatus
from supervision.models import Site, User
from supervision.org import OrgKind
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



def test_the_roster_page_leads_to_the_public_hall_screen(engine: Engine, app_client: TestClient, logged_in: Login,
                                                         org_data: SimpleNamespace) -> None:
    """A manager finds the hall screen's address on the roster of a site that runs one (not elsewhere)."""
    ns = org_data
    with session_scope(engine, write=True) as s:
        leader = org.create_entity(s, SYSTEM, OrgKind.STAFF, {"code": "L9", "name": "钱局", "site_id": ns.city,
                                                               "rank": "bureau_leader", "title": "副局长"})
        duty.set_pool(s, SYSTEM, site_id=ns.city, staff_ids=[int(leader.id)])
    client, _ = logged_in("manager")
    roster = client.get(f"/duty?site_id={ns.city}")
    assert roster.status_code == 200
    link = re.search(r'<a href="([^"]+)" data-testid="duty-hall-link">([^<]+)</a>', roster.text)
    assert link is not None and link.group(1) == f"/hall/{ns.city}/duty" and "大厅屏幕" in link.group(2)
    assert app_client.get(link.group(1)).status_code == 200  # the screen needs no login
    county, _ = logged_in("county_manager")
    assert 'data-testid="duty-hall-link"' not in county.get(f"/duty?site_id={ns.county}").text  # no roster there


def test_the_duty_log_says_where_each_problem_was(engine: Engine, logged_in: Login, org_data: SimpleNamespace) -> None:
    """A city manager reads the log of every centre: each entry names its centre and window (or none)."""
    ns = org_data
    with session_scope(engine, write=True) as s:
        writer = s.exec(select(User).where(User.username == "manager")).one()
        city, county = s.get(Site, ns.city), s.get(Site, ns.county)
        assert city is not None and county is not None
        at = datetime.now(UTC) - timedelta(hours=1)
        s.add(DutyLogEntry(site_id=ns.city, window_id=ns.window, occurred_at=at, problem="排队过长",
                           handling="增开窗口", recorded_by_id=writer.id))
        s.add(DutyLogEntry(site_id=ns.county, occurred_at=at, problem="自助机故障", handling="报修",
                           recorded_by_id=writer.id))
        names = city.name, county.name
    client, _ = logged_in("manager")
    page = client.get("/duty/log")
    assert page.status_code == 200
    rows = {r[3]: r for r in _table_rows(page.text, "duty-log")}
    assert rows["排队过长"][1:3] == [names[0], "公安窗口 A01"]
    assert rows["自助机故障"][1:3] == [names[1], "—"]


def _table_rows(html: str, testid: str) -> list[list[str]]:
    table = html[html.index(f'data-testid="{testid}"'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def test_leave_approved_after_the_roster_shows_on_the_roster_day(engine: Engine, logged_in: Login,
                                                                 org_data: SimpleNamespace) -> None:
    """A year's roster is made in advance: leave approved later marks the day for the manager to change."""
    ns = org_data
    day = _workday(engine)  # a working day on the calendar the tests know
    with session_scope(engine, write=True) as s:
        def person(code: str, name: str, rank: str) -> int:
            return int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {"code": code, "name": name, "site_id": ns.city,
                                                                     "rank": rank, "title": "科长"}).id)

        leader, cadre = person("L9", "钱局", "bureau_leader"), person("C9", "吴科", "section_level")
        duty.set_pool(s, SYSTEM, site_id=ns.city, staff_ids=[leader, cadre])
        for role, staff_id in ((DutyRole.LEADER, leader), (DutyRole.CADRE, cadre)):
            s.add(DutyAssignment(site_id=ns.city, day=day, role=role, staff_id=staff_id,
                                 source=AssignmentSource.GENERATED))
        s.add(LeaveRequest(staff_id=cadre, site_id=ns.city, kind=LeaveKind.TRIP, start_day=day, end_day=day,
                           half_days=2, status=LeaveStatus.APPROVED))
    client, csrf = logged_in("manager")
    page = client.get(f"/duty?site_id={ns.city}&month={day:%Y-%m}")
    assert page.status_code == 200
    cell = page.text[page.text.index(f'data-day="{day.isoformat()}"'):]
    cell = cell[:cell.index("</td>")]
    assert "钱局" in cell and "吴科" in cell
    assert cell.count('data-testid="duty-away"') == 1 and "出差,请调整" in cell
    client.post("/locale", data={"locale": "en", "csrf_token": csrf})
    assert "on a trip: change this day" in client.get(f"/duty?site_id={ns.city}&month={day:%Y-%m}").text
