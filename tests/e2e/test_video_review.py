"""Reviewing a video event by keyboard in a real browser (issue 13 §7): the day's chart is on the page, `c` chooses
confirm and puts the cursor in the reason, Ctrl+Enter submits; `j` leads to the next event of the queue and `d`
dismisses it. Drawing a zone in the browser is tests/e2e/test_zones_page.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from tests.e2e.conftest import LIVE_VAR
from tests.e2e.test_browser import _login
from tests.e2e.test_page_walk import DESKTOP

pytestmark = pytest.mark.browser


def _two_events(base: str) -> tuple[int, int]:
    """Two ended vacancy events of a city post (newest first in the queue), written into the server's database."""
    from cameras.models import VideoEvent, VideoEventStatus
    from supervision.db import make_engine, session_scope, utcnow
    from supervision.models import Site, Staff
    from supervision.settings import get_settings

    engine = make_engine(f"sqlite:///{LIVE_VAR[base] / 'supervision.db'}")
    try:
        with Session(engine) as s:
            staff = s.exec(select(Staff).join(Site, col(Site.id) == col(Staff.site_id)).where(
                col(Staff.post_id).is_not(None), col(Staff.active), col(Site.kind) == "city")
                .order_by(col(Staff.id))).first()
            assert staff is not None, "the demo has a city post with its staff member"
        # Newer than any demo event (first in the queue), and inside the day's chart (07:00–20:00 on the hall's
        # clock) whenever the test runs.
        tz = get_settings().tz
        end = datetime.combine(utcnow().astimezone(tz).date() + timedelta(days=3), time(11, 30), tzinfo=tz)
        ids = []
        with session_scope(engine, write=True) as s:
            for minutes in (0, 40):
                event = VideoEvent(site_id=staff.site_id, post_id=staff.post_id, staff_id=staff.id,
                                   started_at=end - timedelta(minutes=25 + minutes),
                                   ended_at=end - timedelta(minutes=minutes), status=VideoEventStatus.PENDING_REVIEW)
                s.add(event)
                s.flush()
                ids.append(int(event.id or 0))
        return ids[0], ids[1]
    finally:
        engine.dispose()


def _outcome(base: str, event_id: int) -> tuple[str | None, str]:
    from cameras.models import VideoEvent
    from supervision.db import make_engine

    engine = make_engine(f"sqlite:///{LIVE_VAR[base] / 'supervision.db'}")
    try:
        with Session(engine) as s:
            row = s.get(VideoEvent, event_id)
            assert row is not None
            return (row.review_outcome.value if row.review_outcome else None), row.review_reason
    finally:
        engine.dispose()


def test_an_officer_confirms_and_dismisses_events_by_keyboard(live_server: str, browser: Any) -> None:
    newest, older = _two_events(live_server)
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, "officer")
    page.goto(f"{live_server}/cameras/video-events/{newest}")
    page.wait_for_selector("[data-testid=timeline-chart]")
    assert page.locator("[data-testid=timeline-event]").count() == 1  # the event's own span, framed
    assert "c 确认" in page.inner_text("[data-testid=review-keys]")
    page.keyboard.press("j")  # the next event to review, and back
    page.wait_for_url(f"**/cameras/video-events/{older}")
    page.keyboard.press("k")
    page.wait_for_url(f"**/cameras/video-events/{newest}")
    page.wait_for_selector("[data-testid=review-form]")
    page.keyboard.press("c")
    assert page.is_checked("input[name=outcome][value=confirmed]")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.type("录像核实离岗")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-testid=reviewed]")
    assert _outcome(live_server, newest) == ("confirmed", "录像核实离岗")
    assert "确认(计入考核)" in page.inner_text("[data-testid=event-outcome]")
    page.keyboard.press("j")
    page.wait_for_url(f"**/cameras/video-events/{older}")
    page.wait_for_selector("[data-testid=review-form]")
    page.keyboard.press("d")
    assert page.is_checked("input[name=outcome][value=dismissed]")
    page.keyboard.type("在柜台下整理材料")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-testid=reviewed]")
    assert _outcome(live_server, older) == ("dismissed", "在柜台下整理材料")
    context.close()
