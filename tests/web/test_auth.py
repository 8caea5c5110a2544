from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from supervision import accounts
from supervision.db import session_scope
from supervision.errors import TooManyAttempts, Unauthorized
from supervision.models import AuditEntry, LoginAttempt
from supervision.settings import get_settings
from tests.waits import WaitWatch
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


# --- failures counted per name and per address (issue 10 §2) ------------------------------------


def _attempt(engine: Engine, username: str, password: str, ip: str) -> str:
    """Log in through the service; what the user is told ("ok", or the error's message key)."""
    try:
        accounts.log_in(engine, username, password, kind="browser", ip=ip)
    except (Unauthorized, TooManyAttempts) as exc:
        return f"{exc.status} {exc.key}"
    return "ok"


def test_an_unknown_name_is_answered_exactly_like_a_known_one(app_client: TestClient, engine: Engine,
                                                              org_data: SimpleNamespace) -> None:
    """Same message, same slow-down, same lock-out: the answers do not tell which user names exist."""
    settings = get_settings()
    seen: dict[str, list[tuple[float, int, str]]] = {}
    locked: dict[str, str] = {}
    for name in ("manager", "no-such-user"):
        token, answers = login_token(app_client), []
        for _ in range(settings.login_lockout_attempts + 2):
            delay = accounts.login_delay(engine, name, "testclient")
            failed = app_client.post("/login", data={"username": name, "password": "wrong", "next": "/",
                                                     "csrf_token": token})
            token = csrf_of(failed.text)
            message = failed.text.split('data-testid="login-error">', 1)[-1].split("</p>", 1)[0]
            answers.append((delay, failed.status_code, message))
        seen[name] = answers
        # Locked: even the right password is refused, as for a name nobody has.
        locked[name] = _attempt(engine, name, PASSWORD, "testclient")
        app_client.cookies.clear()
        with session_scope(engine, write=True) as s:  # the next name starts from a quiet address too
            s.exec(delete(LoginAttempt))
    assert seen["manager"] == seen["no-such-user"]
    statuses = [status for _, status, _ in seen["manager"]]
    assert statuses == [401] * settings.login_lockout_attempts + [429, 429]
    assert [delay for delay, _, _ in seen["manager"]][settings.login_throttle_free_attempts] > 0
    with Session(engine) as s:
        audited = s.exec(select(AuditEntry.object_id).where(col(AuditEntry.action) == "login.failed")).all()
    assert sorted(set(audited)) == ["manager", "no-such-user"]
    assert locked == {"manager": "429 error.account_locked", "no-such-user": "429 error.account_locked"}


def test_an_address_is_slowed_down_but_locks_nobody(engine: Engine, org_data: SimpleNamespace) -> None:
    """One office behind one address: its typos slow that address down, and never lock a colleague."""
    settings = get_settings()
    office, home = "10.1.1.1", "10.2.2.2"
    names = ["officer", "supervisor", "staff", "admin", "nobody"]
    for n in range(3 * settings.login_lockout_attempts):
        assert _attempt(engine, names[n % len(names)], "typo", office) == "401 error.bad_credentials"
    # The address waits; another address does not, and no account is locked: each logs in, from either.
    assert accounts.login_delay(engine, "manager", office) == settings.login_throttle_max_delay_seconds
    assert accounts.login_delay(engine, "manager", home) == 0
    for name in [*names[:4], "manager"]:
        assert _attempt(engine, name, PASSWORD, office) == "ok", name


def test_an_account_locks_after_its_own_failures_from_any_addresses(engine: Engine,
                                                                    org_data: SimpleNamespace) -> None:
    settings = get_settings()
    for n in range(settings.login_lockout_attempts):
        assert _attempt(engine, "manager", "guess", f"10.0.0.{n}") == "401 error.bad_credentials"
    # Locked for every address, right password or not; its colleagues at the same addresses are not.
    assert _attempt(engine, "manager", PASSWORD, "10.9.9.9") == "429 error.account_locked"
    assert _attempt(engine, "officer", PASSWORD, "10.0.0.1") == "ok"
    # Each address failed once only: none is slowed down.
    assert accounts.login_delay(engine, "officer", "10.0.0.1") == 0


def test_a_success_starts_the_count_of_a_name_again(engine: Engine, org_data: SimpleNamespace) -> None:
    settings = get_settings()
    for _ in range(settings.login_lockout_attempts - 1):
        _attempt(engine, "manager", "guess", "10.0.0.1")
    assert _attempt(engine, "manager", PASSWORD, "10.0.0.1") == "ok"
    assert _attempt(engine, "manager", "guess", "10.0.0.1") == "401 error.bad_credentials"
    assert _attempt(engine, "manager", PASSWORD, "10.0.0.1") == "ok"


def test_parallel_guesses_cannot_slip_past_the_lock(engine: Engine, org_data: SimpleNamespace) -> None:
    """The lock is decided in the write that records the attempt: many guesses at once get N answers only."""
    settings = get_settings()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: _attempt(engine, "manager", f"guess-{n}", f"10.0.1.{n}"), range(24)))
    assert answers.count("401 error.bad_credentials") == settings.login_lockout_attempts
    assert answers.count("429 error.account_locked") == 24 - settings.login_lockout_attempts


def test_a_throttled_login_sleeps_with_no_write_transaction_open(
    app_client: TestClient, engine: Engine, org_data: SimpleNamespace, _no_wait_in_write_transactions: WaitWatch
) -> None:
    """The slow-down is slept between a short read and a short write, never inside a transaction."""
    token = login_token(app_client)
    for _ in range(get_settings().login_throttle_free_attempts + 2):
        failed = app_client.post("/login", data={"username": "manager", "password": "wrong", "next": "/",
                                                 "csrf_token": token})
        token = csrf_of(failed.text)
        bad = app_client.post("/api/v1/auth/token", data={"username": "manager", "password": "wrong"})
        assert bad.status_code == 401
    assert accounts.login_delay(engine, "manager", "testclient") > 0
    _no_wait_in_write_transactions.assert_none()
