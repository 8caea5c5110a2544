"""An event's evidence in a real browser: the stills load and the remuxed clip plays and seeks (range requests)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from cameras.evidence import get_evidence_settings
from cameras.models import VideoEvent, VideoEventStatus
from supervision.db import make_engine, session_scope, utcnow
from supervision.models import Site
from supervision.settings import get_settings
from tests.e2e.conftest import LIVE_VAR
from tests.e2e.test_browser import _login
from tests.e2e.test_page_walk import DESKTOP
from tests.web.test_evidence_web import h264_units, make_event

pytestmark = pytest.mark.browser


def test_the_clip_plays_and_seeks_in_the_browser(live_server: str, browser: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The live server's own files: its database, its key and its evidence dir, as its worker would write them.
    var = LIVE_VAR[live_server]
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(var))
    monkeypatch.delenv("SUPERVISION_SECRET_KEY", raising=False)  # the server signs with its key file, so do we
    monkeypatch.delenv("SUPERVISION_PREVIOUS_SECRET_KEYS", raising=False)
    get_settings.cache_clear()
    get_evidence_settings.cache_clear()
    engine = make_engine(f"sqlite:///{var / 'supervision.db'}")
    try:
        with Session(engine) as s:
            city = s.exec(select(Site).where(Site.code == "MY")).one()
        eid, _ = make_event(engine, int(city.id or 0), h264_units(tmp_path), tmp_path)
        with session_scope(engine, write=True) as s:
            ev = s.get(VideoEvent, eid)
            assert ev is not None and ev.status == VideoEventStatus.PENDING_REVIEW
            ev.ended_at = utcnow() - timedelta(minutes=1)
            s.add(ev)
    finally:
        engine.dispose()
        get_settings.cache_clear()
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, "officer")
    page.goto(f"{live_server}/cameras/video-events/{eid}")
    page.wait_for_selector("[data-testid=evidence-video]")
    # Every still decoded by the browser.
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=evidence-still] img')]"
                           ".every(i => i.complete && i.naturalWidth === 640)", timeout=30_000)
    # The clip: its length known (the index is at the front), then a seek into the middle is served.
    page.wait_for_function("() => { const v = document.querySelector('[data-testid=evidence-video]');"
                           " return v.readyState >= 1 && v.duration > 5 && v.duration < 7; }", timeout=30_000)
    page.evaluate("() => { const v = document.querySelector('[data-testid=evidence-video]'); v.muted = true;"
                  " window.__seeked = false; v.addEventListener('seeked', () => { window.__seeked = true; });"
                  " v.currentTime = 4.0; }")
    page.wait_for_function("() => window.__seeked === true", timeout=30_000)
    assert page.evaluate("() => document.querySelector('[data-testid=evidence-video]').error") is None
    assert page.locator("[data-testid=evidence-altered]").count() == 0
    # The queue shows the start still as the event's thumbnail.
    page.goto(f"{live_server}/cameras/video-events")
    thumb = page.locator(f"tr[data-event='{eid}'] [data-testid=event-thumbnail]")
    thumb.wait_for()
    page.wait_for_function(f"() => document.querySelector(\"tr[data-event='{eid}'] img\").naturalWidth > 0",
                           timeout=30_000)
    context.close()
