"""Dispatching an order from its page: the units that serve its window are offered, or why there are none."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

import complaints
from supervision import accounts, org
from supervision.db import session_scope
from supervision.models import Role, User
from tests.conftest import SYSTEM

SELECT_RE = re.compile(r'<select name="lead_department_id"[^>]*>(.*?)</select>', re.S)
OPTION_RE = re.compile(r'<option value="(\d+)" ?(selected)?>')


def _lead_options(html: str) -> tuple[list[int], list[int]]:
    """The dispatch form's lead-unit options and the selected ones."""
    match = SELECT_RE.search(html)
    assert match, "the order page has no lead-unit list"
    options = OPTION_RE.findall(match.group(1))
    return [int(v) for v, _ in options], [int(v) for v, chosen in options if chosen]


def _hotline_order(engine: Engine, actor: Any, window_id: int) -> int:
    with session_scope(engine, write=True) as s:
        call = complaints.log_call(s, actor, {
            "type": "complaint", "content": "窗口工作人员推诿，让我跑了三趟", "caller_name": "刘女士",
            "phone": "13700001234", "window_id": window_id})
        return int(call.work_order_id)


def test_a_township_window_order_offers_the_county_department_serving_it(
        logged_in: Callable[[str], tuple[TestClient, str]], org_data: SimpleNamespace, engine: Engine) -> None:
    ns = org_data
    with session_scope(engine, write=True) as s:
        hall = org.create_entity(s, SYSTEM, org.OrgKind.HALL, {"code": "CX-H", "name": "城厢便民大厅",
                                                                 "site_id": ns.township}).id
        window = org.create_entity(s, SYSTEM, org.OrgKind.WINDOW, {
            "code": "CX-W1", "name": "市场监管代办窗口", "site_id": ns.township, "hall_id": hall,
            "department_id": ns.county_dept}).id
        comprehensive = org.create_entity(s, SYSTEM, org.OrgKind.WINDOW, {
            "code": "CX-W2", "name": "综合便民窗口", "site_id": ns.township, "hall_id": hall,
            "is_comprehensive": True, "delegated_department_ids": [ns.dept2]}).id
    order = _hotline_order(engine, ns.principals["supervisor"], window)
    client, csrf = logged_in("supervisor")
    page = client.get(f"/complaints/orders/{order}")
    assert page.status_code == 200
    offered, chosen = _lead_options(page.text)
    # The county unit staffing the window first and preselected; the city's units may take it too.
    assert offered[0] == ns.county_dept and chosen == [ns.county_dept]
    assert {ns.dept, ns.dept2} <= set(offered)
    assert 'data-testid="no-dispatch-units"' not in page.text
    done = client.post(f"/complaints/orders/{order}/action", data={
        "csrf_token": csrf, "action": "dispatch", "lead_department_id": str(chosen[0])})
    assert done.status_code == 303, done.text
    with session_scope(engine) as s:
        assert complaints.get_order(s, ns.principals["supervisor"], order).order.lead_department_id == ns.county_dept

    # A comprehensive window: its delegated (city) department first and preselected.
    offered, chosen = _lead_options(client.get(f"/complaints/orders/"
                                               f"{_hotline_order(engine, ns.principals['supervisor'], comprehensive)}"
                                               ).text)
    assert offered[0] == ns.dept2 and chosen == [ns.dept2]


def test_an_order_with_no_unit_anywhere_says_why_instead_of_an_empty_list(
        logged_in: Callable[[str], tuple[TestClient, str]], org_data: SimpleNamespace, engine: Engine) -> None:
    with session_scope(engine, write=True) as s:
        site = org.create_entity(s, SYSTEM, org.OrgKind.SITE, {"code": "NEW", "name": "新区政务服务中心",
                                                                 "kind": "city"}).id
        hall = org.create_entity(s, SYSTEM, org.OrgKind.HALL, {"code": "NEW-H", "name": "新区大厅", "site_id": site}).id
        window = org.create_entity(s, SYSTEM, org.OrgKind.WINDOW, {
            "code": "NEW-W", "name": "综合窗口", "site_id": site, "hall_id": hall, "is_comprehensive": True}).id
        accounts.create_user(s, SYSTEM, {"username": "new_supervisor", "display_name": "新区监督",
                                         "password": "test-pass-123", "role": Role.SUPERVISOR, "site_id": site})
    client, _ = logged_in("new_supervisor")
    with session_scope(engine) as s:
        actor = accounts.principal_for_user(s, s.exec(select(User).where(User.username == "new_supervisor")).one())
    page = client.get(f"/complaints/orders/{_hotline_order(engine, actor, window)}")
    assert page.status_code == 200
    assert 'data-testid="no-dispatch-units"' in page.text and "无法交办" in page.text
    assert 'name="lead_department_id"' not in page.text and 'data-testid="do-dispatch"' not in page.text
