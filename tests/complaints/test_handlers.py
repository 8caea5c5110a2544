"""Handlers (承办人), findings and the 12345 sequence, through the services.

A unit acts through its handlers; window staff read no orders; the unit's reply carries a finding the
supervisor confirms or sends back; the outcome names the people held responsible; an order is not
closed before its callback unless the caller is anonymous or unreachable after the set number of tries.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import complaints
from complaints.models import WorkOrder, WorkOrderEvent
from complaints.titles import derive_title
from supervision import accounts
from supervision.access import ROLE_PERMISSIONS, Principal
from supervision.db import session_scope
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import Incident, LedgerEntry, Role
from tests.complaints.conftest import MONDAY
from tests.complaints.test_workorders import act, complaint
from tests.conftest import SYSTEM


def _replied(s: Session, w: SimpleNamespace, **extra: object) -> int:
    """An order about the clerk 张三, dispatched to 市公安局, signed and answered by its handler with "属实"."""
    oid = complaints.create_work_order(s, w.p["supervisor"], complaint(w, lead_department_id=w.dept, **extra),
                                       now=MONDAY).id
    act(s, w.handler, oid, "sign")
    act(s, w.handler, oid, "reply", 1, reply="已批评教育", finding="upheld", facts="调取录像,情况属实")
    return oid


# --- who sees and acts -----------------------------------------------------------------------


def test_the_units_handler_acts_and_its_window_staff_see_nothing(s: Session, world: SimpleNamespace) -> None:
    sup, handler, clerk = world.p["supervisor"], world.handler, world.p["staff"]
    about_clerk = complaints.create_work_order(s, sup, complaint(world, lead_department_id=world.dept), now=MONDAY)
    about_window = complaints.create_work_order(s, sup, complaint(world, staff_id=None, lead_department_id=world.dept),
                                                now=MONDAY)
    other_unit = complaints.create_work_order(s, sup, complaint(world, staff_id=None, lead_department_id=world.dept2),
                                              now=MONDAY)
    # The handler of 市公安局 reads and signs the orders it leads, with the caller's name and masked number.
    seen = complaints.get_order(s, handler, about_clerk.id)
    assert seen.allowed_actions == ["sign", "send_back"]
    assert seen.order.caller_name == "王先生" and seen.order.caller_phone_masked == "139****5678"
    act(s, handler, about_clerk.id, "sign")
    listed = {r.number for r in complaints.list_orders(s, handler)[0]}
    assert listed == {about_clerk.number, about_window.number}
    with pytest.raises(NotFound):
        complaints.get_order(s, handler, other_unit.id)
    with pytest.raises(NotFound):
        act(s, handler, other_unit.id, "sign")
    # The clerk of that unit (张三, the subject of one order) reads none of them, not even the list.
    for order in (about_clerk, about_window, other_unit):
        with pytest.raises(NotFound):
            complaints.get_order(s, clerk, order.id)
        with pytest.raises(NotFound):
            act(s, clerk, order.id, "progress", reason="我来处理")
    assert complaints.list_orders(s, clerk) == ([], 0)


def test_an_order_about_the_handler_is_hidden_from_that_handler(s: Session, world: SimpleNamespace) -> None:
    order = complaints.create_work_order(s, world.p["supervisor"], complaint(
        world, staff_id=world.handler_staff, window_id=None, lead_department_id=world.dept), now=MONDAY)
    with pytest.raises(NotFound):
        complaints.get_order(s, world.handler, order.id)
    assert order.number not in {r.number for r in complaints.list_orders(s, world.handler)[0]}


def test_a_handler_acts_only_within_the_jurisdiction_and_never_on_integrity_tips(
        s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    county_handler = Principal(kind="user", id=9002, name="handler-fc", site_id=world.county,
                               site_path=_path(s, world.county),
                               role=Role.HANDLER, permissions=ROLE_PERMISSIONS[Role.HANDLER],
                               department_ids=frozenset({world.dept}))
    # A city department handles a county order: its city handler acts on it, a county-placed one does not
    # see a city order of the same department.
    county_order = complaints.create_work_order(s, sup, complaint(
        world, window_id=world.county_window, staff_id=None, site_id=world.county, lead_department_id=world.dept),
        now=MONDAY)
    city_order = complaints.create_work_order(s, sup, complaint(world, staff_id=None, lead_department_id=world.dept),
                                              now=MONDAY)
    assert act(s, world.handler, county_order.id, "sign").state == "signed"
    assert complaints.get_order(s, county_handler, county_order.id).order.number == county_order.number
    with pytest.raises(NotFound):
        complaints.get_order(s, county_handler, city_order.id)
    tip = complaints.create_work_order(s, sup, complaint(world, integrity=True, lead_department_id=world.dept),
                                       now=MONDAY)
    with pytest.raises(NotFound):
        complaints.get_order(s, world.handler, tip.id)
    # Supervisors' actions stay theirs.
    with pytest.raises(Forbidden):
        act(s, world.handler, city_order.id, "reassign", lead_department_id=world.dept2, reason="x")


def _path(s: Session, site_id: int) -> str:
    from supervision.models import Site

    site = s.get(Site, site_id)
    assert site is not None
    return site.path


def test_a_confidential_order_shows_the_handler_no_caller(s: Session, world: SimpleNamespace) -> None:
    order = complaints.create_work_order(s, world.p["supervisor"], complaint(
        world, staff_id=None, confidential=True, lead_department_id=world.dept), now=MONDAY)
    view = complaints.get_order(s, world.handler, order.id).order
    assert view.identity_hidden and view.caller_name == "" and view.caller_phone_masked == ""
    with pytest.raises(Forbidden):
        complaints.reveal_caller_phone(s, world.handler, order.id)


# --- findings and the people held responsible --------------------------------------------------


def test_a_complaints_reply_needs_a_finding_and_its_facts(s: Session, world: SimpleNamespace) -> None:
    oid = complaints.create_work_order(s, world.p["supervisor"], complaint(world, lead_department_id=world.dept),
                                       now=MONDAY).id
    act(s, world.handler, oid, "sign")
    with pytest.raises(InvalidInput) as err:
        act(s, world.handler, oid, "reply", reply="已处理")
    assert err.value.problems[0].field == "finding" and "核查结论" in err.value.message("zh-CN")
    with pytest.raises(InvalidInput) as err:
        act(s, world.handler, oid, "reply", reply="已处理", finding="upheld")
    assert err.value.problems[0].field == "facts"
    with pytest.raises(InvalidInput) as err:
        act(s, world.handler, oid, "reply", reply="已处理", finding="maybe", facts="x")
    assert err.value.problems[0].field == "finding"
    replied = act(s, world.handler, oid, "reply", reply="已处理", finding="partly", facts="部分情况属实")
    assert (replied.finding, replied.finding_facts, replied.outcome) == ("partly", "部分情况属实", "")
    # A consultation's reply may carry none.
    consult = complaints.create_work_order(s, world.p["supervisor"], complaint(
        world, type="consult", staff_id=None, lead_department_id=world.dept), now=MONDAY).id
    act(s, world.handler, consult, "sign")
    assert act(s, world.handler, consult, "reply", reply="材料清单已告知").finding == ""


def test_the_supervisor_confirms_the_finding_and_it_becomes_the_outcome(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    detail = complaints.get_order(s, sup, oid)
    assert {"confirm_finding", "return_finding"} <= set(detail.allowed_actions)
    assert "outcome" not in detail.allowed_actions
    with pytest.raises(Conflict) as err:
        act(s, sup, oid, "outcome", 2, outcome="not_upheld")
    assert err.value.key == "complaints.error.finding_to_confirm"
    with pytest.raises(Forbidden):
        act(s, world.handler, oid, "confirm_finding", 2)
    confirmed = act(s, sup, oid, "confirm_finding", 2, disposition=["talk"])
    assert confirmed.outcome == "upheld" and confirmed.responsible_staff_ids == [world.staff]
    entry = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == confirmed.number)).one()
    assert entry.staff_id == world.staff and entry.kind == "complaint_upheld"
    assert "confirm_finding" not in complaints.get_order(s, sup, oid).allowed_actions
    with pytest.raises(Conflict):
        act(s, sup, oid, "return_finding", 2, reason="再查")


def test_a_finding_sent_back_returns_the_order_to_the_unit(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "return_finding", 2)
    assert err.value.problems[0].field == "reason"
    back = act(s, sup, oid, "return_finding", 2, reason="未附录像截图,事实不清")
    assert back.state == "handling" and back.finding == "" and back.reply == ""
    assert "reply" in complaints.get_order(s, world.handler, oid).allowed_actions
    again = act(s, world.handler, oid, "reply", 3, reply="补充核查", finding="not_upheld", facts="录像显示态度正常")
    assert again.state == "replied" and again.finding == "not_upheld"
    history = complaints.get_order(s, sup, oid).history
    sent_back = next(e for e in history if e.action == "return_finding")
    assert sent_back.reason == "未附录像截图,事实不清" and sent_back.detail["previous_finding"] == "upheld"


def test_the_outcome_names_the_people_held_responsible(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "confirm_finding", 2, responsible_staff_ids=[world.county_staff + 999])
    assert err.value.problems[0].field == "responsible_staff_ids"
    confirmed = act(s, sup, oid, "confirm_finding", 2, responsible_staff_ids=[world.staff2, world.staff])
    assert confirmed.responsible_staff_ids == [world.staff2, world.staff]
    entries = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == confirmed.number)).all()
    assert sorted((e.staff_id, e.points) for e in entries) == sorted([(world.staff, -5.0), (world.staff2, -5.0)])
    found = s.exec(select(Incident).where(col(Incident.source_kind) == "work_order")).all()
    assert sorted(i.staff_id or 0 for i in found) == sorted([world.staff, world.staff2])
    # Revised to not upheld: every entry reversed and every incident withdrawn.
    act(s, sup, oid, "revise_outcome", 3, outcome="not_upheld", reason="复核不属实")
    entries = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == confirmed.number)).all()
    assert sum(e.points for e in entries) == 0 and len(entries) == 4
    for incident in found:
        s.refresh(incident)
        assert incident.withdrawn_at is not None


def test_a_revised_outcome_moves_the_incidents_with_the_people(s: Session, world: SimpleNamespace) -> None:
    """Each person's incident stays theirs: revised from [李四, 张三] to [张三] only, 李四's entry and incident
    are withdrawn and 张三's stand, about 张三 — not 李四's incident revived under the order's id."""
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    confirmed = act(s, sup, oid, "confirm_finding", 2, responsible_staff_ids=[world.staff2, world.staff])
    revised = act(s, sup, oid, "revise_outcome", 3, outcome="upheld", responsible_staff_ids=[world.staff],
                  reason="李四当日未当班")
    assert revised.responsible_staff_ids == [world.staff]
    entries = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == confirmed.number)).all()
    by_person: dict[int, float] = {}
    for e in entries:
        by_person[e.staff_id or 0] = by_person.get(e.staff_id or 0, 0.0) + e.points
    assert by_person == {world.staff: -5.0, world.staff2: 0.0}
    found = s.exec(select(Incident).where(col(Incident.source_kind) == "work_order")).all()
    standing = [(i.staff_id, i.source_id) for i in found if i.withdrawn_at is None]
    assert [staff for staff, _ in standing] == [world.staff]
    assert all(i.source_id.split(":")[0] == str(oid) for i in found)
    # And back to both: each person's own incident stands again, none twice.
    act(s, sup, oid, "revise_outcome", 4, outcome="upheld", responsible_staff_ids=[world.staff, world.staff2],
        reason="复核后两人均有责任")
    found = s.exec(select(Incident).where(col(Incident.source_kind) == "work_order")).all()
    assert sorted(i.staff_id or 0 for i in found if i.withdrawn_at is None) == sorted([world.staff, world.staff2])


