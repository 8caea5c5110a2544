"""The risk register in a real browser: the officer's register with a filter, the heat table, a post's page,
and window staff reaching their own post's risks from the home page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def test_officer_filters_the_register_and_opens_a_post(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    login(page, live_server, "officer")
    assert page.locator("[data-panel=risk_reminders]").count() == 1
    page.click("nav.mainnav >> text=廉政风险")
    page.wait_for_selector("[data-testid=risk-register-title]")
    assert page.inner_text("[data-testid=risk-register-title]") == "廉政风险点台账"
    rows = page.locator("[data-testid=risk-points] tbody tr")
    assert rows.count() == 50  # the demo register is paged
    page.select_option("select[name=level]", "1")
    page.click("[data-testid=risk-filters] button[type=submit]")
    page.wait_for_url("**/risk?*level=1*")
    levels = page.locator("[data-testid=risk-points] tbody [data-level]").all_inner_texts()
    assert levels and set(levels) == {"一级"}
    # The heat table: coloured cells with counts.
    page.click("nav.tabs >> text=风险热力表")
    page.wait_for_selector("[data-testid=risk-heat]")
    assert page.locator("[data-testid=risk-heat] td.heatcell.l1").count() > 0
    # A post's page from the register.
    page.goto(live_server + "/risk?level=1")
    page.locator("[data-testid=risk-points] tbody tr td:nth-child(3) a").first.click()
    page.wait_for_selector("[data-testid=risk-post-title]")
    assert page.locator("[data-testid=risk-points] tbody tr").count() >= 1
    assert page.locator("[data-testid=risk-measures]").count() == 1
    assert page.locator("[data-testid=risk-signal]").count() == 1
    # English on the same page.
    page.click("[data-testid=switch-en]")
    page.wait_for_selector("[data-testid=switch-zh]")
    assert "Risk points" in page.inner_text("main")
    context.close()


def test_window_staff_see_their_own_post(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    login(page, live_server, "staff")
    panel = page.locator("[data-panel=risk_own_post]")
    assert panel.count() == 1
    panel.locator("[data-testid=own-post-link]").click()
    page.wait_for_selector("[data-testid=risk-post-title]")
    assert page.locator("[data-testid=risk-points] tbody tr").count() >= 1
    context.close()
