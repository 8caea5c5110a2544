"""Outcome revisions, appeals that close their rectification, the citizen's window and the statistics roll-up."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session, col, select

import complaints
from complaints import rollup
from complaints.models import Rating, StatsMonth, WorkOrder, WorkOrderEvent
from complaints.stats import split_period
from supervision import incidents
from supervision.db import table_of
from supervision.errors import Conflict, Forbidden, InvalidInput
from supervision.models import AuditEntry, Incident, LedgerEntry
from tests.complaints.conftest import MONDAY
from tests.complaints.test_workorders import act, complaint


def _closed_upheld(s: Session, w: SimpleNamespace, **extra: Any) -> int:
    sup = w.p["supervisor"]
    oid = complaints.create_work_order(s, sup, complaint(w, lead_department_id=w.dept, **extra), now=MONDAY).id
    act(s, w.handler, oid, "sign")
    act(s, w.handler, oid, "reply", 1, reply="已批评教育", finding="upheld", facts="监控录像证实")
    act(s, sup, oid, "callback", 2, level=4)
    act(s, sup, oid, "close", 2)
    act(s, sup, oid, "confirm_finding", 2, disposition=["deduction"])
    return oid


def _incident(s: Session, source_kind: str, source_id: object) -> Incident:
    found = s.exec(select(Incident).where(col(Incident.source_kind) == source_kind,
                                          col(Incident.source_id) == str(source_id))).one()
    s.refresh(found)
    return found


def _ledger(s: Session, number: str) -> list[LedgerEntry]:
    return list(s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == number)
                       .order_by(col(LedgerEntry.id))).all())


# --- outcome revision -------------------------------------------------------------------------


def test_revising_an_outcome_keeps_history_and_reverses_the_ledger(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _closed_upheld(s, world)
    number = s.get(WorkOrder, oid).number  # type: ignore[union-attr]
    assert [e.points for e in _ledger(s, number)] == [-5.0]
    detail = complaints.get_order(s, sup, oid)
    assert "revise_outcome" in detail.allowed_actions and "outcome" not in detail.allowed_actions

    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "revise_outcome", 3, outcome="partly")
    assert err.value.problems[0].field == "reason"
    with pytest.raises(Conflict):
        act(s, sup, oid, "revise_outcome", 3, outcome="upheld", disposition=["deduction"], reason="复核")
    with pytest.raises(Forbidden):
        act(s, world.handler, oid, "revise_outcome", 3, outcome="not_upheld", reason="我不服")

    revised = act(s, sup, oid, "revise_outcome", 3, outcome="partly", reason="复核录像:部分属实")
    assert revised.outcome == "partly" and revised.state == "closed"
    entries = _ledger(s, number)
    assert [e.points for e in entries] == [-5.0, 5.0, -2.0]
    assert entries[1].reverses_id == entries[0].id and entries[2].kind == "complaint_partly_upheld"

    assert _incident(s, "work_order", oid).withdrawn_at is None  # partly upheld still counts
    act(s, sup, oid, "revise_outcome", 4, outcome="not_upheld", reason="申诉复查不属实")
    incident = _incident(s, "work_order", oid)
    # Not upheld: the risk register stops counting the complaint against the post; the row stays.
    assert incident.withdrawn_at is not None and "申诉复查不属实" in incident.withdrawn_reason
    assert incidents.count_by_post(s, since=MONDAY - timedelta(days=30)).get(incident.post_id or 0, 0) == 0
    entries = _ledger(s, number)
    assert [e.points for e in entries] == [-5.0, 5.0, -2.0, 2.0]
    assert sum(e.points for e in entries) == 0
    events = s.exec(select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == oid)
                    .order_by(col(WorkOrderEvent.seq))).all()
    revisions = [e for e in events if e.action == "revise_outcome"]
    assert [e.reason for e in revisions] == ["复核录像:部分属实", "申诉复查不属实"]
    assert revisions[0].actor_name == "user:supervisor"
    assert '"previous_outcome": "upheld"' in revisions[0].detail
    assert [e.action for e in events][-3:] == ["confirm_finding", "revise_outcome", "revise_outcome"]
    audited = s.exec(select(AuditEntry.action).where(col(AuditEntry.object_id) == str(oid))).all()
    assert audited.count("work_order.revise_outcome") == 2
    back = act(s, sup, oid, "revise_outcome", 5, outcome="upheld", reason="纪检复查属实")
    assert back.outcome == "upheld" and [e.points for e in _ledger(s, number)][-1] == -5.0
    assert sum(e.points for e in _ledger(s, number)) == -5.0
    assert _incident(s, "work_order", oid).withdrawn_at is None  # upheld again: it counts again


def test_an_outcome_not_recorded_cannot_be_revised(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = complaints.create_work_order(s, sup, complaint(world, lead_department_id=world.dept), now=MONDAY).id
    act(s, world.handler, oid, "sign")
    act(s, world.handler, oid, "reply", reply="已处理", finding="upheld", facts="核实")
    with pytest.raises(Conflict) as err:
        act(s, sup, oid, "revise_outcome", outcome="upheld", reason="x")
    assert "record it first" in err.value.message("en") and "尚未认定" in err.value.message("zh-CN")
    with pytest.raises(InvalidInput):
        complaints.transition(s, sup, oid, "cancel", {"reason": "no"})


# --- appeals ----------------------------------------------------------------------------------


def _bad_rating(s: Session, w: SimpleNamespace, case_no: str) -> Rating:
    rating, _ = complaints.push_rating(s, w.pad, {"case_no": case_no, "window_id": w.window, "staff_id": w.staff,
                                                  "level": 1, "reason": "态度差"}, now=MONDAY)
    return rating


def test_granted_appeal_closes_the_rectification_and_reverses_the_rating(s: Session, world: SimpleNamespace) -> None:
    rating = _bad_rating(s, world, "BJ-100")
    order = s.get(WorkOrder, rating.work_order_id)
    assert order is not None and order.is_open and order.source_ref == f"rating:{rating.id}"
    complaints.appeal_rating(s, world.p["staff"], rating.id or 0, "当天并未办理该业务")
    complaints.decide_appeal(s, world.p["manager"], rating.id or 0, "granted", "调取录像核实为误评")
    s.refresh(order)
    assert order.state == "closed" and not order.is_open
    last = s.exec(select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == order.id)
                  .order_by(col(WorkOrderEvent.seq).desc())).first()
    assert last is not None and last.action == "cancel" and "BJ-100" in last.reason
    assert f'"rating_id": {rating.id}' in last.detail and '"appeal_id"' in last.detail
    assert last.actor_name == "user:manager"
    points = [e.points for e in s.exec(select(LedgerEntry).where(col(LedgerEntry.source_kind) == "rating"))]
    assert sorted(points) == [-2.0, 2.0]
    assert _incident(s, "rating", rating.id).withdrawn_at is not None  # no longer a signal for the post
    detail = complaints.get_order(s, world.p["supervisor"], order.id or 0)
    assert detail.allowed_actions == []  # closed because its cause fell away: nothing to chase, no outcome
    assert rollup.differences(s) == []


def test_granted_appeal_undoes_the_outcome_recorded_on_its_rectification(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    rating = _bad_rating(s, world, "BJ-102")
    oid = rating.work_order_id or 0
    order = s.get(WorkOrder, oid)
    assert order is not None
    act(s, world.handler, oid, "sign")
    act(s, world.handler, oid, "reply", 1, reply="已整改", finding="upheld", facts="录像核实")
    act(s, sup, oid, "callback", 2, level=4)
    act(s, sup, oid, "close", 2)
    act(s, sup, oid, "confirm_finding", 2, disposition=["talk"])
    s.refresh(order)
    outcome_entries = _ledger(s, order.number)
    assert [e.points for e in outcome_entries] == [-5.0]
    assert _incident(s, "work_order", oid).withdrawn_at is None

    complaints.appeal_rating(s, world.p["staff"], rating.id or 0, "当天并未办理该业务")
    complaints.decide_appeal(s, world.p["manager"], rating.id or 0, "granted", "调取录像核实为误评")
    # The rating's entry and the outcome's entry are both reversed; every row stays.
    entries = _ledger(s, order.number)
    assert [e.points for e in entries] == [-5.0, 5.0] and entries[1].reverses_id == entries[0].id
    assert sum(e.points for e in s.exec(select(LedgerEntry).where(col(LedgerEntry.staff_id) == world.staff))) == 0
    incident = _incident(s, "work_order", oid)
    assert incident.withdrawn_at is not None and "BJ-102" in incident.withdrawn_reason
    last = s.exec(select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == oid)
                  .order_by(col(WorkOrderEvent.seq).desc())).first()
    assert last is not None and last.action == "cancel"
    assert f'"reversed_ledger_entry_ids": [{entries[0].id}]' in last.detail


def test_refused_appeal_leaves_the_rectification_open(s: Session, world: SimpleNamespace) -> None:
    rating = _bad_rating(s, world, "BJ-101")
    complaints.appeal_rating(s, world.p["staff"], rating.id or 0, "评价不公")
    complaints.decide_appeal(s, world.p["manager"], rating.id or 0, "rejected", "录像显示确有推诿")
    order = s.get(WorkOrder, rating.work_order_id)
    assert order is not None and order.is_open and order.state == "dispatched"
    assert not s.get(Rating, rating.id).void  # type: ignore[union-attr]
    assert [e.points for e in s.exec(select(LedgerEntry).where(col(LedgerEntry.source_kind) == "rating"))] == [-2.0]


# --- the citizen's window ---------------------------------------------------------------------


def test_citizen_names_a_window_of_the_chosen_centre_only(s: Session, world: SimpleNamespace) -> None:
    base = {"site_id": world.city, "type": "complaint", "content": "窗口人员办理拖拉", "caller_name": "刘女士"}
    receipt = complaints.submit_public(s, {**base, "window_id": world.window}, ip="127.0.0.1", now=MONDAY)
    order = s.exec(select(WorkOrder).where(col(WorkOrder.number) == receipt.number)).one()
    assert order.window_id == world.window and order.department_id == world.dept
    with pytest.raises(InvalidInput) as err:
        complaints.submit_public(s, {**base, "window_id": world.county_window}, ip="127.0.0.2", now=MONDAY)
    problem = err.value.problems[0]
    assert problem.field == "window_id" and "not one of the chosen centre" in err.value.message("en")
    with pytest.raises(InvalidInput) as err:
        complaints.submit_public(s, {**base, "window_id": 99999}, ip="127.0.0.3", now=MONDAY)
    assert err.value.problems[0].field == "window_id"


# --- the roll-up ------------------------------------------------------------------------------


def test_split_period_into_part_and_whole_months() -> None:
    assert split_period(date(2026, 1, 1), date(2026, 3, 31)) == (None, ("2026-01", "2026-03", (
        date(2026, 1, 1), date(2026, 3, 31))), None)
    head, months, tail = split_period(date(2025, 11, 16), date(2026, 11, 16))
    assert head == (date(2025, 11, 16), date(2025, 11, 30)) and tail == (date(2026, 11, 1), date(2026, 11, 16))
    assert months is not None and months[:2] == ("2025-12", "2026-10")
    assert split_period(date(2026, 2, 3), date(2026, 2, 20)) == (None, None, (date(2026, 2, 3), date(2026, 2, 20)))
    assert split_period(date(2024, 2, 1), date(2024, 2, 29))[1] is not None  # a leap February is whole


def test_rollup_equals_direct_counts_after_a_mix_of_transitions(s: Session, world: SimpleNamespace) -> None:
    sup, officer = world.p["supervisor"], world.p["officer"]
    oids = [complaints.create_work_order(s, sup, complaint(world, channel=ch), now=MONDAY + timedelta(days=i)).id
            for i, ch in enumerate(["hotline", "media", "web", "hotline", "walk_in"])]
    county = complaints.create_work_order(s, sup, complaint(world, window_id=world.county_window, staff_id=None,
                                                            site_id=world.county), now=MONDAY).id
    tip = complaints.create_work_order(s, sup, complaint(world, integrity=True), now=MONDAY).id
    closed = _closed_upheld(s, world)
    act(s, sup, oids[0], "dispatch", lead_department_id=world.dept)
    act(s, sup, oids[0], "reassign", lead_department_id=world.dept2, reason="职能调整")  # moves department
    act(s, sup, oids[1], "merge", into=str(oids[2]))  # a merged order counts nowhere
    act(s, sup, oids[3], "dispatch", lead_department_id=world.dept)
    act(s, world.handler, oids[3], "sign")
    act(s, world.handler, oids[3], "reply", 30, reply="答复", finding="not_upheld", facts="未查实")
    act(s, sup, oids[3], "callback", 30, level=2, reason="不满意")
    act(s, sup, oids[3], "reopen", 30, reason="重办")
    act(s, world.handler, oids[3], "reply", 40, reply="再次答复", finding="partly", facts="部分查实")
    act(s, sup, oids[3], "callback", 40, level=3)
    act(s, sup, oids[3], "close", 40)  # late: due within 15 working days
    act(s, sup, oids[3], "confirm_finding", 40)
    act(s, sup, closed, "revise_outcome", 41, outcome="not_upheld", reason="复核不属实")
    act(s, officer, tip, "close", 1, reply="已转纪检")
    rating = _bad_rating(s, world, "BJ-200")
    _bad_rating(s, world, "BJ-201")
    complaints.push_rating(s, world.pad, {"case_no": "BJ-202", "window_id": world.window, "level": 5}, now=MONDAY)
    complaints.appeal_rating(s, world.p["staff"], rating.id or 0, "误评")
    complaints.decide_appeal(s, world.p["manager"], rating.id or 0, "granted", "核实误评")
    s.flush()
    assert county and rollup.differences(s) == []

    today = date(2026, 12, 20)
    for who in (sup, officer):
        for group in complaints.GroupBy:
            for since, until in ((date(2026, 11, 1), date(2026, 12, 31)), (date(2026, 10, 15), date(2026, 12, 3)),
                                 (date(2026, 11, 3), date(2026, 11, 30))):
                rolled = complaints.statistics(s, who, group_by=group, since=since, until=until, today=today)
                direct = complaints.statistics(s, who, group_by=group, since=since, until=until, today=today,
                                               direct=True)
                assert [r.model_dump() for r in rolled] == [r.model_dump() for r in direct], (who.name, group, since)
    month = {r.key: r for r in complaints.statistics(s, officer, group_by="month", since=date(2026, 11, 1),
                                                     until=date(2026, 11, 30), today=today)}["2026-11"]
    assert month.received == 9 and month.upheld == 1 and month.ratings == {1: 1, 5: 1}
    # Losing the table's rows (or a bulk import that bypassed the services) is repaired by a rebuild.
    s.execute(table_of(StatsMonth).delete())
    assert rollup.differences(s)
    rollup.rebuild(s)
    assert rollup.differences(s) == []


def test_a_cancelled_rectification_takes_no_new_outcome(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    rating = _bad_rating(s, world, "BJ-103")
    oid = rating.work_order_id or 0
    act(s, world.handler, oid, "sign")
    act(s, world.handler, oid, "reply", 1, reply="已整改", finding="upheld", facts="录像核实")
    act(s, sup, oid, "confirm_finding", 1)
    complaints.appeal_rating(s, world.p["staff"], rating.id or 0, "误评")
    complaints.decide_appeal(s, world.p["manager"], rating.id or 0, "granted", "核实为误评")
    order = s.get(WorkOrder, oid)
    assert order is not None
    s.refresh(order)
    assert order.outcome == "" and order.state == "closed"  # the statistics no longer count it upheld
    assert rollup.differences(s) == []
    detail = complaints.get_order(s, sup, oid)
    assert not {"outcome", "confirm_finding", "revise_outcome"} & set(detail.allowed_actions)
    cancel = next(e for e in detail.history if e.action == "cancel")
    assert cancel.detail["previous_outcome"] == "upheld"
    for action, data in (("confirm_finding", {}), ("revise_outcome", {"outcome": "upheld",
                                                                                  "reason": "再议"})):
        with pytest.raises(Conflict) as err:
            act(s, sup, oid, action, 2, **data)
        assert "cancelled" in err.value.message("en") and "撤销" in err.value.message("zh-CN")
    assert sum(e.points for e in _ledger(s, order.number)) == 0