def test_an_outcome_may_hold_nobody_responsible_but_the_window(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    confirmed = act(s, sup, oid, "confirm_finding", 2, responsible_staff_ids=[])
    assert confirmed.responsible_staff_ids == []
    entry = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == confirmed.number)).one()
    assert entry.staff_id is None and entry.window_id == world.window


# --- the 12345 sequence ------------------------------------------------------------------------


def test_an_order_is_not_closed_before_its_callback(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    # Not offered on the order's page either: a supervisor is not shown a close the service refuses.
    assert "close" not in complaints.get_order(s, sup, oid).allowed_actions
    with pytest.raises(Conflict) as err:
        act(s, sup, oid, "close", 2, reason="结束")
    assert err.value.key == "complaints.error.callback_first"
    assert "回访" in err.value.message("zh-CN") and "call back first" in err.value.message("en")
    act(s, sup, oid, "callback", 2, level=5)
    assert "close" in complaints.get_order(s, sup, oid).allowed_actions
    assert act(s, sup, oid, "close", 2).state == "closed"


def test_an_unreachable_caller_closes_after_the_set_number_of_recorded_tries(
        s: Session, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world)
    for n, method in enumerate(["phone", "phone"], start=1):
        tried = act(s, sup, oid, "callback_try", 2, method=method, reason="无人接听")
        assert tried.callback_tries == n and tried.state == "replied"
        with pytest.raises(Conflict):
            act(s, sup, oid, "close", 2, reason="联系不上")
    with pytest.raises(InvalidInput) as err:
        act(s, sup, oid, "callback_try", 3, method="pigeon")
    assert err.value.problems[0].field == "method"
    assert "close" not in complaints.get_order(s, sup, oid).allowed_actions
    act(s, sup, oid, "callback_try", 3, method="sms", reason="短信未回复")
    assert "close" in complaints.get_order(s, sup, oid).allowed_actions
    with pytest.raises(InvalidInput):
        act(s, sup, oid, "close", 3)  # still says why
    closed = act(s, sup, oid, "close", 3, reason="三次回访均未接通")
    assert closed.state == "closed"
    events = s.exec(select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == oid,
                                                 col(WorkOrderEvent.action) == "callback_try")
                    .order_by(col(WorkOrderEvent.seq))).all()
    assert [e.at for e in events] == [MONDAY + timedelta(days=d) for d in (2, 2, 3)]
    assert ['"method": "phone"' in e.detail for e in events] == [True, True, False]
    close = complaints.get_order(s, sup, oid).history[-1]
    assert close.action == "close" and close.detail["without_callback"] == "unreachable"
    # The number of tries is a setting.
    monkeypatch.setenv("SUPERVISION_COMPLAINTS_CALLBACK_TRIES", "1")
    other = _replied(s, world)
    act(s, sup, other, "callback_try", 2)
    assert act(s, sup, other, "close", 2, reason="未接通").state == "closed"


