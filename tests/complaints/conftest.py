"""Fixtures of the complaints tests: fixed moments, a unit handler and machine principals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision import org
from supervision.access import ROLE_PERMISSIONS, Permission, Principal
from supervision.db import session_scope
from supervision.models import Role, Site
from tests.conftest import SYSTEM

# Monday 2 November 2026, 10:00 in Shanghai.
MONDAY = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """The small org plus a handler of the police department (市公安局) and machine tokens."""
    ns = org_data
    with session_scope(engine, write=True) as s:
        handler_staff = org.create_entity(s, SYSTEM, org.OrgKind.STAFF, {
            "code": "S-H1", "name": "赵承办", "site_id": ns.city, "department_id": ns.dept})
        ns.handler_staff = int(handler_staff.id)
        city = s.get(Site, ns.city)
        assert city is not None
        ns.city_path = city.path
    # A handler (承办人) of the police department who is also on its staff (orders about them stay hidden).
    ns.handler = Principal(kind="user", id=9001, name="handler", site_id=ns.city, site_path=ns.city_path,
                           role=Role.HANDLER, staff_id=ns.handler_staff, permissions=ROLE_PERMISSIONS[Role.HANDLER],
                           department_ids=frozenset({ns.dept}))
    ns.pad = Principal(kind="token", id=7001, name="pad-A01", site_id=ns.city, site_path=ns.city_path,
                       permissions=frozenset({Permission.RATINGS_PUSH}))
    ns.phone_system = Principal(kind="token", id=7002, name="ivr", site_id=ns.city, site_path=ns.city_path,
                                permissions=frozenset({Permission.HOTLINE_PUSH}))
    ns.bare_token = Principal(kind="token", id=7003, name="other", site_id=ns.city, site_path=ns.city_path,
                              permissions=frozenset({Permission.ORG_READ}))
    ns.p = ns.principals
    return ns


@pytest.fixture
def s(engine: Engine) -> Iterator[Session]:
    # Closed at teardown: an open transaction would block the next test's TRUNCATE on PostgreSQL.
    with Session(engine, expire_on_commit=False) as session:
        yield session
