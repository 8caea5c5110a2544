"""Drawing a zone in a real browser: clicks on the camera's still become the outline, saved and drawn again."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import _login
from tests.e2e.test_page_walk import DESKTOP, _jpeg

pytestmark = pytest.mark.browser


def _camera(base: str, name: str, mount: str) -> int:
    token_req = urllib.request.Request(base + "/api/v1/auth/token",
                                       data=f"username=admin&password={DEMO_PASSWORD}".encode())
    with urllib.request.urlopen(token_req, timeout=30) as r:
        token = json.load(r)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/sites?limit=1", headers=headers),
                                timeout=30) as r:
        site = json.load(r)["data"][0]["id"]
    body = {"site_id": site, "name": name, "host": "127.0.0.1", "port": 9, "skip_probe": True,
            "stream_uri_override": f"rtsp://127.0.0.1:9/{mount}"}
    with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/cameras", data=json.dumps(body).encode(),
                                                       headers=headers), timeout=30) as r:
        return int(json.load(r)["id"])


def test_an_officer_draws_a_post_zone_on_the_still(live_server: str, browser: Any) -> None:
    camera_id = _camera(live_server, "区域绘制测试摄像机", "zones-drawn")
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    jpeg = _jpeg()
    page.route("**/snapshot.jpg*", lambda route: route.fulfill(status=200, content_type="image/jpeg", body=jpeg))
    _login(page, live_server, "officer")
    page.goto(f"{live_server}/cameras/{camera_id}/zones")
    page.wait_for_selector("[data-testid=no-zones]")
    page.wait_for_function("() => document.querySelector('[data-zone-canvas]').classList.contains('has-picture')")
    box = page.locator("[data-zone-svg]").bounding_box()
    assert box is not None and box["width"] > 300
    corners = [(0.44, 0.05), (0.74, 0.05), (0.74, 0.95), (0.44, 0.95)]
    for x, y in corners:
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    lines = page.input_value("[data-testid=zone-points]").splitlines()
    assert len(lines) == 4
    drawn = [tuple(float(v) for v in line.split(",")) for line in lines]
    assert all(abs(a - x) < 0.01 and abs(b - y) < 0.01 for (a, b), (x, y) in zip(drawn, corners, strict=True))
    assert page.locator("[data-zone-svg] polygon.draft").count() == 1  # the outline is drawn as it grows
    page.click("[data-zone-undo]")
    assert len(page.input_value("[data-testid=zone-points]").splitlines()) == 3
    page.mouse.click(box["x"] + 0.44 * box["width"], box["y"] + 0.95 * box["height"])
    page.fill("[data-testid=zone-name]", "一号窗口岗位")
    post = page.eval_on_selector_all("[data-testid=zone-post] option", "os => os.map(o => o.value).filter(Boolean)")
    assert post, "the demo site has posts to link"
    page.select_option("[data-testid=zone-post]", post[0])
    page.click("[data-testid=zone-save]")
    page.wait_for_selector("[data-testid=saved]")
    assert "一号窗口岗位" in page.inner_text("[data-testid=zone-list]")
    # The saved zone is drawn over the still, in the post zones' colour (zones.css is not blocked).
    saved = page.locator("[data-zone-svg] polygon.post")
    assert saved.count() == 1
    assert saved.evaluate("p => getComputedStyle(p).stroke") not in ("none", "")
    context.close()


def test_keyboard_only_a_zone_is_typed_and_a_bad_point_is_named(live_server: str, browser: Any) -> None:
    camera_id = _camera(live_server, "区域键盘测试摄像机", "zones-typed")
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, "admin")
    page.goto(f"{live_server}/cameras/{camera_id}/zones")
    page.focus("[data-testid=zone-name]")
    page.keyboard.type("等候区")
    page.select_option("[data-testid=zone-kind]", "queue")
    page.fill("[data-testid=zone-points]", "0.05, 0.5\n0.4, 0.5\n0.4, 1.2")
    page.click("[data-testid=zone-save]")
    page.wait_for_selector("[data-testid=problems]")
    assert "第 3 个点超出画面" in page.inner_text("[data-testid=problems]")
    context.close()
