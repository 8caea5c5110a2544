"""Scoring reports on the web: the bulletin downloads (PDF read back, Excel cells), the API, the trend charts on a
person's, a window's and one's own page, and the manager's home (ranking, furthest down and why)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from supervision import ledger, scoring
from supervision.db import session_scope
from supervision.models import AuditEntry, Site
from supervision.settings import get_settings
from tests.web.conftest import bearer, login
from web.app import create_app
from web.composition import seed_demo_everything

Client = Callable[[str], tuple[TestClient, str]]


def _last_month() -> date:
    today = datetime.now(get_settings().tz).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def closed_month(engine: Engine, org_data: SimpleNamespace) -> date:
    """Last month, closed and published: 张三 late 25 min (−2) and a bad rating (−2) at 公安窗口; 李四 absent half
    a day (−5); the county's 王五 nothing. Worked by hand: 张三 96, 李四 95; 公安窗口 98 (the rating only)."""
    month = _last_month()
    day = month + timedelta(days=9)
    manager = org_data.principals["manager"]
    with session_scope(engine, write=True) as s:
        for n, (kind, points, staff) in enumerate([("late", -2, org_data.staff), ("bad_rating", -2, org_data.staff),
                                                   ("absent_half_day", -5, org_data.staff2)]):
            reason = ledger.keyed_reason("ledger_reason.attendance_late", day=day.isoformat(), minutes="25") \
                if kind == "late" else "测试"
            ledger.record_entry(s, actor=manager, day=day, kind=kind, points=points, reason=reason,
                                source_kind="test", source_id=f"r-{n}", staff_id=staff, window_id=org_data.window)
    with session_scope(engine, write=True) as s:
        scoring.close_month(s, actor=manager, month=month)
    with session_scope(engine, write=True) as s:
        scoring.publish_month(s, actor=manager, month=month)
    return month


def _english(client: TestClient, csrf: str) -> None:
    assert client.post("/locale", data={"locale": "en", "next": "/", "csrf_token": csrf}).status_code == 303


def _pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))


def test_the_manager_downloads_the_bulletin_pdf_in_both_languages(logged_in: Client, engine: Engine,
                                                                  closed_month: date) -> None:
    client, csrf = logged_in("manager")
    m = f"{closed_month:%Y-%m}"
    response = client.get(f"/scoring/{m}/bulletin.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="bulletin-MY-{m}.pdf"' in response.headers["content-disposition"]
    text = _pdf_text(response.content)
    assert f"绵阳市政务服务中心{m}月度考评通报" in text
    assert "已结账并公布" in text
    ranking = text[text.index("窗口排名"):text.index("人员排名")]
    # The city's rows span the city and its counties: each name carries its centre.
    assert "公安窗口(绵阳市政务服务中心)100.0-2.0098.0" in ranking
    # Furthest down and why: 李四 (95) first, his half day's absence; then 张三 (96).
    assert "人员李四(绵阳市政务服务中心):95.0分" in text and "旷工半天-5.0" in text
    assert "人员张三(绵阳市政务服务中心):96.0分" in text
    _english(client, csrf)
    english = _pdf_text(client.get(f"/scoring/{m}/bulletin.pdf").content)
    assert f"monthlyperformancebulletin{m}" in english and "closedandpublished" in english
    assert "person李四(绵阳市政务服务中心):95.0points" in english
    with session_scope(engine) as s:
        downloads = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "scoring.bulletin_download")).all()
    assert len(downloads) == 2 and all(e.object_id == f"{m}/MY" for e in downloads)


