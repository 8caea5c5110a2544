"""The working-day calendar in a real browser: the home page's reminder leads to the month grid, styled from /static."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supervision import workdays as wd
from tests.e2e.test_browser import _login
from tests.e2e.test_live_wall import _assert_no_csp_violation, _watch_csp

pytestmark = pytest.mark.browser


def test_admin_follows_the_reminder_to_the_month_grid(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    seen = _watch_csp(context)
    page = context.new_page()
    _login(page, live_server, "admin")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    upcoming = wd.year_to_enter(wd.WorkCalendar(), today)  # the demo declares no year
    if upcoming is not None:
        page.click("[data-testid=calendar-reminder] a")
        page.wait_for_selector("[data-testid=calendar-grid]")
        assert page.locator("[data-testid=grid-provisional]").count() == 1
    page.goto(f"{live_server}/calendar?year=2026")
    assert page.locator("table.cal-month").count() == 12
    national_day = page.locator(f'td[title^="{date(2026, 10, 1).isoformat()} "]')
    assert national_day.inner_text().split() == ["1", "休"]
    # The grid's stylesheet is loaded (not blocked by the policy): a day off has its own background.
    background = national_day.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    _assert_no_csp_violation(page, seen)
    context.close()
