"""The live wall in a real browser: `serve --demo` with ingest, the grid shows stills, the live view streams
and is audited."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import _free_port, login

pytestmark = pytest.mark.browser

PASSWORD = "demo-wall-2026"


def _demo_transport() -> str:
    from cameras.demo import gstreamer_available

    return "rtsp" if gstreamer_available() else "http"


@pytest.fixture(scope="module")
def wall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`supervision serve --demo` with ingest on (virtual cameras over RTSP, or HTTP without GStreamer)."""
    var = tmp_path_factory.mktemp("wall") / "var"
    port = _free_port()
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": PASSWORD,
           "SUPERVISION_SCHEDULER_ENABLED": "false", "SUPERVISION_INGEST_ENABLED": "true",
           "SUPERVISION_PASSWORD_HASH_FAST": "true", "SUPERVISION_DATABASE_URL": "",
           "SUPERVISION_CAMERA_DEMO_CAMERAS": "3", "SUPERVISION_CAMERA_DEMO_CLIP_SECONDS": "8",
           "SUPERVISION_CAMERA_DEMO_TRANSPORT": _demo_transport(),
           "SUPERVISION_CAMERA_WALL_REFRESH_SECONDS": "2"}
    env.pop("SUPERVISION_SECRET_KEY", None)
    log_path = var.parent / "server.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "web", "serve", "--demo", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("server exited: " + log_path.read_text()[-3000:])
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("server did not answer /healthz within 120 s")
        yield base, var / "supervision.db"
    finally:
        proc.terminate()  # the server we started, by its handle; it stops its RTSP server child itself
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _live_views(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db, timeout=10) as conn:
        return list(conn.execute(
            "SELECT actor_name, object_id, detail FROM audit_entry WHERE action = 'camera.live_view'"))


# Runs before any page script (Playwright injects it outside the page's CSP): collects every violation report.
WATCH_CSP = """window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":"
                    + e.lineNumber);
});"""


def _watch_csp(context: Any) -> list[str]:
    """Violations reported on the console or to the pages' listeners, script errors, and documents served with
    a policy that allows inline scripts, in this context."""
    seen: list[str] = []
    context.add_init_script(WATCH_CSP)

    def on_response(response: Any) -> None:
        if response.request.resource_type != "document":
            return
        policy = str(response.headers.get("content-security-policy", ""))
        script_src = next((p.split()[1:] for p in policy.split(";") if p.split()[:1] == ["script-src"]), None)
        if script_src != ["'self'"]:
            seen.append(f"{response.url} served with {policy!r}")

    def on_page(page: Any) -> None:
        page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.on("pageerror", lambda error: seen.append(f"pageerror: {error}"))
        page.on("response", on_response)

    context.on("page", on_page)
    return seen


def _assert_no_csp_violation(page: Any, seen: list[str]) -> None:
    reported = page.evaluate("() => window.__csp || []")
    assert not reported and not seen, f"CSP violations on {page.url}: {reported + seen}"


def test_wall_shows_stills_live_view_streams_and_is_audited(wall_server: tuple[str, Path], browser: Any) -> None:
    base, db = wall_server
    context = browser.new_context(locale="zh-CN")
    seen = _watch_csp(context)
    page = context.new_page()
    login(page, base, "officer", password=PASSWORD)
    assert page.locator("[data-panel=camera_alerts]").count() == 1
    _assert_no_csp_violation(page, seen)
    # The demo cameras register themselves once their clips are rendered; ingest then picks them up.
    shown = online = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        page.goto(base + "/cameras/wall")
        page.wait_for_selector("[data-testid=camera-wall]")
        page.wait_for_timeout(2500)  # a refresh round of the stills
        shown = page.evaluate("""() => Array.from(document.querySelectorAll('img[data-snapshot]'))
            .filter(img => img.complete && img.naturalWidth > 0).length""")
        online = page.locator("[data-testid=camera-tile] [data-status=online]").count()
        if shown >= 3 and online >= 3:
            break
    assert shown >= 3, "the wall did not show three stills"
    assert online >= 3, "the wall did not show three cameras online"
    # The stills change: the refresh loads a newer frame without reloading the page.
    first = page.get_attribute("[data-testid=camera-tile] img", "src")
    page.wait_for_timeout(4500)
    assert page.get_attribute("[data-testid=camera-tile] img", "src") != first
    # ... one short request per still, no connection per camera held open (no MJPEG on the wall).
    assert page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => e.name.indexOf('.mjpeg') >= 0).length""") == 0
    assert page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=camera-tile] img'))
        .every(img => img.style.visibility === 'visible')""")
    _assert_no_csp_violation(page, seen)

    before = len(_live_views(db))
    page.click("[data-testid=camera-tile] a.still >> nth=0")
    page.wait_for_selector("[data-testid=live-view]")
    assert "审计" in page.inner_text("[data-testid=live-audited]")
    page.wait_for_function("""() => { const img = document.querySelector('[data-testid=live-view]');
        return img.complete !== undefined && img.naturalWidth > 0; }""", timeout=20000)
    camera_url = page.url
    page.wait_for_timeout(2000)
    assert page.get_attribute("[data-testid=live-view]", "data-fell-back") is None  # streaming, not the still
    _assert_no_csp_violation(page, seen)
    page.goto(base + "/")  # leaving closes the stream: the view's end is written then
    rows: list[tuple[str, str, str]] = []
    # The server sees the viewer gone at its next frame write; under load that can take a while.
    waited_until = time.monotonic() + 60
    while time.monotonic() < waited_until:
        rows = _live_views(db)
        if len(rows) > before:
            break
        time.sleep(0.2)
    assert len(rows) > before, "the live view was not audited"
    actor, object_id, detail = rows[-1]
    assert actor and camera_url.rstrip("/").split("/")[-2] == object_id
    assert '"seconds"' in detail

    # The home page's camera panel shows the stills and renews them (app.js data-refresh).
    panel = "[data-panel=camera_alerts] .camtile img"
    page.wait_for_function(f"""() => Array.from(document.querySelectorAll('{panel}'))
        .some(img => img.complete && img.naturalWidth > 0 && img.style.visibility === 'visible')""", timeout=15000)
    home_first = page.get_attribute(panel, "src")
    page.wait_for_function(f"""first => document.querySelector('{panel}').getAttribute('src') !== first""",
                           arg=home_first, timeout=20000)
    _assert_no_csp_violation(page, seen)

    page.click("[data-testid=switch-en]")
    page.goto(base + "/cameras/wall")
    assert "Live wall" in page.inner_text("[data-testid=wall-title]")
    _assert_no_csp_violation(page, seen)
    context.close()


def test_discovery_form_without_inline_handlers(wall_server: tuple[str, Path], browser: Any) -> None:
    """Typing an address unticks "multicast" (cameras.js, no onfocus= in the page); nothing is sent."""
    base, _db = wall_server
    context = browser.new_context(locale="en")
    seen = _watch_csp(context)
    page = context.new_page()
    login(page, base, "admin", password=PASSWORD)
    page.goto(base + "/cameras/discover")
    assert page.is_checked("input[name=target][type=radio]")
    page.focus("#target-ip")
    assert not page.is_checked("input[name=target][type=radio]")
    _assert_no_csp_violation(page, seen)
    context.close()
