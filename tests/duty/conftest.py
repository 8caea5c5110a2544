"""Fixtures of the duty tests: the shared small org plus a duty pool at the city centre."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine

from supervision import duty, org
from supervision.db import session_scope
from supervision.org import OrgKind
from tests.conftest import SYSTEM


@pytest.fixture
def duty_org(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """Four bureau leaders and four section-level cadres at the city centre, all in its pool."""
    ns = org_data
    with session_scope(engine, write=True) as s:
        def staff(code: str, name: str, rank: str, title: str) -> int:
            return int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
                "code": code, "name": name, "site_id": ns.city, "rank": rank, "title": title}).id)

        ns.leaders = [staff(f"L{i}", name, "bureau_leader", "副局长")
                      for i, name in enumerate(["钱局", "孙局", "周局", "王局"])]
        ns.cadres = [staff(f"C{i}", name, "section_level", "科长")
                     for i, name in enumerate(["吴科", "郑科", "冯科", "陈科"])]
        duty.set_pool(s, SYSTEM, site_id=ns.city, staff_ids=ns.leaders + ns.cadres)
    return ns
