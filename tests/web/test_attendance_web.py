"""Attendance on the web: the gateway push with a machine token, the manager's pages, staff's own month and
补卡 through the manager's approval, the import form's row report, and refusals naming the field."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from supervision import accounts, attendance
from supervision.attendance import AttendanceDay, DayStatus, Punch
from supervision.db import session_scope
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


def _token(engine: Engine, site: int, scopes: list[str]) -> dict[str, str]:
    with session_scope(engine, write=True) as s:
        secret, _ = accounts.create_api_token(s, SYSTEM, {"name": "考勤网关", "scopes": scopes, "site_id": site})
    return {"Authorization": f"Bearer {secret}"}


def test_gateway_push_is_idempotent_and_needs_its_scope(app_client: TestClient, engine: Engine,
                                                        org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    body = {"punches": [
        {"staff_code": "S001", "punched_at": f"{day}T08:55:00", "device": "ZK-01", "record_id": "1001",
         "verify_mode": "face"},
        {"staff_code": "NOBODY", "punched_at": f"{day}T08:56:00", "device": "ZK-01", "record_id": "1002"}]}
    headers = _token(engine, org_data.city, ["attendance:push"])
    first = app_client.post("/api/v1/attendance/punches", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], [u["staff_code"] for u in first.json()["unknown"]]) == (1, ["NOBODY"])
    again = app_client.post("/api/v1/attendance/punches", json=body, headers=headers)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1)
    too_many = {"punches": [dict(body["punches"][0], record_id=str(i)) for i in range(501)]}
    refused = app_client.post("/api/v1/attendance/punches", json=too_many, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "punches"
    # Years no terminal means (a reset clock, a typo) are refused by row, never a server error.
    odd = app_client.post("/api/v1/attendance/punches", headers=headers, json={"punches": [
        {"staff_code": "S001", "punched_at": "0001-01-01T00:00:00+14:00", "device": "ZK-01", "record_id": "o1"},
        {"staff_code": "S001", "punched_at": "9999-12-31T23:59:59-12:00", "device": "ZK-01", "record_id": "o2"}]})
    assert odd.status_code == 200 and [r["row"] for r in odd.json()["refused"]] == [1, 2]
    wrong_scope = app_client.post("/api/v1/attendance/punches", json=body,
                                  headers=_token(engine, org_data.city, ["ratings:push"]))
    assert wrong_scope.status_code == 403
    # The token may push, not read.
    listed = app_client.get(f"/api/v1/attendance/punches?start={day}&end={day}", headers=headers)
    assert listed.status_code == 403
    with session_scope(engine) as s:
        assert len(s.exec(select(Punch)).all()) == 1


def _computed(engine: Engine, org: SimpleNamespace, day: date) -> None:
    with session_scope(engine, write=True) as s:
        attendance.push_punches(s, actor=org.principals["manager"], batch=attendance.PunchBatch(punches=[
            attendance.PunchIn(staff_code="S001", punched_at=datetime.combine(day, datetime.min.time()).replace(
                hour=9, minute=25), device="ZK-01", record_id="g1")]))
        attendance.compute_days(s, actor=SYSTEM, start=day, end=day)


def test_manager_month_grid_and_a_persons_month(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    _computed(engine, org_data, day)
    client, _ = logged_in("manager")
    page = client.get(f"/attendance?month={day:%Y-%m}")
    assert page.status_code == 200
    assert page.template.name == "attendance/grid.html"  # type: ignore[attr-defined]
    rows = {r.name: r for r in page.context["grid"].rows}  # type: ignore[attr-defined]
    assert rows["张三"].cells[day].status == DayStatus.MISSED_PUNCH and rows["李四"].totals.absent_halves == 2
    assert "缺卡" in page.text and "missed_punch</" not in page.text
    by_dept = client.get(f"/attendance?month={day:%Y-%m}&department_id={org_data.dept}")
    assert [r.name for r in by_dept.context["grid"].rows] == ["张三"]  # type: ignore[attr-defined]
    person = client.get(f"/attendance/staff/{org_data.staff}?month={day:%Y-%m}")
    assert person.status_code == 200 and "缺卡 1 次" in person.text
    rates = client.get("/attendance/rates")
    assert rates.status_code == 200 and "<svg" in rates.text
    county, _ = logged_in("county_manager")
    assert county.get(f"/attendance/staff/{org_data.staff}").status_code == 404
    assert "张三" not in county.get(f"/attendance?month={day:%Y-%m}").text


def test_staff_asks_for_a_missed_punch_and_the_manager_approves(logged_in: Login, engine: Engine,
                                                              org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    _computed(engine, org_data, day)
    staff, staff_csrf = logged_in("staff")
    assert staff.get("/attendance").status_code == 403
    assert staff.get(f"/attendance/staff/{org_data.staff2}").status_code == 404
    own = staff.get(f"/attendance/me?month={day:%Y-%m}")
    assert own.status_code == 200 and "缺卡" in own.text
    bad = staff.post("/attendance/corrections", data={"csrf_token": staff_csrf, "day": str(day),
                                                       "punch_time": "25:99", "reason": "忘记打卡"})
    assert bad.status_code == 422 and "补卡时间" in bad.text
    asked = staff.post("/attendance/corrections", data={"csrf_token": staff_csrf, "day": str(day),
                                                         "punch_time": "17:05", "reason": "考勤机未识别"})
    assert asked.status_code == 303
    manager, csrf = logged_in("manager")
    queue = manager.get("/attendance/corrections")
    assert "考勤机未识别" in queue.text
    request_id = queue.context["rows"][0].id  # type: ignore[attr-defined]
    decided = manager.post(f"/attendance/corrections/{request_id}/decide", data={"csrf_token": csrf, "approve": "1"})
    assert decided.status_code == 303
    with session_scope(engine) as s:
        row = s.exec(select(AttendanceDay).where(col(AttendanceDay.staff_id) == org_data.staff,
                                                 col(AttendanceDay.day) == day)).one()
    # 9:25 in and 17:05 out: 25 minutes late, no longer a missed punch.
    assert (row.status, row.late_minutes, row.missed_punches) == (DayStatus.LATE, 25, 0)


def test_import_form_reports_rows_and_the_api_names_fields(logged_in: Login, engine: Engine,
                                                          org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    manager, csrf = logged_in("manager")
    out = io.StringIO()
    csv.writer(out).writerows([["工号", "打卡时间", "设备"], ["S001", f"{day} 08:58", "ZK-9"],
                               ["S002", "明天", "ZK-9"]])
    bad = manager.post("/attendance/import", data={"csrf_token": csrf},
                       files={"file": ("punches.csv", out.getvalue().encode(), "text/csv")})
    assert bad.status_code == 422 and "第 3 行" in bad.text and "打卡时间" in bad.text
    good = manager.post("/attendance/import", data={"csrf_token": csrf}, files={
        "file": ("punches.csv", f"工号,打卡时间,设备\nS001,{day} 08:58,ZK-9\nQ-1,{day} 09:00,ZK-9\n".encode(),
                 "text/csv")})
    assert good.status_code == 200 and "已保存 1 条" in good.text and "Q-1" in good.text
    unknown = manager.get("/attendance/unknown")
    assert "Q-1" in unknown.text
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=SYSTEM, start=day, end=day)
        day_id = s.exec(select(AttendanceDay.id).where(col(AttendanceDay.staff_id) == org_data.staff)).one()
    token = manager.post("/api/v1/auth/token", data={"username": "manager", "password": "test-pass-123"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    wrong = manager.post(f"/api/v1/attendance/days/{day_id}/correction", headers=headers,
                         json={"status": "asleep", "reason": "x"})
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "status"
    ok = manager.post(f"/api/v1/attendance/days/{day_id}/correction", headers=headers,
                      json={"status": "present", "reason": "考勤机故障"})
    assert ok.status_code == 200 and ok.json()["corrected"] is True


def test_a_managers_look_at_someones_day_is_audited(logged_in: Login, engine: Engine,
                                                   org_data: SimpleNamespace) -> None:
    from supervision.models import AuditEntry

    day = _workday(engine)
    _computed(engine, org_data, day)
    with session_scope(engine) as s:
        day_id = s.exec(select(AttendanceDay.id).where(col(AttendanceDay.staff_id) == org_data.staff)).one()
    manager, _ = logged_in("manager")
    assert manager.get(f"/attendance/days/{day_id}").status_code == 200
    assert manager.get(f"/attendance/staff/{org_data.staff}?month={day:%Y-%m}").status_code == 200
    with session_scope(engine) as s:
        actions = [a for a in s.exec(select(AuditEntry.action)).all() if a.startswith("attendance.view")]
    assert sorted(actions) == ["attendance.view_day", "attendance.view_person"]
