"""Leave: counted in working days on the calendar, the annual entitlement, overlaps and the approval levels."""

from __future__ import annotations

import dataclasses
from datetime import date
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from supervision import accounts, leave
from supervision.access import SYSTEM, Principal
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.leave import LeaveKind, LeaveStatus
from supervision.models import AuditEntry, Role
from supervision.workdays import WorkCalendar
from tests.conftest import PASSWORD

TODAY = date(2026, 9, 1)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("supervision.leave.requests.local_today", lambda: TODAY)


def _as_staff(org_data: SimpleNamespace, staff_id: int, *, site: str = "city") -> Principal:
    base = org_data.principals["staff"]
    path = org_data.principals["county_manager"].site_path if site == "county" else base.site_path
    return dataclasses.replace(base, id=None, name=f"staff-{staff_id}", staff_id=staff_id, site_path=path)


def _another_manager(session: Session, org_data: SimpleNamespace) -> Principal:
    """A second city-level manager (a real account: decisions name their user)."""
    user = accounts.create_user(session, SYSTEM, {"username": "manager2", "display_name": "副主任",
                                                 "password": PASSWORD, "role": Role.MANAGER, "site_id": org_data.city})
    return accounts.principal_for_user(session, user)


# --- counting (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "start_pm", "end", "end_am", "halves"), [
    # Over National Day 2026 (10-01..10-07 off): 09-28, 09-29, 09-30, 10-08, 10-09 are working days.
    (date(2026, 9, 28), False, date(2026, 10, 9), False, 10),
    # Saturday 10-10 is a swapped working day (调休), Sunday 10-11 is not.
    (date(2026, 10, 9), False, date(2026, 10, 11), False, 4),
    (date(2026, 10, 1), False, date(2026, 10, 7), False, 0),
    # Half days: from Monday afternoon to Wednesday noon is two days.
    (date(2026, 12, 7), True, date(2026, 12, 9), True, 4),
    (date(2026, 12, 7), True, date(2026, 12, 7), False, 1),
    # A half day on a holiday counts nothing.
    (date(2026, 10, 1), True, date(2026, 10, 8), True, 1),
])
def test_leave_counts_working_half_days_on_the_calendar(start: date, start_pm: bool, end: date, end_am: bool,
                                                        halves: int) -> None:
    assert leave.half_days(WorkCalendar(), start, start_pm, end, end_am) == halves


@pytest.mark.parametrize(("service_start", "year", "days"), [
    (None, 2026, 0),
    (date(2025, 6, 1), 2026, 0),  # under a year on 1 January
    (date(2025, 1, 1), 2026, 5),  # exactly one year
    (date(2016, 1, 2), 2026, 5),  # 9 years and 364 days
    (date(2016, 1, 1), 2026, 10),
    (date(2006, 1, 2), 2026, 10),
    (date(2006, 1, 1), 2026, 15),
    (date(1990, 3, 1), 2026, 15),
])
def test_annual_entitlement_follows_the_national_rule(service_start: date | None, year: int, days: int) -> None:
    assert leave.annual_entitlement(service_start, year) == days


# --- asking -------------------------------------------------------------------------------------


