"""The complaint loop through the API as the people in it live it (issue 14 §1–§3).

A hotline complaint names the window clerk 张三 → the supervisor dispatches it to 市公安局 → the unit's
handler signs and replies with a finding → the supervisor confirms it → callback (or tries that reach
nobody) → close → the outcome upheld names the clerk → a ledger entry against the clerk → the clerk's
/me shows it. The clerk and the unit's other window staff never reach the order nor see the caller.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import accounts
from supervision.db import session_scope
from supervision.models import LedgerEntry
from tests.conftest import PASSWORD, SYSTEM
from tests.web.conftest import bearer, login

CALLER, PHONE = "周来电", "13987654321"


def _intake(client: TestClient, supervisor: dict[str, str], org: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    call = client.post("/api/v1/hotline-calls", headers=supervisor, json={
        "type": "complaint",
        "content": ("户籍窗口张三态度恶劣,当众训斥办事群众。我排队一个多小时,轮到我时他说材料不全却不说缺什么,"
                    "让我改天再来,要求严肃处理并一次性告知所需材料"),
        "caller_name": CALLER, "phone": PHONE, "site_id": org.city, "window_id": org.window,
        "staff_id": org.staff, **extra})
    assert call.status_code == 201, call.text
    return dict(call.json())


def _act(client: TestClient, who: dict[str, str], order_id: int, action: str, **data: Any) -> Any:
    return client.post(f"/api/v1/work-orders/{order_id}/transitions", headers=who, json={"action": action, **data})


def _other_clerk(engine: Engine, org: SimpleNamespace) -> None:
    """李四, another clerk of the same window, gets an account."""
    with session_scope(engine, write=True) as s:
        accounts.create_user(s, SYSTEM, {"username": "lisi", "display_name": "李四", "password": PASSWORD,
                                         "role": "staff", "site_id": org.city, "staff_id": org.staff2})


def test_hotline_complaint_about_a_clerk_goes_round_the_loop(engine: Engine, org_data: SimpleNamespace,
                                                             app_client: TestClient) -> None:
    org = org_data
    _other_clerk(engine, org)
    sup, handler = bearer(app_client, "supervisor"), bearer(app_client, "handler")
    clerk, colleague = bearer(app_client, "staff"), bearer(app_client, "lisi")
    county_handler = bearer(app_client, "county_handler")
    me = app_client.get("/api/v1/me", headers=handler).json()
    assert me["role"] == "handler" and me["department_ids"] == [org.dept]

    call = _intake(app_client, sup, org)
    oid, number = call["work_order_id"], call["work_order_number"]
    # A title cut at the end of the first sentence.
    assert app_client.get(f"/api/v1/work-orders/{oid}", headers=sup).json()["order"]["title"] == (
        "户籍窗口张三态度恶劣,当众训斥办事群众。")
    # Nobody of the unit can act before the dispatch; after it, only its handler.
    assert app_client.get(f"/api/v1/work-orders/{oid}", headers=handler).status_code == 404
    assert _act(app_client, sup, oid, "dispatch", lead_department_id=org.dept).status_code == 200
    seen = app_client.get(f"/api/v1/work-orders/{oid}", headers=handler)
    assert seen.status_code == 200 and seen.json()["allowed_actions"] == ["sign", "send_back"]
    order = seen.json()["order"]
    assert order["caller_name"] == CALLER and order["caller_phone_masked"] == "139****4321"
    assert PHONE not in seen.text
    assert app_client.post(f"/api/v1/work-orders/{oid}/phone", headers=handler).status_code in (403, 404, 405)
    assert app_client.get(f"/api/v1/work-orders/{oid}", headers=county_handler).status_code == 404
    assert _act(app_client, county_handler, oid, "sign").status_code == 404

    assert _act(app_client, handler, oid, "sign").json()["state"] == "signed"
    assert _act(app_client, handler, oid, "request_extension", days=3, reason="需调取录像").status_code == 200
    assert _act(app_client, handler, oid, "approve_extension").status_code == 403
    assert _act(app_client, sup, oid, "approve_extension").status_code == 200
    missing = _act(app_client, handler, oid, "reply", reply="已约谈当事人")
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "finding"
    replied = _act(app_client, handler, oid, "reply", reply="已约谈当事人并批评教育", finding="upheld",
                   facts="调取大厅录像,张三训斥群众属实")
    assert replied.status_code == 200 and replied.json()["finding"] == "upheld"
    assert _act(app_client, handler, oid, "confirm_finding").status_code == 403

    # The supervisor sends a first version back, the handler answers again, the supervisor confirms.
    back = _act(app_client, sup, oid, "return_finding", reason="请补充当事人陈述")
    assert back.json()["state"] == "handling" and back.json()["finding"] == ""
    _act(app_client, handler, oid, "reply", reply="补充当事人陈述后答复", finding="upheld",
         facts="录像与当事人陈述一致")
    early = _act(app_client, sup, oid, "close", reason="处理完毕")
    assert early.status_code == 409 and "回访" in early.json()["error"]["message"]
    confirmed = _act(app_client, sup, oid, "confirm_finding", disposition=["deduction"])
    assert confirmed.status_code == 200
    assert confirmed.json()["outcome"] == "upheld" and confirmed.json()["responsible_staff_ids"] == [org.staff]
    assert _act(app_client, sup, oid, "callback", level=4, method="phone").json()["state"] == "called_back"
    closed = _act(app_client, sup, oid, "close")
    assert closed.json()["state"] == "closed"

    # The ledger names the clerk, and the clerk's own page shows the entry.
    with Session(engine) as s:
        entry = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == number)).one()
    assert entry.staff_id == org.staff and entry.kind == "complaint_upheld" and entry.points == -5.0
    page_client = TestClient(app_client.app, base_url="http://testserver", follow_redirects=False)
    with page_client:
        login(page_client, "staff")
        mine = page_client.get("/me")
        assert mine.status_code == 200 and number in mine.text
        assert CALLER not in mine.text and "139****4321" not in mine.text
        assert page_client.get(f"/complaints/orders/{oid}").status_code == 404
        assert number not in page_client.get("/complaints/orders").text

    # Neither the clerk concerned nor the other clerk of the window reach the order or its caller.
    for who in (clerk, colleague):
        assert app_client.get(f"/api/v1/work-orders/{oid}", headers=who).status_code == 404
        assert app_client.get(f"/api/v1/work-orders/{number}", headers=who).status_code == 404
        listed = app_client.get("/api/v1/work-orders", headers=who)
        assert listed.status_code in (200, 403) and CALLER not in listed.text and number not in listed.text
        assert _act(app_client, who, oid, "progress", reason="x").status_code == 404


def test_an_unreachable_caller_and_a_confidential_caller(engine: Engine, org_data: SimpleNamespace,
                                                         app_client: TestClient) -> None:
    org = org_data
    sup, handler = bearer(app_client, "supervisor"), bearer(app_client, "handler")
    oid = _intake(app_client, sup, org, confidential=True)["work_order_id"]
    _act(app_client, sup, oid, "dispatch", lead_department_id=org.dept)
    # A confidential caller: the handler sees neither name nor number.
    hidden = app_client.get(f"/api/v1/work-orders/{oid}", headers=handler)
    assert hidden.json()["order"]["identity_hidden"] is True
    assert CALLER not in hidden.text and "4321" not in hidden.text
    _act(app_client, handler, oid, "sign")
    _act(app_client, handler, oid, "reply", reply="已处理", finding="not_upheld", facts="录像显示态度正常")
    for n in range(1, 4):
        tried = _act(app_client, sup, oid, "callback_try", method="phone", reason="无人接听")
        assert tried.status_code == 200 and tried.json()["callback_tries"] == n
        if n < 3:
            assert _act(app_client, sup, oid, "close", reason="联系不上").status_code == 409
    closed = _act(app_client, sup, oid, "close", reason="三次回访未接通")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    history = app_client.get(f"/api/v1/work-orders/{oid}", headers=sup).json()["history"]
    tries = [e for e in history if e["action"] == "callback_try"]
    assert [e["detail"]["try"] for e in tries] == [1, 2, 3] and all(e["at"] for e in tries)
    assert history[-1]["detail"]["without_callback"] == "unreachable"
    confirmed = _act(app_client, sup, oid, "confirm_finding")
    assert confirmed.json()["outcome"] == "not_upheld"
    with Session(engine) as s:
        assert s.exec(select(LedgerEntry).where(col(LedgerEntry.source_kind) == "work_order")).all() == []


def test_admins_assign_handlers_departments_on_the_users_api_and_page(engine: Engine, org_data: SimpleNamespace,
                                                                       app_client: TestClient) -> None:
    org = org_data
    admin = bearer(app_client, "admin")
    made = app_client.post("/api/v1/users", headers=admin, json={
        "username": "handler-mz", "display_name": "民政承办人", "password": "test-pass-123", "role": "handler",
        "site_id": org.city, "department_ids": [org.dept2]})
    assert made.status_code == 201 and made.json()["department_ids"] == [org.dept2]
    none = app_client.post("/api/v1/users", headers=admin, json={
        "username": "handler-x", "display_name": "无部门", "password": "test-pass-123", "role": "handler",
        "site_id": org.city})
    assert none.status_code == 422 and none.json()["error"]["fields"][0]["field"] == "department_ids"
    assert "承办" in none.json()["error"]["fields"][0]["message"]
    uid = made.json()["id"]
    both = app_client.patch(f"/api/v1/users/{uid}", headers=admin, json={"department_ids": [org.dept, org.dept2]})
    assert both.status_code == 200 and both.json()["department_ids"] == [org.dept, org.dept2]
    county_admin = bearer(app_client, "county_admin")
    far = app_client.patch(f"/api/v1/users/{uid}", headers=county_admin, json={"department_ids": [org.dept]})
    assert far.status_code == 404
    page_client = TestClient(app_client.app, base_url="http://testserver", follow_redirects=False)
    with page_client:
        csrf = login(page_client, "admin")
        page = page_client.get(f"/admin/users/{uid}")
        assert page.status_code == 200 and "承办部门" in page.text and "市民政局" in page.text
        saved = page_client.post(f"/admin/users/{uid}", data={
            "csrf_token": csrf, "display_name": "民政承办人", "role": "handler", "site_id": str(org.city),
            "locale": "zh-CN", "active": "on", "department_ids": [str(org.dept2)]})
        assert saved.status_code == 303
    listed = app_client.get("/api/v1/users?role=handler", headers=admin).json()["data"]
    assert {u["username"]: u["department_ids"] for u in listed}["handler-mz"] == [org.dept2]
