"""A staff leave request through approval in a real browser: asked on /me, approved in the manager's queue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supervision.workdays import WorkCalendar
from tests.e2e.test_browser import _login
from tests.e2e.test_live_wall import _assert_no_csp_violation, _watch_csp

pytestmark = pytest.mark.browser


def _two_working_days() -> date:
    """A Monday eight weeks or more ahead that is worked, as is the Tuesday after (the demo's leave is nearer)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    day = today + timedelta(days=56 - today.weekday())
    calendar = WorkCalendar()
    while not (calendar.is_workday(day).value and calendar.is_workday(day + timedelta(days=1)).value):
        day += timedelta(days=7)
    return day


def test_staff_asks_for_leave_and_the_manager_approves(live_server: str, browser: Any) -> None:
    start = _two_working_days()
    staff_context = browser.new_context(locale="zh-CN")
    seen = _watch_csp(staff_context)
    staff = staff_context.new_page()
    _login(staff, live_server, "staff")
    staff.goto(f"{live_server}/me")
    assert "年休假" in staff.locator("[data-testid=leave-balance]").inner_text()
    form = staff.locator("[data-testid=leave-form]")
    form.locator("select[name=kind]").select_option("personal")
    form.locator("input[name=start_day]").fill(start.isoformat())
    form.locator("input[name=end_day]").fill((start + timedelta(days=1)).isoformat())
    form.locator("input[name=reason]").fill("浏览器测试:家中有事")
    form.locator("button.primary").click()
    staff.wait_for_selector("[data-testid=my-leave] .alert.ok")
    mine = staff.locator("[data-testid=my-leave-requests] tr", has_text=start.isoformat())
    assert "事假" in mine.inner_text() and "待审批" in mine.inner_text()
    _assert_no_csp_violation(staff, seen)

    manager_context = browser.new_context(locale="zh-CN")
    manager = manager_context.new_page()
    _login(manager, live_server, "manager")
    manager.click("nav >> text=请假审批")
    manager.wait_for_selector("[data-testid=leave-queue]")
    row = manager.locator("[data-testid=leave-queue] tr", has_text="浏览器测试:家中有事")
    assert start.isoformat() in row.inner_text()
    row.locator("input[name=note]").fill("同意,注意交接")
    row.locator("button[value='1']").click()
    manager.wait_for_selector("[data-testid=leave-queue]")
    assert manager.locator("[data-testid=leave-queue] tr", has_text="浏览器测试:家中有事").count() == 0
    manager_context.close()

    staff.reload()
    mine = staff.locator("[data-testid=my-leave-requests] tr", has_text=start.isoformat())
    assert "已批准" in mine.inner_text() and "同意,注意交接" in mine.inner_text()
    # Withdrawn before it starts.
    mine.locator("button").click()
    staff.wait_for_selector("[data-testid=my-leave] .alert.ok")
    assert "已撤销" in staff.locator("[data-testid=my-leave-requests] tr", has_text=start.isoformat()).inner_text()
    staff_context.close()