def test_an_anonymous_callers_order_closes_without_a_callback(s: Session, world: SimpleNamespace) -> None:
    sup = world.p["supervisor"]
    oid = _replied(s, world, anonymous=True, caller_name="", phone="")
    allowed = complaints.get_order(s, sup, oid).allowed_actions
    assert "callback_try" not in allowed and "close" in allowed
    closed = act(s, sup, oid, "close", 2, reason="匿名来电,无法回访")
    assert closed.state == "closed"
    assert complaints.get_order(s, sup, oid).history[-1].detail["without_callback"] == "anonymous"


# --- titles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "limit", "title"), [
    ("窗口人员态度差。", 60, "窗口人员态度差。"),
    ("窗口人员办理业务时玩手机。群众排队等待超过四十分钟,无人过问,要求严肃处理", 20, "窗口人员办理业务时玩手机。"),
    ("窗口人员办理业务时玩手机,群众排队等待超过四十分钟无人过问要求严肃处理", 20, "窗口人员办理业务时玩手机…"),
    ("窗口人员办理业务时玩手机群众排队等待超过四十分钟无人过问要求严肃处理", 20,
     "窗口人员办理业务时玩手机群众排队等待超…"),
    ("Staff were rude. We waited an hour, nobody came", 25, "Staff were rude."),
    ("排队等了3.5小时,无人办理业务,窗口空岗", 12, "排队等了3.5小时…"),
    ("  多余的  空白。  ", 60, "多余的 空白。"),
])
def test_a_title_is_never_cut_in_the_middle_of_a_sentence(text: str, limit: int, title: str) -> None:
    assert derive_title(text, limit) == title
    assert len(derive_title(text, limit)) <= limit


