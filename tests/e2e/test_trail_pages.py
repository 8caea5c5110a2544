"""Following a point to its source in a real browser, in both languages: every page on the way passes axe and the
CSP watch of conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD

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
    if locale == "en":  # kept on the account: switched back below, other tests share the server
        page.click("[data-testid=switch-en]")
        page.wait_for_selector("html[lang=en]")
    page.goto(live_server + start)
    links = page.eval_on_selector_all("[data-testid=ledger-source] a", "as => as.map(a => a.getAttribute('href'))")
    assert links, f"{username} has no source to follow on {start}"
    for href in sorted(set(links))[:6]:
        response = page.goto(live_server + href)
        assert response is not None and response.status == 200, href
        assert page.locator("[data-testid=record-facts], [data-testid=order-number], [data-testid=findings]").count()
    if locale == "en":
        page.click("[data-testid=switch-zh]")
        page.wait_for_selector("html[lang=zh-CN]")
    context.close()
