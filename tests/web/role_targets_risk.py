"""City-level risk register objects for the role × route walk: a point on the city post, a measure, a checked
check with evidence, a review and an open reminder. County users must never see them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

import risk
from supervision import incidents
from supervision.db import session_scope
from tests.conftest import SYSTEM

POINT_NAME = "市级户籍审核把关风险"
MEASURE_CONTENT = "市级户籍双人复核制度"
PDF = b"%PDF-1.4\n% role walk evidence\n"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        today = date.today()
        point = risk.create_risk_point(s, SYSTEM, {
            "code": "RW-FX-1", "name": POINT_NAME, "post_id": org.post, "category": "duty", "level": 1,
            "manifestation": "违规办理户籍", "grading_basis": "直接作出决定", "power": "户口登记",
            "process_step": "审批", "direct_responsible_id": org.staff,
        })
        measure = risk.create_countermeasure(s, SYSTEM, {
            "code": "RW-CS-1", "content": MEASURE_CONTENT, "measure_type": "process", "owner_id": org.staff2,
            "check_frequency": "monthly", "check_method": "抽查", "point_ids": [point.id],
        })
        check = risk.record_check(
            s, SYSTEM, measure.id or 0,
            {"checked_on": today - timedelta(days=40), "checker_name": "市纪检组", "result": "effective"},
            evidence=risk.EvidenceUpload("检查记录.pdf", "application/pdf", PDF),
        )
        # Reminders as the scheduler would make them a year on: the point's review is then overdue.
        risk.generate_reminders(s, today=today + timedelta(days=400))
        reminders, _ = risk.list_reminders(s, SYSTEM, limit=1, today=today)
        assert reminders, "no reminder to aim at"
        # An incident of the city post, for the officer's re-link routes.
        incident = incidents.record_incident(s, kind="bad_rating", source_kind="role_walk", source_id=1,
                                             occurred_at=datetime.now(UTC), post_id=org.post, summary="RW-1")
        values = {"point_id": point.id, "measure_id": measure.id, "check_id": check.id, "post_id": org.post,
                  "reminder_id": reminders[0].id, "incident_id": incident.id}
    return values, [POINT_NAME, MEASURE_CONTENT, "RW-FX-1", "RW-CS-1"]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, naming the city's post, staff, point (see test_role_routes)."""
    point = {"code": "X-FX", "name": "越权风险点", "post_id": org.post, "category": "duty", "level": 1,
             "grading_basis": "越权", "manifestation": "越权"}
    measure = {"code": "X-CS", "content": "越权措施", "measure_type": "process", "owner_id": org.staff2,
               "check_frequency": "monthly", "check_method": "抽查", "point_ids": [org.path_values["point_id"]]}
    review = {"reviewed_on": "2026-11-02", "reviewer_name": "越权", "outcome": "confirmed"}
    check = {"checked_on": "2026-11-02", "checker_name": "越权", "result": "effective"}
    return {
        ("POST", "/api/v1/risk-points"): point, ("POST", "/risk/points/new"): point,
        ("POST", "/api/v1/countermeasures"): measure, ("POST", "/risk/measures/new"): measure,
        ("POST", "/api/v1/risk-points/{point_id}/reviews"): review,
        ("POST", "/risk/points/{point_id}/reviews"): review,
        ("POST", "/api/v1/countermeasures/{measure_id}/checks"): check,
        ("POST", "/risk/measures/{measure_id}/checks"): check,
        ("POST", "/api/v1/risk-points/{point_id}/incident-links"): {
            "incident_id": org.path_values["incident_id"], "linked": True, "reason": "越权关联"},
        ("POST", "/risk/points/{point_id}/incident-links"): {
            "incident_id": org.path_values["incident_id"], "linked": "1", "reason": "越权关联"},
    }