def test_an_orders_title_comes_from_its_first_sentences(s: Session, world: SimpleNamespace) -> None:
    content = ("窗口工作人员办理户籍业务时长时间玩手机,对群众的询问不予理睬。" * 3) + "要求严肃处理"
    view = complaints.create_work_order(s, world.p["supervisor"], complaint(world, content=content), now=MONDAY)
    assert view.title == "窗口工作人员办理户籍业务时长时间玩手机,对群众的询问不予理睬。"
    stored = s.get(WorkOrder, view.id)
    assert stored is not None and stored.title == view.title


# --- handler accounts --------------------------------------------------------------------------


def test_handler_accounts_need_departments_in_reach(engine: Engine, world: SimpleNamespace) -> None:
    base = {"display_name": "公安承办人", "password": "test-pass-123", "role": "handler", "site_id": world.city}
    with session_scope(engine, write=True) as s:
        with pytest.raises(InvalidInput) as err:
            accounts.create_user(s, SYSTEM, {**base, "username": "h-none"})
        assert err.value.problems[0].field == "department_ids"
    with session_scope(engine, write=True) as s:
        with pytest.raises(InvalidInput) as err:
            accounts.create_user(s, SYSTEM, {**base, "username": "sup-dept", "role": "supervisor",
                                             "department_ids": [world.dept]})
        assert err.value.problems[0].field == "department_ids"
    county_admin = world.p["county_admin"]
    with session_scope(engine, write=True) as s:
        with pytest.raises(InvalidInput) as err:  # a city department is outside a county admin's reach
            accounts.create_user(s, county_admin, {**base, "username": "h-city", "site_id": world.county,
                                                   "department_ids": [world.dept]})
        assert err.value.problems[0].field == "department_ids"
    with session_scope(engine, write=True) as s:
        user = accounts.create_user(s, SYSTEM, {**base, "username": "h-ga", "department_ids": [world.dept,
                                                                                             world.dept2]})
        uid = user.id or 0
        principal = accounts.principal_for_user(s, user)
        assert principal.department_ids == {world.dept, world.dept2} and principal.role is Role.HANDLER
        token = accounts.start_session(s, user, kind="bearer")
    with session_scope(engine) as s:
        live = accounts.resolve_session(s, token, "bearer")
        assert live is not None and live.principal.department_ids == {world.dept, world.dept2}
    with session_scope(engine, write=True) as s:
        updated = accounts.update_user(s, SYSTEM, uid, {"department_ids": [world.dept2]})
        assert accounts.user_public(s, updated).department_ids == [world.dept2]
        # A new set of departments ends the sessions opened under the old one.
        assert accounts.resolve_session(s, token, "bearer") is None
    with session_scope(engine, write=True) as s:
        accounts.update_user(s, SYSTEM, uid, {"role": "supervisor"})
        assert accounts.user_departments(s, uid) == []
