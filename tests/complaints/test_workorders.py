"""Work orders through the services: intake, the lifecycle, refusals, confidentiality, lists."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import complaints
from complaints import jobs
from complaints.models import WorkOrder, WorkOrderEvent
from supervision import audit
from supervision.db import session_scope
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import AuditEntry, Incident, LedgerEntry
from tests.complaints.conftest import MONDAY
from tests.conftest import BACKEND


def complaint(w: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"channel": "hotline", "type": "complaint", "content": "窗口工作人员态度生硬",
                            "caller_name": "王先生", "phone": "13912345678", "window_id": w.window,
                            "staff_id": w.staff}
    data.update(extra)
    return data


def wait_for_a_lock_wait(engine: Engine, failure: str, limit: float = 60) -> None:
    """Until some PostgreSQL transaction waits for a lock (another thread's statement reached it)."""
    with engine.connect() as watch:
        deadline = time.monotonic() + limit
        while not watch.execute(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
            assert time.monotonic() < deadline, failure
            watch.rollback()
            time.sleep(0.02)


def act(s: Session, who: Any, order_id: int, action: str, day: int = 0, **data: Any) -> complaints.WorkOrderView:
    return complaints.transition(s, who, order_id, action, data, now=MONDAY + timedelta(days=day))


def test_hotline_consultation_answered_on_the_spot_is_closed_at_once(s: Session, world: SimpleNamespace) -> None:
    call = complaints.log_call(s, world.p["supervisor"], {
        "type": "consult", "content": "办理居住证需要什么材料", "caller_name": "李女士", "phone": "13800002222",
        "answered_on_the_spot": True, "answer": "身份证和租房合同"}, now=MONDAY)
    assert call.status == "answered"
    assert re.fullmatch(r"GD20261102-\d{4}", call.work_order_number)
    detail = complaints.get_order(s, world.p["supervisor"], call.work_order_number)
    assert detail.order.state == "closed" and detail.order.on_time is True
    assert [e.action for e in detail.history] == ["receive", "close"]


def test_complaint_call_becomes_an_open_order_with_its_deadline(s: Session, world: SimpleNamespace) -> None:
    call = complaints.log_call(s, world.p["supervisor"], {
        "type": "complaint", "content": "等候两小时无人办理", "caller_name": "王先生", "phone": "13912345678",
        "window_id": world.window}, now=MONDAY)
    assert call.status == "ordered" and call.caller_phone_masked == "139****5678"
    order = s.get(WorkOrder, call.work_order_id)
    assert order is not None
    assert order.due_on == date(2026, 11, 23) and order.time_limit_days == 15  # 15 working days
    assert "13912345678" not in order.phone_enc and order.department_id == world.dept
    second = complaints.log_call(s, world.p["supervisor"], {
        "type": "help", "content": "求助", "caller_name": "张", "window_id": world.window}, now=MONDAY)
    assert second.work_order_number.endswith("-0002")


def test_the_whole_loop_leaves_an_event_for_every_step(s: Session, world: SimpleNamespace) -> None:
    sup, handler = world.p["supervisor"], world.handler
    view = complaints.create_work_order(s, sup, complaint(world), now=MONDAY)
    oid = view.id
    act(s, sup, oid, "dispatch", lead_department_id=world.dept, assisting_department_ids=[world.dept2])
    act(s, handler, oid, "sign")
    act(s, handler, oid, "progress", reason="已约谈当事人")
    act(s, handler, oid, "request_extension", days=5, reason="需调取录像")
    extended = act(s, sup, oid, "approve_extension")
    assert extended.due_on == date(2026, 11, 30) and extended.extended_days == 5
    act(s, handler, oid, "reply", 1, reply="已批评教育当事人", finding="upheld", facts="监控录像证实")
    act(s, sup, oid, "callback", 2, level=2, reason="仍不满意")
    reopened = act(s, sup, oid, "reopen", 2, reason="回访不满意")
    assert reopened.state == "handling" and reopened.reopen_count == 1 and reopened.reply == ""
    act(s, handler, oid, "reply", 3, reply="当事人已当面道歉", finding="upheld", facts="当事人承认")
    act(s, sup, oid, "callback", 3, level=5)
    closed = act(s, sup, oid, "close", 3)
    assert closed.state == "closed" and closed.on_time is True
    act(s, sup, oid, "confirm_finding", 3, disposition=["criticism_notice", "deduction"])
    s.commit()
    events = s.exec(select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == oid)
                    .order_by(col(WorkOrderEvent.seq))).all()
    assert [e.seq for e in events] == list(range(len(events)))
    assert [e.action for e in events] == [
        "receive", "dispatch", "sign", "progress", "request_extension", "approve_extension", "reply", "callback",
        "reopen", "reply", "callback", "close", "confirm_finding"]
    assert events[3].actor_name == "user:handler" and events[3].reason == "已约谈当事人"
    entry = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_kind) == "work_order")).one()
    assert entry.staff_id == world.staff and entry.points == -5.0 and entry.kind == "complaint_upheld"
    incident = s.exec(select(Incident).where(col(Incident.source_kind) == "work_order")).one()
    assert incident.post_id == world.post and incident.kind == "complaint"
    with pytest.raises(Conflict):
        act(s, sup, oid, "confirm_finding")
    with pytest.raises(Conflict):
        act(s, sup, oid, "outcome", outcome="not_upheld")


