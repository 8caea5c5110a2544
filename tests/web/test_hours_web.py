"""Office hours and leave on the web: pages, forms, the JSON API, refusals by field and by jurisdiction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision import leave
from supervision.leave import LeaveStatus
from supervision.workdays import WorkCalendar
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]


def _working_monday(weeks: int) -> date:
    """A Monday some weeks ahead that is a working day, with the Tuesday after it."""
    today = date.today()
    day = today + timedelta(days=7 * weeks - today.weekday())
    calendar = WorkCalendar()
    while not (calendar.is_workday(day).value and calendar.is_workday(day + timedelta(days=1)).value):
        day += timedelta(days=7)
    return day


def test_a_staff_request_through_the_managers_queue(engine: Engine, logged_in: Login,
                                                    org_data: SimpleNamespace) -> None:
    start = _working_monday(2)
    staff, staff_csrf = logged_in("staff")
    me = staff.get("/me")
    assert me.status_code == 200 and 'data-testid="leave-form"' in me.text and "年休假" in me.text
    asked = staff.post("/me/leave", data={"csrf_token": staff_csrf, "kind": "sick", "start_day": start.isoformat(),
                                          "end_day": (start + timedelta(days=1)).isoformat(), "end_am": "1",
                                          "reason": "发烧就医"})
    assert asked.status_code == 303, asked.text
    me = staff.get("/me")
    assert "病假" in me.text and "待审批" in me.text and "1.5" in me.text

    manager, manager_csrf = logged_in("manager")
    queue = manager.get("/leave")
    assert queue.status_code == 200 and "张三" in queue.text and "发烧就医" in queue.text
    with Session(engine) as s:
        rows = leave.requests_in_jurisdiction(s, org_data.principals["manager"])
    request_id = rows[0][0].id
    decided = manager.post(f"/leave/{request_id}/decision",
                           data={"csrf_token": manager_csrf, "approve": "1", "note": "注意休息"})
    assert decided.status_code == 303, decided.text
    me = staff.get("/me")
    assert "已批准" in me.text and "注意休息" in me.text
    with Session(engine) as s:
        away = leave.absences(s, staff_ids=[org_data.staff], start=start, end=start + timedelta(days=1))
    assert {d: a.half for (_, d), a in away.items()} == {start: None, start + timedelta(days=1): "am"}
    # The county manager never sees it, on the page or by id.
    county, county_csrf = logged_in("county_manager")
    assert "张三" not in county.get("/leave").text
    assert county.post(f"/leave/{request_id}/decision",
                       data={"csrf_token": county_csrf, "approve": "0"}).status_code == 404
    # Cancelled by the requester before it starts.
    cancelled = staff.post(f"/me/leave/{request_id}/cancel", data={"csrf_token": staff_csrf})
    assert cancelled.status_code == 303
    with Session(engine) as s:
        assert leave.get_request(s, org_data.principals["staff"], request_id=request_id).status == LeaveStatus.CANCELLED


def test_bad_leave_forms_and_overlaps_are_refused_with_the_field(logged_in: Login, app_client: TestClient,
                                                                  org_data: SimpleNamespace) -> None:
    start = _working_monday(3)
    staff, csrf = logged_in("staff")
    backwards = staff.post("/me/leave", data={"csrf_token": csrf, "kind": "personal", "start_day": start.isoformat(),
                                              "end_day": (start - timedelta(days=3)).isoformat(), "reason": "留着"})
    assert backwards.status_code == 422
    assert "结束日期" in backwards.text and "结束不能早于开始" in backwards.text
    assert 'value="留着"' in backwards.text  # nothing typed is lost
    no_date = staff.post("/me/leave", data={"csrf_token": csrf, "kind": "personal", "start_day": "明天",
                                            "end_day": start.isoformat()})
    assert no_date.status_code == 422 and "开始日期" in no_date.text

    headers = bearer(app_client, "staff")
    body = {"kind": "trip", "start_day": start.isoformat(), "end_day": (start + timedelta(days=1)).isoformat()}
    first = app_client.post("/api/v1/leave-requests", headers=headers, json=body)
    assert first.status_code == 201 and first.json()["days"] == 2 and first.json()["status"] == "pending"
    again = app_client.post("/api/v1/leave-requests", headers=headers, json={**body, "kind": "sick"})
    assert again.status_code == 409
    assert f"#{first.json()['id']}" in again.json()["error"]["message"]
    bad_kind = app_client.post("/api/v1/leave-requests", headers=headers, json={**body, "kind": "holiday"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.text
    # A person with no staff record cannot ask; an officer cannot decide.
    officer = bearer(app_client, "officer")
    assert app_client.post("/api/v1/leave-requests", headers=officer, json=body).status_code == 403
    assert app_client.post(f"/api/v1/leave-requests/{first.json()['id']}/decision", headers=officer,
                           json={"approve": True}).status_code == 403
    mine = app_client.get("/api/v1/leave-requests", headers=headers).json()
    assert [r["id"] for r in mine["data"]] == [first.json()["id"]]
    manager = bearer(app_client, "manager")
    queue = app_client.get("/api/v1/leave-requests", headers=manager, params={"scope": "queue"}).json()
    assert [r["staff_name"] for r in queue["data"]] == ["张三"]
    detail = app_client.get(f"/api/v1/leave-requests/{first.json()['id']}", headers=manager)
    assert detail.status_code == 200
    county = bearer(app_client, "county_manager")
    assert app_client.get(f"/api/v1/leave-requests/{first.json()['id']}", headers=county).status_code == 404
    assert app_client.get("/api/v1/leave-requests", headers=county, params={"scope": "jurisdiction"}).json() == {
        "data": [], "count": 0}


def test_the_annual_balance_by_api(app_client: TestClient, org_data: SimpleNamespace) -> None:
    staff = bearer(app_client, "staff")
    year = date.today().year
    empty = app_client.get("/api/v1/leave-balance", headers=staff, params={"year": year}).json()
    assert empty["entitled"] == 0 and empty["service_start"] is None
    county = bearer(app_client, "county_manager")
    assert app_client.put(f"/api/v1/leave-profiles/{org_data.staff}", headers=county,
                          json={"service_start": "2000-03-01"}).status_code == 404
    assert app_client.put(f"/api/v1/leave-profiles/{org_data.staff}", headers=staff,
                          json={"service_start": "2000-03-01"}).status_code == 403
    manager = bearer(app_client, "manager")
    put = app_client.put(f"/api/v1/leave-profiles/{org_data.staff}", headers=manager,
                         json={"service_start": f"{year - 12}-03-01"})
    assert put.status_code == 200
    balance = app_client.get("/api/v1/leave-balance", headers=staff, params={"year": year}).json()
    assert balance["entitled"] == 10 and balance["remaining"] == 10  # 11 full years on 1 January
    by_manager = app_client.get("/api/v1/leave-balance", headers=manager,
                                params={"year": year, "staff_id": org_data.staff}).json()
    assert by_manager["entitled"] == 10
    assert app_client.get("/api/v1/leave-balance", headers=county,
                          params={"year": year, "staff_id": org_data.staff}).status_code == 404


WEEKDAY_HOURS = [{"season": "winter", "weekday": d, "start": "08:30", "end": "12:00"} for d in range(5)] + [
    {"season": "winter", "weekday": d, "start": "13:00", "end": "17:00"} for d in range(5)] + [
    {"season": "summer", "weekday": d, "start": "08:30", "end": "12:00"} for d in range(5)] + [
    {"season": "summer", "weekday": d, "start": "15:00", "end": "18:00"} for d in range(5)]


def test_office_hours_by_api_admins_write_others_read(app_client: TestClient, org_data: SimpleNamespace) -> None:
    county_admin = bearer(app_client, "county_admin")
    body = {"summer_start": "06-01", "summer_end": "08-31", "periods": WEEKDAY_HOURS, "note": "涪城区作息"}
    assert app_client.put(f"/api/v1/office-hours/{org_data.city}", headers=county_admin, json=body).status_code == 404
    manager = bearer(app_client, "county_manager")
    assert app_client.put(f"/api/v1/office-hours/{org_data.county}", headers=manager, json=body).status_code == 403
    put = app_client.put(f"/api/v1/office-hours/{org_data.county}", headers=county_admin, json=body)
    assert put.status_code == 200, put.text
    town = app_client.get(f"/api/v1/office-hours/{org_data.township}", headers=manager).json()
    assert town["own"] is False and town["inherited_from"] == org_data.county and town["summer_start"] == "06-01"
    days = app_client.get(f"/api/v1/office-hours/{org_data.township}/days", headers=manager,
                          params={"start": "2026-06-01", "end": "2026-06-07"}).json()
    assert [d["day"] for d in days["data"]] == ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05"]
    assert days["data"][0]["periods"] == [["08:30", "12:00"], ["15:00", "18:00"]]
    opened = app_client.get(f"/api/v1/office-hours/{org_data.township}/open", headers=manager,
                            params={"at": "2026-06-01T07:30:00Z"}).json()  # 15:30 in Shanghai
    assert opened["open"] is True
    lunch = app_client.get(f"/api/v1/office-hours/{org_data.township}/open", headers=manager,
                           params={"at": "2026-06-01T14:00:00+08:00"}).json()
    assert lunch["open"] is False
    bad = app_client.put(f"/api/v1/office-hours/{org_data.county}", headers=county_admin,
                         json={**body, "summer_end": "13-01"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "summer_end"
    overlap = app_client.put(f"/api/v1/office-hours/{org_data.county}", headers=county_admin, json={
        **body, "periods": [*WEEKDAY_HOURS, {"season": "winter", "weekday": 0, "start": "11:00", "end": "14:00"}]})
    assert overlap.status_code == 422 and overlap.json()["error"]["fields"][0]["field"] == "periods"
    aware = app_client.put(f"/api/v1/office-hours/{org_data.county}", headers=county_admin, json={
        **body, "periods": [{"season": "winter", "weekday": 0, "start": "09:00+08:00", "end": "12:00"}]})
    assert aware.status_code == 422 and "periods" in aware.json()["error"]["fields"][0]["field"]
    ancient = app_client.get(f"/api/v1/office-hours/{org_data.county}/days", headers=manager,
                             params={"start": "0001-01-01", "end": "0001-01-31"})
    assert ancient.status_code == 422 and ancient.json()["error"]["fields"][0]["field"] == "start"
    naive = app_client.get(f"/api/v1/office-hours/{org_data.county}/open", headers=manager,
                           params={"at": "2026-06-01T14:00:00"})
    assert naive.status_code == 422 and naive.json()["error"]["fields"][0]["field"] == "at"
    for far in ("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00"):
        beyond = app_client.get(f"/api/v1/office-hours/{org_data.county}/open", headers=manager, params={"at": far})
        assert beyond.status_code == 422 and beyond.json()["error"]["fields"][0]["field"] == "at", far
    staff = bearer(app_client, "staff")
    assert app_client.get(f"/api/v1/office-hours/{org_data.city}", headers=staff).status_code == 403
    assert app_client.delete(f"/api/v1/office-hours/{org_data.county}", headers=county_admin).status_code == 204
    town = app_client.get(f"/api/v1/office-hours/{org_data.township}", headers=manager).json()
    assert town["inherited_from"] is None  # the built-in default again


def test_office_hours_page_form(logged_in: Login, org_data: SimpleNamespace) -> None:
    admin, csrf = logged_in("county_admin")
    page = admin.get("/office-hours", params={"site_id": org_data.county})
    assert page.status_code == 200 and 'data-testid="office-hours-form"' in page.text
    assert "沿用系统默认作息" in page.text and 'value="09:00-12:00 13:30-17:00"' in page.text
    assert "绵阳市政务服务中心" not in page.text
    form = {"csrf_token": csrf, "summer_start": "06-01", "summer_end": "08-31", "note": "夏令时"}
    form.update({f"winter_{d}": "08:30-12:00 13:00-17:00" for d in range(5)})
    form.update({f"summer_{d}": "08:30-12:00 15:00-18:00" for d in range(5)})
    form["winter_2_ext"] = "17:00-19:00"
    bad = admin.post(f"/office-hours/{org_data.county}", data={**form, "winter_1": "8点半到12点"})
    assert bad.status_code == 422 and "冬季星期二" in bad.text and 'value="8点半到12点"' in bad.text
    saved = admin.post(f"/office-hours/{org_data.county}", data=form)
    assert saved.status_code == 303, saved.text
    town = admin.get("/office-hours", params={"site_id": org_data.township})
    assert "沿用涪城区政务服务中心的作息表" in town.text
    manager, _ = logged_in("manager")
    read = manager.get("/office-hours", params={"site_id": org_data.county})
    assert read.status_code == 200 and "本站点有自己的作息表" in read.text
    assert 'data-testid="office-hours-form"' not in read.text
    outside, _ = logged_in("county_manager")
    assert outside.get("/office-hours", params={"site_id": org_data.city}).status_code == 404


def test_the_manager_records_service_starts_and_sees_the_balance_beside_annual_leave(
        logged_in: Login, org_data: SimpleNamespace) -> None:
    manager, csrf = logged_in("manager")
    page = manager.get("/leave")
    assert 'data-testid="service-start-form"' in page.text and "张三" in page.text
    bad = manager.post("/leave/service-start", data={"csrf_token": csrf, "staff_id": str(org_data.staff),
                                                     "service_start": "1900-01-01"})
    assert bad.status_code == 422 and "参加工作时间" in bad.text and 'value="1900-01-01"' in bad.text
    year = date.today().year
    saved = manager.post("/leave/service-start", data={"csrf_token": csrf, "staff_id": str(org_data.staff),
                                                       "service_start": f"{year - 25}-05-01"})
    assert saved.status_code == 303
    county, county_csrf = logged_in("county_manager")
    assert "张三" not in county.get("/leave").text
    assert county.post("/leave/service-start", data={"csrf_token": county_csrf, "staff_id": str(org_data.staff),
                                                     "service_start": "2001-05-01"}).status_code == 404
    staff, staff_csrf = logged_in("staff")
    start = _working_monday(4)
    asked = staff.post("/me/leave", data={"csrf_token": staff_csrf, "kind": "annual", "start_day": start.isoformat(),
                                          "end_day": (start + timedelta(days=1)).isoformat()})
    assert asked.status_code == 303, asked.text
    # 24 or 25 full years on 1 January: 15 days, 2 of them asked (the queue shows the year of the leave).
    assert "年休假剩余 13 / 15 天" in manager.get("/leave").text
    if start.year == year:  # /me shows this year's
        assert "剩余 13 天" in staff.get("/me").text
