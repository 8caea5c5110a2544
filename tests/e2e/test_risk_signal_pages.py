"""Issue 14 §5–§7 in a real browser on the demo: the officer re-links a flagged point's incident, the incidents
read in the page's language, and the manager decides a rating appeal from the home page (axe and CSP checked
on every page by the fixture)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login, switch_language

pytestmark = pytest.mark.browser


def test_officer_takes_an_incident_off_a_flagged_point(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    login(page, live_server, "officer")
    switch_language(page, "zh-CN")
    page.goto(live_server + "/risk?flag=regrade")
    page.wait_for_selector("[data-testid=risk-points]")
    page.locator("[data-testid=risk-points] tbody tr td:nth-child(1) a").first.click()
    page.wait_for_selector("[data-testid=risk-point-title]")
    linked = page.locator("[data-testid=risk-incidents] tbody tr")
    before = linked.count()
    assert before >= 3 and "按规则" in page.inner_text("[data-testid=risk-incidents]")
    assert "演示事件" in page.inner_text("[data-testid=risk-incidents]")
    form = page.locator("[data-testid^=remove-link-]").first
    form.locator("input[name=reason]").fill("经核实与该风险点无关")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=link-done]")
    assert page.locator("[data-testid=risk-incidents] tbody tr").count() == before - 1
    assert "经核实与该风险点无关" in page.inner_text("[data-testid=risk-other-incidents]")
    page.click("[data-testid=switch-en]")
    page.wait_for_selector("[data-testid=switch-zh]")
    text = page.inner_text("main")
    assert "Demo incident" in text and "演示事件" not in text and "By rule" in text
    switch_language(page, "zh-CN")  # and leave the account as it was
    context.close()


def test_manager_decides_an_appeal_from_home(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    login(page, live_server, "manager")
    switch_language(page, "zh-CN")
    # The city's and each county's and park's appeal: the city manager decides for the whole jurisdiction.
    waiting = int(page.inner_text("[data-testid=appeals-panel] a").split()[0])
    assert waiting >= 1
    page.click("[data-testid=appeals-panel] a")
    page.wait_for_selector("[data-testid=rating-list]")
    rows = page.locator("[data-testid=rating-list] tbody tr")
    assert rows.count() >= 1
    form = page.locator("form[action$='/decision']").first
    form.locator("input[name=reason]").fill("调取录像核实为误评")
    form.locator("button").click()
    page.wait_for_url("**/complaints/ratings?done=decision")
    page.goto(live_server + "/")
    page.wait_for_selector("[data-testid=appeals-panel]")
    left = page.inner_text("[data-testid=appeals-panel]")
    assert (f"{waiting - 1} 件申诉待复核" in left) if waiting > 1 else ("暂无待复核的申诉" in left)
    context.close()
