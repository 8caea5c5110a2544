from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision.models import AuditEntry, LoginAttempt
from tests.web.conftest import PASSWORD, bearer, csrf_of, login, login_token


def test_each_role_lands_on_its_home_page_in_chinese(app_client: TestClient, org_data: SimpleNamespace) -> None:
    titles = {"admin": "系统管理员工作台", "officer": "纪检监察工作台", "supervisor": "监督员工作台",
              "manager": "管理者工作台", "staff": "我的工作台"}
    for username, title in titles.items():
        login(app_client, username)
        page = app_client.get("/")
        assert title in page.text, username
        assert page.template.name == "home.html"  # type: ignore[attr-defined]
        csrf = csrf_of(page.text)
        app_client.post("/logout", data={"csrf_token": csrf})


def test_language_switch_is_kept_per_user(app_client: TestClient, org_data: SimpleNamespace) -> None:
    csrf = login(app_client, "officer")
    response = app_client.post("/locale", data={"locale": "en", "next": "/", "csrf_token": csrf})
    assert response.status_code == 303
    assert "Discipline officer&#39;s desk" in app_client.get("/").text
    app_client.post("/logout", data={"csrf_token": csrf_of(app_client.get("/").text)})
    app_client.cookies.clear()
    login(app_client, "officer")
    assert "Discipline officer&#39;s desk" in app_client.get("/").text


def test_wrong_password_shows_the_login_page_and_is_logged(app_client: TestClient, engine: Engine,
                                                           org_data: SimpleNamespace) -> None:
    response = app_client.post("/login", data={"username": "officer", "password": "nope", "next": "/",
                                               "csrf_token": login_token(app_client)})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text and "Traceback" not in response.text
    with Session(engine) as s:
        failures = s.exec(select(LoginAttempt).where(col(LoginAttempt.success).is_(False))).all()
        audited = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "login.failed")).all()
    assert len(failures) == 1 and len(audited) == 1


def test_repeated_failures_lock_the_account(app_client: TestClient, org_data: SimpleNamespace) -> None:
    token = login_token(app_client)
    for _ in range(10):
        # Each answer is the form again, with a fresh token.
        failed = app_client.post("/login", data={"username": "manager", "password": "wrong", "next": "/",
                                                 "csrf_token": token})
        token = csrf_of(failed.text)
    response = app_client.post("/login", data={"username": "manager", "password": "test-pass-123", "next": "/",
                                               "csrf_token": token})
    assert response.status_code == 429
    assert "锁定" in response.text


def test_login_form_needs_its_own_token(app_client: TestClient, engine: Engine, org_data: SimpleNamespace) -> None:
    """A page elsewhere cannot post the login form: no token, or a token without its cookie, is refused."""
    response = app_client.post("/login", data={"username": "officer", "password": PASSWORD, "next": "/"})
    assert response.status_code == 403 and "表单已过期" in response.text
    token = login_token(app_client)
    app_client.cookies.delete("sv_login", path="/login")
    response = app_client.post("/login", data={"username": "officer", "password": PASSWORD, "next": "/",
                                               "csrf_token": token})
    assert response.status_code == 403 and "sv_session" not in response.cookies
    with Session(engine) as s:
        assert not s.exec(select(AuditEntry).where(col(AuditEntry.action) == "login")).all()
    login(app_client, "officer")  # with the form's token it works
    assert app_client.get("/").status_code == 200


def test_form_post_without_csrf_token_is_refused(app_client: TestClient, org_data: SimpleNamespace) -> None:
    login(app_client, "admin")
    response = app_client.post("/org/halls/new", data={"code": "H-X", "name": "新大厅", "site_id": org_data.city})
    assert response.status_code == 403
    assert "表单已过期" in response.text


def test_expired_session_sends_the_browser_to_login(app_client: TestClient, org_data: SimpleNamespace) -> None:
    app_client.cookies.set("sv_session", "not-a-session")
    response = app_client.get("/org/sites")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/org/sites")


def test_password_flow_token_works_for_scripts(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "officer")
    me = app_client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "officer"
    bad = app_client.post("/api/v1/auth/token", data={"username": "officer", "password": "x"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"


def test_machine_token_has_only_its_scopes_and_can_be_revoked(
    logged_in: Callable[[str], tuple[TestClient, str]], org_data: SimpleNamespace
) -> None:
    admin, _ = logged_in("admin")
    headers = bearer(admin, "admin")
    created = admin.post("/api/v1/api-tokens", headers=headers,
                         json={"name": "96196 话务", "scopes": ["org:read"], "site_id": org_data.county})
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    machine = {"Authorization": f"Bearer {secret}"}
    windows = admin.get("/api/v1/windows", headers=machine)
    assert windows.status_code == 200
    assert {w["code"] for w in windows.json()["data"]} == {"FC-W1"}
    assert admin.get("/api/v1/users", headers=machine).status_code == 403
    revoked = admin.post(f"/api/v1/api-tokens/{created.json()['id']}/revoke", headers=headers)
    assert revoked.status_code == 200
    assert admin.get("/api/v1/windows", headers=machine).status_code == 401


def test_unknown_machine_scope_is_refused_with_the_field(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "admin")
    response = app_client.post("/api/v1/api-tokens", headers=headers,
                               json={"name": "x", "scopes": ["users:manage"], "site_id": org_data.city})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "scopes"
