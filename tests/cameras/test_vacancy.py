"""Vacancy events (issue 13 §3): the schedule rule (pure) and the events it opens and closes over presence spans."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.models import Camera, PresenceState, VideoEvent, VideoEventStatus, Zone, ZoneKind, ZonePresence
from cameras.vacancy import evaluate_vacancies, vacancy_start, watched_periods
from supervision.db import session_scope
from supervision.leave import LeaveKind, LeaveRequest, LeaveStatus
from supervision.officehours import DayHours

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 7)  # a Monday
HOURS = DayHours(1, DAY, ((time(9), time(12)), (time(13, 30), time(17, 30))), False)
T15 = timedelta(minutes=15)


def at(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m), TZ)


def test_a_post_vacant_longer_than_the_threshold_in_office_hours_opens_from_the_vacancy_start() -> None:
    watched = watched_periods(HOURS, TZ, None)
    assert vacancy_start(at(10, 0), at(10, 14), watched, T15) is None  # not 15 minutes yet
    assert vacancy_start(at(10, 0), at(10, 15), watched, T15) == at(10, 0)  # the real start, not 10:15
    assert vacancy_start(None, at(10, 30), watched, T15) is None  # occupied


def test_lunch_break_is_not_watched_and_counts_from_the_afternoon_start() -> None:
    watched = watched_periods(HOURS, TZ, None)
    assert vacancy_start(at(11, 50), at(12, 30), watched, T15) is None  # the break
    assert vacancy_start(at(11, 50), at(13, 40), watched, T15) is None  # 10 minutes into the afternoon
    assert vacancy_start(at(11, 50), at(13, 45), watched, T15) == at(13, 30)


def test_a_closed_day_and_leave_are_not_watched() -> None:
    assert watched_periods(None, TZ, None) == []  # weekend or holiday: hours_for gives None
    assert watched_periods(HOURS, TZ, "day") == []  # approved leave or a trip all day
    am_away = watched_periods(HOURS, TZ, "am")
    assert vacancy_start(at(9), at(10), am_away, T15) is None
    assert vacancy_start(at(9), at(14), am_away, T15) == at(13, 30)
    assert vacancy_start(at(14), at(15), watched_periods(HOURS, TZ, "pm"), T15) is None


# --- over the database ------------------------------------------------------------------------------------------


def _post_zone(engine: Engine, org_data: SimpleNamespace, state: PresenceState, since: datetime) -> int:
    with session_scope(engine, write=True) as s:
        cam = Camera(site_id=org_data.city, name="大厅", host="127.0.0.1", port=554)
        s.add(cam)
        s.flush()
        zone = Zone(camera_id=cam.id, site_id=org_data.city, name="台前", kind=ZoneKind.POST, post_id=org_data.post,
                    polygon_json=json.dumps([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]))
        s.add(zone)
        s.flush()
        s.add(ZonePresence(zone_id=int(zone.id or 0), state=state, started_at=since.astimezone(UTC)))
        return int(zone.id or 0)


def _events(engine: Engine) -> list[VideoEvent]:
    with Session(engine) as s:
        return list(s.exec(select(VideoEvent).order_by(col(VideoEvent.id))).all())


def _back(engine: Engine, zone_id: int, when: datetime) -> None:
    from cameras.zones import record_presence
    with session_scope(engine, write=True) as s:
        record_presence(s, zone_id, PresenceState.OCCUPIED, when.astimezone(UTC))


def test_an_event_opens_with_its_real_start_and_closes_when_the_person_is_back(engine: Engine, org_data: Any) -> None:
    zone_id = _post_zone(engine, org_data, PresenceState.VACANT, at(10, 0))
    assert evaluate_vacancies(engine, now=at(10, 10), threshold=T15) == (0, 0)
    assert evaluate_vacancies(engine, now=at(10, 16), threshold=T15) == (1, 0)
    assert evaluate_vacancies(engine, now=at(10, 17), threshold=T15) == (0, 0)  # one event, not one per run
    [event] = _events(engine)
    assert event.started_at == at(10, 0) and event.ended_at is None and event.status == VideoEventStatus.OPEN
    assert event.staff_id == org_data.staff and event.post_id == org_data.post
    _back(engine, zone_id, at(10, 25))
    assert evaluate_vacancies(engine, now=at(10, 26), threshold=T15) == (0, 1)
    [event] = _events(engine)
    assert event.ended_at == at(10, 25) and event.status == VideoEventStatus.PENDING_REVIEW


def test_no_event_on_a_weekend_or_a_swapped_working_saturday_counts(engine: Engine, org_data: Any) -> None:
    from supervision import workdays
    from supervision.access import SYSTEM
    saturday, sunday = date(2026, 12, 12), date(2026, 12, 13)
    _post_zone(engine, org_data, PresenceState.VACANT, at(9, 0, sunday))
    assert evaluate_vacancies(engine, now=at(10, 0, sunday), threshold=T15) == (0, 0)
    with session_scope(engine, write=True) as s:  # the Saturday is a swapped working day (调休上班)
        workdays.set_override(s, SYSTEM, day=saturday, is_workday=True, name="调休")
    with session_scope(engine, write=True) as s:
        for p in s.exec(select(ZonePresence)).all():
            p.started_at = at(9, 0, saturday).astimezone(UTC)
            s.add(p)
    assert evaluate_vacancies(engine, now=at(10, 0, saturday), threshold=T15) == (1, 0)
    assert _events(engine)[0].started_at == at(9, 0, saturday)


def test_no_event_while_the_staff_member_is_on_approved_leave(engine: Engine, org_data: Any) -> None:
    _post_zone(engine, org_data, PresenceState.VACANT, at(9, 0))
    with session_scope(engine, write=True) as s:
        s.add(LeaveRequest(staff_id=org_data.staff, site_id=org_data.city, kind=LeaveKind.TRIP, start_day=DAY,
                           end_day=DAY, status=LeaveStatus.APPROVED))
    assert evaluate_vacancies(engine, now=at(11, 0), threshold=T15) == (0, 0)
    assert _events(engine) == []


def test_an_open_event_closes_at_the_lunch_break(engine: Engine, org_data: Any) -> None:
    _post_zone(engine, org_data, PresenceState.VACANT, at(11, 0))
    assert evaluate_vacancies(engine, now=at(11, 30), threshold=T15) == (1, 0)
    assert evaluate_vacancies(engine, now=at(12, 5), threshold=T15) == (0, 1)
    assert evaluate_vacancies(engine, now=at(13, 50), threshold=T15) == (1, 0)  # a new one from 13:30
    assert [e.started_at for e in _events(engine)] == [at(11, 0), at(13, 30)]


# --- review ---------------------------------------------------------------------------------------------------


def _ended_event(engine: Engine, org_data: Any, *, staff: bool = True) -> int:
    with session_scope(engine, write=True) as s:
        event = VideoEvent(site_id=org_data.city, post_id=org_data.post, staff_id=org_data.staff if staff else None,
                           started_at=at(10, 0).astimezone(UTC), ended_at=at(10, 22).astimezone(UTC),
                           status=VideoEventStatus.PENDING_REVIEW)
        s.add(event)
        s.flush()
        return int(event.id or 0)


def test_a_confirmed_event_is_a_ledger_entry_by_the_rule_in_force_and_a_dismissed_one_is_kept(
        engine: Engine, org_data: Any) -> None:
    import pytest

    from cameras.models import ReviewOutcome, VideoEventReview
    from cameras.vacancy import review_event
    from supervision.errors import Conflict, NotFound
    from supervision.models import LedgerEntry

    officer = org_data.principals["officer"]
    confirmed, dismissed = _ended_event(engine, org_data), _ended_event(engine, org_data)
    with session_scope(engine, write=True) as s:
        with pytest.raises(NotFound):  # another county's officer: as if it did not exist
            review_event(s, org_data.principals["county_officer"], confirmed,
                         VideoEventReview(outcome=ReviewOutcome.CONFIRMED, reason="x"))
        review_event(s, officer, confirmed, VideoEventReview(outcome=ReviewOutcome.CONFIRMED, reason="录像核实离岗"))
        review_event(s, officer, dismissed, VideoEventReview(outcome=ReviewOutcome.DISMISSED, reason="在柜台下取材料"))
    with session_scope(engine, write=True) as s, pytest.raises(Conflict):
        review_event(s, officer, confirmed, VideoEventReview(outcome=ReviewOutcome.DISMISSED, reason="again"))
    with Session(engine) as s:
        [entry] = s.exec(select(LedgerEntry)).all()
        assert (entry.source_kind, entry.source_id, entry.staff_id) == ("video", str(confirmed), org_data.staff)
        assert entry.points == -3.0 and entry.kind == "off_post" and entry.day == DAY
        kept = s.get(VideoEvent, dismissed)
        assert kept is not None and kept.review_outcome == ReviewOutcome.DISMISSED
        assert kept.review_reason == "在柜台下取材料" and kept.ledger_entry_id is None
        assert kept.status == VideoEventStatus.CLOSED


def test_an_event_still_going_on_cannot_be_reviewed(engine: Engine, org_data: Any) -> None:
    import pytest

    from cameras.models import ReviewOutcome, VideoEventReview
    from cameras.vacancy import review_event
    from supervision.errors import Conflict

    _post_zone(engine, org_data, PresenceState.VACANT, at(10, 0))
    evaluate_vacancies(engine, now=at(10, 30), threshold=T15)
    [event] = _events(engine)
    with session_scope(engine, write=True) as s, pytest.raises(Conflict):
        review_event(s, org_data.principals["officer"], int(event.id or 0),
                     VideoEventReview(outcome=ReviewOutcome.CONFIRMED, reason="x"))
