"""Duty rosters and the duty log on the web: pages, forms, the JSON API, the public hall screen and feed."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import icalendar
import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from supervision import accounts, duty, org
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyLogEntry, DutyRole
from supervision.models import Role
from supervision.org import OrgKind
from supervision.settings import get_settings
from supervision.workdays import WorkCalendar
from tests.conftest import PASSWORD, SYSTEM
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]


def _today() -> date:
    return datetime.now(get_settings().tz).date()


@pytest.fixture
def duty_world(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """Four leaders and four cadres in the city's pool; the first cadre has a staff login."""
    ns = org_data
    with session_scope(engine, write=True) as s:
        def staff(code: str, name: str, rank: str, title: str) -> int:
            return int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
                "code": code, "name": name, "site_id": ns.city, "rank": rank, "title": title}).id)

        ns.leaders = [staff(f"L{i}", n, "bureau_leader", "副局长")
                      for i, n in enumerate(["钱局", "孙局", "周局", "王局"])]
        ns.cadres = [staff(f"C{i}", n, "section_level", "科长")
                     for i, n in enumerate(["吴科", "郑科", "冯科", "陈科"])]
        duty.set_pool(s, SYSTEM, site_id=ns.city, staff_ids=ns.leaders + ns.cadres)
        accounts.create_user(s, SYSTEM, {"username": "wu", "display_name": "吴科", "password": PASSWORD,
                                         "role": Role.STAFF, "site_id": ns.city, "staff_id": ns.cadres[0]})
    return ns


def _first_workday_from(day: date) -> date:
    calendar = WorkCalendar()
    while not calendar.is_workday(day).value:
        day += timedelta(days=1)
    return day


def _put_today(engine: Engine, ns: SimpleNamespace) -> None:
    """Today's pair, written directly (today may be a weekend, when no roster is generated)."""
    with session_scope(engine, write=True) as s:
        for role, staff_id in ((DutyRole.LEADER, ns.leaders[0]), (DutyRole.CADRE, ns.cadres[0])):
            s.add(DutyAssignment(site_id=ns.city, day=_today(), role=role, staff_id=staff_id,
                                 source=AssignmentSource.MANUAL))


def test_a_manager_generates_sees_prints_and_exports_the_month(logged_in: Login, duty_world: SimpleNamespace
                                                               ) -> None:
    ns = duty_world
    manager, csrf = logged_in("manager")
    start = _first_workday_from(_today())
    end = start + timedelta(days=30)
    made = manager.post("/duty/generate", data={"csrf_token": csrf, "site_id": ns.city, "start": start.isoformat(),
                                                "end": end.isoformat()})
    assert made.status_code == 303, made.text
    page = manager.get(f"/duty?site_id={ns.city}&month={start:%Y-%m}")
    assert page.status_code == 200
    assert f'data-day="{start.isoformat()}"' in page.text and "钱局" in page.text + manager.get(
        f"/duty?site_id={ns.city}&month={end:%Y-%m}").text
    printed = manager.get(f"/duty/print?site_id={ns.city}&month={start:%Y-%m}")
    assert printed.status_code == 200 and 'data-testid="duty-print"' in printed.text and "值班表" in printed.text
    xlsx = manager.get(f"/duty/export.xlsx?site_id={ns.city}&month={start:%Y-%m}")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert rows[0][0] == start.isoformat() and "副局长" in rows[0][2]


def test_a_roster_that_cannot_be_made_says_the_day_and_why(engine: Engine, logged_in: Login,
                                                            duty_world: SimpleNamespace) -> None:
    ns = duty_world
    start = _first_workday_from(_today() + timedelta(days=1))
    with session_scope(engine, write=True) as s:
        for leader in ns.leaders:
            duty.set_blocked_day(s, SYSTEM, staff_id=leader, day=start, blocked=True)
    manager, csrf = logged_in("manager")
    refused = manager.post("/duty/generate", data={"csrf_token": csrf, "site_id": ns.city,
                                                   "start": start.isoformat(), "end": (start + timedelta(days=20))
                                                   .isoformat()})
    assert refused.status_code == 422
    assert f"{start:%m-%d}:所有带班领导都申明当天不便值班" in refused.text
    with session_scope(engine) as s:
        assert s.exec(select(DutyAssignment)).first() is None


def test_today_is_on_every_home_page_and_on_the_public_hall_screen(engine: Engine, app_client: TestClient,
                                                                   logged_in: Login, duty_world: SimpleNamespace
                                                                   ) -> None:
    ns = duty_world
    _put_today(engine, ns)
    for username in ("manager", "officer", "admin", "supervisor", "staff"):
        client, _ = logged_in(username)
        home = client.get("/")
        assert 'data-testid="duty-today"' in home.text and "钱局" in home.text and "吴科" in home.text, username
    county, _ = logged_in("county_manager")
    assert "钱局" not in county.get("/").text  # another jurisdiction's pair
    screen = app_client.get(f"/hall/{ns.city}/duty")  # no login
    assert screen.status_code == 200 and "钱局" in screen.text and "副局长" in screen.text
    assert "L0" not in screen.text  # names and titles only: no staff numbers
    assert app_client.get(f"/hall/{ns.county}/duty").status_code == 404  # no roster there


