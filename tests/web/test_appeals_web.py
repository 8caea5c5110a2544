"""Score appeals through the pages and the API: the person's explained month and appeal form, the manager's
queue and decision, the home link, the public window ranking, in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from supervision import ledger, scoring
from supervision.db import session_scope
from supervision.models import LedgerEntry
from supervision.scoring import appeals
from supervision.settings import get_settings
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]


def _first(d: date) -> date:
    return d.replace(day=1)


@pytest.fixture
def published(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """Last month published just now (open for appeal), the month before published long ago (closed to appeals).

    张三 has a bad rating (−2, on his window too) and a missed punch (−2) in each.
    """
    today = datetime.now(get_settings().tz).date()
    last = _first(_first(today) - timedelta(days=1))
    before = _first(last - timedelta(days=1))
    ns = SimpleNamespace(org=org_data, last=last, before=before, ids={})
    manager = org_data.principals["manager"]
    with session_scope(engine, write=True) as s:
        for month in (before, last):
            day = month.replace(day=10)
            for kind, source, window in (("bad_rating", "r", org_data.window), ("missed_sign_in", "a", None)):
                entry = ledger.record_entry(s, actor=manager, day=day, kind=kind, points=-2, reason="网页测试记分",
                                            source_kind="test", source_id=f"{source}-{month}", staff_id=org_data.staff,
                                            window_id=window)
                ns.ids[(month, kind)] = entry.id
            close = scoring.close_month(s, actor=manager, month=month)
            scoring.publish_month(s, actor=manager, month=month)
            if month == before:
                # Published on the first of the next month: its five working days are long past.
                close.published_at = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
                s.add(close)
                s.flush()
                ns.before_deadline = appeals.appeal_deadline(s, close)
    return ns


def test_staff_appeals_from_the_explained_month_and_the_manager_grants_it(logged_in: Login,
                                                                          published: SimpleNamespace,
                                                                          engine: Engine) -> None:
    last = published.last.strftime("%Y-%m")
    staff, csrf = logged_in("staff")
    listing = staff.get("/me/scores")
    assert listing.status_code == 200 and listing.template.name == "me_scores.html"  # type: ignore[attr-defined]
    assert f'/me/scores/{last}' in listing.text and "96.0" in listing.text  # 100 − 2 − 2
    page = staff.get(f"/me/scores/{last}")
    assert page.status_code == 200
    assert "差评" in page.text and "缺卡" in page.text and 'data-testid="appeal-entry-form"' in page.text
    bad = published.ids[(published.last, "bad_rating")]
    filed = staff.post(f"/me/scores/{last}/appeals", data={"csrf_token": csrf, "ledger_entry_id": str(bad),
                                                           "reason": "该差评办件非本人经办"})
    assert filed.status_code == 303, filed.text
    page = staff.get(filed.headers["location"])
    assert 'data-testid="appeal-filed"' in page.text and "该差评办件非本人经办" in page.text
    again = staff.post(f"/me/scores/{last}/appeals", data={"csrf_token": csrf, "ledger_entry_id": str(bad),
                                                           "reason": "再次申诉"})
    assert again.status_code == 409 and "该项已提出过申诉" in again.text
    empty = staff.post(f"/me/scores/{last}/appeals", data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 422 and 'data-testid="problems"' in empty.text

    manager, mcsrf = logged_in("manager")
    home = manager.get("/")
    assert "1 件考评申诉待复核" in home.text and 'href="/scoring/appeals?status=pending"' in home.text
    queue = manager.get("/scoring/appeals")
    assert queue.status_code == 200 and "该差评办件非本人经办" in queue.text
    county, ccsrf = logged_in("county_manager")
    assert "该差评办件非本人经办" not in county.get("/scoring/appeals").text
    with session_scope(engine) as s:
        appeal_id = s.exec(select(appeals.ScoreAppeal.id)).one()
    refused = county.post(f"/scoring/appeals/{appeal_id}/decide", data={"csrf_token": ccsrf, "grant": "1",
                                                                        "reason": "越权"})
    assert refused.status_code == 404
    decided = manager.post(f"/scoring/appeals/{appeal_id}/decide", data={"csrf_token": mcsrf, "grant": "1",
                                                                         "reason": "经核实系误评"})
    assert decided.status_code == 303, decided.text
    assert "0 件考评申诉待复核" not in manager.get("/").text  # nothing pending: no count shown

    page = staff.get(f"/me/scores/{last}").text
    assert "申诉成立" in page and "经核实系误评" in page
    assert 'data-testid="my-revision">2<' in page and "98.0" in page
    history = page[page.index('data-testid="score-history"'):]
    assert history.count('data-testid="history-row"') == 2 and "已被取代" in history
    with session_scope(engine) as s:
        assert s.exec(select(LedgerEntry).where(col(LedgerEntry.reverses_id) == bad)).one().points == 2

    staff.post("/locale", data={"locale": "en", "next": "/me/scores", "csrf_token": csrf})
    english = staff.get(f"/me/scores/{last}").text
    assert "My monthly scores" in english and "Granted" in english and "Revisions" in english


def test_the_api_files_lists_and_decides_and_refuses_late_appeals(app_client: TestClient,
                                                                  published: SimpleNamespace) -> None:
    staff, manager = bearer(app_client, "staff"), bearer(app_client, "manager")
    county = bearer(app_client, "county_manager")
    late = app_client.post("/api/v1/appeals", headers=staff, json={
        "ledger_entry_id": published.ids[(published.before, "missed_sign_in")], "reason": "迟到的申诉"})
    assert late.status_code == 409
    assert published.before_deadline.isoformat() in late.json()["error"]["message"]
    whole = app_client.post("/api/v1/appeals", headers=staff, json={"month": published.last.strftime("%Y-%m"),
                                                                    "reason": "总分有误"})
    assert whole.status_code == 201, whole.text
    body = whole.json()
    assert (body["status"], body["ledger_entry_id"], body["staff_name"]) == ("pending", None, "张三")
    bad_month = app_client.post("/api/v1/appeals", headers=staff, json={"month": "2026-1", "reason": "x"})
    assert bad_month.status_code == 422 and bad_month.json()["error"]["fields"][0]["field"] == "month"
    assert app_client.get("/api/v1/appeals", headers=county).json()["count"] == 0
    assert app_client.get("/api/v1/appeals", headers=manager, params={"status": "pending"}).json()["count"] == 1
    assert app_client.post(f"/api/v1/appeals/{body['id']}/decision", headers=county,
                           json={"grant": False, "reason": "越权"}).status_code == 404
    assert app_client.post(f"/api/v1/appeals/{body['id']}/decision", headers=staff,
                           json={"grant": False, "reason": "自己"}).status_code == 403
    decided = app_client.post(f"/api/v1/appeals/{body['id']}/decision", headers=manager,
                              json={"grant": False, "reason": "扣分事实清楚"})
    assert decided.status_code == 200 and decided.json()["status"] == "refused"
    mine = app_client.get("/api/v1/appeals", headers=staff).json()
    assert [a["decision_reason"] for a in mine["data"]] == ["扣分事实清楚"]
    assert "/api/v1/appeals/{appeal_id}/decision" in app_client.get("/openapi.json").json()["paths"]


def test_the_public_ranking_shows_window_scores_only(app_client: TestClient, published: SimpleNamespace) -> None:
    page = app_client.get("/public/rankings/MY")
    assert page.status_code == 200
    table = page.text[page.text.index('data-testid="window-ranking"'):]
    # 公安窗口: the bad rating −2 → 98, second; 综合窗口 untouched at 100, first. No person is named.
    assert table.index("综合窗口") < table.index("公安窗口") and "98.0" in table and "100.0" in table
    assert "张三" not in page.text and "李四" not in page.text
    assert published.last.strftime("%Y-%m") in page.text
    assert app_client.get("/public/rankings/NOPE").status_code == 404
    empty = app_client.get("/public/rankings/FC")  # the county has no windows' rows of its own published yet
    assert empty.status_code == 200
