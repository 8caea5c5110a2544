from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision.settings import get_settings
from tests.web.conftest import bearer
from web.app import create_app


def test_lists_come_paged_with_a_count_and_filters(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "officer")
    page = app_client.get("/api/v1/staff", headers=headers, params={"limit": 2})
    body = page.json()
    assert page.status_code == 200 and body["count"] == 3 and len(body["data"]) == 2
    everyone = app_client.get("/api/v1/staff", headers=headers).json()["data"]
    zhang = next(s for s in everyone if s["code"] == "S001")
    assert zhang["phone_masked"] == "138****1111" and "phone_enc" not in zhang
    filtered = app_client.get("/api/v1/windows", headers=headers, params={"is_comprehensive": "true"}).json()
    assert [w["code"] for w in filtered["data"]] == ["W-ZH"]
    assert filtered["data"][0]["delegated_department_ids"] == [org_data.dept2]
    under = app_client.get("/api/v1/sites", headers=headers, params={"under_site_id": org_data.county}).json()
    assert {s["code"] for s in under["data"]} == {"FC", "FC-CX"}
    search = app_client.get("/api/v1/posts", headers=headers, params={"q": "户籍"}).json()
    assert search["count"] == 1


def test_create_update_delete_through_the_api(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "admin")
    created = app_client.post("/api/v1/halls", headers=headers,
                              json={"code": "H-SW", "name": "商务大厅", "site_id": org_data.city})
    assert created.status_code == 201, created.text
    hall_id = created.json()["id"]
    patched = app_client.patch(f"/api/v1/halls/{hall_id}", headers=headers, json={"floor": "2F"})
    assert patched.status_code == 200 and patched.json()["floor"] == "2F" and patched.json()["name"] == "商务大厅"
    assert app_client.delete(f"/api/v1/halls/{hall_id}", headers=headers).status_code == 204
    assert app_client.get(f"/api/v1/halls/{hall_id}", headers=headers).status_code == 404


def test_errors_are_json_with_a_stable_code_and_the_field(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "admin")
    dup = app_client.post("/api/v1/halls", headers=headers,
                          json={"code": "H-GG", "name": "重复", "site_id": org_data.city})
    assert dup.status_code == 422
    error = dup.json()["error"]
    assert error["code"] == "invalid_input" and error["fields"][0]["field"] == "code"
    missing = app_client.post("/api/v1/halls", headers=headers, json={"name": "无编码"})
    assert missing.status_code == 422 and {f["field"] for f in missing.json()["error"]["fields"]} >= {"code"}
    in_use = app_client.delete(f"/api/v1/halls/{org_data.hall}", headers=headers)
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "conflict"
    nowhere = app_client.get("/api/v1/nothing-here", headers=headers)
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "not_found"
    english = app_client.post("/api/v1/halls", headers={**headers, "Cookie": "sv_locale=en"},
                              json={"code": "H-GG", "name": "x", "site_id": org_data.city})
    assert "already exists" in english.json()["error"]["fields"][0]["message"] or english.status_code == 422


def test_user_without_jurisdiction_or_with_unknown_role_is_refused(app_client: TestClient,
                                                                   org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "admin")
    no_site = app_client.post("/api/v1/users", headers=headers, json={
        "username": "nosite", "display_name": "无范围", "password": "long-enough-1", "role": "officer"})
    assert no_site.status_code == 422 and no_site.json()["error"]["fields"][0]["field"] == "site_id"
    bad_role = app_client.post("/api/v1/users", headers=headers, json={
        "username": "badrole", "display_name": "x", "password": "long-enough-1", "role": "king",
        "site_id": org_data.city})
    assert bad_role.status_code == 422 and bad_role.json()["error"]["fields"][0]["field"] == "role"


def test_calendar_api_names_an_uncovered_year(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "supervisor")
    ok = app_client.get("/api/v1/calendar/add", headers=headers, params={"start": "2026-09-30", "days": 3})
    assert ok.json() == {"value": "2026-10-10", "provisional": False, "source": "official"}
    beyond = app_client.get("/api/v1/calendar/workday", headers=headers, params={"day": "2031-05-06"})
    assert beyond.json() == {"value": True, "provisional": True, "source": "provisional"}
    strict = app_client.get("/api/v1/calendar/workday", headers=headers, params={"day": "2031-05-06", "strict": True})
    assert strict.status_code == 422 and strict.json()["error"]["code"] == "calendar_not_covered"
    assert "2031" in strict.json()["error"]["message"]


def test_openapi_describes_the_api(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    for path in ("/api/v1/sites", "/api/v1/windows", "/api/v1/posts", "/api/v1/staff", "/api/v1/auth/token",
                 "/api/v1/ledger", "/api/v1/audit"):
        assert path in spec["paths"], path


def test_healthz_names_the_database_and_says_503_when_it_is_gone(app_client: TestClient, engine: Engine) -> None:
    ok = app_client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["backend"] == engine.dialect.name
    from supervision.db import make_engine

    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app = create_app(get_settings(), dead, migrate=False, services=[])
    with TestClient(app) as client:
        down = client.get("/healthz")
    assert down.status_code == 503 and down.json()["status"] == "unavailable"


@pytest.mark.parametrize("username", ["staff", "supervisor"])
def test_roles_without_org_write_cannot_create(app_client: TestClient, org_data: SimpleNamespace,
                                               username: str) -> None:
    headers = bearer(app_client, username)
    response = app_client.post("/api/v1/halls", headers=headers,
                               json={"code": "H-Z", "name": "z", "site_id": org_data.city})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