def test_send_back_within_one_working_day_then_reassign(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = complaints.create_work_order(s, sup, complaint(world, lead_department_id=world.dept2), now=MONDAY).id
    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "send_back")
    assert err.value.problems[0].field == "reason"
    assert act(s, sup, oid, "send_back", 1, reason="不属本单位职责").state == "returned"
    again = act(s, sup, oid, "reassign", 1, lead_department_id=world.dept, reason="改派公安")
    assert again.state == "dispatched" and again.lead_department_id == world.dept
    with pytest.raises(Conflict) as late:
        act(s, world.handler, oid, "send_back", 3, reason="太晚了")
    assert late.value.key == "complaints.error.send_back_late"


def test_refused_transitions_and_bad_input_name_the_field(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = complaints.create_work_order(s, sup, complaint(world), now=MONDAY).id
    with pytest.raises(Conflict):
        act(s, sup, oid, "reply", reply="x")
    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "fly")
    assert err.value.problems[0].field == "action"
    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "dispatch", lead_department_id=99999)
    assert err.value.problems[0].field == "lead_department_id"
    with pytest.raises(InvalidInput) as err:
        complaints.create_work_order(s, sup, complaint(world, window_id=4242, phone="12"))
    assert {p.field for p in err.value.problems} == {"window_id", "phone"}
    with pytest.raises(InvalidInput) as err:  # every problem at once, the units included
        complaints.create_work_order(s, sup, complaint(world, phone="12ab", lead_department_id=99999,
                                                       assisting_department_ids=[88888]))
    assert {p.field for p in err.value.problems} == {"phone", "lead_department_id", "assisting_department_ids"}
    with pytest.raises(InvalidInput) as err:
        complaints.create_work_order(s, sup, complaint(world, content=""))
    assert err.value.problems[0].field == "content"
    with pytest.raises(InvalidInput) as err:
        complaints.create_work_order(s, sup, complaint(world, type="rumour"))
    assert err.value.problems[0].field == "type"
    with pytest.raises(InvalidInput) as err:
        complaints.create_work_order(s, sup, complaint(world, caller_name=""))
    assert err.value.problems[0].field == "caller_name"


def test_deadline_beyond_the_known_calendar_is_provisional_not_refused(s: Session, world: SimpleNamespace) -> None:
    from datetime import UTC, datetime

    view = complaints.create_work_order(s, world.p["supervisor"], complaint(world),
                                        now=datetime(2026, 12, 28, 2, tzinfo=UTC))
    assert view.due_provisional is True and view.due_on.year == 2027


