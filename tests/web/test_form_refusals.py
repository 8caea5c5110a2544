"""A form refused by its service is shown again and leaves nothing written behind."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supervision.models import AuditEntry, Staff

ROUTES = Path(__file__).parents[2] / "web" / "routes"


def test_a_refused_edit_keeps_no_part_of_the_change(logged_in: Callable[[str], tuple[TestClient, str]],
                                                    org_data: SimpleNamespace, engine: Engine) -> None:
    client, csrf = logged_in("admin")
    with Session(engine) as s:
        audits = len(s.exec(select(AuditEntry)).all())
    # The service sets the new name on the loaded row, then refuses the phone number: the route answers
    # 422 and returns normally, so the request commits; the name must not go with it.
    response = client.post(f"/org/staff/{org_data.staff}", data={
        "csrf_token": csrf, "code": "S001", "name": "张三丰", "rank": "general", "employment": "established",
        "site_id": str(org_data.city), "department_id": str(org_data.dept), "window_id": str(org_data.window),
        "post_id": str(org_data.post), "phone": "12ab", "active": "on",
    })
    assert response.status_code == 422 and "不是有效的电话号码" in response.text
    assert 'value="张三丰"' in response.text  # what was typed is shown again
    with Session(engine) as s:
        staff = s.get(Staff, org_data.staff)
        assert staff is not None and staff.name == "张三"
        assert len(s.exec(select(AuditEntry)).all()) == audits
    page = client.get(f"/org/staff/{org_data.staff}")
    assert 'value="张三"' in page.text


def test_no_route_rolls_back_by_hand() -> None:
    """Refusals are undone by `web.forms.all_or_nothing` around the service call, not route by route."""
    calls = [
        f"{path.name}:{node.lineno}"
        for path in sorted(ROUTES.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "rollback"
    ]
    assert calls == []