def test_a_request_over_national_day_counts_five_days_and_needs_two_levels(session: Session,
                                                                         org_data: SimpleNamespace) -> None:
    staff = _as_staff(org_data, org_data.county_staff, site="county")
    row = leave.request_leave(session, staff, kind=LeaveKind.PERSONAL, start_day=date(2026, 9, 28),
                              end_day=date(2026, 10, 9), reason="家中有事")
    session.commit()
    assert row.days == 5 and row.needs_second and row.status == LeaveStatus.PENDING
    assert row.reason_enc and "家中有事" not in row.reason_enc  # encrypted at rest
    county_manager = org_data.principals["county_manager"]
    assert [r.id for r, _ in leave.queue(session, county_manager)] == [row.id]
    # The city manager's jurisdiction holds the county too: either may give the first approval.
    assert [r.id for r, _ in leave.queue(session, org_data.principals["manager"])] == [row.id]
    leave.decide(session, county_manager, request_id=row.id, approve=True)
    session.commit()
    assert row.status == LeaveStatus.PENDING_SECOND
    assert leave.absences(session, staff_ids=[org_data.county_staff], start=date(2026, 9, 1),
                          end=date(2026, 10, 31)) == {}  # not approved yet
    # The county manager's jurisdiction is the staff member's own site: not above it.
    with pytest.raises(Forbidden):
        leave.decide(session, county_manager, request_id=row.id, approve=True)
    assert leave.queue(session, county_manager) == []
    city_manager = org_data.principals["manager"]
    assert [r.id for r, _ in leave.queue(session, city_manager)] == [row.id]
    leave.decide(session, city_manager, request_id=row.id, approve=True, note="同意")
    session.commit()
    assert row.status == LeaveStatus.APPROVED
    away = leave.absences(session, staff_ids=[org_data.county_staff], start=date(2026, 9, 1), end=date(2026, 10, 31))
    assert sorted(d for _, d in away) == [date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30),
                                          date(2026, 10, 8), date(2026, 10, 9)]
    assert {a.kind for a in away.values()} == {LeaveKind.PERSONAL} and {a.half for a in away.values()} == {None}
    actions = session.exec(select(AuditEntry.action).where(AuditEntry.object_kind == "leave_request")).all()
    assert list(actions) == ["leave.request", "leave.approve", "leave.approve"]


