"""Review of video events (issue 13 §7) and windows closed (§3): confirm → ledger → risk incident, false alarms per
zone and the zone's own threshold, the day's timeline, and no vacancy while a window is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.closures import close_window, end_closure, list_closures
from cameras.models import (
    PresenceState,
    ReviewOutcome,
    VideoEvent,
    VideoEventReview,
    VideoEventStatus,
    WindowClosureCreate,
    Zone,
    ZoneKind,
    ZonePresence,
    ZoneThresholdChange,
)
from cameras.review import event_timeline, false_alarms, layout_timeline, review_neighbours, set_zone_threshold
from cameras.vacancy import evaluate_vacancies, review_event, vacancy_start, watched_periods, without
from supervision.db import session_scope
from supervision.errors import Forbidden, InvalidInput, NotFound
from supervision.models import AuditEntry, Incident, Post
from tests.cameras.test_vacancy import DAY, HOURS, T15, TZ, _back, _events, _post_zone, at


def _window_of_post(engine: Engine, org_data: SimpleNamespace) -> int:
    with Session(engine) as s:
        post = s.get(Post, org_data.post)
        assert post is not None and post.window_id is not None
        return int(post.window_id)


CLOSURE_ACTIONS = ["window.close", "window.reopen"]


def _close(engine: Engine, org_data: SimpleNamespace, start: datetime, end: datetime, who: str = "admin") -> int:
    with session_scope(engine, write=True) as s:
        row = close_window(s, org_data.principals[who], WindowClosureCreate(
            window_id=_window_of_post(engine, org_data), starts_at=start, ends_at=end, reason="系统升级"))
        return int(row.id or 0)


# --- window closed ----------------------------------------------------------------------------------------------


def test_a_closure_cuts_the_watched_periods() -> None:
    watched = watched_periods(HOURS, TZ, None)
    assert without(watched, [(at(10), at(11))]) == [(at(9), at(10)), (at(11), at(12)), (at(13, 30), at(17, 30))]
    assert without(watched, [(at(8), at(12, 30))]) == [(at(13, 30), at(17, 30))]
    assert without(watched, [(at(18), at(19))]) == watched
    # vacant from 9:00, closed 9:30–10:30: the vacancy counts from the reopening
    cut = without(watched, [(at(9, 30), at(10, 30))])
    assert vacancy_start(at(9), at(10, 0), cut, T15) is None
    assert vacancy_start(at(9), at(10, 40), cut, T15) is None
    assert vacancy_start(at(9), at(10, 45), cut, T15) == at(10, 30)


def test_no_vacancy_event_while_the_window_is_closed(engine: Engine, org_data: Any) -> None:
    _post_zone(engine, org_data, PresenceState.VACANT, at(9, 0))
    _close(engine, org_data, at(9).astimezone(UTC), at(11).astimezone(UTC))
    assert evaluate_vacancies(engine, now=at(10, 30), threshold=T15) == (0, 0)
    assert _events(engine) == []
    # reopened at 11:00: still empty at 11:16, an event from 11:00
    assert evaluate_vacancies(engine, now=at(11, 16), threshold=T15) == (1, 0)
    assert [e.started_at for e in _events(engine)] == [at(11)]


def test_an_open_event_ends_when_the_window_closes_and_a_manager_may_reopen_early(
        engine: Engine, org_data: Any) -> None:
    _post_zone(engine, org_data, PresenceState.VACANT, at(9, 0))
    assert evaluate_vacancies(engine, now=at(9, 20), threshold=T15) == (1, 0)
    closure = _close(engine, org_data, at(9, 25).astimezone(UTC), at(16).astimezone(UTC), who="manager")
    assert evaluate_vacancies(engine, now=at(9, 30), threshold=T15) == (0, 1)
    [event] = _events(engine)  # ended when the window closed, not when the job noticed
    assert event.status == VideoEventStatus.PENDING_REVIEW and event.ended_at == at(9, 25)
    with session_scope(engine, write=True) as s:
        with pytest.raises(NotFound):  # another county's manager: no such closure
            end_closure(s, org_data.principals["county_manager"], closure)
        with pytest.raises(Forbidden):  # an officer sees closures, does not set them
            close_window(s, org_data.principals["officer"], WindowClosureCreate(
                window_id=_window_of_post(engine, org_data), starts_at=at(9), ends_at=at(10), reason="x"))
        listed = list_closures(s, org_data.principals["officer"], now=at(10).astimezone(UTC))
        assert [(c.reason, c.active) for c in listed] == [("系统升级", True)]
        assert list_closures(s, org_data.principals["county_officer"]) == []
        actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.action).in_(CLOSURE_ACTIONS))).all()
        assert list(actions) == ["window.close"]
        end_closure(s, org_data.principals["manager"], closure)
    with Session(engine) as s:
        actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.action).in_(CLOSURE_ACTIONS))).all()
        assert sorted(actions) == ["window.close", "window.reopen"]


def test_a_closure_ending_before_it_starts_or_of_a_foreign_window_is_refused(engine: Engine, org_data: Any) -> None:
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput) as err:
        close_window(s, org_data.principals["admin"], WindowClosureCreate(
            window_id=_window_of_post(engine, org_data), starts_at=at(11), ends_at=at(10), reason="培训"))
    assert err.value.problems[0].field == "ends_at"
    with session_scope(engine, write=True) as s, pytest.raises(NotFound):
        close_window(s, org_data.principals["county_manager"], WindowClosureCreate(
            window_id=_window_of_post(engine, org_data), starts_at=at(9), ends_at=at(10), reason="越权"))


# --- the zone's own threshold and false alarms -------------------------------------------------------------------


def test_a_zone_threshold_set_by_an_officer_opens_events_sooner_and_is_audited(engine: Engine, org_data: Any) -> None:
    zone_id = _post_zone(engine, org_data, PresenceState.VACANT, at(10, 0))
    assert evaluate_vacancies(engine, now=at(10, 3), threshold=T15) == (0, 0)
    with session_scope(engine, write=True) as s:
        with pytest.raises(NotFound):
            set_zone_threshold(s, org_data.principals["county_officer"], zone_id, ZoneThresholdChange(minutes=2))
        assert set_zone_threshold(s, org_data.principals["officer"], zone_id,
                                  ZoneThresholdChange(minutes=2, reason="演示")) == 2
    assert evaluate_vacancies(engine, now=at(10, 3), threshold=T15) == (1, 0)
    with Session(engine) as s:
        [entry] = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "zone.threshold")).all()
        assert entry.object_id == str(zone_id)
    with session_scope(engine, write=True) as s:  # back to the default
        assert set_zone_threshold(s, org_data.principals["officer"], zone_id, ZoneThresholdChange()) == 15


def _reviewed(engine: Engine, org_data: Any, zone_id: int, outcomes: list[ReviewOutcome | None]) -> list[int]:
    ids = []
    with session_scope(engine, write=True) as s:
        for n, _ in enumerate(outcomes):
            start = at(9, 0) + timedelta(minutes=30 * n)
            event = VideoEvent(site_id=org_data.city, zone_id=zone_id, post_id=org_data.post,
                               staff_id=org_data.staff, started_at=start.astimezone(UTC),
                               ended_at=(start + timedelta(minutes=20)).astimezone(UTC),
                               status=VideoEventStatus.PENDING_REVIEW)
            s.add(event)
            s.flush()
            ids.append(int(event.id or 0))
    for event_id, outcome in zip(ids, outcomes, strict=True):
        if outcome is not None:
            with session_scope(engine, write=True) as s:
                review_event(s, org_data.principals["officer"], event_id,
                             VideoEventReview(outcome=outcome, reason="核查"))
    return ids


def test_false_alarms_are_counted_per_zone_beside_its_threshold(engine: Engine, org_data: Any) -> None:
    zone_id = _post_zone(engine, org_data, PresenceState.OCCUPIED, at(8, 0))
    other = _post_zone(engine, org_data, PresenceState.OCCUPIED, at(8, 0))
    c, d = ReviewOutcome.CONFIRMED, ReviewOutcome.DISMISSED
    _reviewed(engine, org_data, zone_id, [c, d, d, None])
    with session_scope(engine, write=True) as s:
        set_zone_threshold(s, org_data.principals["officer"], zone_id, ZoneThresholdChange(minutes=20))
    with Session(engine) as s:
        rows = {r.zone_id: r for r in false_alarms(s, org_data.principals["officer"])}
        assert county_empty(s, org_data)
    got = rows[zone_id]
    assert (got.events, got.confirmed, got.dismissed, got.pending) == (4, 1, 2, 1)
    assert got.false_alarm_rate == pytest.approx(2 / 3, abs=0.001)
    assert (got.threshold_minutes, got.threshold_override) == (20, True)
    assert (rows[other].events, rows[other].false_alarm_rate, rows[other].threshold_override) == (0, None, False)


def county_empty(s: Session, org_data: Any) -> bool:
    return false_alarms(s, org_data.principals["county_officer"]) == []


def test_only_a_post_zone_has_a_threshold(engine: Engine, org_data: Any) -> None:
    zone_id = _post_zone(engine, org_data, PresenceState.OCCUPIED, at(8, 0))
    with session_scope(engine, write=True) as s:
        zone = s.get(Zone, zone_id)
        assert zone is not None
        zone.kind = ZoneKind.QUEUE
        s.add(zone)
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput) as err:
        set_zone_threshold(s, org_data.principals["officer"], zone_id, ZoneThresholdChange(minutes=5))
    assert err.value.problems[0].field == "zone_id"


# --- confirm → ledger → risk incident -----------------------------------------------------------------------------


def test_a_confirmed_event_is_an_incident_linked_to_the_posts_off_post_risk_point(
        engine: Engine, org_data: Any) -> None:
    import risk
    from risk.models import RiskIncidentLink
    from supervision import org
    from supervision.org import OrgKind
    from tests.conftest import SYSTEM
    from tests.risk.conftest import TODAY, point_data

    with session_scope(engine, write=True) as s:  # the people a point names (as tests/risk's fixture)
        org_data.head = int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
            "code": "S010", "name": "赵科长", "site_id": org_data.city, "rank": "section_level"}).id)
        org_data.leader = int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
            "code": "S011", "name": "钱局长", "site_id": org_data.city, "rank": "bureau_leader"}).id)
    with session_scope(engine, write=True) as s:
        off_post = risk.create_risk_point(s, org_data.principals["officer"], point_data(
            org_data, code="FX-009", name="工作时间擅离岗位", manifestation="脱岗、离岗致群众等候", category="duty"),
            today=TODAY)
        other = risk.create_risk_point(s, org_data.principals["officer"], point_data(org_data), today=TODAY)
        ids = (int(off_post.id or 0), int(other.id or 0))
    zone_id = _post_zone(engine, org_data, PresenceState.OCCUPIED, at(8, 0))
    confirmed, dismissed = _reviewed(engine, org_data, zone_id, [ReviewOutcome.CONFIRMED, ReviewOutcome.DISMISSED])
    with Session(engine) as s:
        [incident] = s.exec(select(Incident)).all()
        assert (incident.kind, incident.source_kind, incident.source_id) == ("video", "video", str(confirmed))
        assert incident.post_id == org_data.post and incident.staff_id == org_data.staff
        assert incident.occurred_at == at(9, 0)
        links = s.exec(select(RiskIncidentLink.point_id).where(col(RiskIncidentLink.incident_id) == incident.id)).all()
        assert list(links) == [ids[0]]  # the off-post point, not the review point
        event = s.get(VideoEvent, dismissed)
        assert event is not None and event.review_outcome == ReviewOutcome.DISMISSED


# --- the timeline and the queue ----------------------------------------------------------------------------------


def test_the_timeline_places_office_hours_lunch_presence_and_the_event() -> None:
    periods = watched_periods(HOURS, TZ, None)
    tl = layout_timeline(DAY, periods=periods, presence=[
        (PresenceState.OCCUPIED, at(8, 50), at(10)), (PresenceState.VACANT, at(10), at(10, 26)),
        (PresenceState.OCCUPIED, at(10, 26), None)], closed=[(at(15), at(16))], event=(at(10), at(10, 26)),
        now=at(17, 0))
    # The chart spans 07:00–20:00 (13 h = 780 min): 9:00 is at 120/780.
    assert [round(b.x, 2) for b in tl.hours] == [round(120 / 7.8, 2), round(390 / 7.8, 2)]
    assert [(round(b.x, 2), round(b.width, 2)) for b in tl.lunch] == [(round(300 / 7.8, 2), round(90 / 7.8, 2))]
    assert [b.state for b in tl.spans] == ["occupied", "vacant", "occupied"]
    assert tl.spans[-1].end == at(17, 0)  # the open span runs to now
    assert tl.event is not None and tl.event.x == tl.spans[1].x and tl.event.width == tl.spans[1].width
    assert [b.state for b in tl.closed] == ["closed"]
    assert tl.ticks[0] == (0.0, "07:00") and tl.ticks[-1] == (100.0, "20:00")


def test_event_timeline_reads_the_zones_spans_of_that_day(engine: Engine, org_data: Any) -> None:
    zone_id = _post_zone(engine, org_data, PresenceState.VACANT, at(10, 0))
    with session_scope(engine, write=True) as s:  # yesterday's span does not show
        s.add(ZonePresence(zone_id=zone_id, state=PresenceState.OCCUPIED, started_at=(at(9) - timedelta(days=1)),
                           ended_at=at(10) - timedelta(days=1)))
    evaluate_vacancies(engine, now=at(10, 20), threshold=T15)
    _back(engine, zone_id, at(10, 25))
    evaluate_vacancies(engine, now=at(10, 26), threshold=T15)
    [event] = _events(engine)
    with Session(engine) as s:
        tl = event_timeline(s, org_data.principals["officer"], int(event.id or 0), now=at(17))
        with pytest.raises(NotFound):
            event_timeline(s, org_data.principals["county_officer"], int(event.id or 0))
    assert [(b.state, b.start) for b in tl.spans] == [("vacant", at(10)), ("occupied", at(10, 25))]
    assert tl.event is not None and tl.event.start == at(10) and tl.event.end == at(10, 25)


def test_the_queue_neighbours_are_the_events_to_review_newest_first(engine: Engine, org_data: Any) -> None:
    zone_id = _post_zone(engine, org_data, PresenceState.OCCUPIED, at(8, 0))
    a, b, c = _reviewed(engine, org_data, zone_id, [None, ReviewOutcome.DISMISSED, None])
    officer = org_data.principals["officer"]
    with Session(engine) as s:
        assert review_neighbours(s, officer, c) == (None, a)  # c is the newest; b is reviewed, skipped
        assert review_neighbours(s, officer, a) == (c, None)
        assert review_neighbours(s, officer, b) == (c, a)  # a reviewed one still leads on


def test_an_event_of_a_post_still_empty_ends_at_the_lunch_break_not_when_the_job_runs(
        engine: Engine, org_data: Any) -> None:
    _post_zone(engine, org_data, PresenceState.VACANT, at(11, 0))
    assert evaluate_vacancies(engine, now=at(11, 30), threshold=T15) == (1, 0)
    assert evaluate_vacancies(engine, now=at(12, 5), threshold=T15) == (0, 1)
    assert _events(engine)[0].ended_at == at(12, 0)
