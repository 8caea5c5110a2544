"""Every point leads to its source: links a reader may follow, names instead of ids, both languages.

The demo is walked as every role that sees ledger rows (tests below it build their own records): each source
link on the home page, /ledger, /me and the notices is followed and must open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import complaints
from supervision import accounts, ledger
from supervision.db import session_scope
from supervision.models import AuditEntry, Role
from supervision.settings import get_settings
from tests.conftest import PASSWORD, SYSTEM
from tests.web.conftest import bearer, csrf_of, login
from web.app import create_app
from web.composition import seed_demo_everything, source_resolvers
from web.sources import Trail

Login = Callable[[str], tuple[TestClient, str]]
AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SOURCE_CELL = re.compile(r'data-testid="(?:ledger|notice)-source">(?:<a href="([^"]+)">)?([^<]*)')


def _sources(html: str) -> list[tuple[str | None, str]]:
    """(href or None, label) of every ledger row's source and a notice's source on a page."""
    return [(href or None, label) for href, label in SOURCE_CELL.findall(html)]


def _english(client: TestClient) -> None:
    home = client.get("/")
    assert client.post("/locale", data={"locale": "en", "csrf_token": csrf_of(home.text)}).status_code == 303


# --- the demo, as every role that sees ledger rows ----------------------------------------------------

READERS = ("manager", "officer", "supervisor", "staff", "manager_jy", "officer_fc", "supervisor_gx", "staff_town")


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    seed_demo_everything(engine, get_settings())
    return engine


def test_every_source_link_on_the_ledger_pages_opens_for_the_role_that_sees_it(demo_engine: Engine) -> None:
    password = get_settings().demo_password
    failures: list[str] = []
    followed: dict[str, set[str]] = {}
    for username in READERS:
        app = create_app(get_settings(), demo_engine, migrate=False, services=[])
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            login(client, username, password)
            pages = ["/", "/ledger", "/me", "/notices"]
            board = client.get("/notices").text
            pages += sorted(set(re.findall(r'href="(/notices/\d+)"', board)))
            links: set[str] = set()
            for page in pages:
                response = client.get(page)
                if response.status_code == 403:  # /ledger for window staff, /me for those without a record
                    continue
                assert response.status_code == 200, f"{username} {page}: {response.status_code}"
                for href, label in _sources(response.text):
                    assert not re.search(r"\b[a-z_]+:[\w-]+", label), f"{username} {page}: source {label!r}"
                    if href:
                        links.add(href)
            for href in sorted(links):
                status = client.get(href).status_code
                if status != 200:
                    failures.append(f"{username}: {href} -> {status}")
            followed[username] = links
    assert failures == []
    for username in READERS:
        kinds = {re.sub(r"\d+", "N", h.split("#")[0]) for h in followed[username]}
        # Every reader finds points that lead somewhere: ratings and visit findings in every demo centre.
        assert kinds & {"/records/ratings/N", "/records/visit-findings/N", "/complaints/visits/N"}, (username, kinds)
    # Window staff are led to their own view of a record (or their own attendance day), never to the pages of
    # those who work it.
    assert all(h.startswith(("/records/", "/attendance/days/")) for h in followed["staff"] | followed["staff_town"])
    assert "/records/work-orders/N" in {re.sub(r"\d+", "N", h) for h in followed["staff"]}
    assert any(h.startswith("/complaints/orders/") for h in followed["supervisor"])


# --- the record views: what the person concerned and the ledger's readers may see --------------------------


def _order_about(engine: Engine, org: SimpleNamespace, *, integrity: bool = False) -> complaints.WorkOrderView:
    with session_scope(engine, write=True) as s:
        return complaints.create_work_order(s, SYSTEM, {
            "channel": "hotline", "type": "complaint", "site_id": org.city, "window_id": org.window,
            "staff_id": org.staff, "content": "窗口人员态度恶劣,拍桌子摔材料", "caller_name": "来电人甲",
            "phone": "13977776666", "received_at": AT, "integrity": integrity,
        }, now=AT)


def _points_for(engine: Engine, order: complaints.WorkOrderView, staff_id: int) -> int:
    with session_scope(engine, write=True) as s:
        entry = ledger.record_entry(s, actor=SYSTEM, day=date(2026, 11, 28), kind="complaint_upheld", points=-5,
                                    reason=f"{order.number} 态度恶劣", source_kind="work_order",
                                    source_id=order.number, staff_id=staff_id)
        return entry.id or 0


def _staff_user(engine: Engine, org: SimpleNamespace, username: str, staff_id: int) -> None:
    with session_scope(engine, write=True) as s:
        accounts.create_user(s, SYSTEM, {"username": username, "display_name": username, "password": PASSWORD,
                                         "role": Role.STAFF, "site_id": org.city, "staff_id": staff_id})


def test_the_person_concerned_opens_their_own_view_of_the_order_never_the_caller(
        engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    order = _order_about(engine, org_data)
    own = f"/records/work-orders/{order.id}"
    staff, _ = logged_in("staff")
    # Before its outcome scored them, the order about them does not exist for them (DOMAIN.md).
    assert staff.get(own).status_code == 404
    assert staff.get(f"/complaints/orders/{order.id}").status_code == 404
    _points_for(engine, order, org_data.staff)

    me = staff.get("/me").text
    assert _sources(me) == [(own, f"工单 {order.number}")]
    record = staff.get(own)
    assert record.status_code == 200 and order.number in record.text
    assert "来电人甲" not in record.text and "13977776666" not in record.text and "6666" not in record.text
    assert "拍桌子" not in record.text and "摔材料" not in record.text
    assert "投诉属实" in record.text and "-5" in record.text  # the point is theirs to see
    assert staff.get(f"/complaints/orders/{order.id}").status_code == 404  # the order itself stays closed

    # A colleague at the same window: not about them, not for them.
    _staff_user(engine, org_data, "colleague", org_data.staff2)
    colleague, _ = logged_in("colleague")
    assert colleague.get(own).status_code == 404

    # The ledger's readers: the supervisor works the order (its page), the manager scores it (the record view).
    supervisor, _ = logged_in("supervisor")
    assert (f"/complaints/orders/{order.id}", f"工单 {order.number}") in _sources(supervisor.get("/ledger").text)
    manager, _ = logged_in("manager")
    assert (own, f"工单 {order.number}") in _sources(manager.get("/ledger").text)
    seen = manager.get(own)
    assert seen.status_code == 200 and "来电人甲" not in seen.text and "拍桌子" not in seen.text
    county, _ = logged_in("county_manager")
    assert county.get(own).status_code == 404


def test_an_integrity_tip_shows_no_subject_matter_outside_discipline_officers(
        engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    tip = _order_about(engine, org_data, integrity=True)
    _points_for(engine, tip, org_data.staff)
    supervisor, _ = logged_in("supervisor")
    # Supervisors may not read the tip: the ledger leads them to the record view, without its title.
    assert (f"/records/work-orders/{tip.id}", f"工单 {tip.number}") in _sources(supervisor.get("/ledger").text)
    record = supervisor.get(f"/records/work-orders/{tip.id}")
    assert record.status_code == 200 and "来电人甲" not in record.text and tip.title not in record.text
    officer, _ = logged_in("officer")
    assert (f"/complaints/orders/{tip.id}", f"工单 {tip.number}") in _sources(officer.get("/ledger").text)
    with Session(engine) as s:
        views = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "view.work_order",
                                                col(AuditEntry.object_id) == str(tip.id))).all()
    assert [(v.actor_name, v.detail) for v in views] == [("supervisor", '{"view": "record"}')]


def test_a_reader_who_may_open_no_view_of_the_source_sees_it_as_plain_text(
        engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    order = _order_about(engine, org_data)
    _points_for(engine, order, org_data.staff)
    with session_scope(engine, write=True) as s:
        notice = complaints.draft_notice(s, org_data.principals["supervisor"], {
            "kind": "criticism", "title": "关于窗口服务态度的通报", "body": "经查属实,予以通报。",
            "site_id": org_data.city, "source_ref": f"work_order:{order.number}"})
        complaints.approve_notice(s, org_data.principals["manager"], notice.id or 0)
        complaints.publish_notice(s, org_data.principals["manager"], notice.id or 0)
    _staff_user(engine, org_data, "colleague", org_data.staff2)
    colleague, _ = logged_in("colleague")
    assert _sources(colleague.get(f"/notices/{notice.id}").text) == [(None, f"工单 {order.number}")]
    concerned, _ = logged_in("staff")
    assert _sources(concerned.get(f"/notices/{notice.id}").text) == [
        (f"/records/work-orders/{order.id}", f"工单 {order.number}")]
    officer, _ = logged_in("officer")
    assert _sources(officer.get(f"/notices/{notice.id}").text) == [
        (f"/complaints/orders/{order.id}", f"工单 {order.number}")]


# --- both languages: a granted appeal, a rating's level, subjects and actors ---------------------------------


def test_a_granted_appeal_and_a_rating_read_in_the_readers_language(
        engine: Engine, org_data: SimpleNamespace, logged_in: Login, app_client: TestClient) -> None:
    with session_scope(engine, write=True) as s:
        rating, _ = complaints.push_rating(s, SYSTEM, {
            "case_no": "TR-CASE-1", "window_id": org_data.window, "staff_id": org_data.staff, "level": 1,
            "reason": "等候太久", "rated_at": AT}, now=AT)
        complaints.appeal_rating(s, org_data.principals["staff"], rating.id or 0, "当日系统停机")
        complaints.decide_appeal(s, org_data.principals["manager"], rating.id or 0, "granted", "停机记录属实")
        rectification = rating.work_order_id
    staff, _ = logged_in("staff")
    me = staff.get("/me").text
    assert "申诉成立:停机记录属实" in me and "appeal granted" not in me.lower() and "@ledger_reason" not in me
    assert (f"/records/ratings/{rating.id}", "评价 TR-CASE-1") in _sources(me)
    assert "公安窗口（" in me  # the window with its hall and department, not "#2"
    record = staff.get(f"/records/ratings/{rating.id}").text
    assert "非常不满意" in record and "level." not in record and "申诉成立" in record
    _english(staff)
    me_en = staff.get("/me").text
    assert "Appeal granted: 停机记录属实" in me_en and "申诉成立" not in me_en
    assert "Bad rating" in me_en and "bad_rating" not in me_en
    record_en = staff.get(f"/records/ratings/{rating.id}").text
    assert "Very dissatisfied" in record_en and "非常不满意" not in record_en and "level." not in record_en
    # The rectification the appeal closed says why in the reader's language, on its page and in the API.
    supervisor, _ = logged_in("supervisor")
    history = supervisor.get(f"/complaints/orders/{rectification}").text
    assert "申诉成立(TR-CASE-1):停机记录属实" in history and "@wo_reason" not in history
    assert f'data-testid="order-source"><a href="/records/ratings/{rating.id}">评价 TR-CASE-1</a>' in history
    api = app_client.get(f"/api/v1/work-orders/{rectification}", headers=bearer(app_client, "supervisor")).json()
    assert "申诉成立(TR-CASE-1):停机记录属实" in [e["reason"] for e in api["history"]]
    # The API says it in the caller's language and gives the key for machines.
    rows = app_client.get("/api/v1/ledger", params={"source_kind": "rating"},
                          headers=bearer(app_client, "manager")).json()["data"]
    reversal = next(r for r in rows if r["reverses_id"])
    assert reversal["reason"] == "申诉成立:停机记录属实"
    assert reversal["reason_key"] == "ledger_reason.appeal_granted"
    assert reversal["reason_params"] == {"reason": "停机记录属实"}


def test_actors_show_as_names_and_roles(engine: Engine, org_data: SimpleNamespace) -> None:
    with session_scope(engine, write=True) as s:
        accounts.create_user(s, SYSTEM, {"username": "zhao", "display_name": "赵督查", "password": PASSWORD,
                                         "role": Role.SUPERVISOR, "site_id": org_data.city})
    with Session(engine) as s:
        zh = Trail(s, org_data.principals["manager"], "zh-CN", source_resolvers())
        en = Trail(s, org_data.principals["manager"], "en", source_resolvers())
        assert zh.actor("user:zhao") == "赵督查（监督员）" and en.actor("user:zhao") == "赵督查 (Supervisor)"
        assert zh.actor("zhao", "user") == "赵督查（监督员）"
        assert zh.actor("市级评价器", "token") == "市级评价器（机器令牌）"
        assert en.actor("token:市级评价器") == "市级评价器 (machine token)"
        assert zh.actor("system:system") == "系统" and en.actor("system", "system") == "system"
        assert zh.actor("user:gone") == "gone"  # an account since deleted keeps the name it acted under
        # A source kind nobody resolves is named, not linked.
        assert zh.source("camera_frame", "9").href is None and zh.source("camera_frame", "9").label == "其他 #9"


def test_reasons_the_system_writes_are_keys_and_what_people_type_stays_as_typed() -> None:
    stored = ledger.keyed_reason("ledger_reason.appeal_granted", reason="x" * 1000)
    assert len(stored) <= 400 and ledger.reason_key(stored) == ("ledger_reason.appeal_granted", {"reason": "x" * 300})
    assert ledger.reason_key("迟到 5 分钟") is None
    assert ledger.reason_key("@not json {") is None
