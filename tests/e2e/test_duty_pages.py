"""Duty pages in a real browser over the demo: the month calendar, print (A4, only the table), the log, a
person's own page and the public hall screen; axe and the CSP watch of conftest.py check every page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import login as _login

pytestmark = pytest.mark.browser


def test_the_manager_sees_the_month_prints_it_and_reads_the_log(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    _login(page, live_server, "manager")
    page.goto(live_server + "/duty")
    cells = page.locator("table.duty-month td.duty-day")
    assert cells.count() >= 15  # the demo's roster covers every working day of the month
    assert "带" in cells.first.inner_text()
    site_id = re.search(r"site_id=(\d+)", page.get_attribute("[data-testid=duty-print-link]", "href") or "")
    assert site_id
    page.goto(page.url.split("/duty")[0] + (page.get_attribute("[data-testid=duty-print-link]", "href") or ""))
    page.emulate_media(media="print")
    assert page.locator("header.topbar").is_hidden()  # the print stylesheet: only the table goes on paper
    assert page.locator("[data-testid=duty-print] tbody tr").count() >= 15
    page.emulate_media(media="screen")
    page.goto(live_server + "/duty/log")
    assert page.locator("[data-testid=duty-log] tbody tr").count() >= 5
    page.goto(f"{live_server}/duty/pool?site_id={site_id.group(1)}")
    assert page.locator("[data-testid=duty-pool] input[type=checkbox]:checked").count() >= 5
    page.goto(live_server + "/duty/mine")
    context.close()
    hall = browser.new_context(locale="zh-CN").new_page()
    hall.goto(f"{live_server}/hall/{site_id.group(1)}/duty")  # no login
    assert hall.locator("h1").inner_text()
