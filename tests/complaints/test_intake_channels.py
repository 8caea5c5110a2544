"""The hotline push and import, the public form, ratings from pads."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import complaints
from complaints.models import HotlineCall, Rating, WorkOrder
from supervision.db import session_scope
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts
from supervision.models import Incident, LedgerEntry
from tests.complaints.conftest import MONDAY

# --- telephony and imports ----------------------------------------------------------------------


def test_telephony_push_waits_for_the_agent_then_becomes_an_order(s: Session, world: SimpleNamespace) -> None:
    pushed = complaints.log_call(s, world.phone_system, {"external_id": "CALL-1", "phone": "13700001111",
                                                         "caller_name": "来电", "duration_s": 95}, now=MONDAY)
    assert pushed.status == "pending" and pushed.work_order_id is None
    again = complaints.log_call(s, world.phone_system, {"external_id": "CALL-1", "phone": "13700001111"})
    assert again.id == pushed.id
    done = complaints.classify_call(s, world.p["supervisor"], pushed.id, {
        "type": "suggestion", "content": "建议增加周末窗口", "caller_name": "陈先生"}, now=MONDAY)
    assert done.status == "ordered" and done.work_order_number
    with pytest.raises(Conflict):
        complaints.classify_call(s, world.p["supervisor"], pushed.id, {"type": "help", "content": "x"})
    assert len(s.exec(select(HotlineCall)).all()) == 1


def test_push_without_the_scope_is_refused(s: Session, world: SimpleNamespace) -> None:
    with pytest.raises(Forbidden):
        complaints.log_call(s, world.bare_token, {"external_id": "X", "phone": "13700001111"})
    with pytest.raises(Forbidden):
        complaints.push_rating(s, world.phone_system, {"case_no": "C1", "window_id": world.window, "level": 5})


CSV = """通话编号,来电时间,来电人,电话,类型,内容,窗口编码,答复
T-1,2026-11-02 09:00,刘女士,13600001111,咨询,社保卡补办流程,,到社保窗口办理
T-2,2026-11-02 09:30,周先生,13600002222,投诉,排队时间过长,W-GA,
T-3,2026-11-02 10:00,,,,,,
"""


def test_call_log_import_is_all_or_nothing_and_skips_seen_calls(s: Session, world: SimpleNamespace) -> None:
    result = complaints.import_calls(s, world.p["supervisor"], CSV.encode(), "calls.csv")
    assert (result.created, result.orders, result.pending, result.skipped) == (3, 2, 1, 0)
    again = complaints.import_calls(s, world.p["supervisor"], CSV.encode(), "calls.csv")
    assert again.created == 0 and again.skipped == 3
    bad = CSV.replace("T-1", "T-9").replace("T-2", "T-8").replace("T-3", "T-7").replace("W-GA", "W-NONE") \
        .replace("13600001111", "99")
    with pytest.raises(InvalidInput) as err:
        complaints.import_calls(s, world.p["supervisor"], bad.encode(), "calls.csv")
    assert {(p.row, p.field) for p in err.value.problems} == {(2, "phone"), (3, "window_code")}
    assert len(s.exec(select(HotlineCall)).all()) == 3
    with pytest.raises(InvalidInput) as err:
        complaints.import_calls(s, world.p["supervisor"], b"x", "calls.pdf")
    assert err.value.problems[0].field == "file"


def test_call_log_import_from_excel(s: Session, world: SimpleNamespace) -> None:
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [line.split(",") for line in CSV.strip().splitlines()]:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    result = complaints.import_calls(s, world.p["supervisor"], out.getvalue(), "calls.xlsx")
    assert result.created == 3
    rows, total = complaints.list_calls(s, world.p["supervisor"], {"phone": "13600002222"})
    assert total == 1 and rows[0].caller_phone_masked == "136****2222"


# --- the public form ----------------------------------------------------------------------------


def public(world: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"site_id": world.city, "type": "complaint", "content": "窗口人员上班时间玩手机",
                            "caller_name": "市民", "phone": "13500001111"}
    data.update(extra)
    return data


def test_public_form_gives_a_tracking_number_and_secret(s: Session, world: SimpleNamespace) -> None:
    receipt = complaints.submit_public(s, public(world), ip="10.0.0.1", idempotency_key="k1", now=MONDAY)
    replay = complaints.submit_public(s, public(world), ip="10.0.0.1", idempotency_key="k1", now=MONDAY)
    assert replay == receipt
    assert len(s.exec(select(WorkOrder)).all()) == 1
    status = complaints.track_public(s, receipt.number, receipt.secret, ip="10.0.0.2")
    assert status.state == "received" and status.steps[0][1] == "wo_action.receive" and not status.replied
    with pytest.raises(NotFound):
        complaints.track_public(s, receipt.number, "guess", ip="10.0.0.2")
    order = s.exec(select(WorkOrder)).one()
    assert order.channel == "web" and order.received_by == "public:citizen"


def test_public_form_flood_is_refused(s: Session, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_COMPLAINTS_PUBLIC_PER_ADDRESS", "2")
    complaints.submit_public(s, public(world), ip="10.0.0.1", now=MONDAY)
    complaints.submit_public(s, public(world), ip="10.0.0.1", now=MONDAY)
    with pytest.raises(TooManyAttempts):
        complaints.submit_public(s, public(world), ip="10.0.0.1", now=MONDAY + timedelta(minutes=1))
    complaints.submit_public(s, public(world), ip="10.0.0.9", now=MONDAY)  # another address is served
    complaints.submit_public(s, public(world), ip="10.0.0.1", now=MONDAY + timedelta(minutes=11))
    assert len(s.exec(select(WorkOrder)).all()) == 4


def test_concurrent_posts_from_one_address_accept_exactly_the_limit(engine: Engine, world: SimpleNamespace,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_COMPLAINTS_PUBLIC_PER_ADDRESS", "3")
    posts = 10
    start = threading.Barrier(posts)
    accepted: list[str] = []
    refused: list[str] = []
    failed: list[Exception] = []

    def post(n: int) -> None:
        start.wait(timeout=60)
        try:
            # As the page does: one write transaction per post (BEGIN IMMEDIATE on SQLite).
            with session_scope(engine, write=True) as s:
                data = public(world, content=f"窗口人员上班时间玩手机，第{n}次反映")
                accepted.append(complaints.submit_public(s, data, ip="10.0.0.7").number)
        except TooManyAttempts:
            refused.append(str(n))
        except Exception as exc:
            failed.append(exc)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failed and (len(accepted), len(refused)) == (3, posts - 3), failed
    with Session(engine) as s:
        assert len(s.exec(select(WorkOrder)).all()) == 3


def test_public_form_names_bad_fields(s: Session, world: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        complaints.submit_public(s, public(world, site_id=424242, phone="abc"), ip="1.1.1.1")
    assert {p.field for p in err.value.problems} == {"site_id", "phone"}
    with pytest.raises(InvalidInput) as err:
        complaints.submit_public(s, {"site_id": world.city, "type": "complaint"}, ip="1.1.1.1")
    assert err.value.problems[0].field == "content"


# --- ratings ------------------------------------------------------------------------------------


def test_good_rating_is_recorded_once_per_case(s: Session, world: SimpleNamespace) -> None:
    data = {"case_no": "BJ-001", "window_code": "W-GA", "staff_code": "S001", "level": "非常满意"}
    rating, created = complaints.push_rating(s, world.pad, data, now=MONDAY)
    assert created and rating.level == 5 and rating.work_order_id is None
    again, created = complaints.push_rating(s, world.pad, data, now=MONDAY)
    assert not created and again.id == rating.id
    with pytest.raises(Conflict):
        complaints.push_rating(s, world.pad, {**data, "level": 1, "reason": "改了"}, now=MONDAY)


def test_bad_rating_needs_a_reason_and_opens_rectification(s: Session, world: SimpleNamespace) -> None:
    data: dict[str, Any] = {"case_no": "BJ-002", "window_id": world.window, "staff_id": world.staff, "level": 2}
    with pytest.raises(InvalidInput) as err:
        complaints.push_rating(s, world.pad, data, now=MONDAY)
    assert err.value.problems[0].field == "reason"
    rating, _ = complaints.push_rating(s, world.pad, {**data, "reason": "态度冷淡"}, now=MONDAY)
    order = s.get(WorkOrder, rating.work_order_id)
    assert order is not None and order.channel == "rating" and order.state == "dispatched"
    assert order.lead_department_id == world.dept
    assert str(order.respond_by) == "2026-11-03" and str(order.due_on) == "2026-11-23"
    entry = s.get(LedgerEntry, rating.ledger_entry_id)
    assert entry is not None and entry.points == -2.0 and entry.staff_id == world.staff
    assert s.exec(select(Incident).where(col(Incident.kind) == "bad_rating")).one().post_id == world.post


def test_rating_errors_name_the_field(s: Session, world: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        complaints.push_rating(s, world.pad, {"case_no": "X", "window_code": "NOPE", "level": 9})
    assert {p.field for p in err.value.problems} == {"level"}
    with pytest.raises(InvalidInput) as err:
        complaints.push_rating(s, world.pad, {"case_no": "X", "window_code": "NOPE", "level": 3})
    assert err.value.problems[0].field == "window_id"
    with pytest.raises(InvalidInput) as err:
        complaints.push_rating(s, world.pad, {"case_no": "X", "window_id": world.window,
                                              "staff_id": world.county_staff, "level": 3})
    assert err.value.problems[0].field == "staff_id"


def test_appeal_of_a_malicious_rating_reverses_the_ledger(s: Session, world: SimpleNamespace) -> None:
    rating, _ = complaints.push_rating(s, world.pad, {"case_no": "BJ-003", "window_id": world.window,
                                                      "staff_id": world.staff, "level": 1, "reason": "乱评"},
                                       now=MONDAY)
    rid = rating.id or 0
    with pytest.raises(InvalidInput):
        complaints.appeal_rating(s, world.p["staff"], rid, " ")
    complaints.appeal_rating(s, world.p["staff"], rid, "当事人并未来办理此业务")
    with pytest.raises(Conflict):
        complaints.appeal_rating(s, world.p["staff"], rid, "再次申诉")
    with pytest.raises(Forbidden):
        complaints.decide_appeal(s, world.p["supervisor"], rid, "granted", "核实")
    decided = complaints.decide_appeal(s, world.p["manager"], rid, "granted", "经调取录像核实为误评")
    assert decided.decision == "granted"
    assert s.get(Rating, rid).void  # type: ignore[union-attr]
    points = [e.points for e in s.exec(select(LedgerEntry).where(col(LedgerEntry.staff_id) == world.staff))]
    assert sorted(points) == [-2.0, 2.0]
    rows, total = complaints.list_ratings(s, world.p["staff"])
    assert total == 1 and rows[0].void
    with pytest.raises(Conflict):
        complaints.decide_appeal(s, world.p["manager"], rid, "rejected", "再议")
