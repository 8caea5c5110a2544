"""Issue 14's loop end to end in Chromium against `serve --demo`, as each person in it lives it.

The supervisor logs a hotline call about the window clerk `staff` (市公安局 户籍窗口) on the intake screen and
dispatches it to 市公安局 → the unit's handler `handler-MY-D-GA` signs and replies with a finding → the supervisor
confirms it (the clerk held responsible), records the callback and closes → the manager finds the point on the
home page and follows it to the record → the clerk finds it on /me and follows it to their own view of the
record (no caller, no complaint text) → the officer sees the incident on the clerk's post linked only to the
points about attitude. The clerk and another window clerk of the unit get 404 on the order and see no caller
anywhere. Every ledger row of a record on those pages has a link that opens. zh-CN, and the ledger once in
English. Every page passes axe and the CSP watch (conftest.py).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, login, switch_language
from tests.e2e.test_handler_pages import _api, _token

pytestmark = pytest.mark.browser

HANDLER = "handler-MY-D-GA"
CALLER, PHONE, MASKED = "环路来电人", "13677778888", "136****8888"
CONTENT = "户籍窗口工作人员态度生硬,故意刁难,要我提供清单以外的证明。我排了一个小时队,材料也没有一次性告知。"
COLLEAGUE = "loop-colleague"
# Sources that are records a reader may open: each must be a link on every row that shows one.
RECORD_KINDS = {"zh-CN": ("工单 ", "评价 ", "检查发现问题 "), "en": ("work order ", "rating ", "finding ")}


def _login(browser: Any, base: str, username: str, locale: str = "zh-CN") -> tuple[Any, Any]:
    """A fresh context logged in as `username`, its pages in zh-CN (switched back if an earlier test left English)."""
    context = browser.new_context(locale=locale)
    page = context.new_page()
    login(page, base, username)
    switch_language(page, "zh-CN")
    return context, page


def _ledger_rows_open(context: Any, page: Any, base: str, locale: str = "zh-CN") -> list[str]:
    """Every ledger row on the page naming a record has a link, and every such link answers 200 for this reader.

    Returns the links (the page's own order is followed by the caller, in the browser)."""
    rows = page.eval_on_selector_all(
        "[data-testid=ledger-source]",
        "els => els.map(e => [e.textContent.trim(), e.querySelector('a') ? e.querySelector('a').getAttribute('href')"
        " : null])")
    assert rows, f"no ledger row on {page.url}"
    unlinked = [label for label, href in rows if href is None and label.startswith(RECORD_KINDS[locale])]
    assert not unlinked, f"record sources without a link on {page.url}: {unlinked}"
    links = sorted({href for _, href in rows if href})
    for href in links:
        answer = context.request.get(base + href)
        assert answer.status == 200, f"{href} on {page.url} answers {answer.status}"
    return links


def _source_link(page: Any, number: str) -> str:
    hrefs = page.eval_on_selector_all(
        "[data-testid=ledger-source] a", "as => as.map(a => [a.textContent, a.getAttribute('href')])")
    found = [href for text, href in hrefs if number in text]
    assert found, f"no link to {number} on {page.url}"
    return str(found[0])


def _no_caller(page: Any) -> None:
    text = page.inner_text("body")
    assert CALLER not in text and MASKED not in text and PHONE not in text
    assert CONTENT[:12] not in text


def _colleague(base: str, clerk: dict[str, Any]) -> None:
    """Another clerk of 市公安局 gets an account (the admin, through the API)."""
    admin = _token(base, "admin")
    try:
        others = _api(base, f"/api/v1/staff?department_id={clerk['department_id']}&site_id={clerk['site_id']}"
                            "&limit=50", admin)["data"]
        other = next(s for s in others if s["id"] != clerk["id"])
        _api(base, "/api/v1/users", admin, body={
            "username": COLLEAGUE, "display_name": other["name"], "password": DEMO_PASSWORD, "role": "staff",
            "site_id": clerk["site_id"], "staff_id": other["id"]})
    except urllib.error.HTTPError as exc:  # made by an earlier run against the same server
        if exc.code != 409:
            raise


def test_the_loop_across_the_roles(live_server: str, browser: Any) -> None:
    base = live_server
    supervisor = _token(base, "supervisor")
    clerk_id = _api(base, "/api/v1/me", _token(base, "staff"))["staff_id"]
    clerk = _api(base, f"/api/v1/staff/{clerk_id}", supervisor)
    dept = next(d for d in _api(base, "/api/v1/departments?q=MY-D-GA", supervisor)["data"] if d["code"] == "MY-D-GA")
    _colleague(base, clerk)

    # 1. The supervisor logs the call on the intake screen, names the clerk and dispatches to 市公安局 at once.
    context, page = _login(browser, base, "supervisor")
    page.goto(base + "/complaints/intake")
    page.select_option("#f-type", "complaint")
    page.select_option("select[name=channel]", "hotline")
    page.fill("input[name=caller_name]", CALLER)
    page.fill("#f-phone", PHONE)
    page.fill("textarea[name=content]", CONTENT)
    page.select_option("#f-window_id", str(clerk["window_id"]))
    page.select_option("#f-staff_id", str(clerk_id))
    page.select_option("#f-lead_department_id", str(dept["id"]))
    page.click("[data-testid=intake-submit]")
    page.wait_for_selector("[data-testid=intake-done]")
    number = page.inner_text("[data-testid=intake-order-link]").strip()
    page.click("[data-testid=intake-order-link]")
    page.wait_for_selector("[data-testid=order-history] .ev-dispatch")
    oid = int(page.url.rstrip("/").split("/")[-1].split("?")[0])
    url = f"{base}/complaints/orders/{oid}"
    # The title is whole sentences of the call, never cut in the middle of one.
    title = _api(base, f"/api/v1/work-orders/{oid}", supervisor)["order"]["title"]
    assert CONTENT.startswith(title) and title.endswith("。")
    context.close()

    # 2. The unit's handler signs and replies with a finding; the caller's name, the number masked.
    context, page = _login(browser, base, HANDLER)
    page.goto(url)
    caller = page.inner_text("[data-testid=caller]")
    assert CALLER in caller and MASKED in caller and PHONE not in page.content()
    page.click("[data-testid=action-sign]")
    page.click("[data-testid=do-sign]")
    page.wait_for_selector("[data-testid=order-history] .ev-sign")
    page.click("[data-testid=action-reply]")
    page.fill("details[open] textarea[name=reply]", "已约谈当事人,批评教育并向来电人致歉")
    page.select_option("[data-testid=reply-finding]", "upheld")
    page.fill("[data-testid=reply-facts]", "调取大厅录像,当事人态度生硬属实")
    page.click("[data-testid=do-reply]")
    page.wait_for_selector("[data-testid=order-history] .ev-reply")
    assert page.locator("[data-testid=order-state].state-replied").count() == 1
    assert page.locator("[data-testid=action-confirm_finding], [data-testid=action-close]").count() == 0
    context.close()

    # 3. The supervisor confirms the finding, the clerk held responsible; not closed before the callback.
    context, page = _login(browser, base, "supervisor")
    page.goto(url)
    assert page.locator("[data-testid=action-close]").count() == 0
    page.click("[data-testid=action-confirm_finding]")
    chosen = page.eval_on_selector("[data-testid=confirm_finding-responsible]",
                                   "s => Array.from(s.selectedOptions).map(o => o.textContent)")
    assert len(chosen) == 1 and clerk["name"] in chosen[0]
    page.click("[data-testid=do-confirm_finding]")
    page.wait_for_selector("[data-testid=responsible]")
    assert clerk["name"] in page.inner_text("[data-testid=responsible]")
    assert "属实" in page.inner_text("[data-testid=finding]")
    page.click("[data-testid=action-callback]")
    page.check("details[open] input[name=level][value='4']")
    page.click("[data-testid=do-callback]")
    page.wait_for_selector("[data-testid=order-history] .ev-callback")
    page.click("[data-testid=action-close]")
    page.click("[data-testid=do-close]")
    page.wait_for_selector("[data-testid=order-history] .ev-close")
    assert page.locator("[data-testid=order-state].state-closed").count() == 1
    context.close()

    # 4. The manager: the point on the home page, followed to the record (outcome, the clerk; no caller).
    context, page = _login(browser, base, "manager")
    page.wait_for_selector("[data-panel=recent_ledger] [data-testid=ledger-table]")
    panel = page.locator("[data-panel=recent_ledger]")
    assert number in panel.inner_text() and clerk["name"] in panel.inner_text()
    page.click(f"[data-panel=recent_ledger] [data-testid=ledger-source] a:has-text('{number}')")
    page.wait_for_selector("[data-testid=record-facts], [data-testid=order-number]")
    assert number in page.inner_text("main") and clerk["name"] in page.inner_text("main")
    page.goto(base + "/")
    _ledger_rows_open(context, page, base)
    page.goto(base + "/ledger")
    _ledger_rows_open(context, page, base)
    context.close()

    # 5. The clerk: the entry on /me, followed to their own view of the record; never the order nor the caller.
    context, page = _login(browser, base, "staff")
    _no_caller(page)
    page.goto(base + "/me")
    assert number in page.inner_text("main")
    _no_caller(page)
    _ledger_rows_open(context, page, base)
    href = _source_link(page, number)
    assert href.startswith("/records/"), href
    response = page.goto(base + href)
    assert response is not None and response.status == 200
    facts = page.inner_text("[data-testid=record-facts]")
    assert "属实" in facts and clerk["name"] in facts
    _no_caller(page)
    assert page.locator(f"a[href='/complaints/orders/{oid}']").count() == 0
    response = page.goto(url)
    assert response is not None and response.status == 404
    _no_caller(page)
    context.close()

    # 6. Another window clerk of the unit: 404 on the order, no caller anywhere on their pages.
    context, page = _login(browser, base, COLLEAGUE)
    _no_caller(page)
    for path in ("/me", "/complaints/orders", f"/complaints/orders/{oid}"):
        page.goto(base + path)
        _no_caller(page)
        assert number not in page.inner_text("body") or path == "/me"
    response = page.goto(url)
    assert response is not None and response.status == 404
    context.close()

    # 7. The officer: on the clerk's post (户籍受理岗) the incident counts against the points about obstruction
    # (故意刁难…, 擅自增设受理条件) — the complaint's words — and not against the others (受理把关不严, 体外循环).
    context, page = _login(browser, base, "officer")
    page.goto(f"{base}/risk/posts/{clerk['post_id']}")
    row = page.locator("[data-testid^=incident-]", has_text=number)
    assert row.count() == 1, f"the incident of {number} is not on the clerk's post"
    text = row.inner_text()
    assert "upheld" not in text and "属实" in text  # in the page's language, not "GD… upheld"
    linked = row.locator("[data-testid^=link-]:not([data-testid$=-removed])")
    names = [linked.nth(n).locator("a").inner_text() for n in range(linked.count())]
    assert names, "the complaint counts against no point of the post"
    assert all("刁难" in name or "增设" in name for name in names), names
    assert "刁难" in text
    points = page.locator("[data-testid=risk-points] tbody tr td:nth-child(2)").all_inner_texts()
    others = [p for p in points if not any(name in p for name in names)]
    assert any("把关不严" in p or "体外循环" in p for p in others), (points, names)
    point_href = linked.first.locator("a").get_attribute("href")
    page.goto(base + str(point_href))
    page.wait_for_selector("[data-testid=risk-point-title]")
    assert number in page.inner_text("[data-testid=risk-incidents]")
    # The officer's own ledger: the order's row leads to the order.
    page.goto(base + "/ledger")
    links = _ledger_rows_open(context, page, base)
    assert any(str(oid) in h for h in links if "work-orders" in h or "/complaints/orders/" in h)
    context.close()

    # 8. Once in English: the ledger rows read in English and still open.
    context, page = _login(browser, base, "supervisor")
    switch_language(page, "en")
    try:
        page.goto(base + "/ledger")
        table = page.inner_text("[data-testid=ledger-table]")
        assert not re.search(r"[\u4e00-\u9fff]{2,}", page.inner_text("[data-testid=ledger-table] thead"))
        assert "complaint_upheld" not in table and "ledger_reason." not in table
        _ledger_rows_open(context, page, base, "en")
        response = page.goto(base + _source_link(page, number))
        assert response is not None and response.status == 200
    finally:
        switch_language(page, "zh-CN")
    context.close()