def test_on_a_day_without_duty_the_home_page_shows_the_next_duty_day(engine: Engine, logged_in: Login,
                                                                    duty_world: SimpleNamespace) -> None:
    ns = duty_world
    later = _today() + timedelta(days=3)  # e.g. a weekend today, the roster goes on after it
    with session_scope(engine, write=True) as s:
        for role, staff_id in ((DutyRole.LEADER, ns.leaders[0]), (DutyRole.CADRE, ns.cadres[0])):
            s.add(DutyAssignment(site_id=ns.city, day=later, role=role, staff_id=staff_id,
                                 source=AssignmentSource.MANUAL))
    client, _ = logged_in("officer")
    home = client.get("/")
    assert 'data-testid="duty-today"' in home.text and "钱局" in home.text
    assert f"今日无值班 · 下一个值班日 {later:%m-%d}" in home.text
    far = _today() + timedelta(days=30)  # beyond two weeks: nothing is announced
    with session_scope(engine, write=True) as s:
        for row in s.exec(select(DutyAssignment)).all():
            row.day = far
            s.add(row)
    assert 'data-testid="duty-today"' not in client.get("/").text


def test_a_person_subscribes_to_their_duties(engine: Engine, logged_in: Login, duty_world: SimpleNamespace) -> None:
    ns = duty_world
    _put_today(engine, ns)
    wu, csrf = logged_in("wu")
    page = wu.post("/duty/mine/calendar-token", data={"csrf_token": csrf})
    assert page.status_code == 200
    url = page.text.split('data-testid="feed-url"')[1].split("<code>")[1].split("</code>")[0]
    path = url.replace("http://testserver", "")
    feed = wu.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    start = events[0].decoded("dtstart")
    assert start.date() == _today() and start.hour == 8 and start.utcoffset() == timedelta(hours=8)
    wu.post("/duty/mine/calendar-token", data={"csrf_token": csrf})
    assert wu.get(path).status_code == 404  # rotated


def test_the_api_reads_generates_and_refuses_other_jurisdictions(logged_in: Login, duty_world: SimpleNamespace
                                                                  ) -> None:
    ns = duty_world
    client, _ = logged_in("manager")
    headers = bearer(client, "manager")
    start = _first_workday_from(_today())
    made = client.post("/api/v1/duty-rosters/generate", headers=headers, json={
        "site_id": ns.city, "start": start.isoformat(), "end": (start + timedelta(days=13)).isoformat()})
    assert made.status_code == 200, made.text
    roster = client.get(f"/api/v1/duty-rosters?site_id={ns.city}&start={start}&end={start + timedelta(days=13)}",
                        headers=headers).json()
    assert roster["days"][0]["day"] == start.isoformat()
    assert {roster["days"][0]["leader"]["staff_id"]} <= set(ns.leaders)
    assert sum(roster["counts"].values()) == 2 * made.json()["working_days"]
    county, _ = logged_in("county_manager")
    county_headers = bearer(county, "county_manager")
    assert county.get(f"/api/v1/duty-rosters?site_id={ns.city}&start={start}&end={start}",
                      headers=county_headers).status_code == 404
    assert county.post("/api/v1/duty-rosters/generate", headers=county_headers, json={
        "site_id": ns.city, "start": start.isoformat(), "end": start.isoformat()}).status_code == 404
    bad = client.post("/api/v1/duty-rosters/generate", headers=headers, json={
        "site_id": ns.city, "start": start.isoformat(), "end": (start - timedelta(days=3)).isoformat()})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "end"
    far = client.post("/api/v1/duty-rosters/generate", headers=headers, json={
        "site_id": ns.city, "start": "9999-12-01", "end": "9999-12-31"})  # no overflow past the last date
    assert far.status_code == 422 and far.json()["error"]["fields"][0]["field"] == "start"
    far = client.get(f"/api/v1/duty-rosters?site_id={ns.city}&start=9999-12-30&end=9999-12-31", headers=headers)
    assert far.status_code == 422 and far.json()["error"]["fields"][0]["field"] == "start"


def test_the_duty_log_entry_becomes_a_work_order_and_is_counted(engine: Engine, logged_in: Login,
                                                                 duty_world: SimpleNamespace) -> None:
    ns = duty_world
    _put_today(engine, ns)
    wu, csrf = logged_in("wu")  # on duty today
    now = datetime.now(get_settings().tz).strftime("%Y-%m-%dT%H:%M")
    saved = wu.post("/duty/log", data={"csrf_token": csrf, "site_id": ns.city, "occurred_at": now,
                                       "window_id": ns.window, "problem": "群众反映社保卡补办排队过长",
                                       "handling": "协调开设临时窗口", "result": "当场办结"})
    assert saved.status_code == 303, saved.text
    empty = wu.post("/duty/log", data={"csrf_token": csrf, "site_id": ns.city, "occurred_at": now,
                                       "problem": "", "handling": "协调"})
    assert empty.status_code == 422 and "群众反映的问题" in empty.text
    manager, mcsrf = logged_in("manager")
    with session_scope(engine) as s:
        entry = s.exec(select(DutyLogEntry)).one()
    made = manager.post(f"/duty/log/{entry.id}/work-order", data={"csrf_token": mcsrf})
    assert made.status_code == 303, made.text
    with session_scope(engine) as s:
        ref = s.get(DutyLogEntry, entry.id).work_order_ref  # type: ignore[union-attr]
    assert ref
    headers = bearer(manager, "manager")
    stats = manager.get(f"/api/v1/duty-log/stats?year={_today().year}", headers=headers).json()
    this_month = next(m for m in stats if m["month"] == f"{_today():%Y-%m}")
    assert this_month == {"month": f"{_today():%Y-%m}", "entries": 1, "work_orders": 1}
    listed = manager.get("/api/v1/duty-log", headers=headers).json()
    assert listed["data"][0]["work_order"] == ref
    # Someone not on duty today cannot write the log.
    staff, scsrf = logged_in("staff")
    refused = staff.post("/duty/log", data={"csrf_token": scsrf, "site_id": ns.city, "occurred_at": now,
                                            "problem": "x", "handling": "y"})
    assert refused.status_code == 422
