"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL on request) and a small org.

Run against PostgreSQL with `SUPERVISION_TEST_DATABASE=postgres` (and optionally
`SUPERVISION_TEST_POSTGRES_URL`, default postgresql+psycopg://postgres@127.0.0.1:5432/test): a fresh
database is created for the run, so parallel runs do not meet.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

os.environ.setdefault("SUPERVISION_SECRET_KEY", "test-secret-key-" + "x" * 32)
os.environ["SUPERVISION_SCHEDULER_ENABLED"] = "false"
os.environ["SUPERVISION_INGEST_ENABLED"] = "false"
os.environ["SUPERVISION_PASSWORD_HASH_FAST"] = "true"
os.environ["SUPERVISION_LOGIN_THROTTLE_MAX_DELAY_SECONDS"] = "0.05"

from supervision import access, accounts, db, org
from supervision.db import make_engine, session_scope, upgrade
from supervision.models import Role
from supervision.settings import get_settings
from tests.waits import WaitWatch
from web.composition import MIGRATION_PACKAGES, wire_incidents

# A statement that writes in a transaction opened for reading fails the test (production only logs it).
db.READ_GUARD = "raise"

BACKEND = os.environ.get("SUPERVISION_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("SUPERVISION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "test-pass-123"


def pytest_report_header(config: pytest.Config) -> str:
    return f"database backend: {BACKEND}"


@pytest.fixture(autouse=True)
def _no_wait_in_write_transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[WaitWatch]:
    """The design's rule, in every test: no sleep or network I/O while a write transaction is open."""
    watch = WaitWatch().install(monkeypatch)
    yield watch
    watch.assert_none()


@pytest.fixture(autouse=True)
def _settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to start each test from: a SQLite file to copy, or a PostgreSQL database."""
    if BACKEND == "postgres":
        admin = make_engine(PG_URL)
        try:
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # pragma: no cover - depends on the machine
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}")
        name = f"sv_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine, MIGRATION_PACKAGES)
        engine.dispose()
        yield url
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine, MIGRATION_PACKAGES)
        engine.dispose()
        yield str(path)


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
        if tables:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("INSERT INTO audit_head (id, seq) VALUES (1, 0)"))


@pytest.fixture
def engine(_template: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database for one test."""
    wire_incidents()  # as the app does: new incidents are linked to the risk points they concern
    if BACKEND == "postgres":
        eng = make_engine(_template)
        _reset_postgres(eng)
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(_template, path)
        eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


SYSTEM = access.SYSTEM


def make_org(engine: Engine) -> SimpleNamespace:
    """A small organisation: a city centre, two counties, a township, halls, windows, posts, staff, users."""
    ns = SimpleNamespace()
    with session_scope(engine, write=True) as s:
        def add(entity: org.OrgKind, /, **data: Any) -> int:
            return int(org.create_entity(s, SYSTEM, entity, data).id)

        ns.city = add(org.OrgKind.SITE, code="MY", name="绵阳市政务服务中心", kind="city")
        ns.county = add(org.OrgKind.SITE, code="FC", name="涪城区政务服务中心", kind="county", parent_id=ns.city)
        ns.county2 = add(org.OrgKind.SITE, code="YX", name="游仙区政务服务中心", kind="county", parent_id=ns.city)
        ns.township = add(org.OrgKind.SITE, code="FC-CX", name="城厢街道便民服务中心", kind="township",
                          parent_id=ns.county)
        ns.hall = add(org.OrgKind.HALL, code="H-GG", name="公共服务大厅", site_id=ns.city)
        ns.county_hall = add(org.OrgKind.HALL, code="FC-H1", name="涪城区政务大厅", site_id=ns.county)
        ns.dept = add(org.OrgKind.DEPARTMENT, code="D-GA", name="市公安局", site_id=ns.city)
        ns.dept2 = add(org.OrgKind.DEPARTMENT, code="D-MZ", name="市民政局", site_id=ns.city)
        ns.county_dept = add(org.OrgKind.DEPARTMENT, code="FC-D-SC", name="涪城区市场监管局", site_id=ns.county)
        ns.window = add(org.OrgKind.WINDOW, code="W-GA", name="公安窗口", number="A01", site_id=ns.city,
                        hall_id=ns.hall, department_id=ns.dept)
        ns.comprehensive = add(org.OrgKind.WINDOW, code="W-ZH", name="综合窗口", number="A10", site_id=ns.city,
                               hall_id=ns.hall, is_comprehensive=True, delegated_department_ids=[ns.dept2])
        ns.county_window = add(org.OrgKind.WINDOW, code="FC-W1", name="涪城市场监管窗口", site_id=ns.county,
                               hall_id=ns.county_hall, department_id=ns.county_dept)
        ns.post = add(org.OrgKind.POST, code="P-GA-1", name="户籍受理岗", site_id=ns.city, window_id=ns.window,
                      department_id=ns.dept, duties="受理户籍业务")
        ns.county_post = add(org.OrgKind.POST, code="FC-P1", name="登记受理岗", site_id=ns.county,
                             window_id=ns.county_window, department_id=ns.county_dept)
        ns.staff = add(org.OrgKind.STAFF, code="S001", name="张三", site_id=ns.city, window_id=ns.window,
                       post_id=ns.post, department_id=ns.dept, phone="13800001111")
        ns.staff2 = add(org.OrgKind.STAFF, code="S002", name="李四", site_id=ns.city, window_id=ns.window,
                        rank="section_level")
        ns.county_staff = add(org.OrgKind.STAFF, code="FC-S01", name="王五", site_id=ns.county,
                              window_id=ns.county_window, post_id=ns.county_post)
        users = {
            "admin": (Role.ADMIN, ns.city, None),
            "officer": (Role.OFFICER, ns.city, None),
            "supervisor": (Role.SUPERVISOR, ns.city, None),
            "manager": (Role.MANAGER, ns.city, None),
            "staff": (Role.STAFF, ns.city, ns.staff),
            "county_officer": (Role.OFFICER, ns.county, None),
            "county_admin": (Role.ADMIN, ns.county, None),
            "county_manager": (Role.MANAGER, ns.county, None),
            "county_supervisor": (Role.SUPERVISOR, ns.county, None),
            # The handlers (承办人) of 市公安局 and of the county's 市场监管局.
            "handler": (Role.HANDLER, ns.city, None),
            "county_handler": (Role.HANDLER, ns.county, None),
        }
        handled = {"handler": [ns.dept], "county_handler": [ns.county_dept]}
        ns.users = {}
        for username, (role, site, staff) in users.items():
            user = accounts.create_user(s, SYSTEM, {
                "username": username, "display_name": username, "password": PASSWORD, "role": role,
                "site_id": site, "staff_id": staff, "department_ids": handled.get(username, []),
            })
            ns.users[username] = int(user.id or 0)
    with Session(engine) as s:
        from supervision.models import User

        ns.principals = {
            name: accounts.principal_for_user(s, s.get(User, uid))  # type: ignore[arg-type]
            for name, uid in ns.users.items()
        }
    return ns


@pytest.fixture
def org_data(engine: Engine) -> SimpleNamespace:
    return make_org(engine)
