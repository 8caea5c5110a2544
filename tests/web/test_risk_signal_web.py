"""Issue 14 §5–§7 in the browser's terms: the officer's re-link on a point's page (and by API), incidents that
read in the viewer's language, and the manager who decides rating appeals from the home page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

import complaints
import risk
from supervision import incidents
from supervision.db import session_scope
from supervision.models import AuditEntry
from tests.conftest import SYSTEM
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]


def _register(engine: Engine, org: SimpleNamespace) -> SimpleNamespace:
    """An attitude point and a 优亲厚友 point on the city post, and one very bad rating about its clerk."""
    with session_scope(engine, write=True) as s:
        def point(code: str, name: str, manifestation: str) -> int:
            data: dict[str, Any] = {"code": code, "name": name, "post_id": org.post, "category": "moral",
                                    "level": 2, "manifestation": manifestation, "grading_basis": "窗口岗位"}
            return risk.create_risk_point(s, SYSTEM, data).id or 0

        ids = SimpleNamespace(attitude=point("W-TD", "服务态度生硬", "冷硬横推"),
                              favour=point("W-YQ", "优亲厚友", "为熟人插队办理"))
        ids.incident = incidents.record_incident(
            s, kind="bad_rating", source_kind="rating", source_id=990001, staff_id=org.staff,
            occurred_at=datetime.now(UTC) - timedelta(days=1), summary="BJ-77 level.very_dissatisfied").id
    return ids


def test_the_officer_relinks_an_incident_on_the_points_page(
    logged_in: Login, engine: Engine, org_data: SimpleNamespace
) -> None:
    ids = _register(engine, org_data)
    client, csrf = logged_in("officer")
    page = client.get(f"/risk/points/{ids.attitude}")
    assert page.status_code == 200
    # Linked by the rule (a bad rating is about the service), and readable: no key, no enum value.
    assert "办件 BJ-77 评价为“非常不满意”" in page.text and "level.very_dissatisfied" not in page.text
    assert "按规则:服务态度(风险点含“态度”)" in page.text
    favour = client.get(f"/risk/points/{ids.favour}")
    assert f'data-testid="add-link-{ids.incident}"' in favour.text  # not counted there; the officer may link it

    refused = client.post(f"/risk/points/{ids.favour}/incident-links",
                          data={"csrf_token": csrf, "incident_id": str(ids.incident), "linked": "1", "reason": ""})
    assert refused.status_code == 422 and "<strong>原因</strong>: 必填" in refused.text
    done = client.post(f"/risk/points/{ids.favour}/incident-links",
                       data={"csrf_token": csrf, "incident_id": str(ids.incident), "linked": "1",
                             "reason": "评价原因写明为熟人插队"})
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "关联已调整" in after.text and "officer（纪检监察员） 手工关联:评价原因写明为熟人插队" in after.text
    assert "user:officer" not in after.text
    assert f'data-testid="remove-link-{ids.incident}"' in after.text
    taken_off = client.post(f"/risk/points/{ids.attitude}/incident-links",
                            data={"csrf_token": csrf, "incident_id": str(ids.incident), "linked": "0",
                                  "reason": "与态度无关"})
    assert taken_off.status_code == 303
    post_page = client.get(f"/risk/posts/{org_data.post}").text
    assert f'data-testid="link-{ids.incident}-{ids.attitude}-removed"' in post_page
    assert f'data-testid="link-{ids.incident}-{ids.favour}"' in post_page
    with session_scope(engine) as s:
        actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.object_id) == str(ids.favour))).all()
    assert "risk.incident_link" in actions

    client.post("/locale", data={"locale": "en", "next": "/", "csrf_token": csrf})
    english = client.get(f"/risk/points/{ids.favour}").text
    assert "Case BJ-77 rated “very dissatisfied”" in english and "非常不满意" not in english


def test_the_relink_api_and_who_may_use_it(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    ids = _register(engine, org_data)
    client, _ = logged_in("officer")
    url = f"/api/v1/risk-points/{ids.favour}/incident-links"
    body = {"incident_id": ids.incident, "linked": True, "reason": "熟人插队"}
    response = client.post(url, headers=bearer(client, "officer"), json=body)
    assert response.status_code == 200, response.text
    point = response.json()
    assert point["point"]["incident_count"] == 1
    assert point["incidents"][0]["links"][1]["made_by"] == "officer"  # W-TD by rule, W-YQ by the officer
    missing = client.post(url, headers=bearer(client, "officer"), json={**body, "reason": "  "})
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "reason"
    assert client.post(url, headers=bearer(client, "manager"), json=body).status_code == 403
    assert client.post(url, headers=bearer(client, "county_officer"), json=body).status_code == 404


def _appealed_rating(engine: Engine, org: SimpleNamespace) -> int:
    with session_scope(engine, write=True) as s:
        rating, _ = complaints.push_rating(s, SYSTEM, {"case_no": "BJ-88", "window_id": org.window,
                                                       "staff_id": org.staff, "level": 1, "reason": "乱评"})
        staff = org.principals["staff"]
        complaints.appeal_rating(s, staff, rating.id or 0, "当天并未办理该业务")
        return rating.id or 0


def test_the_manager_decides_rating_appeals_from_the_home_page(
    logged_in: Login, engine: Engine, org_data: SimpleNamespace
) -> None:
    rid = _appealed_rating(engine, org_data)
    officer, officer_csrf = logged_in("officer")
    assert 'data-panel="rating_appeals"' not in officer.get("/").text  # officers do not decide by default
    refused = officer.post(f"/complaints/ratings/{rid}/decision",
                           data={"csrf_token": officer_csrf, "decision": "granted", "reason": "核实"})
    assert refused.status_code == 403
    client, csrf = logged_in("manager")
    home = client.get("/").text
    assert 'href="/complaints/ratings?appeals=pending"' in home and "1 件申诉待复核" in home
    page = client.get("/complaints/ratings?appeals=pending")
    assert page.status_code == 200 and "BJ-88" in page.text
    assert f'action="/complaints/ratings/{rid}/decision"' in page.text
    done = client.post(f"/complaints/ratings/{rid}/decision",
                       data={"csrf_token": csrf, "decision": "granted", "reason": "经调取录像核实为误评"})
    assert done.status_code == 303
    assert "暂无待复核的申诉" in client.get("/").text


def test_with_officers_deciding_the_manager_is_refused(
    logged_in: Login, engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERVISION_RATING_APPEAL_DECIDERS", "officers")
    rid = _appealed_rating(engine, org_data)
    client, csrf = logged_in("manager")
    assert 'data-panel="rating_appeals"' not in client.get("/").text
    assert client.get("/complaints/ratings").status_code == 403  # no complaints:read, does not decide
    refused = client.post(f"/complaints/ratings/{rid}/decision",
                          data={"csrf_token": csrf, "decision": "granted", "reason": "核实"})
    assert refused.status_code == 403
    officer, officer_csrf = logged_in("officer")
    assert "1 件申诉待复核" in officer.get("/").text
    done = officer.post(f"/complaints/ratings/{rid}/decision",
                        data={"csrf_token": officer_csrf, "decision": "rejected", "reason": "录像显示确有推诿"})
    assert done.status_code == 303
