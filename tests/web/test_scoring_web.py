"""Monthly scoring on the web: the month page in both languages, a number's explanation with its sources, the
close by form and by API (a ledger write into the closed month refused naming the month), publish, reopen by a
city admin only, the rule versions API refusing a contradictory item by name, and window staff seeing their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision import ledger
from supervision.db import session_scope
from tests.conftest import SYSTEM
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]
MONTH = "2026-10"


def _entries(engine: Engine, org: SimpleNamespace) -> None:
    d = date(2026, 10, 9)
    with session_scope(engine, write=True) as s:
        # 张三: bad rating −2 (window and person), praise +1: 99. 李四: half a day absent −5: 95.
        ledger.record_entry(s, actor=SYSTEM, day=d, kind="bad_rating", points=-2, reason="办事群众差评",
                            source_kind="manual", source_id="w-1", staff_id=org.staff, window_id=org.window)
        ledger.record_entry(s, actor=SYSTEM, day=d, kind="praise", points=1, reason="群众来电表扬",
                            source_kind="manual", source_id="w-2", staff_id=org.staff, window_id=org.window)
        ledger.record_entry(s, actor=SYSTEM, day=d, kind="absent_half_day", points=-5, reason="无故缺勤半天",
                            source_kind="manual", source_id="w-3", staff_id=org.staff2, window_id=org.window)


def test_month_page_and_explanation_in_both_languages(logged_in: Login, engine: Engine,
                                                      org_data: SimpleNamespace) -> None:
    _entries(engine, org_data)
    client, csrf = logged_in("manager")
    page = client.get("/scoring", params={"month": MONTH})
    assert page.status_code == 200
    assert page.template.name == "scoring/month.html"  # type: ignore[attr-defined]
    rows = {r.name: r for r in page.context["view"].rows}  # type: ignore[attr-defined]
    # Ranked by final: 王五 100 (county), 张三 99, 李四 95.
    assert [(n, rows[n].final, rows[n].rank) for n in ("王五", "张三", "李四")] == [
        ("王五", 100, 1), ("张三", 99, 2), ("李四", 95, 3)]
    assert "月度考评" in page.text and "未结账" in page.text and "总分" in page.text
    assert f'/scoring/{MONTH}/staff/{org_data.staff}' in page.text
    windows = client.get("/scoring", params={"month": MONTH, "kind": "window"})
    assert "公安窗口" in windows.text
    assert {r.name: r.final for r in windows.context["view"].rows}["A01 公安窗口"] == 99  # type: ignore[attr-defined]
    departments = client.get("/scoring", params={"month": MONTH, "kind": "department"})
    assert {r.name: r.final for r in departments.context["view"].rows}["市公安局"] == 99  # type: ignore[attr-defined]
    explained = client.get(f"/scoring/{MONTH}/staff/{org_data.staff}")
    assert explained.status_code == 200
    assert "差评" in explained.text and "办事群众差评" in explained.text and "表扬加分" in explained.text
    assert "default-2026" in explained.text
    client.post("/locale", data={"locale": "en", "csrf_token": csrf})
    english = client.get("/scoring", params={"month": MONTH})
    assert "Monthly scores" in english.text and "Final" in english.text and "月度考评" not in english.text
    explained_en = client.get(f"/scoring/{MONTH}/staff/{org_data.staff}")
    assert "bad rating" in explained_en.text and "praise" in explained_en.text
    bad = client.get("/scoring", params={"month": "2026-13"})
    assert bad.status_code == 422 and "YYYY-MM" in bad.text


def test_close_by_form_then_the_ledger_refuses_the_month(logged_in: Login, engine: Engine,
                                                          org_data: SimpleNamespace) -> None:
    _entries(engine, org_data)
    client, csrf = logged_in("manager")
    closed = client.post(f"/scoring/{MONTH}/close", data={"csrf_token": csrf, "site_id": str(org_data.city)})
    assert closed.status_code == 303
    page = client.get(closed.headers["location"])
    assert "已结账" in page.text and 'data-testid="publish-form"' in page.text
    # Who closed it and when, as a person reads it (never the stored "user:manager").
    closed_by = page.text.split('data-testid="closed-by">')[1].split("</small>")[0]
    assert "结账" in closed_by and "user:" not in closed_by and str(date.today().year) in closed_by
    again = client.post(f"/scoring/{MONTH}/close", data={"csrf_token": csrf, "site_id": str(org_data.city)})
    assert again.status_code == 409 and "2026-10 已经结账" in again.text
    headers = bearer(client, "manager")
    refused = client.post("/api/v1/ledger", headers=headers, json={
        "day": "2026-10-20", "kind": "late", "points": -1, "reason": "补记", "staff_id": org_data.staff})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert "2026-10" in error["message"] and error["fields"][0]["field"] == "day"
    # The correction goes into November as an adjustment.
    taken = client.post("/api/v1/ledger", headers=headers, json={
        "day": "2026-11-02", "kind": "adjustment", "points": -1, "reason": "10 月漏记迟到,本月调整",
        "staff_id": org_data.staff})
    assert taken.status_code == 201, taken.text
    # A month not yet ended is refused, naming the month.
    this_month = date.today().strftime("%Y-%m")
    early = client.post(f"/api/v1/months/{this_month}/close", headers=headers, json={})
    assert early.status_code == 422 and early.json()["error"]["fields"][0]["field"] == "month"


def test_api_close_publish_reopen_and_staff_see_their_own(logged_in: Login, engine: Engine,
                                                          org_data: SimpleNamespace) -> None:
    _entries(engine, org_data)
    client, _ = logged_in("manager")
    manager = bearer(client, "manager")
    scores = client.get("/api/v1/monthly-scores", params={"month": MONTH, "kind": "staff"}, headers=manager).json()
    assert scores["closed"] is False and {r["name"]: r["final"] for r in scores["rows"]}["张三"] == 99
    closed = client.post(f"/api/v1/months/{MONTH}/close", headers=manager, json={})
    assert closed.status_code == 201 and closed.json()["status"] == "closed"
    staff = bearer(client, "staff")
    mine = client.get("/api/v1/monthly-scores", params={"month": MONTH}, headers=staff).json()
    assert mine["rows"] == []  # not published yet
    assert client.post(f"/api/v1/months/{MONTH}/publish", headers=manager, json={}).status_code == 200
    mine = client.get("/api/v1/monthly-scores", params={"month": MONTH}, headers=staff).json()
    assert [(r["name"], r["final"]) for r in mine["rows"]] == [("张三", 99)]
    explained = client.get(f"/api/v1/monthly-scores/staff/{org_data.staff}", params={"month": MONTH},
                           headers=staff).json()
    assert {e["item"]: e["points"] for e in explained["entries"]} == {"rating.bad": -2, "praise": 1}
    assert client.get(f"/api/v1/monthly-scores/staff/{org_data.staff2}", params={"month": MONTH},
                      headers=staff).status_code == 404
    county = bearer(client, "county_manager")
    assert client.get(f"/api/v1/monthly-scores/staff/{org_data.staff}", params={"month": MONTH},
                      headers=county).status_code == 404
    county_rows = client.get("/api/v1/monthly-scores", params={"month": MONTH}, headers=county).json()["rows"]
    assert {r["name"] for r in county_rows} >= {"王五"} and "张三" not in {r["name"] for r in county_rows}
    # Reopen: not the county admin, not without a reason; the city admin with one.
    county_admin = bearer(client, "county_admin")
    body = {"site_id": org_data.city, "reason": "考勤机故障"}
    assert client.post(f"/api/v1/months/{MONTH}/reopen", headers=county_admin, json=body).status_code in (403, 404)
    admin = bearer(client, "admin")
    empty = client.post(f"/api/v1/months/{MONTH}/reopen", headers=admin, json={"site_id": org_data.city,
                                                                              "reason": ""})
    assert empty.status_code == 422 and empty.json()["error"]["fields"][0]["field"] == "reason"
    reopened = client.post(f"/api/v1/months/{MONTH}/reopen", headers=admin, json=body)
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
    months = client.get("/api/v1/months", headers=manager).json()
    assert months[0]["reopen_reason"] == "考勤机故障"


def test_rule_versions_api_refuses_a_contradictory_item_by_name(logged_in: Login, org_data: SimpleNamespace) -> None:
    client, _ = logged_in("admin")
    admin = bearer(client, "admin")
    base = {"version": "2027", "effective_from": "2027-01-01"}
    cases = [
        ({"key": "praise", "points": -1}, "表扬加分"),  # a bonus item with negative points
        ({"key": "rating.bad", "points": 2}, "差评"),  # a deduction with positive points
        ({"key": "adjustment", "points": 0, "cap": 3}, "更正调整"),  # an adjustment is never capped
        ({"key": "praise", "points": 1, "applies_to": "staff,hall"}, "表扬加分"),  # an unknown subject
        ({"key": "nonsense", "points": -1}, "nonsense"),
    ]
    for item, named in cases:
        refused = client.post("/api/v1/scoring-rules", headers=admin, json={**base, "items": [item]})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["fields"][0]["field"] == "items" and named in error["fields"][0]["message"], error
    negative = client.post("/api/v1/scoring-rules", headers=admin, json={**base, "deduction_cap": -1})
    assert negative.status_code == 422 and negative.json()["error"]["fields"][0]["field"] == "deduction_cap"
    created = client.post("/api/v1/scoring-rules", headers=admin, json={
        **base, "deduction_cap": 30, "items": [{"key": "rating.bad", "points": -3, "cap": 6,
                                                "applies_to": "window,staff"}]})
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["deduction_cap"] == 30
    bad = next(i for i in made["items"] if i["key"] == "rating.bad")
    assert (bad["points"], bad["cap"], bad["applies_to"]) == (-3, 6, "staff,window")
    # Items not named keep what the version before said.
    assert next(i for i in made["items"] if i["key"] == "praise")["points"] == 1
    versions = client.get("/api/v1/scoring-rules", headers=admin).json()
    assert [v["version"] for v in versions] == ["2027", "default-2026"]
    county = bearer(client, "county_admin")
    assert client.post("/api/v1/scoring-rules", headers=county, json={
        "version": "county", "effective_from": "2027-02-01"}).status_code == 403


def test_rules_page_shows_versions_and_writes_one(logged_in: Login, org_data: SimpleNamespace) -> None:
    from supervision.scoring import ITEM_SPECS

    client, csrf = logged_in("admin")
    page = client.get("/scoring/rules")
    assert page.status_code == 200 and "default-2026" in page.text and 'data-testid="rules-form"' in page.text
    form = {"csrf_token": csrf, "version": "2027-03", "effective_from": "2027-03", "base": "100",
            "deduction_cap": "20", **{f"points.{k}": str(v.points) for k, v in ITEM_SPECS.items()},
            **{f"applies.{k}.{kind}": "1" for k, v in ITEM_SPECS.items() for kind in v.applies_to.split(",")}}
    bad = client.post("/scoring/rules", data={**form, "points.praise": "-2"})
    assert bad.status_code == 422 and "加分项“表扬加分”的分值不能为负" in bad.text
    assert 'value="2027-03"' in bad.text  # what was typed is kept
    saved = client.post("/scoring/rules", data=form)
    assert saved.status_code == 303
    assert "2027-03" in client.get("/scoring/rules").text
    officer, _ = logged_in("officer")
    read_only = officer.get("/scoring/rules")
    assert read_only.status_code == 200 and 'data-testid="rules-form"' not in read_only.text
