"""Deadlines and cards over the working-day calendar: the arithmetic, pure; then a year nobody entered, end to end."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

import complaints
from complaints import jobs
from complaints.deadlines import Card, Deadline, card_for, due_date, within_workdays
from complaints.models import WorkOrder, WorkOrderEvent
from complaints.provisional import recompute_provisional, sweep_provisional
from supervision import workdays as wd
from supervision.access import SYSTEM
from supervision.models import AuditEntry
from supervision.settings import get_settings
from supervision.workdays import WorkCalendar
from tests.web.conftest import bearer, login
from web.app import create_app

CAL = WorkCalendar()


def test_limit_runs_over_a_weekend() -> None:
    # Friday 6 November 2026 + 3 working days = Wednesday 11 November.
    assert due_date(CAL, date(2026, 11, 6), 3).due_on == date(2026, 11, 11)


def test_order_received_on_saturday_starts_on_monday() -> None:
    assert due_date(CAL, date(2026, 11, 7), 3).due_on == date(2026, 11, 11)


def test_national_day_holiday_and_its_swapped_saturday() -> None:
    # Received Wed 30 Sep: 1–7 Oct are holidays; Thu 8, Fri 9 and the swapped Sat 10 Oct are working days.
    deadline = due_date(CAL, date(2026, 9, 30), 3)
    assert deadline.due_on == date(2026, 10, 10)
    assert not deadline.provisional and deadline.source == "official"


def test_admin_override_moves_the_deadline() -> None:
    cal = WorkCalendar(overrides={date(2026, 11, 9): False})
    assert due_date(cal, date(2026, 11, 6), 3).due_on == date(2026, 11, 12)


def test_year_beyond_the_calendar_gives_a_provisional_deadline() -> None:
    # Received Mon 14 Dec 2026: 13 working days to Thu 31 Dec, then Fri 1 Jan 2027 is New Year's Day,
    # Mon 4 and Tue 5 Jan are the 14th and 15th.
    deadline = due_date(CAL, date(2026, 12, 14), 15)
    assert deadline == Deadline(date(2027, 1, 5), True, "provisional")
    assert due_date(CAL, date(2026, 12, 10), 15) == Deadline(date(2026, 12, 31), False, "official")


def test_a_declared_year_makes_the_deadline_official() -> None:
    cal = WorkCalendar(overrides={date(2027, 1, 1): False}, declared_years=[2027])
    assert due_date(cal, date(2026, 12, 14), 15) == Deadline(date(2027, 1, 5), False, "official")


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 12, 30), Card.NONE),  # Wed: Thu 31 Dec and Mon 4 Jan are left
    (date(2026, 12, 31), Card.YELLOW),  # one working day left (1 Jan is a holiday by the provisional rule)
    (date(2027, 1, 4), Card.YELLOW),  # the due day
    (date(2027, 1, 5), Card.RED),
])
def test_cards_on_a_provisional_due_date(today: date, expected: Card) -> None:
    assert card_for(CAL, today, date(2027, 1, 4), yellow_workdays=1, red_workdays_late=0) is expected


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 11, 9), Card.NONE),  # Mon, due Wed: 2 working days left
    (date(2026, 11, 10), Card.YELLOW),  # Tue: 1 left
    (date(2026, 11, 11), Card.YELLOW),  # the due day
    (date(2026, 11, 12), Card.RED),  # past due
])
def test_cards(today: date, expected: Card) -> None:
    assert card_for(CAL, today, date(2026, 11, 11), yellow_workdays=1, red_workdays_late=0) is expected


def test_red_card_can_wait_for_some_days_late() -> None:
    due = date(2026, 11, 11)
    assert card_for(CAL, date(2026, 11, 12), due, yellow_workdays=1, red_workdays_late=2) is Card.YELLOW
    assert card_for(CAL, date(2026, 11, 16), due, yellow_workdays=1, red_workdays_late=2) is Card.RED


def test_send_back_window_is_one_working_day() -> None:
    friday = date(2026, 11, 6)
    assert within_workdays(CAL, friday, date(2026, 11, 9), 1)  # Monday still counts
    assert not within_workdays(CAL, friday, date(2026, 11, 10), 1)


# --- a year nobody has entered, end to end ------------------------------------------------------

# Monday 14 December 2026, 10:00 in Shanghai: a 15-working-day limit ends in 2027, which the calendar lacks.
DEC_14 = datetime(2026, 12, 14, 2, 0, tzinfo=UTC)


def _history(client: TestClient, headers: dict[str, str], order_id: int) -> list[dict[str, Any]]:
    detail = client.get(f"/api/v1/work-orders/{order_id}", headers=headers)
    assert detail.status_code == 200, detail.text
    return [e for e in detail.json()["history"] if e["action"] == "recompute_due"]


def test_a_complaint_in_mid_december_is_registered_and_its_due_date_follows_the_calendar(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("complaints.workorders.utcnow", lambda: DEC_14)
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        supervisor, admin = bearer(client, "supervisor"), bearer(client, "admin")
        created = client.post("/api/v1/work-orders", headers=supervisor, json={
            "channel": "hotline", "type": "complaint", "content": "窗口工作人员态度生硬", "caller_name": "王先生",
            "phone": "13912345678", "window_id": world.window})
        assert created.status_code == 201, created.text
        order = created.json()
        assert (order["due_on"], order["due_provisional"]) == ("2027-01-05", True)
        with Session(engine) as s:
            call = complaints.log_call(s, world.p["supervisor"], {
                "type": "complaint", "content": "等候两小时无人办理", "caller_name": "李女士",
                "window_id": world.window}, now=DEC_14)
            s.commit()
        assert call.status == "ordered"
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
            login(browser, "supervisor")
            page = browser.get(f"/complaints/orders/{order['id']}").text
            assert 'data-testid="due-provisional"' in page and "2027 年的节假日安排尚未录入" in page

        # The card counts working days on the provisional calendar too: on Mon 4 Jan one is left.
        with Session(engine) as s:
            report = jobs.chase_orders(s, now=datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
            s.commit()
        assert report.chased == 2

        # 1 January is already off by the provisional rule: nothing moves, nothing is written.
        assert client.put("/api/v1/calendar/overrides", headers=admin,
                          json={"day": "2027-01-01", "is_workday": False, "name": "元旦"}).status_code == 200
        assert _history(client, supervisor, order["id"]) == []
        # A day off the provisional rule did not know moves the date, still provisional.
        assert client.put("/api/v1/calendar/overrides", headers=admin,
                          json={"day": "2027-01-04", "is_workday": False, "name": "元旦调休"}).status_code == 200
        moved = _history(client, supervisor, order["id"])
        assert [(e["reason"], e["detail"]["previous_due_on"], e["detail"]["due_on"], e["detail"]["provisional"])
                for e in moved] == [("2027-01-04 元旦调休", "2027-01-05", "2027-01-06", True)]

        declared = client.post("/api/v1/calendar/years", headers=admin,
                               json={"year": 2027, "notice": "国办发明电〔2026〕12号"})
        assert declared.status_code == 201, declared.text
        events = _history(client, supervisor, order["id"])
        assert [(e["reason"], e["detail"]["cause"], e["detail"]["due_on"], e["detail"]["provisional"])
                for e in events[1:]] == [("国办发明电〔2026〕12号", "declare_year", "2027-01-06", False)]
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
            login(browser, "supervisor")
            page = browser.get(f"/complaints/orders/{order['id']}").text
            assert 'data-testid="due-provisional"' not in page
            assert "工作日历变更(已录入 2027 年节假日安排),办理时限由 2027-01-06 改为 2027-01-06" in page
            assert "工作日历变更(调整了 2027 年的日期),办理时限由 2027-01-05 改为 2027-01-06" in page
        after = client.get(f"/api/v1/work-orders/{order['id']}", headers=supervisor).json()["order"]
        assert (after["due_on"], after["due_provisional"]) == ("2027-01-06", False)
        assert after["card"] == ""  # the yellow card was given against the earlier day

    with Session(engine) as s:
        call_order = s.get(WorkOrder, call.work_order_id)
        assert call_order is not None and (call_order.due_on, call_order.due_provisional) == (date(2027, 1, 6), False)
        assert s.exec(select(func.count()).select_from(WorkOrder).where(
            col(WorkOrder.due_provisional).is_(True))).one() == 0
        audited = s.exec(select(AuditEntry.object_id).where(AuditEntry.action == "work_order.recompute_due")).all()
        assert sorted(audited) == sorted([str(order["id"]), str(call.work_order_id)] * 2)


def test_a_calendar_change_whose_follow_up_never_ran_is_caught_up_by_the_sweep(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        orders = [complaints.create_work_order(s, world.p["supervisor"], {
            "channel": "hotline", "type": "complaint", "content": f"投诉 {i}", "caller_name": "王先生",
            "window_id": world.window}, now=DEC_14) for i in range(3)]
        s.commit()
    # The process stops between the declaration's commit and its follow-up: nobody follows the change.
    monkeypatch.setattr(wd, "_followers", {})
    with Session(engine) as s:
        wd.set_override(s, world.p["admin"], day=date(2027, 1, 1), is_workday=False, name="元旦")
        wd.declare_year(s, world.p["admin"], year=2027, notice="国办发明电〔2026〕12号")
        s.commit()
    with Session(engine) as s:
        assert all(s.get(WorkOrder, o.id).due_provisional for o in orders)  # type: ignore[union-attr]
    assert recompute_provisional(engine, SYSTEM, wd.CalendarChange(frozenset(), "calendar", ""), chunk=2) == 3
    assert sweep_provisional(engine) == 0  # safe to run again: nothing left to change
    with Session(engine) as s:
        for o in orders:
            row = s.get(WorkOrder, o.id)
            assert row is not None and (row.due_on, row.due_provisional) == (date(2027, 1, 5), False)
            events = s.exec(select(WorkOrderEvent).where(WorkOrderEvent.order_id == o.id,
                                                         WorkOrderEvent.action == "recompute_due")).all()
            assert [json.loads(e.detail)["cause"] for e in events] == ["calendar"]
