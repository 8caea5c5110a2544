"""Fixtures of the risk tests: the shared small org plus a few staff to name as responsible people."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import risk
from supervision import org
from supervision.db import session_scope
from supervision.org import OrgKind
from tests.conftest import SYSTEM

TODAY = date(2026, 6, 1)  # a Monday, in a year the official calendar knows


@pytest.fixture
def risk_org(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """The shared org with a section-level head and a bureau leader at the city centre."""
    with session_scope(engine, write=True) as s:
        org_data.head = int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
            "code": "S010", "name": "赵科长", "site_id": org_data.city, "rank": "section_level",
            "department_id": org_data.dept}).id)
        org_data.leader = int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
            "code": "S011", "name": "钱局长", "site_id": org_data.city, "rank": "bureau_leader"}).id)
    return org_data


def point_data(ns: SimpleNamespace, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "FX-001", "name": "户籍审核把关不严", "post_id": ns.post, "category": "duty", "level": 2,
        "manifestation": "对不符合条件的申请予以通过", "grading_basis": "审核环节,不直接作出决定",
        "power": "户口登记", "process_step": "审核", "direct_responsible_id": ns.staff,
        "department_responsible_id": ns.head, "leader_responsible_id": ns.leader,
    }
    data.update(over)
    return data


def measure_data(ns: SimpleNamespace, point_ids: list[int], **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "CS-001", "content": "落实审核双人复核制度", "measure_type": "process", "owner_id": ns.head,
        "check_frequency": "quarterly", "check_method": "纪检组每季度抽查卷宗 20 件", "point_ids": point_ids,
    }
    data.update(over)
    return data


def add_point(session: Session, ns: SimpleNamespace, actor: str = "officer", **over: Any) -> risk.RiskPoint:
    return risk.create_risk_point(session, ns.principals[actor], point_data(ns, **over), today=TODAY)


def add_measure(session: Session, ns: SimpleNamespace, point_ids: list[int], **over: Any) -> risk.Countermeasure:
    return risk.create_countermeasure(session, ns.principals["officer"], measure_data(ns, point_ids, **over),
                                      today=TODAY)
