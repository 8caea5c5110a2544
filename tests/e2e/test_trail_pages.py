"""Following a point to its source in a real browser, in both languages: every page on the way passes axe and the
CSP watch of conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, switch_language

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("username", "start", "locale"), [
    ("manager", "/ledger", "zh-CN"), ("staff", "/me", "zh-CN"), ("supervisor", "/ledger", "en"),
    ("staff_town", "/me", "en"),
])
def test_ledger_sources_open_and_pass_axe(live_server: str, browser: Any, username: str, start: str,
                                         locale: str) -> None:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=home-title]")
    # The language is kept on the account and other tests share the server: switch only if needed, and back.
    before = switch_language(page, locale)
    page.goto(live_server + start)
    links = page.eval_on_selector_all("[data-testid=ledger-source] a", "as => as.map(a => a.getAttribute('href'))")
    assert links, f"{username} has no source to follow on {start}"
    for href in sorted(set(links))[:6]:
        response = page.goto(live_server + href)
        assert response is not None and response.status == 200, href
        assert page.locator("[data-testid=record-facts], [data-testid=order-number], [data-testid=findings], "
                           "[data-testid=att-day-status]").count()
    switch_language(page, before)
    context.close()
