"""Rosters over the database: generation with leave and blocked days, re-planning, manual edits, swaps, feeds."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from supervision import access, accounts, duty
from supervision.db import session_scope
from supervision.duty import DutyAssignment, DutyRole, SwapStatus
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.leave import LeaveKind, LeaveRequest, LeaveStatus
from supervision.models import AuditEntry, Role
from tests.conftest import PASSWORD, SYSTEM

TODAY = date(2026, 6, 1)  # a Monday
JUNE_END = date(2026, 6, 30)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def generate(engine: Engine, actor: access.Principal, start: date = TODAY, end: date = JUNE_END) -> int:
    return duty.generate_roster(engine, actor, site_id=SITE["city"], start=start, end=end, today=TODAY)


SITE: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _site(duty_org: SimpleNamespace) -> None:
    SITE["city"] = duty_org.city


def leave(engine: Engine, staff_id: int, site_id: int, start: date, end: date, kind: LeaveKind) -> None:
    with session_scope(engine, write=True) as s:
        s.add(LeaveRequest(staff_id=staff_id, site_id=site_id, kind=kind, start_day=start, end_day=end,
                           status=LeaveStatus.APPROVED, half_days=2))


def roster_of(engine: Engine, start: date = TODAY, end: date = JUNE_END) -> dict[tuple[date, DutyRole], int]:
    with session_scope(engine) as s:
        rows = s.exec(select(DutyAssignment).where(DutyAssignment.day >= start, DutyAssignment.day <= end)).all()
        return {(r.day, r.role): r.staff_id for r in rows}


def test_a_manager_generates_a_month_with_every_working_day_covered(engine: Engine, duty_org: SimpleNamespace
                                                                     ) -> None:
    ns = duty_org
    assert generate(engine, ns.principals["manager"]) == 21  # June 2026: 22 weekdays less 端午 (06-19)
    roster = roster_of(engine)
    assert len(roster) == 42
    assert (date(2026, 6, 19), DutyRole.LEADER) not in roster  # the Dragon Boat holiday
    assert {roster[(d, r)] for (d, r) in roster if r == DutyRole.LEADER} <= set(ns.leaders)
    counts = {s: list(roster.values()).count(s) for s in ns.leaders}
    assert max(counts.values()) - min(counts.values()) <= 1
    with session_scope(engine) as s:
        assert duty.on_duty(s, staff_ids=ns.leaders, start=TODAY, end=JUNE_END) == {
            (who, day) for (day, role), who in roster.items() if role == DutyRole.LEADER}


def test_leave_trips_and_blocked_days_keep_people_off(engine: Engine, duty_org: SimpleNamespace) -> None:
    ns = duty_org
    leave(engine, ns.leaders[0], ns.city, date(2026, 6, 1), date(2026, 6, 12), LeaveKind.ANNUAL)
    leave(engine, ns.cadres[0], ns.city, date(2026, 6, 8), date(2026, 6, 10), LeaveKind.TRIP)
    with session_scope(engine, write=True) as s:
        duty.set_blocked_day(s, ns.principals["manager"], staff_id=ns.cadres[1], day=date(2026, 6, 3), blocked=True)
    generate(engine, ns.principals["manager"])
    roster = roster_of(engine)
    assert all(roster[(d, DutyRole.LEADER)] != ns.leaders[0] for d, _r in roster if d <= date(2026, 6, 12))
    assert all(roster[(d, DutyRole.CADRE)] != ns.cadres[0] for d, _r in roster
               if date(2026, 6, 8) <= d <= date(2026, 6, 10))
    assert roster[(date(2026, 6, 3), DutyRole.CADRE)] != ns.cadres[1]


def test_a_day_every_leader_is_away_is_named_and_nothing_is_written(engine: Engine, duty_org: SimpleNamespace
                                                                     ) -> None:
    ns = duty_org
    for leader in ns.leaders:
        leave(engine, leader, ns.city, date(2026, 6, 10), date(2026, 6, 10), LeaveKind.SICK)
    with pytest.raises(InvalidInput) as caught:
        generate(engine, ns.principals["manager"])
    assert caught.value.problems[0].message("zh-CN") == "06-10:所有带班领导都在休假"
    assert caught.value.problems[0].message("en") == "06-10: every duty leader is on leave"
    assert roster_of(engine) == {}


def test_replanning_from_a_date_keeps_the_past(engine: Engine, duty_org: SimpleNamespace) -> None:
    ns = duty_org
    generate(engine, ns.principals["manager"])
    before = roster_of(engine)
    # From 06-15 one leader is away; plan again from then on.
    leave(engine, ns.leaders[1], ns.city, date(2026, 6, 15), date(2026, 6, 30), LeaveKind.PERSONAL)
    duty.generate_roster(engine, ns.principals["manager"], site_id=ns.city, start=date(2026, 6, 15), end=JUNE_END,
                         today=date(2026, 6, 15))
    after = roster_of(engine)
    assert {k: v for k, v in after.items() if k[0] < date(2026, 6, 15)} == {
        k: v for k, v in before.items() if k[0] < date(2026, 6, 15)}
    assert all(v != ns.leaders[1] for k, v in after.items() if k[0] >= date(2026, 6, 15))
    with pytest.raises(InvalidInput) as caught:
        duty.generate_roster(engine, ns.principals["manager"], site_id=ns.city, start=date(2026, 6, 1),
                             end=JUNE_END, today=date(2026, 6, 15))
    assert caught.value.problems[0].field == "start"


def test_only_managers_of_the_jurisdiction_generate(engine: Engine, duty_org: SimpleNamespace) -> None:
    ns = duty_org
    with pytest.raises(Forbidden):
        generate(engine, ns.principals["officer"])
    with pytest.raises(NotFound):
        generate(engine, ns.principals["county_manager"])


def test_a_manual_edit_is_checked_and_audited(engine: Engine, duty_org: SimpleNamespace) -> None:
    ns = duty_org
    generate(engine, ns.principals["manager"])
    day = date(2026, 6, 2)
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput):  # a cadre cannot lead
        duty.assign(s, ns.principals["manager"], site_id=ns.city, day=day, role=DutyRole.LEADER,
                    staff_id=ns.cadres[0])
    with session_scope(engine, write=True) as s:
        duty.assign(s, ns.principals["manager"], site_id=ns.city, day=day, role=DutyRole.LEADER,
                    staff_id=ns.leaders[2])
    assert roster_of(engine)[(day, DutyRole.LEADER)] == ns.leaders[2]
    with session_scope(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "duty.assign")).one()
        assert entry.actor_name == "manager"


def _staff_principal(engine: Engine, ns: SimpleNamespace, staff_id: int, name: str) -> access.Principal:
    with session_scope(engine, write=True) as s:
        user = accounts.create_user(s, SYSTEM, {"username": name, "display_name": name, "password": PASSWORD,
                                                "role": Role.STAFF, "site_id": ns.city, "staff_id": staff_id})
        return accounts.principal_for_user(s, user)


def test_a_swap_is_asked_accepted_and_approved(engine: Engine, duty_org: SimpleNamespace) -> None:
    ns = duty_org
    generate(engine, ns.principals["manager"])
    roster = roster_of(engine)
    day = min(d for (d, r), who in roster.items() if r == DutyRole.CADRE and who == ns.cadres[0])
    other = next(c for c in ns.cadres if c != ns.cadres[0])
    asker = _staff_principal(engine, ns, ns.cadres[0], "wu")
    taker = _staff_principal(engine, ns, other, "zheng")
    assignment = next(a for a in _assignments(engine) if a.day == day and a.role == DutyRole.CADRE)
    with session_scope(engine, write=True) as s:
        with pytest.raises(Forbidden):  # someone else's duty
            duty.ask_swap(s, taker, assignment_id=assignment.id or 0, counterpart_id=other, today=TODAY)
        swap = duty.ask_swap(s, asker, assignment_id=assignment.id or 0, counterpart_id=other, reason="家中有事",
                             today=TODAY)
    with session_scope(engine, write=True) as s, pytest.raises(Conflict):  # not accepted yet
        duty.decide_swap(s, ns.principals["manager"], swap_id=swap.id or 0, approve=True)
    with session_scope(engine, write=True) as s, pytest.raises(NotFound):  # only the one asked answers
        duty.answer_swap(s, asker, swap_id=swap.id or 0, accept=True)
    with session_scope(engine, write=True) as s:
        duty.answer_swap(s, taker, swap_id=swap.id or 0, accept=True)
    assert roster_of(engine)[(day, DutyRole.CADRE)] == ns.cadres[0]  # not before a manager approves
    with session_scope(engine, write=True) as s, pytest.raises(NotFound):
        duty.decide_swap(s, ns.principals["county_manager"], swap_id=swap.id or 0, approve=True)
    with session_scope(engine, write=True) as s:
        done = duty.decide_swap(s, ns.principals["manager"], swap_id=swap.id or 0, approve=True)
        assert done.status == SwapStatus.APPROVED
    assert roster_of(engine)[(day, DutyRole.CADRE)] == other


def _assignments(engine: Engine) -> list[DutyAssignment]:
    with session_scope(engine) as s:
        return list(s.exec(select(DutyAssignment)).all())


def test_the_calendar_feed_parses_with_local_times_and_the_token_rotates(engine: Engine, duty_org: SimpleNamespace
                                                                          ) -> None:
    ns = duty_org
    generate(engine, ns.principals["manager"])
    leader = ns.leaders[0]
    mine = sorted(d for (d, _r), who in roster_of(engine).items() if who == leader)
    with session_scope(engine, write=True) as s:
        token = duty.rotate_calendar_token(s, ns.principals["manager"], staff_id=leader)
    with session_scope(engine) as s:
        body = duty.feed(s, token=token, tz=SHANGHAI, today=TODAY)
    cal = icalendar.Calendar.from_ical(body)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [e.decoded("dtstart").date() for e in events] == mine
    first = events[0].decoded("dtstart")
    assert first == datetime(mine[0].year, mine[0].month, mine[0].day, 8, 30, tzinfo=SHANGHAI)
    assert first.utcoffset().total_seconds() == 8 * 3600
    assert "带班领导" in str(events[0]["summary"])
    assert cal.walk("VTIMEZONE")  # the zone travels with the feed
    with session_scope(engine, write=True) as s:
        duty.rotate_calendar_token(s, ns.principals["manager"], staff_id=leader)
    with session_scope(engine) as s, pytest.raises(NotFound):
        duty.feed(s, token=token, tz=SHANGHAI, today=TODAY)