def test_short_leave_needs_only_the_manager_and_the_setting_moves_the_line(
        session: Session, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    staff = _as_staff(org_data, org_data.staff)
    three = leave.request_leave(session, staff, kind=LeaveKind.SICK, start_day=date(2026, 9, 7),
                                end_day=date(2026, 9, 9))
    assert not three.needs_second
    leave.decide(session, org_data.principals["manager"], request_id=three.id, approve=True)
    assert three.status == LeaveStatus.APPROVED
    monkeypatch.setenv("SUPERVISION_LEAVE_SECOND_LEVEL_DAYS", "1")
    two = leave.request_leave(session, staff, kind=LeaveKind.SICK, start_day=date(2026, 9, 14),
                              end_day=date(2026, 9, 15))
    assert two.needs_second


def test_city_staff_need_a_second_city_manager(session: Session, org_data: SimpleNamespace) -> None:
    staff = _as_staff(org_data, org_data.staff)
    row = leave.request_leave(session, staff, kind=LeaveKind.MARRIAGE, start_day=date(2026, 9, 7),
                              end_day=date(2026, 9, 11))
    manager = org_data.principals["manager"]
    leave.decide(session, manager, request_id=row.id, approve=True)
    with pytest.raises(Forbidden):  # the same person cannot give both approvals
        leave.decide(session, manager, request_id=row.id, approve=True)
    leave.decide(session, _another_manager(session, org_data), request_id=row.id, approve=False, note="人手不足")
    assert row.status == LeaveStatus.REJECTED and row.decision_note == "人手不足"
    with pytest.raises(Conflict):
        leave.decide(session, manager, request_id=row.id, approve=True)


def test_others_cannot_decide(session: Session, org_data: SimpleNamespace) -> None:
    staff = _as_staff(org_data, org_data.staff)
    row = leave.request_leave(session, staff, kind=LeaveKind.SICK, start_day=date(2026, 9, 7), end_day=date(2026, 9, 7))
    with pytest.raises(NotFound):  # outside the county manager's jurisdiction
        leave.decide(session, org_data.principals["county_manager"], request_id=row.id, approve=True)
    with pytest.raises(Forbidden):  # the requester
        leave.decide(session, staff, request_id=row.id, approve=True)
    with pytest.raises(NotFound):  # an officer sees no leave
        leave.decide(session, org_data.principals["officer"], request_id=row.id, approve=True)
    managing_self = dataclasses.replace(org_data.principals["manager"], staff_id=org_data.staff)
    with pytest.raises(Forbidden):
        leave.decide(session, managing_self, request_id=row.id, approve=True)


def test_overlapping_leave_is_refused_with_the_reason(session: Session, org_data: SimpleNamespace) -> None:
    staff = _as_staff(org_data, org_data.staff)
    first = leave.request_leave(session, staff, kind=LeaveKind.SICK, start_day=date(2026, 9, 14),
                                end_day=date(2026, 9, 16), end_am=True)
    with pytest.raises(Conflict) as err:
        leave.request_leave(session, staff, kind=LeaveKind.TRIP, start_day=date(2026, 9, 16), end_day=date(2026, 9, 18))
    assert f"#{first.id}" in err.value.message("en") and "2026-09-14" in err.value.message("en")
    assert "病假" in err.value.message("zh-CN")
    # The afternoon of 09-16 is free: a trip from that afternoon fits.
    trip = leave.request_leave(session, staff, kind=LeaveKind.TRIP, start_day=date(2026, 9, 16), start_pm=True,
                               end_day=date(2026, 9, 18))
    assert trip.days == 2.5
    away = leave.absences(session, staff_ids=None, start=date(2026, 9, 16), end=date(2026, 9, 16))
    assert away == {}  # both pending
    for row in (first, trip):
        leave.decide(session, org_data.principals["manager"], request_id=row.id, approve=True)
    away = leave.absences(session, staff_ids=[org_data.staff], start=date(2026, 9, 14), end=date(2026, 9, 18))
    assert away[(org_data.staff, date(2026, 9, 16))].half is None  # a morning and an afternoon: away all day
    assert away[(org_data.staff, date(2026, 9, 14))].kind == LeaveKind.SICK
    assert away[(org_data.staff, date(2026, 9, 17))].kind == LeaveKind.TRIP
    # A cancelled request frees its days.
    leave.cancel(session, staff, request_id=trip.id)
    again = leave.request_leave(session, staff, kind=LeaveKind.PERSONAL, start_day=date(2026, 9, 17),
                                end_day=date(2026, 9, 17))
    assert again.days == 1


def test_bad_requests_are_refused_by_field(session: Session, org_data: SimpleNamespace) -> None:
    staff = _as_staff(org_data, org_data.staff)
    cases = [
        (dict(start_day=date(2026, 9, 10), end_day=date(2026, 9, 9)), "end_day"),
        (dict(start_day=date(2026, 9, 10), end_day=date(2026, 9, 10), start_pm=True, end_am=True), "end_am"),
        (dict(start_day=date(2026, 10, 3), end_day=date(2026, 10, 4)), "end_day"),  # no working day
        (dict(start_day=date(2026, 1, 5), end_day=date(2026, 1, 5)), "start_day"),  # too long ago
        (dict(start_day=date(2026, 9, 10), end_day=date(2026, 9, 10), reason="x" * 501), "reason"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as err:
            leave.request_leave(session, staff, kind=LeaveKind.PERSONAL, **kwargs)  # type: ignore[arg-type]
        assert err.value.problems[0].field == field, kwargs
    with pytest.raises(Forbidden):  # an account with no staff member
        leave.request_leave(session, org_data.principals["officer"], kind=LeaveKind.SICK,
                            start_day=date(2026, 9, 10), end_day=date(2026, 9, 10))


def test_leave_in_a_closed_month_is_refused(session: Session, org_data: SimpleNamespace) -> None:
    from supervision import scoring

    assert not leave.month_is_closed(session, date(2026, 9, 1))
    # The city's manager closes September (the real month close of supervision.scoring).
    scoring.close_month(session, actor=org_data.principals["manager"], month=date(2026, 9, 1))
    assert leave.month_is_closed(session, date(2026, 9, 1), site_id=org_data.city)
    assert not leave.month_is_closed(session, date(2026, 10, 1), site_id=org_data.city)
    with pytest.raises(Conflict) as err:
        leave.request_leave(session, _as_staff(org_data, org_data.staff), kind=LeaveKind.SICK,
                            start_day=date(2026, 9, 30), end_day=date(2026, 10, 9))
    assert "2026-09" in err.value.message("en")


def test_cancel_only_by_the_requester_before_it_starts(session: Session, org_data: SimpleNamespace,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    staff = _as_staff(org_data, org_data.staff)
    row = leave.request_leave(session, staff, kind=LeaveKind.PERSONAL, start_day=date(2026, 9, 7),
                              end_day=date(2026, 9, 8))
    with pytest.raises(Forbidden):
        leave.cancel(session, org_data.principals["manager"], request_id=row.id)
    monkeypatch.setattr("supervision.leave.requests.local_today", lambda: date(2026, 9, 7))
    with pytest.raises(Conflict):
        leave.cancel(session, staff, request_id=row.id)
    monkeypatch.setattr("supervision.leave.requests.local_today", lambda: date(2026, 9, 6))
    assert leave.cancel(session, staff, request_id=row.id).status == LeaveStatus.CANCELLED
    with pytest.raises(Conflict):
        leave.cancel(session, staff, request_id=row.id)


def test_annual_leave_is_limited_by_the_balance(session: Session, org_data: SimpleNamespace) -> None:
    staff = _as_staff(org_data, org_data.staff)
    with pytest.raises(Conflict):  # no service start recorded yet
        leave.request_leave(session, staff, kind=LeaveKind.ANNUAL, start_day=date(2026, 9, 7), end_day=date(2026, 9, 7))
    with pytest.raises(NotFound):
        leave.set_service_start(session, org_data.principals["county_manager"], staff_id=org_data.staff,
                                day=date(2014, 7, 1))
    leave.set_service_start(session, org_data.principals["manager"], staff_id=org_data.staff, day=date(2014, 7, 1))
    balance = leave.annual_balance(session, staff_id=org_data.staff, year=2026)
    assert (balance.entitled, balance.remaining) == (10, 10)  # 11 full years on 2026-01-01
    first = leave.request_leave(session, staff, kind=LeaveKind.ANNUAL, start_day=date(2026, 9, 28),
                                end_day=date(2026, 10, 9))  # 5 working days over National Day
    leave.decide(session, org_data.principals["manager"], request_id=first.id, approve=True)
    leave.decide(session, _another_manager(session, org_data), request_id=first.id, approve=True)
    leave.request_leave(session, staff, kind=LeaveKind.ANNUAL, start_day=date(2026, 11, 2), end_day=date(2026, 11, 4),
                        end_am=True)  # 2.5 days, pending
    balance = leave.annual_balance(session, staff_id=org_data.staff, year=2026)
    assert (balance.approved, balance.pending, balance.remaining) == (5, 2.5, 2.5)
    with pytest.raises(Conflict) as err:
        leave.request_leave(session, staff, kind=LeaveKind.ANNUAL, start_day=date(2026, 11, 9),
                            end_day=date(2026, 11, 11))
    assert "2.5" in err.value.message("en")
    leave.request_leave(session, staff, kind=LeaveKind.ANNUAL, start_day=date(2026, 11, 9),
                        end_day=date(2026, 11, 11), end_am=True)  # exactly the 2.5 left


def test_a_manager_sees_only_the_requests_of_the_jurisdiction(session: Session, org_data: SimpleNamespace) -> None:
    city = leave.request_leave(session, _as_staff(org_data, org_data.staff), kind=LeaveKind.SICK,
                               start_day=date(2026, 9, 7), end_day=date(2026, 9, 7), reason="感冒")
    county = leave.request_leave(session, _as_staff(org_data, org_data.county_staff, site="county"),
                                 kind=LeaveKind.TRIP, start_day=date(2026, 9, 7), end_day=date(2026, 9, 7))
    session.commit()
    seen = {r.id for r, _ in leave.requests_in_jurisdiction(session, org_data.principals["county_manager"])}
    assert seen == {county.id}
    with pytest.raises(NotFound):
        leave.get_request(session, org_data.principals["county_manager"], request_id=city.id)
    with pytest.raises(Forbidden):
        leave.requests_in_jurisdiction(session, org_data.principals["officer"])
    manager = org_data.principals["manager"]
    assert leave.reason_of(session, manager, leave.get_request(session, manager, request_id=city.id)) == "感冒"
    session.commit()
    viewed = session.exec(select(AuditEntry).where(AuditEntry.action == "leave.view_reason")).all()
    assert [v.object_id for v in viewed] == [str(city.id)]
    assert SYSTEM.role is None and Role.MANAGER.value == "manager"
