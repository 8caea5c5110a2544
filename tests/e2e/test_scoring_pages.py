"""Monthly scores in a real browser (axe and the CSP checked on every page): the manager opens 月度考评 from the
navigation, reads last month (closed and published by the demo), opens a person's explanation from a number and
follows one ledger entry to its source."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import login as _login
from tests.e2e.conftest import switch_language

pytestmark = pytest.mark.browser


def test_month_page_and_an_explanation_to_its_source(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, "manager")
    page.click("nav.mainnav >> text=月度考评")
    page.wait_for_selector("[data-testid=scoring-table]")
    last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert last_month in page.inner_text("[data-testid=scoring-title]")
    status = page.inner_text("[data-testid=scoring-status]")
    assert "已结账" in status and "已公布" in status  # the demo closed and published it
    assert page.locator("[data-testid=scoring-table] tbody tr").count() > 10
    page.click("[data-testid=kind-window]")
    page.wait_for_selector("[data-testid=scoring-table]")
    assert "kind=window" in page.url
    page.click("[data-testid=kind-staff]")
    page.wait_for_selector("[data-testid=scoring-table]")
    # The people furthest down have deductions; follow their final score until an entry's source is a link.
    finals = page.locator("[data-testid=scoring-table] [data-testid=final]")
    hrefs = [finals.nth(i).get_attribute("href") for i in range(finals.count())][::-1][:8]
    for href in hrefs:
        page.goto(live_server + str(href))
        page.wait_for_selector("[data-testid=explain-summary]")
        sources = page.locator("[data-testid=ledger-source] a")
        if sources.count():
            break
    else:
        pytest.fail("no explanation of the eight lowest scores links an entry to its source")
    assert "规则版本" in page.inner_text("main")
    target = sources.first.get_attribute("href")
    sources.first.click()
    page.wait_for_url(live_server + str(target))
    assert page.locator("main h1").count() >= 1
    # The same month in English.
    page.goto(f"{live_server}/scoring?month={last_month}")
    before = switch_language(page, "en")
    page.wait_for_selector("[data-testid=scoring-table]")
    assert "Monthly scores" in page.inner_text("main")
    switch_language(page, before)  # the language is kept on the account, and the live server is shared
    context.close()


def test_admin_reads_the_rule_versions_and_the_new_version_form(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, "admin")
    page.goto(live_server + "/scoring/rules")
    page.wait_for_selector("[data-testid=rule-version]")
    assert "default-2026" in page.inner_text("main")
    form = page.locator("[data-testid=rules-form]")
    assert form.count() == 1
    # Every item of the rules has its points, cap and subjects on the form.
    assert form.locator("input[name^='points.']").count() >= 16
    context.close()
