"""The working-day calendar on the web: who may change it, its month grid, and the reminder on home pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from supervision import workdays as wd
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]


def test_a_county_admin_cannot_change_the_city_wide_calendar(app_client: TestClient, logged_in: Login,
                                                               org_data: SimpleNamespace) -> None:
    county = bearer(app_client, "county_admin")
    put = app_client.put("/api/v1/calendar/overrides", headers=county,
                         json={"day": "2027-02-01", "is_workday": False, "name": "x"})
    assert put.status_code == 403 and "市级管理员" in put.json()["error"]["message"]
    assert app_client.post("/api/v1/calendar/years", headers=county,
                           json={"year": 2027, "notice": "国办发明电"}).status_code == 403
    assert app_client.get("/api/v1/calendar/overrides", headers=county, params={"year": 2027}).json()["count"] == 0

    client, csrf = logged_in("county_admin")
    page = client.get("/calendar", params={"year": 2027})
    assert page.status_code == 200 and 'action="/calendar/overrides"' not in page.text
    assert 'data-testid="calendar-city-only"' in page.text
    assert 'action="/calendar/years"' not in page.text
    for url, data in (("/calendar/overrides", {"day": "2027-02-01", "is_workday": "0"}),
                      ("/calendar/years", {"year": "2027", "notice": "国办发明电"})):
        assert client.post(url, data={"csrf_token": csrf, **data}).status_code == 403

    city = bearer(app_client, "admin")
    assert app_client.put("/api/v1/calendar/overrides", headers=city,
                          json={"day": "2027-02-01", "is_workday": False, "name": "春节"}).status_code == 200


def _cell(html: str, day: date) -> str:
    match = re.search(rf'<td class="cal-day ([^"]*)" title="{day.isoformat()} [^"]*">(.*?)</td>', html)
    assert match, f"no cell for {day}"
    return f"{match.group(1)}|{re.sub(r'<[^>]+>', ' ', match.group(2)).split()}"


def test_the_month_grid_marks_every_kind_of_day_in_text_too(logged_in: Login, org_data: SimpleNamespace) -> None:
    client, csrf = logged_in("admin")
    assert client.post("/calendar/overrides", data={"csrf_token": csrf, "day": "2026-10-09", "is_workday": "0",
                                                    "name": "特殊"}).status_code == 303
    page = client.get("/calendar", params={"year": 2026})
    assert page.status_code == 200
    html = page.text
    assert html.count('<table class="cal-month">') == 12 and html.count("<caption>") == 12
    assert 'data-testid="calendar-city-only"' not in html and 'action="/calendar/years"' in html
    assert "<caption>10 月</caption>" in html and '<abbr title="星期一">一</abbr>' in html
    assert _cell(html, date(2026, 10, 1)) == "rest|['1', '休']"  # Thursday, National Day
    assert _cell(html, date(2026, 10, 10)) == "work swapped|['10', '班']"  # the Saturday worked in exchange
    assert _cell(html, date(2026, 10, 9)) == "rest override|['9', '休', '✎']"  # the admin's day off
    assert _cell(html, date(2026, 10, 12)) == "work|['12']"
    assert _cell(html, date(2026, 10, 11)) == "rest|['11', '休']"  # an ordinary Sunday
    assert 'title="2026-10-01 休息日 · 国庆节"' in html
    for legend in ("工作日", "休息日(周末或节假日)", "调休上班(周末上班)", "管理员调整"):
        assert legend in html
    # October starts on a Thursday: three empty cells pad the first week.
    october = html[html.index("<caption>10 月</caption>"):]
    assert october[:october.index("</tr>", october.index("<tbody>"))].count('class="cal-pad"') == 3

    unknown = client.get("/calendar", params={"year": 2027})
    assert 'data-testid="grid-provisional"' in unknown.text
    assert "provisional" in _cell(unknown.text, date(2027, 1, 1)) and "休" in _cell(unknown.text, date(2027, 1, 1))
    client.post("/locale", data={"locale": "en", "next": "/calendar", "csrf_token": csrf})
    english = client.get("/calendar", params={"year": 2026}).text
    assert "<caption>October</caption>" in english and '<abbr title="Monday">Mo</abbr>' in english
    assert _cell(english, date(2026, 10, 10)) == "work swapped|['10', 'work']"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_calendar_page_does_not_speak_of_a_python_package(logged_in: Login, org_data: SimpleNamespace,
                                                             locale: str) -> None:
    client, csrf = logged_in("admin")
    client.post("/locale", data={"locale": locale, "next": "/calendar", "csrf_token": csrf})
    page = client.get("/calendar", params={"check_day": "2030-03-04", "start": "2030-01-01", "days": "3"})
    january = "<caption>1 月</caption>" if locale == "zh-CN" else "<caption>January</caption>"
    assert page.status_code == 200 and january in page.text
    assert not re.search(r"chinese.calendar|package|包", page.text, re.IGNORECASE)


@pytest.mark.parametrize(("today", "shown"), [(date(2026, 9, 30), False), (date(2026, 10, 1), True)])
def test_home_pages_of_admins_and_managers_ask_for_next_years_holidays_from_october(
    logged_in: Login, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, today: date, shown: bool
) -> None:
    monkeypatch.setattr("web.routes.home.local_today", lambda settings: today)
    for user, link in (("admin", "录入 2027 年节假日"), ("county_admin", "查看 2027 年日历"),
                       ("manager", "查看 2027 年日历"), ("supervisor", None), ("officer", None)):
        client, _ = logged_in(user)
        home = client.get("/").text
        expected = shown and link is not None
        assert ('data-testid="calendar-reminder"' in home) is expected, user
        if expected:
            assert f'<a href="/calendar?year=2027#grid">{link}</a>' in home


def test_the_reminder_goes_once_the_year_is_declared(logged_in: Login, org_data: SimpleNamespace,
                                                     monkeypatch: pytest.MonkeyPatch, session: Session) -> None:
    monkeypatch.setattr("web.routes.home.local_today", lambda settings: date(2026, 12, 14))
    client, _ = logged_in("admin")
    assert 'data-testid="calendar-reminder"' in client.get("/").text
    wd.declare_year(session, org_data.principals["admin"], year=2027, notice="国办发明电〔2026〕12号")
    session.commit()
    assert 'data-testid="calendar-reminder"' not in client.get("/").text


@pytest.mark.parametrize("year", ["0", "10000", str(2**63)])
def test_a_year_out_of_range_is_bad_input_naming_the_field(app_client: TestClient, org_data: SimpleNamespace,
                                                           year: str) -> None:
    answer = app_client.get("/api/v1/calendar/overrides", headers=bearer(app_client, "admin"), params={"year": year})
    assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "year"
