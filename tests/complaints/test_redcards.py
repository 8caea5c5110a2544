"""Red cards into the ledger: one entry per red-carded order against its window, booked once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, col, select

import complaints
from complaints import jobs, redcards
from complaints.models import WorkOrder
from supervision.ledger import reason_key, render_reason
from supervision.models import LedgerEntry
from tests.complaints.conftest import MONDAY

FRIDAY = datetime(2026, 11, 6, 1, tzinfo=UTC)  # a consultation received Monday is red by then (3 working days)


def consult(w: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"channel": "hotline", "type": "consult", "content": "咨询户籍迁移材料",
                            "caller_name": "王先生", "phone": "13912345678", "window_id": w.window,
                            "lead_department_id": w.dept}
    data.update(extra)
    return data


def red_entries(s: Session) -> list[LedgerEntry]:
    return list(s.exec(select(LedgerEntry).where(col(LedgerEntry.kind) == redcards.RED_CARD_KIND)
                       .order_by(col(LedgerEntry.id))).all())


def test_a_red_card_costs_the_window_its_points_once(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    carded = complaints.create_work_order(s, sup, consult(world), now=MONDAY)
    windowless = complaints.create_work_order(s, sup, consult(world, window_id=None), now=MONDAY)
    on_time = complaints.create_work_order(s, sup, consult(world, type="complaint"), now=MONDAY)  # 15 days
    s.commit()
    assert redcards.book_red_cards(s, today=date(2026, 11, 6)).booked == []  # no card yet: nothing booked

    assert jobs.chase_orders(s, now=FRIDAY).escalated == 2
    s.commit()
    report = redcards.book_red_cards(s, today=date(2026, 11, 9))
    s.commit()
    assert report.booked == [carded.number]
    assert report.unbooked == {windowless.number: "no_window"}
    [entry] = red_entries(s)
    assert (entry.window_id, entry.staff_id, entry.points) == (world.window, None, -3.0)  # DEFAULT: the rule item
    assert (entry.source_kind, entry.source_id) == ("work_order", carded.number)
    assert entry.day == date(2026, 11, 6)  # the day the card was given, not the day it was booked
    assert reason_key(entry.reason) == ("ledger_reason.red_card", {
        "number": carded.number, "due": "2026-11-05", "card_day": "2026-11-06"})
    assert "超期红牌" in render_reason(entry.reason, "zh-CN")
    assert "red card" in render_reason(entry.reason, "en")

    # Again, and again after the chase ran once more: still one entry per order.
    jobs.chase_orders(s, now=FRIDAY)
    again = redcards.book_red_cards(s, today=date(2026, 11, 10))
    s.commit()
    assert again.booked == [] and len(red_entries(s)) == 1
    assert s.get(WorkOrder, on_time.id).card == ""  # type: ignore[union-attr]

    # Once someone names the window of the windowless order, it is booked at the next run.
    order = s.get(WorkOrder, windowless.id)
    assert order is not None
    order.window_id = world.window
    s.add(order)
    s.commit()
    assert redcards.book_red_cards(s, today=date(2026, 11, 10)).booked == [windowless.number]
    s.commit()
    assert [e.source_id for e in red_entries(s)] == [carded.number, windowless.number]


def test_the_red_card_job_is_scheduled_after_the_chase() -> None:
    from web.composition import scheduled_jobs

    specs = {spec.id: spec for spec in scheduled_jobs()}
    assert specs["complaints.red_cards"].func == "complaints.redcards:run_red_cards"
    assert specs["complaints.red_cards"].trigger_args["minute"] > specs["complaints.chase"].trigger_args["minute"]
