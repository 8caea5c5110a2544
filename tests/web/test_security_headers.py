"""Security headers: the Content-Security-Policy allows scripts and styles from this site's files only, and no
template needs more (no inline <script>, no on*= handler, no <style> element, no style= attribute), camera
pages included."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from cameras import CameraCreate, register_camera
from supervision.db import session_scope

Login = Callable[[str], tuple[TestClient, str]]
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[a-zA-Z][^>]*?\s(on[a-z]+)\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[a-zA-Z][^>]*?\sstyle\s*=", re.IGNORECASE)


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def assert_strict_scripts(response: object) -> None:
    policy = response.headers["content-security-policy"]  # type: ignore[attr-defined]
    d = directives(policy)
    assert d["script-src"] == ["'self'"], policy
    assert d["style-src"] == ["'self'"], policy
    assert "'unsafe-inline'" not in d.get("default-src", []), policy
    assert "'unsafe-eval'" not in " ".join(d["script-src"]), policy
    assert d["object-src"] == ["'none'"] and d["frame-ancestors"] == ["'none'"], policy


def assert_no_inline_script(html: str, where: str) -> None:
    assert not INLINE_SCRIPT.search(html), f"{where}: inline <script>"
    match = HANDLER.search(html)
    assert match is None, f"{where}: inline handler {match.group(1) if match else ''}"
    style = INLINE_STYLE.search(html)
    assert style is None, f"{where}: inline style {style.group(0) if style else ''}"


def test_the_policy_forbids_inline_scripts_on_every_response(app_client: TestClient) -> None:
    for path in ("/login", "/healthz", "/static/app.js", "/no-such-page"):
        assert_strict_scripts(app_client.get(path))


def test_no_template_has_inline_script_or_handler() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        assert_no_inline_script(path.read_text(encoding="utf-8"), str(path.relative_to(TEMPLATES)))


@pytest.fixture
def camera_id(engine: Engine, org_data: SimpleNamespace) -> int:
    with session_scope(engine, write=True) as s:
        cam = register_camera(s, org_data.principals["admin"], CameraCreate(
            site_id=org_data.city, hall_id=org_data.hall, name="大厅 CSP", host="127.0.0.1", port=9,
            username="admin", password="cam-Pass-123", skip_probe=True))
        return int(cam.id or 0)


def test_camera_pages_run_only_their_static_script(logged_in: Login, camera_id: int) -> None:
    client, _ = logged_in("admin")
    for path in ("/", "/cameras/wall", f"/cameras/{camera_id}/live", "/cameras/discover", "/cameras",
                 f"/cameras/{camera_id}", "/cameras/alerts"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert_strict_scripts(page)
        assert_no_inline_script(page.text, path)
    wall = client.get("/cameras/wall").text
    assert '<script src="/static/cameras.js" defer></script>' in wall
    assert re.search(r'data-camera-wall data-refresh-seconds="\d+(\.\d+)?"', wall)
    assert "data-live-view" in client.get(f"/cameras/{camera_id}/live").text
    script = client.get("/static/cameras.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
