"""The complaints pages and API: intake, orders, confidentiality, the pads and the telephony, the public form."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

import complaints
from complaints import rollup
from complaints.models import HotlineCall, WorkOrder
from supervision import accounts
from supervision.audit import verify as audit_verify
from supervision.db import session_scope
from supervision.models import AuditEntry, LedgerEntry
from tests.conftest import SYSTEM
from tests.web.conftest import bearer, csrf_of
from tests.web.role_targets_complaints import PNG

Login = Callable[[str], tuple[TestClient, str]]
AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _orders(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(WorkOrder)).one())


def _token(engine: Engine, org: SimpleNamespace, scope: str) -> dict[str, str]:
    with session_scope(engine, write=True) as s:
        secret, _ = accounts.create_api_token(s, SYSTEM, {"name": f"machine-{scope}", "scopes": [scope],
                                                          "site_id": org.city})
    return {"Authorization": f"Bearer {secret}"}


def _order(engine: Engine, org: SimpleNamespace, **extra: object) -> complaints.WorkOrderView:
    with session_scope(engine, write=True) as s:
        return complaints.create_work_order(s, SYSTEM, {
            "channel": "hotline", "type": "complaint", "site_id": org.city, "window_id": org.window,
            "content": "窗口人员态度生硬", "caller_name": "王女士", "phone": "13812345678", "received_at": AT,
            **extra})


def _why(response: object) -> object:
    context = getattr(response, "context", None) or {}
    return context.get("problems")


# --- the intake screen ------------------------------------------------------------------------


def test_intake_creates_an_order_once_and_answers_a_consultation(engine: Engine, org_data: SimpleNamespace,
                                                                 logged_in: Login) -> None:
    client, _ = logged_in("supervisor")
    page = client.get("/complaints/intake")
    assert page.status_code == 200 and page.template.name == "complaints/intake.html"  # type: ignore[attr-defined]
    key = page.context["values"]["idempotency_key"]  # type: ignore[attr-defined]
    form = {"csrf_token": csrf_of(page.text), "idempotency_key": key, "type": "complaint", "channel": "hotline",
            "urgency": "urgent", "caller_name": "王女士", "phone": "13812345678", "content": "窗口推诿,来回跑三趟",
            "window_id": str(org_data.window), "staff_id": str(org_data.staff)}
    first = client.post("/complaints/intake", data=form)
    assert first.status_code == 303 and "done=GD" in first.headers["location"]
    again = client.post("/complaints/intake", data=form)  # a double submit: same key, nothing new
    assert again.headers["location"] == first.headers["location"]
    assert _orders(engine) == 1
    done = client.get(first.headers["location"])
    assert "intake-done" in done.text and done.context["done"]["number"].startswith("GD")  # type: ignore[attr-defined]

    spot = {**form, "idempotency_key": "k2", "type": "consult", "answered_on_the_spot": "on",
            "answer": "周六上午开放", "staff_id": "", "content": "周六上班吗"}
    answered = client.post("/complaints/intake", data=spot)
    assert answered.status_code == 303 and "answered=1" in answered.headers["location"]
    with Session(engine) as s:
        closed = s.exec(select(WorkOrder).where(col(WorkOrder.type) == "consult")).one()
        assert closed.state == "closed"


def test_intake_names_the_bad_field_and_keeps_the_values(engine: Engine, org_data: SimpleNamespace,
                                                         logged_in: Login) -> None:
    client, csrf = logged_in("supervisor")
    response = client.post("/complaints/intake", data={"csrf_token": csrf, "idempotency_key": "k", "type": "help",
                                                       "caller_name": "李先生", "phone": "12345abc",
                                                       "content": "需要帮助"})
    assert response.status_code == 422
    assert "phone" in response.context["problem_fields"]  # type: ignore[attr-defined]
    assert "需要帮助" in response.text and 'value="k"' in response.text
    missing = client.post("/complaints/intake", data={"csrf_token": csrf, "content": "没有类型"})
    assert missing.status_code == 422 and "type" in missing.context["problem_fields"]  # type: ignore[attr-defined]
    assert _orders(engine) == 0
    assert client.get("/complaints/intake").status_code == 200
    officer, _ = logged_in("officer")  # no intake rights
    assert officer.get("/complaints/intake").status_code == 403


# --- the order page ---------------------------------------------------------------------------


def test_order_page_history_and_actions(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    order = _order(engine, org_data)
    client, csrf = logged_in("supervisor")
    page = client.get(f"/complaints/orders/{order.id}")
    assert page.status_code == 200
    assert "dispatch" in page.context["d"].allowed_actions  # type: ignore[attr-defined]
    assert "138****5678" in page.text and "13812345678" not in page.text
    done = client.post(f"/complaints/orders/{order.id}/action", data={
        "csrf_token": csrf, "action": "dispatch", "lead_department_id": str(org_data.dept),
        "assisting_department_ids": [str(org_data.dept2)], "reason": "请核实"})
    assert done.status_code == 303
    page = client.get(f"/complaints/orders/{order.id}")
    assert [e.action for e in page.context["d"].history] == ["receive", "dispatch"]  # type: ignore[attr-defined]
    assert "请核实" in page.text and "市民政局" in page.text
    refused = client.post(f"/complaints/orders/{order.id}/action", data={"csrf_token": csrf, "action": "callback",
                                                                          "level": "5"})
    assert refused.status_code == 409 and "problems" in refused.text
    missing = client.post(f"/complaints/orders/{order.id}/action", data={"csrf_token": csrf, "action": "reassign",
                                                                          "lead_department_id": str(org_data.dept)})
    assert missing.status_code == 422
    assert missing.context["problems"][0]["field"] == "reason"  # type: ignore[attr-defined]
    phone = client.post(f"/complaints/orders/{order.id}/phone", data={"csrf_token": csrf})
    assert "13812345678" in phone.text
    listed = client.get(f"/complaints/orders?state=dispatched&window_id={org_data.window}")
    assert order.number in listed.text and listed.context["count"] == 1  # type: ignore[attr-defined]
    assert client.get("/complaints/orders?state=closed").context["count"] == 0  # type: ignore[attr-defined]


def test_integrity_tips_for_officers_only_and_every_view_audited(engine: Engine, org_data: SimpleNamespace,
                                                                 logged_in: Login) -> None:
    tip = _order(engine, org_data, integrity=True, content="科长收受红包", caller_name="举报人甲")
    secret = _order(engine, org_data, confidential=True, caller_name="保密人乙")
    supervisor, _ = logged_in("supervisor")
    assert supervisor.get(f"/complaints/orders/{tip.id}").status_code == 404
    assert tip.number not in supervisor.get("/complaints/orders").text
    hidden = supervisor.get(f"/complaints/orders/{secret.id}")
    assert hidden.status_code == 200 and "保密人乙" not in hidden.text
    staff, _ = logged_in("staff")  # the person concerned never sees it
    assert staff.get(f"/complaints/orders/{secret.id}").status_code == 404
    officer, _ = logged_in("officer")
    page = officer.get(f"/complaints/orders/{tip.id}")
    assert page.status_code == 200 and "举报人甲" in page.text
    api = officer.get(f"/api/v1/work-orders/{tip.number}", headers=bearer(officer, "officer"))
    assert api.status_code == 200 and api.json()["order"]["caller_name"] == "举报人甲"
    with Session(engine) as s:
        views = s.exec(select(func.count()).select_from(AuditEntry).where(
            col(AuditEntry.action) == "view.work_order", col(AuditEntry.object_id) == str(tip.id))).one()
    assert views == 2
    county, _ = logged_in("county_officer")
    assert county.get(f"/complaints/orders/{tip.id}").status_code == 404


def test_home_panel_lists_due_orders_with_cards(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    order = _order(engine, org_data, type="consult", received_at=datetime(2026, 1, 5, 2, tzinfo=UTC))
    client, _ = logged_in("supervisor")
    home = client.get("/")
    assert order.number in home.text and 'data-card="red"' in home.text
    assert "/complaints/intake" in home.text


# --- the API ----------------------------------------------------------------------------------


def test_api_work_orders_idempotency_list_and_transitions(engine: Engine, org_data: SimpleNamespace,
                                                          app_client: TestClient) -> None:
    headers = bearer(app_client, "supervisor")
    body = {"channel": "walk_in", "type": "help", "anonymous": True, "content": "老人求助上门办理",
            "site_id": org_data.city}
    first = app_client.post("/api/v1/work-orders", json=body, headers={**headers, "Idempotency-Key": "abc-1"})
    assert first.status_code == 201, first.text
    again = app_client.post("/api/v1/work-orders", json=body, headers={**headers, "Idempotency-Key": "abc-1"})
    assert again.json()["id"] == first.json()["id"] and _orders(engine) == 1
    other = app_client.post("/api/v1/work-orders", json={**body, "content": "别的内容"},
                            headers={**headers, "Idempotency-Key": "abc-1"})
    assert other.status_code == 409
    bad = app_client.post("/api/v1/work-orders", json={**body, "window_id": 99999}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "window_id"
    listed = app_client.get("/api/v1/work-orders?type=help", headers=headers).json()
    assert listed["count"] == 1 and listed["data"][0]["number"] == first.json()["number"]
    oid = first.json()["id"]
    moved = app_client.post(f"/api/v1/work-orders/{oid}/transitions", headers=headers,
                            json={"action": "dispatch", "lead_department_id": org_data.dept})
    assert moved.status_code == 200 and moved.json()["state"] == "dispatched"
    wrong = app_client.post(f"/api/v1/work-orders/{oid}/transitions", headers=headers, json={"action": "close"})
    assert wrong.status_code == 409
    detail = app_client.get(f"/api/v1/work-orders/{oid}", headers=headers).json()
    assert [e["action"] for e in detail["history"]] == ["receive", "dispatch"] and "sign" in detail["allowed_actions"]
    assert app_client.get("/api/v1/work-orders?due_soon=true", headers=headers).status_code == 200
    county = bearer(app_client, "county_supervisor")
    assert app_client.get(f"/api/v1/work-orders/{oid}", headers=county).status_code == 404


def test_telephony_push_needs_its_token(engine: Engine, org_data: SimpleNamespace, app_client: TestClient) -> None:
    push = {"external_id": "IVR-1", "phone": "13700001234", "site_id": org_data.city, "duration_s": 60,
            "received_at": "2026-11-02T10:00:00+08:00"}
    assert app_client.post("/api/v1/hotline-calls", json=push).status_code == 401
    assert app_client.post("/api/v1/hotline-calls", json=push,
                           headers={"Authorization": "Bearer svt_nope_nope"}).status_code == 401
    pads = _token(engine, org_data, "ratings:push")
    assert app_client.post("/api/v1/hotline-calls", json=push, headers=pads).status_code == 403
    phone = _token(engine, org_data, "hotline:push")
    first = app_client.post("/api/v1/hotline-calls", json=push, headers=phone)
    assert first.status_code == 201 and first.json()["status"] == "pending"
    again = app_client.post("/api/v1/hotline-calls", json=push, headers=phone)
    assert again.json()["id"] == first.json()["id"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(HotlineCall)).one() == 1
    bad = app_client.post("/api/v1/hotline-calls", json={**push, "external_id": "IVR-2", "phone": "abc"}, headers=phone)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "phone"
    calls = app_client.get("/api/v1/hotline-calls", headers=bearer(app_client, "supervisor")).json()
    assert calls["count"] == 1 and "13700001234" not in str(calls)


def test_concurrent_intake_through_the_group_commit_loses_nothing(engine: Engine, org_data: SimpleNamespace,
                                                                   app_client: TestClient) -> None:
    """Orders and calls arriving together share batches; a refused one fails alone, numbers have no gap."""
    headers = bearer(app_client, "supervisor")
    phone = _token(engine, org_data, "hotline:push")
    order = {"channel": "hotline", "type": "complaint", "caller_name": "王先生", "phone": "13800001111",
             "content": "窗口推诿", "site_id": org_data.city}
    call = {"type": "consult", "content": "周六是否办公", "caller_name": "李女士", "answered_on_the_spot": True,
            "answer": "周六上午办公", "site_id": org_data.city}

    def send(n: int) -> tuple[int, dict[str, object]]:
        if n % 3 == 2:
            response = app_client.post("/api/v1/hotline-calls", json={**call, "external_id": f"IVR-C{n}"},
                                       headers=phone)
        elif n == 7:  # refused: an unknown window
            response = app_client.post("/api/v1/work-orders", json={**order, "window_id": 99999}, headers=headers)
        else:
            response = app_client.post("/api/v1/work-orders", json={**order, "content": f"窗口推诿 {n}"},
                                       headers={**headers, "Idempotency-Key": f"burst-{n}"})
        return response.status_code, response.json()

    # Twelve at a time: they share batches (6–8 batches for the 24 when measured), the refused one included.
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(send, range(24)))
    assert [code for code, _ in results] == [422 if n == 7 else 201 for n in range(24)]
    assert results[7][1]["error"]["fields"][0]["field"] == "window_id"  # type: ignore[index]
    answered = [body for n, (_, body) in enumerate(results) if n % 3 == 2]
    assert {body["status"] for body in answered} == {"answered"} and all(body["work_order_number"]
                                                                          for body in answered)
    with Session(engine) as s:
        numbers = sorted(s.exec(select(WorkOrder.number)).all())
        assert len(numbers) == 23  # 15 orders and 8 calls' orders, nothing of the refused one
        assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, 24))  # gap-free
        assert s.exec(select(func.count()).select_from(HotlineCall)).one() == 8
        assert audit_verify(s) is None
        assert rollup.differences(s) == []


def test_rating_pads_need_their_token(engine: Engine, org_data: SimpleNamespace, app_client: TestClient) -> None:
    rating = {"case_no": "BJ-2026-0001", "window_code": "W-GA", "staff_code": "S001", "level": "不满意",
              "reason": "等候太久"}
    assert app_client.post("/api/v1/ratings", json=rating).status_code == 401
    phone = _token(engine, org_data, "hotline:push")
    assert app_client.post("/api/v1/ratings", json=rating, headers=phone).status_code == 403
    pad = _token(engine, org_data, "ratings:push")
    first = app_client.post("/api/v1/ratings", json=rating, headers=pad)
    assert first.status_code == 201, first.text
    assert first.json()["level"] == 2 and first.json()["work_order_id"] is not None
    again = app_client.post("/api/v1/ratings", json=rating, headers=pad)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    no_reason = app_client.post("/api/v1/ratings", json={**rating, "case_no": "BJ-2", "reason": ""}, headers=pad)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["fields"][0]["field"] == "reason"
    listed = app_client.get("/api/v1/ratings?bad_only=true", headers=bearer(app_client, "supervisor")).json()
    assert listed["count"] == 1


def test_rating_appeal_and_decision_pages(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    with session_scope(engine, write=True) as s:
        rating, _ = complaints.push_rating(s, SYSTEM, {"case_no": "C-1", "window_id": org_data.window,
                                                       "staff_id": org_data.staff, "level": 1, "reason": "恶意差评"})
    staff, csrf = logged_in("staff")
    assert staff.post(f"/complaints/ratings/{rating.id}/appeal", data={"csrf_token": csrf,
                                                                        "reason": "群众误操作"}).status_code == 303
    manager, mcsrf = logged_in("manager")
    decided = manager.post(f"/complaints/ratings/{rating.id}/decision", data={
        "csrf_token": mcsrf, "decision": "granted", "reason": "监控证实误操作"})
    assert decided.status_code == 303
    supervisor, _ = logged_in("supervisor")
    page = supervisor.get("/complaints/ratings")
    assert "C-1" in page.text and "申诉成立" in page.text


# --- visits, notices, statistics, import ------------------------------------------------------


def test_visit_with_finding_photo_and_follow_up(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    client, csrf = logged_in("supervisor")
    created = client.post("/complaints/visits", data={
        "csrf_token": csrf, "site_id": str(org_data.city), "window_id": str(org_data.window),
        "visited_on": "2026-11-02", "mode": "secret", "summary": "暗访", "finding": "离岗 20 分钟",
        "finding_staff_id": str(org_data.staff)})
    assert created.status_code == 303, _why(created)
    url = created.headers["location"]
    visit_id = int(url.rsplit("/", 1)[1])
    wrong = client.post(f"{url}/photos", data={"csrf_token": csrf},
                        files={"photo": ("x.png", b"GIF89a not a png", "image/png")})
    assert wrong.status_code == 422 and "photo" in wrong.text
    ok = client.post(f"{url}/photos", data={"csrf_token": csrf}, files={"photo": ("a.png", PNG, "image/png")})
    assert ok.status_code == 303
    page = client.get(url)
    photo_id = page.context["photos"][0].id  # type: ignore[attr-defined]
    assert client.get(f"/complaints/photos/{photo_id}").content == PNG
    finding = page.context["findings"][0]  # type: ignore[attr-defined]
    to_order = client.post(f"/complaints/findings/{finding.id}/follow-up",
                           data={"csrf_token": csrf, "to": "order", "type": "complaint", "visit_id": str(visit_id)})
    assert to_order.status_code == 303 and to_order.headers["location"].startswith("/complaints/orders/")
    county, _ = logged_in("county_supervisor")
    assert county.get(url).status_code == 404
    assert county.get(f"/complaints/photos/{photo_id}").status_code == 404


def test_notice_drafted_approved_published_and_read_by_staff(engine: Engine, org_data: SimpleNamespace,
                                                              logged_in: Login) -> None:
    supervisor, csrf = logged_in("supervisor")
    drafted = supervisor.post("/complaints/notices", data={
        "csrf_token": csrf, "kind": "criticism", "site_id": str(org_data.city), "title": "关于张三服务态度的通报",
        "body": "经核实,予以通报批评。"})
    assert drafted.status_code == 303
    url = drafted.headers["location"]
    notice_id = url.rsplit("/", 1)[1]
    staff, _ = logged_in("staff")
    assert "关于张三服务态度的通报" not in staff.get("/notices").text
    own = supervisor.post(f"/complaints/notices/{notice_id}/step", data={"csrf_token": csrf, "step": "publish"})
    assert own.status_code == 409  # not approved yet
    manager, mcsrf = logged_in("manager")
    assert manager.post(f"/complaints/notices/{notice_id}/step",
                        data={"csrf_token": mcsrf, "step": "approve"}).status_code == 303
    assert supervisor.post(f"/complaints/notices/{notice_id}/step",
                           data={"csrf_token": csrf, "step": "publish"}).status_code == 303
    board = staff.get("/notices")
    assert "关于张三服务态度的通报" in board.text
    assert staff.get(url).status_code == 200
    assert "关于张三服务态度的通报" in staff.get("/").text


def test_statistics_page_and_export(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    _order(engine, org_data)
    client, _ = logged_in("supervisor")
    page = client.get("/complaints/stats?group_by=window&since=2026-01-01&until=2026-12-31")
    assert page.status_code == 200 and "公安窗口" in page.text and 'class="bar"' in page.text
    export = client.get("/complaints/stats.xlsx?group_by=channel&since=2026-01-01&until=2026-12-31")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None and sheet.max_row >= 3
    assert client.get("/complaints/stats?group_by=nope").status_code == 422
    assert client.get("/complaints/stats?since=2026-12-01&until=2026-01-01").status_code == 422


def test_call_log_import(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    client, csrf = logged_in("supervisor")
    csv = "来电时间,来电号码,通话编号\n2026-11-02 09:00,13700001111,X-1\n2026-11-02 09:05,13700002222,X-2\n"
    done = client.post("/complaints/calls/import", data={"csrf_token": csrf},
                       files={"file": ("calls.csv", csv.encode(), "text/csv")})
    assert done.status_code == 200, _why(done)
    assert done.context["report"].created == 2  # type: ignore[attr-defined]
    wrong = client.post("/complaints/calls/import", data={"csrf_token": csrf},
                        files={"file": ("calls.txt", b"hello", "text/plain")})
    assert wrong.status_code == 422


# --- the citizens' pages ----------------------------------------------------------------------


def test_public_form_tracking_and_flood(engine: Engine, org_data: SimpleNamespace, app_client: TestClient,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_COMPLAINTS_PUBLIC_PER_ADDRESS", "2")
    form = app_client.get("/public/complaint")
    assert form.status_code == 200 and "绵阳市政务服务中心" in form.text
    data = {"site_id": str(org_data.city), "type": "complaint", "content": "窗口工作人员态度很差,不耐烦",
            "caller_name": "刘女士", "phone": "13600001111", "idempotency_key": "pub-1"}
    sent = app_client.post("/public/complaint", data=data)
    assert sent.status_code == 201, _why(sent)
    receipt = sent.context["receipt"]  # type: ignore[attr-defined]
    again = app_client.post("/public/complaint", data=data)
    assert again.context["receipt"].number == receipt.number and _orders(engine) == 1  # type: ignore[attr-defined]
    short = app_client.post("/public/complaint", data={**data, "idempotency_key": "pub-2", "content": "差"})
    assert short.status_code == 422 and "content" in short.context["problem_fields"]  # type: ignore[attr-defined]
    track = app_client.post("/public/track", data={"number": receipt.number, "secret": receipt.secret})
    assert track.status_code == 200 and "受理" in track.text
    assert app_client.post("/public/track", data={"number": receipt.number, "secret": "x"}).status_code == 404
    second = app_client.post("/public/complaint", data={**data, "idempotency_key": "pub-3"})
    assert second.status_code == 201
    flood = app_client.post("/public/complaint", data={**data, "idempotency_key": "pub-4"})
    assert flood.status_code == 429 and _orders(engine) == 2


def test_demo_seed_is_quick_and_tells_the_story(engine: Engine) -> None:
    from supervision.settings import get_settings
    from web.composition import seed_demo_everything

    started = datetime.now(UTC)
    seed_demo_everything(engine, get_settings())
    with Session(engine) as s:
        orders = s.exec(select(WorkOrder)).all()
        states = {o.state for o in orders}
        board, _ = complaints.notice_board(s, SYSTEM)
        assert rollup.differences(s) == []  # the demo goes through the services: its statistics add up
    assert len(orders) >= 30 and {"received", "dispatched", "closed"} <= states
    assert any(n.kind == "criticism" for n in board)
    # A guard against a seeding that runs away (one query per row of three months of punches), not a speed figure:
    # the whole demo (org, rosters, attendance, complaints, risk) takes 20–40 s on a quiet machine, 100 s loaded.
    assert (datetime.now(UTC) - started).total_seconds() < 300


# --- outcome revision and the citizen's window ------------------------------------------------


def _closed_with_outcome(engine: Engine, org: SimpleNamespace) -> complaints.WorkOrderView:
    order = _order(engine, org, staff_id=org.staff)
    with session_scope(engine, write=True) as s:
        for action, data in (("dispatch", {"lead_department_id": org.dept}), ("sign", {}),
                             ("reply", {"reply": "已约谈当事人", "finding": "upheld", "facts": "录像核实"}),
                             ("callback", {"level": 4}), ("close", {}),
                             ("confirm_finding", {"disposition": ["deduction"]})):
            complaints.transition(s, SYSTEM, order.id, action, data, now=AT)
    return order


def test_outcome_revised_on_the_order_page_and_through_the_api(engine: Engine, org_data: SimpleNamespace,
                                                               logged_in: Login, app_client: TestClient) -> None:
    order = _closed_with_outcome(engine, org_data)
    client, csrf = logged_in("supervisor")
    page = client.get(f"/complaints/orders/{order.id}")
    assert page.context["d"].allowed_actions == ["revise_outcome"]  # type: ignore[attr-defined]
    assert 'data-testid="action-revise_outcome"' in page.text and "改判" in page.text
    missing = client.post(f"/complaints/orders/{order.id}/action", data={
        "csrf_token": csrf, "action": "revise_outcome", "outcome": "partly"})
    assert missing.status_code == 422
    assert missing.context["problems"][0]["field"] == "reason"  # type: ignore[attr-defined]
    done = client.post(f"/complaints/orders/{order.id}/action", data={
        "csrf_token": csrf, "action": "revise_outcome", "outcome": "partly", "reason": "复核录像后部分属实"})
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert 'data-testid="revision"' in page.text and "由“属实”改判为“部分属实”" in page.text
    assert "复核录像后部分属实" in page.text and "已冲销台账记录" in page.text

    headers = bearer(app_client, "supervisor")
    url = f"/api/v1/work-orders/{order.id}/transitions"
    api = app_client.post(url, headers=headers, json={"action": "revise_outcome", "outcome": "not_upheld",
                                                      "reason": "申诉复查不属实"})
    assert api.status_code == 200 and api.json()["outcome"] == "not_upheld"
    same = app_client.post(url, headers=headers, json={"action": "revise_outcome", "outcome": "not_upheld",
                                                       "reason": "再次"})
    assert same.status_code == 409
    county = bearer(app_client, "county_supervisor")
    assert app_client.post(url, headers=county, json={"action": "revise_outcome", "outcome": "upheld",
                                                      "reason": "x"}).status_code == 404
    staff = bearer(app_client, "staff")
    assert app_client.post(url, headers=staff, json={"action": "revise_outcome", "outcome": "upheld",
                                                     "reason": "x"}).status_code in (403, 404)
    cancel = app_client.post(url, headers=headers, json={"action": "cancel", "reason": "x"})
    assert cancel.status_code == 422 and cancel.json()["error"]["fields"][0]["field"] == "action"
    with Session(engine) as s:
        points = [e.points for e in s.exec(select(LedgerEntry).where(col(LedgerEntry.source_id) == order.number)
                                           .order_by(col(LedgerEntry.id)))]
    assert points == [-5.0, 5.0, -2.0, 2.0]


def test_public_form_offers_the_windows_of_the_chosen_centre(engine: Engine, org_data: SimpleNamespace,
                                                             app_client: TestClient) -> None:
    form = app_client.get(f"/public/complaint?site_id={org_data.city}")
    assert form.status_code == 200 and 'name="window_id"' in form.text
    assert f'data-site="{org_data.city}"' in form.text and "A01 公安窗口" in form.text
    assert "<script>" not in form.text and "onchange" not in form.text and "/static/complaints.js" in form.text
    data = {"site_id": str(org_data.city), "type": "complaint", "content": "窗口工作人员态度很差,不耐烦",
            "caller_name": "刘女士", "idempotency_key": "pub-w1", "window_id": str(org_data.county_window)}
    refused = app_client.post("/public/complaint", data=data)
    assert refused.status_code == 422 and "window_id" in refused.context["problem_fields"]  # type: ignore[attr-defined]
    assert "所选窗口不属于所选政务服务中心" in refused.text and _orders(engine) == 0
    sent = app_client.post("/public/complaint", data={**data, "idempotency_key": "pub-w2",
                                                      "window_id": str(org_data.window)})
    assert sent.status_code == 201, _why(sent)
    none = app_client.post("/public/complaint", data={**data, "idempotency_key": "pub-w3", "window_id": ""})
    assert none.status_code == 201, _why(none)
    with Session(engine) as s:
        windows = sorted((w or 0) for w in s.exec(select(WorkOrder.window_id)).all())
    assert windows == [0, org_data.window]
