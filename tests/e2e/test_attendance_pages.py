"""Attendance in a real browser (axe and the CSP checked on every page): the manager's month grid from the
demo's three months, a person's month and a day; window staff ask for a 补卡 and the manager approves it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import login as _login

pytestmark = pytest.mark.browser


def test_manager_reads_the_month_grid_and_a_persons_day(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, "manager")
    page.click("nav.mainnav >> text=考勤")
    page.wait_for_selector("[data-testid=att-grid]")
    last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page.goto(f"{live_server}/attendance?month={last_month}")
    page.wait_for_selector("[data-testid=att-grid]")
    cells = page.locator("[data-testid=att-grid] span.st")
    assert cells.count() > 100  # the demo's punches, computed
    assert page.locator("[data-testid=att-grid] span.st-late").count() > 0
    legend = page.inner_text("ul.legend")
    assert "迟到" in legend and "缺卡" in legend
    page.locator("[data-testid=att-grid] tbody th a").first.click()
    page.wait_for_selector("[data-testid=att-totals]")
    assert "出勤" in page.inner_text("[data-testid=att-totals]")
    page.locator("table.table tbody a").first.click()
    page.wait_for_selector("[data-testid=att-day-status]")
    assert page.locator("form[action$='/correct']").count() == 1
    page.goto(live_server + "/attendance/rates")
    page.wait_for_selector("[data-testid=att-rates]")
    assert page.locator("svg.ratechart polyline").count() > 0
    context.close()


def test_staff_ask_for_a_missed_punch_and_the_manager_approves(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, "staff")
    page.goto(live_server + "/me")
    page.click("text=我的考勤")
    page.wait_for_selector("[data-testid=att-totals]")
    page.goto(live_server + "/attendance/corrections")
    day = date.today() - timedelta(days=2)
    page.fill("input[name=day]", day.isoformat())
    page.fill("input[name=punch_time]", "17:45")
    page.fill("input[name=reason]", "浏览器测试:考勤机未识别")
    page.click("form[action='/attendance/corrections'] button.primary")
    page.wait_for_url("**/attendance/corrections?asked=1")
    assert "浏览器测试:考勤机未识别" in page.inner_text("[data-testid=att-corrections]")
    manager = browser.new_context(locale="zh-CN")
    mpage = manager.new_page()
    _login(mpage, live_server, "manager")
    mpage.goto(live_server + "/attendance/corrections")
    row = mpage.locator("[data-testid=att-corrections] tbody tr", has_text="浏览器测试:考勤机未识别")
    row.locator("button.primary").click()
    mpage.wait_for_url("**/attendance/corrections?decided=1")
    mpage.goto(live_server + "/attendance/corrections?state=approved")
    assert "浏览器测试:考勤机未识别" in mpage.inner_text("[data-testid=att-corrections]")
    manager.close()
    context.close()
