"""Bad input is a 4xx with a stable code naming the field, never a 500 (issue 10 §3)."""

from __future__ import annotations

import importlib
import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from supervision.shapes import UpdateModel
from tests.web.conftest import bearer, login, login_token

BIG = 2**63  # past SQLite's 64-bit integers (OverflowError before the fix)
INT_MAX = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL
STABLE_CODES = {"invalid_input", "not_found", "forbidden", "unauthorized", "conflict", "calendar_not_covered",
                "too_many_attempts", "internal", "method_not_allowed", "not_acceptable", "payload_too_large",
                "unsupported_media_type"}


def _problem(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    by_field = {p["field"]: p for p in error["fields"]}
    assert field in by_field, error
    return dict(by_field[field])


@pytest.fixture
def admin(app_client: TestClient, org_data: SimpleNamespace) -> dict[str, str]:
    return bearer(app_client, "admin")


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("GET", f"/api/v1/sites/{BIG}", None, "entity_id"),
    ("GET", f"/api/v1/cameras/{INT_MAX + 1}", None, "camera_id"),
    ("GET", f"/api/v1/windows?offset={BIG * 1000}", None, "offset"),
    ("GET", f"/api/v1/staff?under_site_id=-{BIG * 5}", None, "under_site_id"),
    ("GET", f"/api/v1/work-orders?offset={BIG}", None, "offset"),
    ("GET", f"/api/v1/audit?offset={BIG * 7}", None, "offset"),
    ("POST", "/api/v1/halls", {"code": "H-X", "name": "大厅", "site_id": BIG}, "site_id"),
    ("PATCH", "/api/v1/windows/{window}", {"delegated_department_ids": [1, BIG]}, "delegated_department_ids.1"),
])
def test_integers_beyond_64_bits_are_refused_by_field(app_client: TestClient, admin: dict[str, str],
                                                      org_data: SimpleNamespace, method: str, url: str,
                                                      body: Any, field: str) -> None:
    response = app_client.request(method, url.format(window=org_data.window), json=body, headers=admin)
    problem = _problem(response, field)
    assert "2147483647" in problem["message"]


def test_the_largest_32_bit_id_is_just_not_found(app_client: TestClient, admin: dict[str, str]) -> None:
    response = app_client.get(f"/api/v1/sites/{INT_MAX}", headers=admin)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


def test_an_override_year_out_of_range_names_the_year(app_client: TestClient, admin: dict[str, str]) -> None:
    _problem(app_client.get("/api/v1/calendar/overrides?year=0", headers=admin), "year")
    assert app_client.get("/api/v1/calendar/overrides?year=2026", headers=admin).status_code == 200


@pytest.mark.parametrize(("kind", "body", "field"), [
    ("staff", {"title": None}, "title"),
    ("halls", {"floor": None}, "floor"),
    ("sites", {"kind": None}, "kind"),
    ("windows", {"number": None}, "number"),
    ("posts", {"duties": None}, "duties"),
    ("windows", {"delegated_department_ids": None}, "delegated_department_ids"),
])
def test_null_for_a_required_field_is_refused_by_field(app_client: TestClient, admin: dict[str, str],
                                                       org_data: SimpleNamespace, kind: str, body: dict[str, Any],
                                                       field: str) -> None:
    ids = {"staff": org_data.staff, "halls": org_data.hall, "sites": org_data.county, "windows": org_data.window,
           "posts": org_data.post}
    response = app_client.patch(f"/api/v1/{kind}/{ids[kind]}", json=body, headers=admin)
    problem = _problem(response, field)
    assert problem["message"].endswith("不能为空值(null);不修改就不要传这个字段"), problem


def test_null_for_a_user_role_is_refused_and_a_nullable_field_is_cleared(
        app_client: TestClient, admin: dict[str, str], org_data: SimpleNamespace) -> None:
    _problem(app_client.patch(f"/api/v1/users/{org_data.users['officer']}", json={"role": None}, headers=admin),
             "role")
    cleared = app_client.patch(f"/api/v1/staff/{org_data.staff}", json={"post_id": None}, headers=admin)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["post_id"] is None


def test_every_update_shape_refuses_null_where_its_column_is_not_null() -> None:
    """Every `XUpdate` of every package takes its nullable fields from its table, not from `X | None`."""
    found = []
    for package in ("supervision", "cameras", "risk", "complaints"):
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            shape = getattr(module, name)
            if inspect.isclass(shape) and name.endswith("Update"):
                found.append(shape)
                assert issubclass(shape, UpdateModel) and shape.columns_of is not None, name
    for module_name in ("supervision.models", "supervision.accounts"):
        module = importlib.import_module(module_name)
        for name, shape in vars(module).items():
            if inspect.isclass(shape) and name.endswith("Update") and shape is not UpdateModel:
                found.append(shape)
                assert issubclass(shape, UpdateModel) and shape.columns_of is not None, name
    assert len(found) >= 10


