"""Every role's pages in a real browser, checked by axe and the CSP watch of conftest.py; the home tables and the
live wall laid out for a 1440-px screen."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.conftest import login as _login

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}


@pytest.mark.parametrize("username", ["admin", "officer", "supervisor", "manager", "handler-MY-D-GA", "staff"])
def test_every_page_of_the_main_menu_passes_axe(live_server: str, browser: Any, username: str) -> None:
    """Each entry of the role's menu and each tab on it: the conftest's checks fail the test on any violation."""
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, username)
    menu = page.eval_on_selector_all("nav.mainnav a", "as => as.map(a => a.getAttribute('href'))")
    assert menu
    seen = {"/"}
    for href in menu:
        if href in seen:
            continue
        seen.add(href)
        page.goto(live_server + href)
        tabs = page.eval_on_selector_all("nav.tabs a", "as => as.map(a => a.getAttribute('href'))")
        for tab in tabs:
            if tab not in seen and not tab.endswith((".xlsx", ".pdf")):
                seen.add(tab)
                page.goto(live_server + tab)
    assert len(seen) >= 2
    context.close()


def _squeezed_cells(page: Any) -> list[str]:
    """Cells holding four characters or more in a column narrower than four of them (text stacked a character or
    two per line)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('table.grid td, table.grid th'))
        .filter(c => c.innerText.trim().length >= 4)
        .filter(c => c.getBoundingClientRect().width < 4 * parseFloat(getComputedStyle(c).fontSize))
        .map(c => c.innerText.trim().slice(0, 20))""")


@pytest.mark.parametrize("username", ["supervisor", "officer", "manager", "admin"])
def test_home_tables_keep_readable_columns(live_server: str, browser: Any, username: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, username)
    assert page.locator(".panel table.grid").count() > 0
    assert _squeezed_cells(page) == []
    assert "剩 -" not in page.inner_text("main")
    context.close()


def _jpeg() -> bytes:
    import cv2
    import numpy as np

    ok, encoded = cv2.imencode(".jpg", np.full((180, 320, 3), 90, np.uint8))
    assert ok
    return bytes(encoded.tobytes())


def _register_camera(base: str, name: str, port: int) -> None:
    """A camera registered without asking a device (this server runs no ingest): it has no picture of its own."""
    token_req = urllib.request.Request(base + "/api/v1/auth/token",
                                       data=f"username=admin&password={DEMO_PASSWORD}".encode())
    with urllib.request.urlopen(token_req, timeout=30) as r:
        token = json.load(r)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/sites?limit=1", headers=headers),
                                timeout=30) as r:
        site = json.load(r)["data"][0]["id"]
    body = {"site_id": site, "name": name, "host": "127.0.0.1", "port": port, "skip_probe": True,
            "stream_uri_override": f"rtsp://127.0.0.1:{port}/none"}
    with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/cameras", data=json.dumps(body).encode(),
                                                       headers=headers), timeout=30) as r:
        assert r.status == 201


def test_wall_tiles_are_large_and_the_placeholder_gives_way_to_a_picture(live_server: str, browser: Any) -> None:
    for n in range(5):
        _register_camera(live_server, f"版式测试摄像机{n}", 9 + n)
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, "admin")
    page.goto(live_server + "/cameras/wall")
    page.wait_for_selector("[data-testid=camera-tile]")
    widths = page.eval_on_selector_all("[data-testid=camera-tile]",
                                       "ts => ts.map(t => t.getBoundingClientRect().width)")
    assert widths and all(320 <= w <= 480 for w in widths), widths
    # No frame yet: the placeholder is what the tile shows.
    assert page.locator("[data-testid=camera-tile] .nopic").first.is_visible()
    # Frames arrive (served here by the browser's router): the placeholder is no longer drawn over them.
    jpeg = _jpeg()
    page.route("**/snapshot.jpg*", lambda route: route.fulfill(status=200, content_type="image/jpeg", body=jpeg))
    page.reload()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=camera-tile] img'))
        .every(img => img.complete && img.naturalWidth > 0)""")
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=camera-tile] .nopic'))
        .every(el => getComputedStyle(el).display === 'none')""")
    context.close()


def test_intake_window_picker_is_grouped_and_found_by_typing(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, "supervisor")
    page.goto(live_server + "/complaints/intake")
    groups = page.eval_on_selector_all("#f-window_id optgroup", "gs => gs.map(g => g.label)")
    assert len(groups) > 3 and any(" · " in g for g in groups)  # by centre and hall
    options = page.eval_on_selector_all("#f-window_id option[value]:not([value=''])", "os => os.map(o => o.text)")
    assert any(" · " in o for o in options)  # a window is told by its department
    # Type a department's name: only its windows are left; Enter picks the first and moves to the list.
    department = next(o for o in options if " · " in o).split(" · ")[-1]
    page.fill("#f-window-filter", department)
    left = page.eval_on_selector_all("#f-window_id option:not([hidden])[value]:not([value=''])",
                                     "os => os.map(o => o.text)")
    assert left and all(department in o for o in left) and len(left) < len(options)
    page.focus("#f-window-filter")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "f-window_id"
    assert page.input_value("#f-window_id") != ""
    assert "/complaints/intake" in page.url and page.locator("[data-testid=intake-done]").count() == 0
    context.close()
