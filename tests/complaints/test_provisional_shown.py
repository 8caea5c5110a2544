"""A provisional due date is shown as such wherever a due date is (issue 10 §9 leftovers): the orders table,
the supervisor's due list, the citizen's receipt and tracking page; and a bad rating's first-answer date is
recomputed with the due date when the calendar learns its year."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import complaints
from complaints.models import WorkOrder, WorkOrderEvent
from supervision.models import AuditEntry
from supervision.settings import get_settings
from tests.web.conftest import bearer, login
from web.app import create_app

DEC_14 = datetime(2026, 12, 14, 2, 0, tzinfo=UTC)  # Monday, 10:00 in Shanghai: 15 working days end in 2027
DEC_31 = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)  # Thursday: the next working day is in 2027
BADGE = re.compile(r'data-testid="due-provisional"[^>]*>暂定<')


def _row(page: str, number: str) -> str:
    """The orders table's row of one order."""
    start = page.index(number)
    return page[start:page.index("</tr>", start)]


def test_the_orders_table_and_the_public_pages_badge_a_provisional_due_date(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        late = complaints.create_work_order(s, world.p["supervisor"], {
            "channel": "hotline", "type": "complaint", "content": "十二月中旬的投诉", "caller_name": "王先生",
            "window_id": world.window}, now=DEC_14)
        early = complaints.create_work_order(s, world.p["supervisor"], {
            "channel": "hotline", "type": "consult", "content": "十二月中旬的咨询", "caller_name": "李女士",
            "window_id": world.window}, now=DEC_14)
        s.commit()
        assert (late.due_provisional, early.due_provisional) == (True, False)
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, follow_redirects=False) as client:
        csrf = login(client, "supervisor")
        page = client.get("/complaints/orders").text
        assert BADGE.search(_row(page, late.number)) and not BADGE.search(_row(page, early.number))
        client.post("/locale", data={"locale": "en", "next": "/", "csrf_token": csrf})
        english = client.get("/complaints/orders").text
        assert ">provisional<" in _row(english, late.number)

    # The citizen's receipt and tracking page: the date is said to be provisional, and why.
    monkeypatch.setattr("complaints.workorders.utcnow", lambda: DEC_14)
    with TestClient(app, follow_redirects=False) as citizen:
        sent = citizen.post("/public/complaint", data={
            "site_id": str(world.city), "type": "complaint", "content": "办事排队两小时无人过问",
            "caller_name": "赵先生", "phone": "13800001111"})
        assert sent.status_code == 201, sent.text[:500]
        assert BADGE.search(sent.text)
        receipt = sent.context["receipt"]  # type: ignore[attr-defined]
        asked = {"number": receipt.number, "secret": receipt.secret}
        tracked = citizen.post("/public/track", data=asked)
        assert tracked.status_code == 200, tracked.text[:500]
        assert BADGE.search(tracked.text) and "2027 年的节假日安排尚未录入" in tracked.text
        with Session(engine) as s:
            order = s.exec(select(WorkOrder).where(col(WorkOrder.number) == receipt.number)).one()
            order.due_provisional = False  # as after the year was entered: no badge
            s.add(order)
            s.commit()
        official = citizen.post("/public/track", data=asked)
        assert official.status_code == 200 and not BADGE.search(official.text)


def test_a_bad_ratings_first_answer_date_is_recomputed_with_its_due_date(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("complaints.workorders.utcnow", lambda: DEC_31)
    with Session(engine) as s:
        rating, _ = complaints.push_rating(s, world.pad, {
            "case_no": "BJ-1231", "window_id": world.window, "staff_id": world.staff, "level": 1,
            "reason": "办事态度差"}, now=DEC_31)
        s.commit()
        order = s.get(WorkOrder, rating.work_order_id)
        assert order is not None
        # 1 working day after Thu 31 Dec: Fri 1 Jan is New Year's Day (a fixed-date holiday), then the weekend.
        assert (order.respond_by, order.due_provisional) == (date(2027, 1, 4), True)
        order_id = order.id
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, follow_redirects=False) as client:
        admin = bearer(client, "admin")
        moved = client.put("/api/v1/calendar/overrides", headers=admin,
                           json={"day": "2027-01-04", "is_workday": False, "name": "元旦调休"})
        assert moved.status_code == 200, moved.text
        with Session(engine) as s:
            after = s.get(WorkOrder, order_id)
            assert after is not None and after.respond_by == date(2027, 1, 5) and after.due_provisional
            event = s.exec(select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == order_id,
                                                        col(WorkOrderEvent.action) == "recompute_due")).one()
            detail = json.loads(event.detail)
            assert (detail["previous_respond_by"], detail["respond_by"]) == ("2027-01-04", "2027-01-05")
            assert s.exec(select(AuditEntry).where(col(AuditEntry.action) == "work_order.recompute_due",
                                                   col(AuditEntry.object_id) == str(order_id))).first() is not None
        login(client, "supervisor")
        page = client.get(f"/complaints/orders/{order_id}").text
        assert "首次答复时限由 2027-01-04 改为 2027-01-05" in page
        # The year's notice: New Year's Day off (as the provisional rule had it), the rest Monday to Friday.
        assert client.put("/api/v1/calendar/overrides", headers=admin,
                          json={"day": "2027-01-01", "is_workday": False, "name": "元旦"}).status_code == 200
        assert client.post("/api/v1/calendar/years", headers=admin,
                           json={"year": 2027, "notice": "国办发明电〔2026〕12号"}).status_code == 201
        with Session(engine) as s:
            final = s.get(WorkOrder, order_id)
            assert final is not None and final.respond_by == date(2027, 1, 5) and not final.due_provisional
