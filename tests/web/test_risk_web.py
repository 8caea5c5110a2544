"""The risk register's pages and API: roles and jurisdiction, forms that name the field and keep the input,
reviews and checks (with evidence, audited), import and export, the home panels."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import risk
from supervision.access import ROLE_PERMISSIONS
from supervision.db import session_scope
from supervision.models import AuditEntry, Role
from supervision.settings import get_settings
from tests.conftest import SYSTEM
from tests.web.conftest import bearer, csrf_of, login
from tests.web.role_targets_risk import MEASURE_CONTENT, PDF, POINT_NAME, targets
from tests.web.test_role_routes import _body, _call, _fill, _requirement, _routes, world  # noqa: F401  (fixture)
from web.app import create_app

Login = Callable[[str], tuple[TestClient, str]]
RISK_PREFIXES = ("/risk", "/api/v1/risk", "/api/v1/countermeasures")


def _objects(engine: Engine, org: SimpleNamespace) -> SimpleNamespace:
    values, _ = targets(engine, org)
    return SimpleNamespace(**values)


def _point_form(org: SimpleNamespace, **over: Any) -> dict[str, Any]:
    data = {"code": "WEB-FX-1", "name": "网页新增风险点", "post_id": str(org.post), "category": "duty",
            "level": "2", "grading_basis": "审核环节", "manifestation": "放宽条件", "power": "户口登记",
            "process_step": "审核", "direct_responsible_id": str(org.staff)}
    data.update(over)
    return data


# --- roles and jurisdiction on the register's own routes (the full walk is test_role_routes) --------------


def test_risk_routes_by_role_and_jurisdiction(engine: Engine, world: SimpleNamespace) -> None:  # noqa: F811
    app = create_app(get_settings(), engine, migrate=False, services=[])
    routes = [(m, p, r) for m, p, r in _routes(app) if p.startswith(RISK_PREFIXES)]
    assert len(routes) > 25
    failures: list[str] = []
    for username in ("officer", "staff", "county_officer", "county_manager"):
        granted = ROLE_PERMISSIONS[Role(world.principals[username].role)]
        with TestClient(app, follow_redirects=False) as client:
            csrf = login(client, username)
            headers = bearer(client, username)
            for method, path, route in routes:
                _, perms = _requirement(route)
                for url in _fill(path, world):
                    response = _call(client, method, url, _body(world, method, path, url), headers=headers, csrf=csrf)
                    status = response.status_code
                    where = f"{username} {method} {url} -> {status}"
                    if not perms <= granted and status != 403:
                        failures.append(f"{where}: expected 403")
                    elif username.startswith("county_"):
                        if method != "GET" and status < 400:
                            failures.append(f"{where}: a change outside the jurisdiction went through")
                        if method == "GET" and status == 200:
                            leaked = [n for n in world.city_only if n in response.text]
                            if leaked:
                                failures.append(f"{where}: shows city data {leaked}")
                    if status >= 500:
                        failures.append(f"{where}: server error")
    assert failures == [], "\n".join(failures)


# --- pages ------------------------------------------------------------------------------------------


def test_register_heat_and_print_pages(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    client, _ = logged_in("manager")
    page = client.get(f"/risk?department_id={org_data.dept}&level=1&category=duty")
    assert page.status_code == 200
    assert page.template.name == "risk/register.html"
    assert [r.id for r in page.context["rows"]] == [ids.point_id]
    assert POINT_NAME in page.text and "一级" in page.text
    assert client.get("/risk?level=3").context["rows"] == []
    assert client.get("/risk?flag=no_measures&level=x&category=nonsense").status_code == 200
    heat = client.get("/risk/heat")
    assert heat.status_code == 200 and 'data-level="1"' in heat.text and "市公安局" in heat.text
    printable = client.get("/risk/print")
    assert printable.status_code == 200 and POINT_NAME in printable.text and MEASURE_CONTENT in printable.text
    assert "@media print" in client.get("/static/risk.css").text
    # A manager reads but does not write.
    assert "new-point" not in page.text
    assert client.get("/risk/points/new").status_code == 403


def test_window_staff_see_their_own_post_only(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    client, _ = logged_in("staff")
    home = client.get("/")
    assert POINT_NAME in home.text and 'data-panel="risk_own_post"' in home.text
    assert client.get("/risk/my-post").headers["location"] == f"/risk/posts/{org_data.post}"
    post = client.get(f"/risk/posts/{org_data.post}")
    assert post.status_code == 200 and POINT_NAME in post.text and MEASURE_CONTENT in post.text
    assert client.get(f"/risk/points/{ids.point_id}").status_code == 200
    assert client.get(f"/risk/measures/{ids.measure_id}").status_code == 200
    assert client.get(f"/risk/posts/{org_data.county_post}").status_code == 404
    assert client.get("/risk").status_code == 403
    api = client.get("/api/v1/risk-points", headers=bearer(client, "staff")).json()
    assert [p["name"] for p in api["data"]] == [POINT_NAME]


def test_point_form_names_the_field_and_keeps_the_input(logged_in: Login, engine: Engine,
                                                        org_data: SimpleNamespace) -> None:
    _objects(engine, org_data)
    client, csrf = logged_in("officer")
    form = client.get("/risk/points/new")
    assert form.status_code == 200
    bad = client.post("/risk/points/new", data={**_point_form(org_data, code="RW-FX-1", grading_basis=""),
                                                "csrf_token": csrf})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.context["problems"]}
    assert {"code", "grading_basis"} <= fields
    assert 'value="网页新增风险点"' in bad.text and "放宽条件" in bad.text
    ok = client.post("/risk/points/new", data={**_point_form(org_data), "csrf_token": csrf})
    assert ok.status_code == 303, ok.text
    point_url = ok.headers["location"].split("?")[0]
    page = client.get(point_url)
    assert "网页新增风险点" in page.text and "二级" in page.text
    point_id = int(point_url.rsplit("/", 1)[1])
    edit = client.post(f"/risk/points/{point_id}/edit",
                       data={**_point_form(org_data, name="", manifestation="改后的表现"), "csrf_token": csrf})
    assert edit.status_code == 422 and "改后的表现" in edit.text
    assert client.post(f"/risk/points/{point_id}/edit",
                       data={**_point_form(org_data, name="改名后的风险点"), "csrf_token": csrf}).status_code == 303
    assert "改名后的风险点" in client.get(point_url).text


def test_review_regrades_and_keeps_history(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    client, csrf = logged_in("officer")
    today = date.today().isoformat()
    refused = client.post(f"/risk/points/{ids.point_id}/reviews", data={
        "csrf_token": csrf, "reviewed_on": today, "outcome": "regraded", "level": "1", "grading_basis": ""})
    assert refused.status_code == 422
    assert {p["field"] for p in refused.context["problems"]} == {"level", "grading_basis"}
    done = client.post(f"/risk/points/{ids.point_id}/reviews", data={
        "csrf_token": csrf, "reviewed_on": today, "outcome": "regraded", "level": "2",
        "grading_basis": "审批权上收,改为二级", "trigger": "duties_changed", "notes": "年度复核"})
    assert done.status_code == 303, done.text
    page = client.get(f"/risk/points/{ids.point_id}")
    assert "一级 → 二级" in page.text and "审批权上收" in page.text
    before = client.post(f"/risk/points/{ids.point_id}/reviews", data={
        "csrf_token": csrf, "reviewed_on": (date.today() - timedelta(days=5)).isoformat(), "outcome": "confirmed"})
    assert before.status_code == 422 and "reviewed_on" in before.text


def test_check_with_evidence_and_audited_download(logged_in: Login, engine: Engine,
                                                  org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    client, csrf = logged_in("officer")
    wrong = client.post(f"/risk/measures/{ids.measure_id}/checks",
                        data={"csrf_token": csrf, "checked_on": date.today().isoformat(), "checker_name": "王检查",
                              "result": "partly"},
                        files={"evidence": ("记录.pdf", b"not a pdf", "application/pdf")})
    assert wrong.status_code == 422 and "evidence" in {p["field"] for p in wrong.context["problems"]}
    assert 'value="王检查"' in wrong.text
    ok = client.post(f"/risk/measures/{ids.measure_id}/checks",
                     data={"csrf_token": csrf, "checked_on": date.today().isoformat(), "checker_name": "王检查",
                           "result": "partly", "notes": "抽查 20 件"},
                     files={"evidence": ("记录.pdf", PDF + b"2", "application/pdf")})
    assert ok.status_code == 303, ok.text
    page = client.get(f"/risk/measures/{ids.measure_id}")
    assert "抽查 20 件" in page.text and "部分有效" in page.text
    download = client.get(f"/risk/checks/{ids.check_id}/evidence")
    assert download.status_code == 200 and download.content == PDF
    with Session(engine) as s:
        views = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "risk.evidence.view")).all()
    assert [v.object_id for v in views] == [str(ids.check_id)]


def test_measure_form_errors_and_create(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    client, csrf = logged_in("officer")
    bad = client.post("/risk/measures/new", data={"csrf_token": csrf, "code": "WEB-CS-1", "content": "每月抽查",
                                                  "measure_type": "supervision", "owner_id": "",
                                                  "check_frequency": "", "point_ids": str(ids.point_id)})
    assert bad.status_code == 422
    assert {"owner_id", "check_frequency"} <= {p["field"] for p in bad.context["problems"]}
    assert "每月抽查" in bad.text
    ok = client.post("/risk/measures/new", data={"csrf_token": csrf, "code": "WEB-CS-1", "content": "每月抽查",
                                                 "measure_type": "supervision", "owner_id": str(org_data.staff2),
                                                 "check_frequency": "monthly", "point_ids": str(ids.point_id)})
    assert ok.status_code == 303, ok.text
    assert "WEB-CS-1" in client.get(f"/risk/points/{ids.point_id}").text


def test_import_template_export_and_row_errors(logged_in: Login, engine: Engine,
                                               org_data: SimpleNamespace) -> None:
    _objects(engine, org_data)
    client, csrf = logged_in("officer")
    template = client.get("/risk/template.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")
    exported = client.get(f"/risk/export.xlsx?department_id={org_data.dept}")
    assert exported.status_code == 200
    wb = load_workbook(io.BytesIO(exported.content))
    ws = wb.worksheets[0]
    assert any(cell.value == "RW-FX-1" for row in ws.iter_rows() for cell in row)
    # The same rows again: duplicate codes, refused row by row, nothing saved.
    refused = client.post("/risk/import", data={"csrf_token": csrf},
                          files={"file": ("register.xlsx", exported.content, risk.XLSX_TYPE)})
    assert refused.status_code == 422
    problems = refused.context["problems"]
    assert problems and all(p.get("row") for p in problems)
    # Renamed codes import in full.
    for sheet in wb.worksheets[:2]:
        for row in sheet.iter_rows(min_row=2):
            if isinstance(row[0].value, str) and row[0].value.startswith("RW-"):
                row[0].value = row[0].value.replace("RW-", "IM-")
        if sheet is wb.worksheets[1]:
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if isinstance(cell.value, str) and "RW-FX-1" in cell.value:
                        cell.value = cell.value.replace("RW-", "IM-")
    buf = io.BytesIO()
    wb.save(buf)
    done = client.post("/risk/import", data={"csrf_token": csrf},
                       files={"file": ("register.xlsx", buf.getvalue(), risk.XLSX_TYPE)})
    assert done.status_code == 200, done.text
    assert done.context["result"].points == 1
    assert client.post("/risk/import", data={"csrf_token": csrf}).status_code == 422


def test_officer_home_lists_reminders_and_closes_one(logged_in: Login, engine: Engine,
                                                     org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    client, csrf = logged_in("officer")
    home = client.get("/")
    assert 'data-panel="risk_reminders"' in home.text and "RW-FX-1" in home.text
    closed = client.post(f"/risk/reminders/{ids.reminder_id}/close", data={"csrf_token": csrf})
    assert closed.status_code == 303
    with session_scope(engine) as s:
        rows, _ = risk.list_reminders(s, SYSTEM, include_done=True, limit=50)
    assert any(r.id == ids.reminder_id and r.done for r in rows)


# --- API --------------------------------------------------------------------------------------------


def test_api_lists_gets_creates_and_updates(app_client: TestClient, engine: Engine,
                                            org_data: SimpleNamespace) -> None:
    ids = _objects(engine, org_data)
    officer = bearer(app_client, "officer")
    listed = app_client.get(f"/api/v1/risk-points?post_id={org_data.post}&level=1", headers=officer).json()
    assert listed["count"] == 1 and listed["data"][0]["name"] == POINT_NAME
    assert app_client.get("/api/v1/risk-points?level=7", headers=officer).status_code == 422
    detail = app_client.get(f"/api/v1/risk-points/{ids.point_id}", headers=officer).json()
    assert detail["point"]["code"] == "RW-FX-1" and detail["measures"][0]["code"] == "RW-CS-1"
    created = app_client.post("/api/v1/risk-points", headers=officer, json={
        "code": "API-FX-1", "name": "接口风险点", "post_id": org_data.post, "category": "process", "level": 3,
        "grading_basis": "咨询环节", "measure_ids": [ids.measure_id]})
    assert created.status_code == 201, created.text
    point = created.json()
    assert point["measure_ids"] == [ids.measure_id] and point["level"] == 3
    patched = app_client.patch(f"/api/v1/risk-points/{point['id']}", headers=officer, json={"name": "改名"})
    assert patched.status_code == 200 and patched.json()["name"] == "改名"
    dup = app_client.post("/api/v1/risk-points", headers=officer, json={
        "code": "API-FX-1", "name": "重复", "post_id": 999999, "category": "process", "level": 3,
        "grading_basis": "x"})
    assert dup.status_code == 422
    assert {f["field"] for f in dup.json()["error"]["fields"]} >= {"code", "post_id"}
    measures = app_client.get(f"/api/v1/countermeasures?point_id={ids.point_id}", headers=officer).json()
    assert measures["count"] == 1 and set(measures) == {"data", "count"}
    check = app_client.post(f"/api/v1/countermeasures/{ids.measure_id}/checks", headers=officer, json={
        "checked_on": date.today().isoformat(), "checker_name": "接口", "result": "effective"})
    assert check.status_code == 201, check.text
    assert app_client.get(f"/api/v1/countermeasures/{ids.measure_id}/checks", headers=officer).json()["count"] == 2
    review = app_client.post(f"/api/v1/risk-points/{point['id']}/reviews", headers=officer, json={
        "reviewed_on": date.today().isoformat(), "outcome": "confirmed"})
    assert review.status_code == 201, review.text
    heat = app_client.get("/api/v1/risk-heat", headers=officer).json()
    assert heat["count"] == 2
    county = bearer(app_client, "county_officer")
    assert app_client.get("/api/v1/risk-points", headers=county).json() == {"data": [], "count": 0}
    assert app_client.get(f"/api/v1/risk-points/{ids.point_id}", headers=county).status_code == 404
    assert app_client.patch(f"/api/v1/countermeasures/{ids.measure_id}", headers=county,
                            json={"content": "越权"}).status_code == 404
    manager = bearer(app_client, "manager")
    assert app_client.post("/api/v1/countermeasures", headers=manager, json={}).status_code == 403


def test_english_pages(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    _objects(engine, org_data)
    client, csrf = logged_in("officer")
    client.post("/locale", data={"locale": "en", "next": "/risk", "csrf_token": csrf})
    page = client.get("/risk")
    assert "Integrity risk register" in page.text and "Level 1 (high)" in page.text
    assert "Risk heat table" in client.get("/risk/heat").text
    assert csrf_of(page.text)
