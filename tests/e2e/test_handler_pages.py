"""The complaint loop in a real browser across the roles in it (issue 14 §1–§3), against `serve --demo`.

The demo's clerk `staff` (市公安局's 户籍 window) is complained about; 市公安局's handler
`handler-MY-D-GA` signs and replies with a finding on the order page; the supervisor confirms it,
holding the clerk responsible, records the unreachable callbacks and closes; the clerk finds the entry
on /me, never the order nor the caller.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.conftest import login as _login

pytestmark = pytest.mark.browser

HANDLER = "handler-MY-D-GA"
CALLER = "浏览器来电人"


def _api(base: str, path: str, token: str = "", body: dict[str, Any] | None = None,
         form: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else (
        urllib.parse.urlencode(form).encode() if form is not None else None)
    request = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _token(base: str, username: str) -> str:
    return str(_api(base, "/api/v1/auth/token", form={"username": username, "password": DEMO_PASSWORD})[
        "access_token"])


def _order_about_the_clerk(base: str) -> tuple[int, str, str]:
    """A hotline complaint about the clerk `staff`, dispatched to 市公安局 (through the API, as telephony would)."""
    supervisor = _token(base, "supervisor")
    staff_id = _api(base, "/api/v1/me", _token(base, "staff"))["staff_id"]
    clerk = _api(base, f"/api/v1/staff/{staff_id}", supervisor)
    dept = next(d for d in _api(base, "/api/v1/departments?q=MY-D-GA", supervisor)["data"] if d["code"] == "MY-D-GA")
    order = _api(base, "/api/v1/work-orders", supervisor, body={
        "channel": "hotline", "type": "complaint", "caller_name": CALLER, "phone": "13655556666",
        "content": "户籍窗口工作人员态度生硬,不一次性告知材料。", "site_id": clerk["site_id"],
        "window_id": clerk["window_id"], "staff_id": staff_id, "lead_department_id": dept["id"]})
    return int(order["id"]), str(order["number"]), str(clerk["name"])


def test_handler_signs_and_replies_the_supervisor_confirms_the_clerk_sees_only_the_entry(
        live_server: str, browser: Any) -> None:
    oid, number, clerk_name = _order_about_the_clerk(live_server)
    url = f"{live_server}/complaints/orders/{oid}"

    # The unit's handler: the order is on their home, with the caller's name and a masked number.
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, HANDLER)
    assert page.inner_text("[data-testid=home-title]") == "承办人工作台:本单位工单"
    page.goto(url)
    caller = page.inner_text("[data-testid=caller]")
    assert CALLER in caller and "136****6666" in caller
    page.click("[data-testid=action-sign]")
    page.click("[data-testid=do-sign]")
    page.wait_for_selector("[data-testid=order-history] .ev-sign")
    page.click("[data-testid=action-reply]")
    page.fill("details[open] textarea[name=reply]", "已约谈当事人,批评教育并当面致歉")
    page.select_option("[data-testid=reply-finding]", "upheld")
    page.fill("[data-testid=reply-facts]", "调取大厅录像,当事人态度生硬属实")
    page.click("[data-testid=do-reply]")
    page.wait_for_selector("[data-testid=order-history] .ev-reply")
    assert page.locator("[data-testid=order-state].state-replied").count() == 1
    assert "属实" in page.inner_text("[data-testid=finding]")
    assert page.locator("[data-testid=action-confirm_finding]").count() == 0  # the supervisor's to confirm
    context.close()

    # The supervisor confirms the finding (the clerk preselected as responsible), tries the callback
    # three times and closes.
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, "supervisor")
    page.goto(url)
    page.click("[data-testid=action-confirm_finding]")
    chosen = page.eval_on_selector("[data-testid=confirm_finding-responsible]",
                                   "s => Array.from(s.selectedOptions).map(o => o.textContent)")
    assert len(chosen) == 1 and clerk_name in chosen[0]
    page.click("[data-testid=do-confirm_finding]")
    page.wait_for_selector("[data-testid=responsible]")
    assert clerk_name in page.inner_text("[data-testid=responsible]")
    for n in range(1, 4):
        page.click("[data-testid=action-callback_try]")
        page.click("[data-testid=do-callback_try]")
        page.wait_for_selector(f"[data-testid=callback-try] >> nth={n - 1}")
    assert "3" in page.inner_text("[data-testid=callback-tries]")
    page.click("[data-testid=action-close]")
    page.fill("[data-testid=close-reason]", "三次回访均未接通")
    page.click("[data-testid=do-close]")
    page.wait_for_selector("[data-testid=order-history] .ev-close")
    # By its state, not its words: an earlier test may have left the supervisor's pages in English.
    assert page.locator("[data-testid=order-state].state-closed").count() == 1
    context.close()

    # The clerk: the entry on their own page, not the order, not the caller.
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, "staff")
    page.goto(live_server + "/me")
    mine = page.inner_text("main")
    assert number in mine and CALLER not in mine and "136****6666" not in mine
    response = page.goto(url)
    assert response is not None and response.status == 404
    assert CALLER not in page.inner_text("main")
    context.close()
