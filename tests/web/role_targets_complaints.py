"""City-level objects of the complaints loop for the role × route walk (tests/web/test_role_routes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

import complaints
from supervision.db import session_scope
from tests.conftest import SYSTEM

# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    at = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    with session_scope(engine, write=True) as s:
        order = complaints.create_work_order(s, SYSTEM, {
            "channel": "hotline", "type": "complaint", "site_id": org.city, "window_id": org.window,
            "content": "市级工单内容:窗口推诿扯皮", "caller_name": "市级来电人", "phone": "13911112222",
            "received_at": at,
        })
        tip = complaints.create_work_order(s, SYSTEM, {
            "channel": "hotline", "type": "complaint", "site_id": org.city, "integrity": True,
            "content": "市级廉政举报内容", "caller_name": "市级举报人", "received_at": at,
        })
        call = complaints.log_call(s, SYSTEM, {"external_id": "RT-CALL-1", "site_id": org.city,
                                               "phone": "13933334444", "received_at": at})
        rating, _ = complaints.push_rating(s, SYSTEM, {"case_no": "RT-CASE-1", "window_id": org.window,
                                                       "level": 1, "reason": "市级差评原因", "rated_at": at})
        visit = complaints.record_visit(s, SYSTEM, {
            "site_id": org.city, "window_id": org.window, "visited_on": "2026-11-02", "mode": "secret",
            "summary": "市级暗访概述", "findings": [{"description": "市级暗访发现"}]})
        photo = complaints.add_photo(s, SYSTEM, visit.visit.id or 0, PNG, "a.png")
        notice = complaints.draft_notice(s, SYSTEM, {"kind": "criticism", "title": "市级通报草稿标题",
                                                     "body": "市级通报正文", "site_id": org.city})
        values = {"order_id": order.id, "call_id": call.id, "rating_id": rating.id, "visit_id": visit.visit.id,
                  "notice_id": notice.id, "photo_id": photo.id, "finding_id": visit.findings[0].id}
        org.complaint_tip_id = tip.id
    return values, ["市级工单内容", "市级来电人", "市级廉政举报内容", "市级举报人", "市级差评原因", "市级暗访概述",
                    "市级通报草稿标题", order.number, tip.number]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, naming the city's centre and window (see test_role_routes)."""
    order = {"channel": "hotline", "type": "complaint", "content": "越权登记的工单内容", "caller_name": "越权",
             "site_id": org.city, "window_id": org.window}
    call = {"type": "complaint", "content": "越权登记的来电内容", "caller_name": "越权", "phone": "13900001111",
            "site_id": org.city, "window_id": org.window}
    visit = {"site_id": org.city, "window_id": org.window, "visited_on": "2026-11-02", "mode": "secret",
             "summary": "越权暗访"}
    return {
        ("POST", "/api/v1/work-orders"): order,
        ("POST", "/api/v1/hotline-calls"): {**call, "external_id": "RT-CALL-X"},
        ("POST", "/complaints/intake"): call,
        ("POST", "/complaints/visits"): visit,
        ("POST", "/complaints/findings/{finding_id}/follow-up"): {"to": "order", "type": "complaint"},
        ("POST", "/complaints/notices"): {"kind": "criticism", "title": "越权通报", "body": "越权通报正文",
                                          "site_id": org.city},
    }