def test_merge_folds_a_duplicate_into_the_first_order(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    first = complaints.create_work_order(s, sup, complaint(world), now=MONDAY)
    dup = complaints.create_work_order(s, sup, complaint(world, caller_name="王先生(再次来电)"), now=MONDAY)
    merged = act(s, sup, dup.id, "merge", into=first.number)
    assert merged.state == "merged" and merged.merged_into_id == first.id
    history = complaints.get_order(s, sup, first.id).history
    assert history[-1].action == "absorb" and history[-1].detail == {"merged": dup.number}
    with pytest.raises(InvalidInput):
        act(s, sup, first.id, "merge", into=first.number)


def test_idempotency_key_returns_the_first_order(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    a = complaints.create_work_order(s, sup, complaint(world), idempotency_key="form-1", now=MONDAY)
    b = complaints.create_work_order(s, sup, complaint(world), idempotency_key="form-1", now=MONDAY)
    assert a.number == b.number
    assert len(s.exec(select(WorkOrder)).all()) == 1
    with pytest.raises(Conflict):
        complaints.create_work_order(s, sup, complaint(world, content="别的内容"), idempotency_key="form-1")


def test_unit_handler_signs_but_does_not_dispatch_nor_see_the_full_number(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    order = complaints.create_work_order(s, sup, complaint(world, staff_id=None, lead_department_id=world.dept),
                                         now=MONDAY)
    detail = complaints.get_order(s, world.handler, order.id)
    assert detail.allowed_actions == ["sign", "send_back"]
    assert detail.order.caller_phone_masked == "139****5678"
    act(s, world.handler, order.id, "sign")
    with pytest.raises(Forbidden):
        act(s, world.handler, order.id, "reassign", lead_department_id=world.dept2, reason="x")
    with pytest.raises(Forbidden):
        complaints.reveal_caller_phone(s, world.handler, order.id)
    assert complaints.reveal_caller_phone(s, sup, order.id) == "13912345678"
    assert s.exec(select(AuditEntry).where(col(AuditEntry.action) == "view.caller_phone")).one()
    rows, total = complaints.list_orders(s, world.handler, {"mine": True})
    assert total == 1 and rows[0].number == order.number


def test_integrity_tip_is_for_discipline_officers_only(s: Session, world: SimpleNamespace) -> None:
    sup, officer = world.p["supervisor"], world.p["officer"]
    tip = complaints.create_work_order(s, sup, complaint(world, integrity=True, content="窗口人员索要好处费"),
                                       now=MONDAY)
    assert tip.identity_hidden and tip.caller_name == ""
    for who in (sup, world.p["manager"], world.p["county_officer"], world.handler, world.p["staff"]):
        with pytest.raises(NotFound):
            complaints.get_order(s, who, tip.id)
        assert tip.number not in [r.number for r in complaints.list_orders(s, who)[0]]
    before = len(s.exec(select(AuditEntry).where(col(AuditEntry.action) == "view.work_order")).all())
    seen = complaints.get_order(s, officer, tip.id)
    assert seen.order.caller_name == "王先生" and seen.order.caller_phone_masked == "139****5678"
    after = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "view.work_order")).all()
    assert len(after) == before + 1 and after[-1].actor_name == "officer"
    assert "dispatch" in seen.allowed_actions  # officers handle integrity tips
    rows, _ = complaints.list_orders(s, officer)
    assert [r.number for r in rows] == [tip.number]
    assert s.exec(select(AuditEntry).where(col(AuditEntry.action) == "view.work_order_list")).first()


def test_confidential_complaint_hides_the_caller_from_the_unit(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    order = complaints.create_work_order(s, sup, complaint(world, staff_id=None, confidential=True,
                                                           lead_department_id=world.dept), now=MONDAY)
    unit_view = complaints.get_order(s, world.handler, order.id).order
    assert unit_view.identity_hidden and unit_view.caller_name == "" and unit_view.caller_phone_masked == ""
    assert complaints.get_order(s, sup, order.id).order.caller_name == ""
    assert complaints.get_order(s, world.p["officer"], order.id).order.caller_name == "王先生"


def test_the_person_complained_about_never_sees_the_order(s: Session, world: SimpleNamespace) -> None:
    order = complaints.create_work_order(s, world.p["supervisor"], complaint(world), now=MONDAY)
    with pytest.raises(NotFound):
        complaints.get_order(s, world.p["staff"], order.id)


def test_due_list_covers_the_jurisdiction_only(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    city = complaints.create_work_order(s, sup, complaint(world, type="consult"), now=MONDAY)  # due Thu 5 Nov
    county = complaints.create_work_order(s, sup, complaint(world, type="consult", window_id=world.county_window,
                                                            staff_id=None), now=MONDAY)
    complaints.create_work_order(s, sup, complaint(world, type="complaint"), now=MONDAY)  # due 23 Nov
    rows, total = complaints.due_orders(s, sup, today=date(2026, 11, 4))
    assert total == 2 and {r.number for r in rows} == {city.number, county.number}
    assert all(r.card == "yellow" for r in rows)
    rows, total = complaints.due_orders(s, world.p["county_supervisor"], today=date(2026, 11, 6))
    assert [r.number for r in rows] == [county.number] and rows[0].card == "red"
    rows, total = complaints.list_orders(s, sup, {"overdue_only": True}, today=date(2026, 11, 6))
    assert total == 2


def test_chase_job_gives_each_card_once(s: Session, world: SimpleNamespace) -> None:
    from datetime import UTC, datetime

    sup = world.p["supervisor"]
    order = complaints.create_work_order(s, sup, complaint(world, type="consult", lead_department_id=world.dept),
                                         now=MONDAY)
    wednesday = datetime(2026, 11, 4, 1, tzinfo=UTC)
    assert jobs.chase_orders(s, now=wednesday).chased == 1
    assert jobs.chase_orders(s, now=wednesday).chased == 0
    friday = datetime(2026, 11, 6, 1, tzinfo=UTC)
    report = jobs.chase_orders(s, now=friday)
    assert report.escalated == 1
    history = [e.action for e in complaints.get_order(s, sup, order.id).history]
    assert history == ["receive", "dispatch", "chase", "escalate"]
    assert s.get(WorkOrder, order.id).card == "red"  # type: ignore[union-attr]


def test_statistics_and_excel_export(s: Session, world: SimpleNamespace) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    sup = world.p["supervisor"]
    a = complaints.create_work_order(s, sup, complaint(world, lead_department_id=world.dept), now=MONDAY)
    complaints.create_work_order(s, sup, complaint(world, channel="media"), now=MONDAY)
    act(s, world.handler, a.id, "sign")
    act(s, world.handler, a.id, "reply", reply="已处理", finding="partly", facts="部分查实")
    act(s, sup, a.id, "callback", level=4)
    act(s, sup, a.id, "close")
    act(s, sup, a.id, "confirm_finding")
    rows = complaints.statistics(s, sup, group_by="channel", since=date(2026, 11, 1), until=date(2026, 11, 30),
                                 today=date(2026, 11, 30))
    by = {r.key: r for r in rows}
    assert by["hotline"].received == 1 and by["hotline"].closed_on_time == 1 and by["hotline"].upheld == 1
    assert by["hotline"].satisfaction_rate == 1.0 and by["media"].overdue == 1
    months = complaints.statistics(s, sup, group_by="month", since=date(2026, 11, 1), until=date(2026, 11, 30))
    assert months[0].key == "2026-11" and months[0].received == 2
    depts = complaints.statistics(s, sup, group_by="department", since=date(2026, 11, 1), until=date(2026, 11, 30))
    assert {r.label for r in depts} == {"市公安局"}
    data = complaints.export_statistics(rows, group_by="channel", since=date(2026, 11, 1), until=date(2026, 11, 30))
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None and sheet.cell(2, 2).value == "受理数" and sheet.max_row == 4
    with pytest.raises(InvalidInput) as err:
        complaints.statistics(s, sup, group_by="weather", since=date(2026, 11, 1), until=date(2026, 11, 30))
    assert err.value.problems[0].field == "group_by"
    with pytest.raises(Forbidden):
        complaints.statistics(s, world.p["staff"], group_by="month", since=date(2026, 11, 1), until=date(2026, 11, 2))


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks: SQLite serialises every writer anyway")
def test_a_merge_waits_for_its_target_and_refuses_one_closed_meanwhile(engine: Engine,
                                                                      world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    with session_scope(engine, write=True) as setup:
        dup, target, third = (complaints.create_work_order(setup, sup, complaint(world), now=MONDAY).id
                              for _ in range(3))
    closing = Session(engine, expire_on_commit=False)
    act(closing, sup, target, "merge", into=str(third))  # the target closes, not committed yet
    outcome: dict[str, Any] = {}

    def merge_into_target() -> None:
        try:
            with session_scope(engine, write=True) as s:
                outcome["state"] = act(s, sup, dup, "merge", into=str(target)).state
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=merge_into_target)
    thread.start()
    wait_for_a_lock_wait(engine, "the merge never waited for the target's lock")
    closing.commit()
    closing.close()
    thread.join(60)
    assert isinstance(outcome.get("error"), Conflict), outcome
    with Session(engine) as s:
        assert s.get(WorkOrder, dup).state != "merged"  # type: ignore[union-attr]


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks: SQLite serialises every writer anyway")
def test_intake_and_an_audit_entry_take_their_rows_in_one_order_and_never_deadlock(
        engine: Engine, world: SimpleNamespace) -> None:
    """Two group commits: one holds the audit head (a reader's entry) and then takes an order number, the other
    takes an order (number, then audit head). Both commit; PostgreSQL found a deadlock before the fix."""
    sup = world.p["supervisor"]
    with session_scope(engine, write=True) as setup:
        complaints.create_work_order(setup, sup, complaint(world), now=MONDAY)  # the day's number row exists
    first = Session(engine, expire_on_commit=False)
    audit.record(first, world.p["officer"], "view.work_order_list", object_kind="work_order", object_id="")
    outcome: dict[str, Any] = {}

    def intake() -> None:
        try:
            with session_scope(engine, write=True) as s:
                outcome["second"] = complaints.create_work_order(s, sup, complaint(world), now=MONDAY).number
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=intake)
    thread.start()
    try:
        wait_for_a_lock_wait(engine, "the second intake never waited for the audit head")
        outcome["first"] = complaints.create_work_order(first, sup, complaint(world), now=MONDAY).number
        first.commit()
    finally:
        first.close()
        thread.join(60)
    assert "error" not in outcome, outcome
    assert outcome["first"] != outcome["second"]


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks: SQLite serialises every writer anyway")
def test_a_transition_and_intake_take_the_statistics_row_after_the_audit_head(
        engine: Engine, world: SimpleNamespace) -> None:
    """A dispatch moves its order in the month's statistics row and audits; intake audits and then counts its new
    order in that row. Both commit; PostgreSQL found a deadlock when the dispatch took the row first."""
    sup = world.p["supervisor"]
    with session_scope(engine, write=True) as setup:
        oid = complaints.create_work_order(setup, sup, complaint(world), now=MONDAY).id
    first = Session(engine, expire_on_commit=False)
    audit.record(first, world.p["officer"], "view.work_order_list", object_kind="work_order", object_id="")
    outcome: dict[str, Any] = {}

    def dispatch() -> None:
        try:
            with session_scope(engine, write=True) as s:
                # To another unit: the order leaves its department's row, which the new order below joins.
                outcome["state"] = act(s, sup, oid, "dispatch", lead_department_id=world.dept2).state
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=dispatch)
    thread.start()
    try:
        wait_for_a_lock_wait(engine, "the dispatch never waited for the audit head")
        complaints.create_work_order(first, sup, complaint(world), now=MONDAY)
        first.commit()
    finally:
        first.close()
        thread.join(60)
    assert outcome.get("state") == "dispatched", outcome
