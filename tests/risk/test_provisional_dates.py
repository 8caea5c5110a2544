"""Review and check dates in a year the calendar does not know: stored as provisional, shown as such, and
recomputed (audited, the point's page saying why) when an admin enters the year (issue 10 §9, risk)."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import risk
from risk import deadlines
from risk.reminders import run_reminder_job
from supervision import workdays as wd
from supervision.models import AuditEntry
from supervision.settings import get_settings
from supervision.workdays import WorkCalendar
from tests.risk.conftest import measure_data, point_data
from tests.web.conftest import bearer, login
from web.app import create_app

# A 一级 point (reviewed every 90 days) created on Sat 3 Oct 2026 counts to Fri 1 Jan 2027: New Year's Day
# by the provisional rule, then a weekend, so Monday 4 January. A weekly measure created on Mon 28 Dec 2026
# counts to Mon 4 Jan 2027.
POINT_DAY, MEASURE_DAY = date(2026, 10, 3), date(2026, 12, 28)


def test_a_date_past_the_known_years_is_provisional_and_keeps_what_it_counted() -> None:
    due = deadlines.review_due(POINT_DAY, 1, 90, WorkCalendar())
    assert (due.day, due.provisional, due.counted) == (date(2027, 1, 4), True, date(2027, 1, 1))
    known = deadlines.on_workday(date(2026, 12, 31), WorkCalendar())
    assert (known.day, known.provisional, known.counted) == (date(2026, 12, 31), False, date(2026, 12, 31))
    declared = deadlines.review_due(POINT_DAY, 1, 90, WorkCalendar({date(2027, 1, 1): False}, [2027]))
    assert (declared.day, declared.provisional, declared.counted) == (date(2027, 1, 4), False, date(2027, 1, 1))


def _point_and_measure(engine: Engine, ns: SimpleNamespace) -> tuple[int, int]:
    with Session(engine) as s:
        point = risk.create_risk_point(s, ns.principals["officer"], point_data(ns, level=1), today=POINT_DAY)
        measure = risk.create_countermeasure(s, ns.principals["officer"], measure_data(
            ns, [point.id], check_frequency="weekly"), today=MEASURE_DAY)
        s.commit()
        assert (point.next_review_due, point.review_due_provisional) == (date(2027, 1, 4), True)
        assert (measure.next_check_due, measure.check_due_provisional) == (date(2027, 1, 4), True)
        return int(point.id or 0), int(measure.id or 0)


def _dates(engine: Engine, point_id: int, measure_id: int) -> tuple[tuple[date, bool], tuple[date, bool]]:
    with Session(engine) as s:
        p, m = s.get(risk.RiskPoint, point_id), s.get(risk.Countermeasure, measure_id)
        assert p is not None and m is not None
        return (p.next_review_due, p.review_due_provisional), (m.next_check_due, m.check_due_provisional)


def test_provisional_review_and_check_dates_follow_the_calendar(engine: Engine, risk_org: SimpleNamespace) -> None:
    point_id, measure_id = _point_and_measure(engine, risk_org)
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, follow_redirects=False) as client:
        login(client, "officer")
        for url in ("/risk", f"/risk/points/{point_id}", "/risk/measures", f"/risk/measures/{measure_id}"):
            page = client.get(url)
            assert page.status_code == 200 and 'data-testid="due-provisional"' in page.text, url
        api = client.get(f"/api/v1/risk-points/{point_id}", headers=bearer(client, "officer"))
        assert api.status_code == 200 and api.json()["point"]["review_due_provisional"] is True

        admin = bearer(client, "admin")
        # The admin learns that 4 January is a day off: both dates move, still provisional.
        assert client.put("/api/v1/calendar/overrides", headers=admin, json={
            "day": "2027-01-04", "is_workday": False, "name": "元旦调休"}).status_code == 200
        assert _dates(engine, point_id, measure_id) == ((date(2027, 1, 5), True), (date(2027, 1, 5), True))
        # New Year's Day entered as the rule had it, then the year declared: official, unchanged.
        assert client.put("/api/v1/calendar/overrides", headers=admin, json={
            "day": "2027-01-01", "is_workday": False, "name": "元旦"}).status_code == 200
        assert client.post("/api/v1/calendar/years", headers=admin, json={
            "year": 2027, "notice": "国办发明电〔2026〕12号"}).status_code == 201
        assert _dates(engine, point_id, measure_id) == ((date(2027, 1, 5), False), (date(2027, 1, 5), False))

        page = client.get(f"/risk/points/{point_id}").text
        assert 'data-testid="due-provisional"' not in page.split('data-testid="due-changes"')[0]
        assert "工作日历变更(调整了 2027 年的日期),日期由 2027-01-04 改为 2027-01-05 · 2027-01-04 元旦调休" in page
        assert ("工作日历变更(已录入 2027 年节假日安排),日期由 2027-01-05 改为 2027-01-05 · "
                "国办发明电〔2026〕12号") in page
        assert "工作日历变更" in client.get(f"/risk/measures/{measure_id}").text

    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(col(AuditEntry.action).in_(
            ["risk.point.recompute_due", "risk.measure.recompute_due"])).order_by(col(AuditEntry.seq))).all()
        assert [(e.action, e.object_id, json.loads(e.detail)["cause"]) for e in entries] == [
            ("risk.point.recompute_due", str(point_id), "override"),
            ("risk.measure.recompute_due", str(measure_id), "override"),
            ("risk.point.recompute_due", str(point_id), "declare_year"),
            ("risk.measure.recompute_due", str(measure_id), "declare_year"),
        ]
        assert all(e.actor_name.endswith("admin") for e in entries)


def test_the_morning_sweep_catches_up_on_a_change_nobody_followed(
    engine: Engine, risk_org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_id, measure_id = _point_and_measure(engine, risk_org)
    monkeypatch.setattr(wd, "_followers", {})  # the process stopped between the commit and its follow-up
    with Session(engine) as s:
        wd.set_override(s, risk_org.principals["admin"], day=date(2027, 1, 1), is_workday=False, name="元旦")
        wd.declare_year(s, risk_org.principals["admin"], year=2027, notice="国办发明电〔2026〕12号")
        s.commit()
    assert _dates(engine, point_id, measure_id) == ((date(2027, 1, 4), True), (date(2027, 1, 4), True))
    monkeypatch.setattr("risk.reminders.get_engine", lambda: engine)
    monkeypatch.setattr("supervision.db.get_engine", lambda: engine)
    run_reminder_job()
    assert _dates(engine, point_id, measure_id) == ((date(2027, 1, 4), False), (date(2027, 1, 4), False))
    assert risk.recompute_provisional_dates(engine, risk_org.principals["admin"],
                                            wd.CalendarChange(frozenset(), "calendar", "")) == 0
