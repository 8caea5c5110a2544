"""Supervisors' visits with photos and findings; notices and the board."""

from __future__ import annotations

import zlib
from types import SimpleNamespace

import pytest
from sqlmodel import Session

import complaints
from supervision.errors import Conflict, Forbidden, InvalidInput
from supervision.models import LedgerEntry
from supervision.settings import get_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + zlib.compress(b"photo") * 3


def visit(s: Session, world: SimpleNamespace) -> complaints.VisitDetail:
    return complaints.record_visit(s, world.p["supervisor"], {
        "site_id": world.city, "window_id": world.window, "visited_on": "2026-11-02", "mode": "secret",
        "visitors": "监督员甲", "summary": "上午暗访公共服务大厅",
        "findings": [{"description": "A01 窗口 10:20 无人在岗", "staff_id": world.staff}]})


def test_visit_with_photo_stored_by_content(s: Session, world: SimpleNamespace) -> None:
    detail = visit(s, world)
    assert detail.visit.mode == "secret" and len(detail.findings) == 1
    vid = detail.visit.id or 0
    photo = complaints.add_photo(s, world.p["supervisor"], vid, PNG, "../../etc/a.png")
    again = complaints.add_photo(s, world.p["supervisor"], vid, PNG, "a.png")
    assert again.id == photo.id and photo.content_type == "image/png" and photo.filename == "a.png"
    path, kind = complaints.photo_file(s, world.p["officer"], photo.id or 0)
    assert path.read_bytes() == PNG and kind == "image/png"
    assert path.is_relative_to(get_settings().media_dir) and photo.sha256 in path.name
    with pytest.raises(InvalidInput) as err:
        complaints.add_photo(s, world.p["supervisor"], vid, b"%PDF-1.4 not a photo", "x.jpg")
    assert err.value.problems[0].field == "photo"


def test_oversized_photo_is_refused(s: Session, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    vid = visit(s, world).visit.id or 0
    with pytest.raises(InvalidInput) as err:
        complaints.add_photo(s, world.p["supervisor"], vid, PNG + b"\x00" * (1024 * 1024), "big.png")
    assert "1 MB" in err.value.message("en")


def test_a_finding_opens_an_order_or_a_ledger_entry(s: Session, world: SimpleNamespace) -> None:
    detail = visit(s, world)
    fid = detail.findings[0].id or 0
    order = complaints.finding_to_order(s, world.p["supervisor"], fid, lead_department_id=world.dept)
    assert order.channel == "visit" and order.state == "dispatched" and order.source_ref == f"visit_finding:{fid}"
    with pytest.raises(Conflict):
        complaints.finding_to_order(s, world.p["supervisor"], fid)
    with pytest.raises(InvalidInput) as err:
        complaints.finding_to_ledger(s, world.p["supervisor"], fid, points=0)
    assert err.value.problems[0].field == "points"
    entry = complaints.finding_to_ledger(s, world.p["supervisor"], fid, points=-3, reason="离岗超过 15 分钟")
    assert isinstance(entry, LedgerEntry) and entry.staff_id == world.staff and str(entry.day) == "2026-11-02"
    _, total = complaints.list_visits(s, world.p["officer"], {"mode": "secret"})
    assert total == 1
    with pytest.raises(Forbidden):
        complaints.list_visits(s, world.p["staff"])


def test_visit_errors_name_the_field(s: Session, world: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        complaints.record_visit(s, world.p["supervisor"], {"site_id": world.city, "window_id": world.county_window,
                                                           "visited_on": "2026-11-02", "mode": "covert"})
    assert {p.field for p in err.value.problems} == {"mode"}
    with pytest.raises(InvalidInput) as err:
        complaints.record_visit(s, world.p["supervisor"], {"site_id": world.city, "window_id": world.county_window,
                                                           "visited_on": "2026-11-02", "mode": "open"})
    assert {p.field for p in err.value.problems} == {"window_id"}


def test_notice_is_drafted_approved_by_another_and_published_to_the_board(
        s: Session, world: SimpleNamespace) -> None:
    sup, officer = world.p["supervisor"], world.p["officer"]
    notice = complaints.draft_notice(s, sup, {
        "kind": "criticism", "title": "关于公安窗口工作人员服务态度问题的通报", "body": "经查属实……",
        "site_id": world.city, "source_ref": "work_order:GD20261102-0001"})
    nid = notice.id or 0
    complaints.revise_notice(s, sup, nid, {"body": "经调查核实,情况属实。"})
    with pytest.raises(Conflict):
        complaints.publish_notice(s, sup, nid)
    with pytest.raises(Forbidden):
        complaints.approve_notice(s, sup, nid)
    complaints.approve_notice(s, officer, nid)
    with pytest.raises(Conflict):
        complaints.revise_notice(s, sup, nid, {"title": "改"})
    published = complaints.publish_notice(s, sup, nid)
    assert published.state == "published" and published.approved_by == "user:officer"
    for reader in ("staff", "county_supervisor", "manager"):
        rows, total = complaints.notice_board(s, world.p[reader])
        assert total == 1 and rows[0].body == "经调查核实,情况属实。", reader
    assert complaints.get_notice(s, world.p["staff"], nid).id == nid
    county_notice = complaints.draft_notice(s, world.p["county_supervisor"], {
        "kind": "commendation", "title": "表扬", "body": "……", "site_id": world.county})
    with pytest.raises(Forbidden):
        complaints.approve_notice(s, world.p["county_supervisor"], county_notice.id or 0)
    rows, total = complaints.list_notices(s, sup)
    assert total == 2


def test_notice_drafter_cannot_approve_own(s: Session, world: SimpleNamespace) -> None:
    notice = complaints.draft_notice(s, world.p["officer"], {
        "kind": "commendation", "title": "通报表扬", "body": "……", "site_id": world.city})
    with pytest.raises(Conflict) as err:
        complaints.approve_notice(s, world.p["officer"], notice.id or 0)
    assert err.value.key == "complaints.error.approve_own_notice"