def test_the_workbook_and_the_api(logged_in: Client, app_client: TestClient, org_data: SimpleNamespace,
                                  closed_month: date) -> None:
    client, _ = logged_in("manager")
    m = f"{closed_month:%Y-%m}"
    wb = load_workbook(io.BytesIO(client.get(f"/scoring/{m}/bulletin.xlsx").content))
    assert wb.sheetnames == ["窗口", "人员", "部门", "计分明细"]
    people = {row[1]: row for row in wb["人员"].iter_rows(min_row=4, values_only=True)}
    assert people["李四"][5] == 95 and people["张三"][5] == 96 and people["王五"][5] == 100
    assert (people["王五"][0], people["张三"][0], people["李四"][0]) == (1, 2, 3)
    items = [row for row in wb["计分明细"].iter_rows(min_row=4, values_only=True)]
    assert items[[r[1] for r in items].index("李四")][:3] == ("人员", "李四", "旷工半天")

    headers = bearer(app_client, "county_manager")
    county = app_client.get("/api/v1/monthly-scores/bulletin", params={"month": m, "format": "xlsx"},
                            headers=headers)
    assert county.status_code == 200
    names = {row[1] for row in load_workbook(io.BytesIO(county.content))["人员"].iter_rows(min_row=4,
                                                                                          values_only=True)}
    assert names == {"王五"}  # the county's bulletin: none of the city's people
    pdf = app_client.get("/api/v1/monthly-scores/bulletin", params={"month": m}, headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bad = app_client.get("/api/v1/monthly-scores/bulletin", params={"month": m, "format": "doc"}, headers=headers)
    assert bad.status_code == 422 and "format" in bad.text
    bad_month = app_client.get("/api/v1/monthly-scores/bulletin", params={"month": "2026-13"}, headers=headers)
    assert bad_month.status_code == 422 and "month" in bad_month.text
    outside = app_client.get("/api/v1/monthly-scores/bulletin", params={"month": m, "site_id": org_data.city},
                             headers=headers)
    assert outside.status_code in (403, 404)
    staff = bearer(app_client, "staff")
    assert app_client.get("/api/v1/monthly-scores/bulletin", params={"month": m},
                          headers=staff).status_code == 403


def test_the_trend_on_a_persons_a_windows_and_ones_own_page(logged_in: Client, org_data: SimpleNamespace,
                                                            closed_month: date) -> None:
    client, _ = logged_in("manager")
    m = f"{closed_month:%Y-%m}"
    page = client.get(f"/org/staff/{org_data.staff2}").text
    assert 'data-testid="trend-chart-staff"' in page and f"<title>{m}: 95</title>" in page
    assert f'href="/scoring/{m}/staff/{org_data.staff2}">95.0</a>' in page
    window = client.get(f"/org/windows/{org_data.window}").text
    assert 'data-testid="trend-chart-window"' in window and f"<title>{m}: 98</title>" in window
    alone = client.get(f"/trends/staff/{org_data.staff}")
    assert alone.status_code == 200 and f"<title>{m}: 96</title>" in alone.text
    assert client.get("/trends/post/1").status_code == 422
    county, _ = logged_in("county_manager")
    assert county.get(f"/trends/staff/{org_data.staff}").status_code == 404
    me, me_csrf = logged_in("staff")
    own = me.get("/me").text
    assert 'data-testid="trend-staff"' in own and f"<title>{m}: 96</title>" in own and "我的近 12 个月得分" in own
    assert me.get(f"/trends/staff/{org_data.staff2}").status_code == 404
    _english(me, me_csrf)
    assert "My scores over the last 12 months" in me.get("/me").text


def test_the_managers_home_shows_the_month_the_ranking_and_who_is_furthest_down(
        logged_in: Client, org_data: SimpleNamespace, closed_month: date) -> None:
    client, csrf = logged_in("manager")
    m = f"{closed_month:%Y-%m}"
    home = client.get("/", params={"month": m})
    assert home.status_code == 200
    text = home.text
    assert f"{m} 考评得分" in text and "该月已结账并公布" in text
    bottom = text[text.index('data-testid="bottom-staff"'):]
    bottom = bottom[:bottom.index("</table>")]
    assert "李四" in bottom and "95.0" in bottom
    down = text[text.index('data-testid="furthest-down"'):]
    down = down[:down.index("</ul>")]
    link = f'href="/scoring/{m}/staff/{org_data.staff2}">人员 李四(绵阳市政务服务中心)</a>'
    assert f"{link}: <strong>95.0</strong>" in down
    assert "旷工半天 -5.0" in down and "迟到超过 10 分钟 -2.0" in down
    assert f'href="/scoring/{m}/bulletin.pdf"' in text
    month_page = client.get("/scoring", params={"month": m}).text
    assert f'href="/scoring/{m}/bulletin.xlsx"' in month_page
    assert f'href="/scoring/{m}/bulletin.pdf?site_id={org_data.county}"' in client.get(
        "/scoring", params={"month": m, "site_id": org_data.county}).text
    # This month: nothing closed, the scores are provisional.
    now = client.get("/").text
    assert "该月尚未结账,得分为暂定" in now
    assert client.get("/", params={"month": "2026-1x"}).status_code == 422
    _english(client, csrf)
    english = client.get("/", params={"month": m}).text
    assert "Furthest down, and why" in english and "absent half a day -5.0" in english


def test_every_demo_manager_and_staff_finds_the_reports(engine: Engine) -> None:
    """The demo as `serve --demo` seeds it: the past three months closed and published at the city, so each
    manager's home ranks their own jurisdiction with reasons, their bulletin names their centre, and window staff
    see their own trend on /me."""
    settings = get_settings()
    seed_demo_everything(engine, settings)
    m = f"{_last_month():%Y-%m}"
    with session_scope(engine) as s:
        names = {site.code: site.name for site in s.exec(select(Site)).all()}
    for username, code in (("manager", "MY"), ("manager_jy", "MY-JY")):
        with TestClient(create_app(settings, engine, migrate=False, services=[]), follow_redirects=False) as client:
            login(client, username, settings.demo_password)
            home = client.get("/", params={"month": m}).text
            assert "该月已结账并公布" in home, username
            assert 'data-testid="top-windows"' in home and 'data-testid="furthest-down"' in home, username
            pdf = client.get(f"/scoring/{m}/bulletin.pdf")
            assert pdf.status_code == 200
            assert f"{names[code]}{m}月度考评通报" in _pdf_text(pdf.content), username
    for username in ("staff", "staff_town"):
        with TestClient(create_app(settings, engine, migrate=False, services=[]), follow_redirects=False) as client:
            login(client, username, settings.demo_password)
            me = client.get("/me").text
            assert f"<title>{m}: " in me, username  # last month's published score is a point of the chart