@pytest.mark.parametrize(("body", "message_part"), [
    (b'{"name": "x", ', "JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "UTF-8"),
    (b'{"name": "\xff\xfe"}', "UTF-8"),
])
def test_an_unreadable_body_is_invalid_input_on_the_body(app_client: TestClient, admin: dict[str, str],
                                                         org_data: SimpleNamespace, body: bytes,
                                                         message_part: str) -> None:
    response = app_client.patch(f"/api/v1/halls/{org_data.hall}", content=body,
                                headers={**admin, "Content-Type": "application/json"})
    problem = _problem(response, "body")
    assert message_part in problem["message"]


def test_refusals_of_the_http_layer_have_stable_codes(app_client: TestClient, admin: dict[str, str]) -> None:
    wrong_method = app_client.delete("/api/v1/me", headers=admin)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == {"code": "method_not_allowed", "message": "此地址不支持该请求方法"}
    unknown = app_client.get("/api/v1/no-such-thing", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    for response in (wrong_method, unknown):
        assert response.json()["error"]["code"] in STABLE_CODES


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("POST", "/api/v1/halls", {"code": "H-N", "name": "大\x00厅", "site_id": 1}, "name"),
    ("PATCH", "/api/v1/staff/{staff}", {"title": "科员\x00"}, "title"),
    ("GET", "/api/v1/staff?q=%E5%BC%A0%00", None, "q"),
])
def test_nul_characters_are_refused_by_field(app_client: TestClient, admin: dict[str, str],
                                             org_data: SimpleNamespace, method: str, url: str, body: Any,
                                             field: str) -> None:
    response = app_client.request(method, url.format(staff=org_data.staff), json=body, headers=admin)
    assert "空字符" in _problem(response, field)["message"]
    english = app_client.request(method, url.format(staff=org_data.staff), json=body,
                                 headers=admin, cookies={"sv_locale": "en"})
    assert "NUL character" in english.text


def test_nul_in_a_form_field_is_refused(app_client: TestClient, org_data: SimpleNamespace) -> None:
    token = login_token(app_client)
    response = app_client.post("/login", data={"username": "ad\x00min", "password": "x", "next": "/",
                                               "csrf_token": token})
    assert response.status_code == 422, response.text
    assert "空字符" in response.text


@pytest.mark.parametrize("ref", [str(2**63), "9" * 20, "²"])
def test_an_order_reference_no_id_can_be_is_just_not_found(app_client: TestClient, admin: dict[str, str],
                                                           ref: str) -> None:
    # /work-orders/{order_id} takes an id or a number (text): a run of digits past any id used to overflow.
    answer = app_client.get(f"/api/v1/work-orders/{ref}", headers=admin)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_nul_in_a_multipart_text_field_is_refused_by_field(app_client: TestClient, org_data: SimpleNamespace) -> None:
    # A page form with a file input is sent as multipart: its text fields were not checked.
    csrf = login(app_client, "officer")  # the register's keeper
    response = app_client.post("/risk/import", data={"csrf_token": csrf, "note": "市\x00级"},
                               files={"file": ("register.xlsx", b"PK\x03\x04", "application/vnd.ms-excel")})
    assert response.status_code == 422, response.text
    assert response.context["problems"][0]["field"] == "note"  # type: ignore[attr-defined]
    assert "空字符" in response.text
    named = app_client.post("/risk/import", data={"csrf_token": csrf},
                            files={"file": ("登记\x00册.xlsx", b"PK\x03\x04", "application/vnd.ms-excel")})
    assert named.status_code == 422 and named.context["problems"][0]["field"] == "file"  # type: ignore[attr-defined]


def test_the_nul_check_caps_no_workbook_upload(app_client: TestClient, org_data: SimpleNamespace) -> None:
    # Starlette's 1 MB limit is for text parts: a 3 MB workbook reaches the route and its own 20 MB cap.
    csrf = login(app_client, "officer")
    big = b"PK\x03\x04" + b"\x00" * (3 * 1024 * 1024)
    response = app_client.post("/risk/import", data={"csrf_token": csrf},
                               files={"file": ("register.xlsx", big, "application/vnd.ms-excel")})
    assert response.status_code == 422, response.text[:300]
    fields = [p["field"] for p in response.context["problems"]]  # type: ignore[attr-defined]
    assert fields and "note" not in fields and all("空字符" not in p["message"]
                                                   for p in response.context["problems"])  # type: ignore[attr-defined]
