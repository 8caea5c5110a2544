"""Awards and appraisal on the web: the pages in both languages for a manager, an officer (read only) and window
staff (their own), the forms (ballot, import, selection, confirmation), the certificate and export, the JSON API
with its refusals naming the field, and the citizens' part read from real rating-pad rows."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from complaints.models import Rating
from supervision import awards, ledger, org
from supervision.access import SYSTEM
from supervision.awards import SelectionIn, SubjectKind
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyRole
from supervision.settings import get_settings
from tests.web.conftest import bearer
from web.app import create_app

Login = Callable[[str], tuple[TestClient, str]]


def _last_quarter() -> str:
    return awards.quarter_key(*awards.last_complete_quarter(datetime.now(get_settings().tz).date()))


def _setup(engine: Engine, o: SimpleNamespace) -> SimpleNamespace:
    quarter = _last_quarter()
    start, end = awards.quarter_bounds(*awards.parse_quarter(quarter))
    with session_scope(engine, write=True) as s:
        o.leader = int(org.create_entity(s, SYSTEM, org.OrgKind.STAFF, {
            "code": "L1", "name": "赵局长", "site_id": o.city, "rank": "bureau_leader"}).id)
        s.add(DutyAssignment(site_id=o.city, day=start, role=DutyRole.LEADER, staff_id=o.leader,
                             source=AssignmentSource.MANUAL))
        # 王五 (county) has a bad rating on the quarter's last day.
        ledger.record_entry(s, actor=SYSTEM, day=end, kind="bad_rating", points=-2, reason="差评",
                            source_kind="manual", source_id="r1", staff_id=o.county_staff)
    o.quarter = quarter
    return o


def test_the_managers_awards_page_and_forms(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    o = _setup(engine, org_data)
    client, csrf = logged_in("manager")
    page = client.get(f"/awards?quarter={o.quarter}")
    assert page.status_code == 200 and page.template.name == "awards/index.html"  # type: ignore[attr-defined]
    for text in ("季度评选", "文明服务窗口候选", "服务标兵候选", "公安窗口", "张三", "王五", "差评", "带班领导投票",
                 "赵局长"):
        assert text in page.text, text
    # The ballot form: the leader ticks 公安窗口 and 张三.
    saved = client.post("/awards/votes", data={"csrf_token": csrf, "quarter": o.quarter, "leader_id": o.leader,
                                               "tick": [f"window:{o.window}", f"staff:{o.staff}"]})
    assert saved.status_code == 303, saved.text
    # A tick of a candidate that does not exist is refused on the form, naming the field.
    bad = client.post("/awards/votes", data={"csrf_token": csrf, "quarter": o.quarter, "leader_id": o.leader,
                                             "tick": ["window:x"]})
    assert bad.status_code == 422 and "投票对象" in bad.text
    # Citizens' votes from a CSV.
    sheet = "类型,编号,票数\n窗口,W-GA,10\n窗口,W-ZH,20\n个人,S001,5\n"
    imported = client.post("/awards/citizen-votes", data={"csrf_token": csrf, "quarter": o.quarter},
                           files={"file": ("votes.csv", sheet.encode(), "text/csv")})
    assert imported.status_code == 303, imported.text
    wrong = client.post("/awards/citizen-votes", data={"csrf_token": csrf, "quarter": o.quarter},
                        files={"file": ("votes.csv", "类型,编号,票数\n窗口,NOPE,1\n".encode(), "text/csv")})
    assert wrong.status_code == 422 and "NOPE" in wrong.text
    board = client.get(f"/api/v1/awards?quarter={o.quarter}").json()
    ga = next(c for c in board["windows"] if c["subject_id"] == o.window)
    assert (ga["parts"]["leader"], ga["parts"]["citizen"], ga["leader_votes"], ga["citizen_votes"]) == (
        100.0, 50.0, 1, 10)
    # The selection, then the certificate.
    chosen = client.post("/awards/select", data={"csrf_token": csrf, "quarter": o.quarter, "subject_kind": "window",
                                                 "subject_id": o.window, "selected": "1"})
    assert chosen.status_code == 303, chosen.text
    barred = client.post("/awards/select", data={"csrf_token": csrf, "quarter": o.quarter,
                                                 "subject_kind": "staff", "subject_id": o.county_staff})
    assert barred.status_code == 409 and "不符合评选条件" in barred.text
    page = client.get(f"/awards?quarter={o.quarter}")
    assert "已评选" in page.text
    selection_id = next(c["selection_id"] for c in client.get(f"/api/v1/awards?quarter={o.quarter}").json()["windows"]
                        if c["subject_id"] == o.window)
    pdf = client.get(f"/awards/{selection_id}/certificate")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "文明服务窗口" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    # In English.
    client.post("/locale", data={"locale": "en", "csrf_token": csrf})
    english = client.get(f"/awards?quarter={o.quarter}")
    for text in ("Quarterly awards", "Civilised Service Window candidates", "Save the ballot", "Selected",
                 "bad rating"):
        assert text in english.text, text


def test_officers_read_and_staff_see_their_own(engine: Engine, org_data: SimpleNamespace, logged_in: Login) -> None:
    o = _setup(engine, org_data)
    today = datetime.now(get_settings().tz).date()
    with session_scope(engine, write=True) as s:
        awards.select_award(s, actor=o.principals["manager"], today=today, body=SelectionIn(
            quarter=o.quarter, subject_kind=SubjectKind.STAFF, subject_id=o.staff))
        awards.select_award(s, actor=o.principals["manager"], today=today, body=SelectionIn(
            quarter=o.quarter, subject_kind=SubjectKind.STAFF, subject_id=o.staff2))
    officer, csrf = logged_in("officer")
    page = officer.get(f"/awards?quarter={o.quarter}")
    assert page.status_code == 200 and "张三" in page.text
    assert "保存投票" not in page.text and 'action="/awards/select"' not in page.text
    refused = officer.post("/awards/select", data={"csrf_token": csrf, "quarter": o.quarter, "subject_kind": "staff",
                                                   "subject_id": o.staff, "selected": "0"})
    assert refused.status_code == 403
    appraisal = officer.get("/appraisals")
    assert appraisal.status_code == 200 and "张三" in appraisal.text
    assert "确认" not in appraisal.text.split("<tbody>")[1]
    staff, _ = logged_in("staff")
    # Window staff find their scores, awards and appraisal from their own page (the menu items are for readers).
    me = staff.get("/me").text
    assert all(f'href="{path}"' in me for path in ("/me/scores", "/awards", "/appraisals"))
    mine = staff.get("/awards")
    assert mine.status_code == 200 and mine.template.name == "awards/mine.html"  # type: ignore[attr-defined]
    assert "服务标兵" in mine.text and "张三" in mine.text and "李四" not in mine.text
    own = staff.get("/appraisals")
    assert own.status_code == 200 and "张三" in own.text and "李四" not in own.text and "王五" not in own.text
    assert staff.get(f"/api/v1/awards?quarter={o.quarter}").status_code == 403
    rows = staff.get("/api/v1/appraisals").json()["rows"]
    assert [r["staff_id"] for r in rows] == [o.staff]
    selections = staff.get("/api/v1/awards/selections").json()
    assert [s["subject_id"] for s in selections] == [o.staff]
    other = next(s for s in officer.get("/api/v1/awards/selections").json() if s["subject_id"] == o.staff2)
    assert staff.get(f"/awards/{other['id']}/certificate").status_code == 404


def test_the_appraisal_page_confirms_and_exports(engine: Engine, org_data: SimpleNamespace,
                                                 logged_in: Login) -> None:
    o = org_data
    client, csrf = logged_in("manager")
    year = datetime.now(get_settings().tz).date().year - 1
    page = client.get("/appraisals")
    assert page.status_code == 200 and f"· {year}" in page.text and "称职" in page.text
    changed = client.post("/appraisals/confirm", data={"csrf_token": csrf, "year": year, "staff_id": o.staff2,
                                                       "grade": "basic", "reason": ""})
    assert changed.status_code == 422 and "更改建议等次须填写理由" in changed.text
    changed = client.post("/appraisals/confirm", data={"csrf_token": csrf, "year": year, "staff_id": o.staff2,
                                                       "grade": "basic", "reason": "年内多次被投诉"})
    assert changed.status_code == 303
    page = client.get(f"/appraisals?year={year}")
    assert "年内多次被投诉" in page.text and "已确认" in page.text
    export = client.get(f"/appraisals/export?year={year}")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][0] == "姓名" and any(r[0] == "李四" and r[10] == "基本称职" for r in values)
    client.post("/locale", data={"locale": "en", "csrf_token": csrf})
    english = client.get(f"/appraisals?year={year}")
    assert "Yearly appraisal" in english.text and "Basically competent" in english.text
    assert client.get("/appraisals?year=1900").status_code == 422


def test_the_api_refuses_naming_the_field(engine: Engine, org_data: SimpleNamespace, app_client: TestClient) -> None:
    o = _setup(engine, org_data)
    headers = bearer(app_client, "manager")
    answer = app_client.get("/api/v1/awards?quarter=2026Q9", headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "quarter"
    answer = app_client.post("/api/v1/awards/votes", headers=headers, json={"quarter": "2026-3", "leader_id": o.leader})
    assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "quarter"
    answer = app_client.post("/api/v1/awards/selection", headers=headers, json={
        "quarter": o.quarter, "subject_kind": "team", "subject_id": o.window})
    assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "subject_kind"
    answer = app_client.post("/api/v1/appraisals/confirm", headers=headers, json={
        "year": 2025, "staff_id": o.staff, "grade": "excellent"})
    assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "reason"
    answer = app_client.post("/api/v1/awards/selection", headers=headers, json={
        "quarter": o.quarter, "subject_kind": "window", "subject_id": o.window})
    assert answer.status_code == 200 and answer.json()["certificate_no"].startswith(o.quarter)
    assert app_client.get("/api/v1/awards/999999/certificate", headers=headers).status_code == 404
    spec = app_client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/awards", "/api/v1/awards/votes", "/api/v1/awards/selection", "/api/v1/appraisals",
                 "/api/v1/appraisals/confirm", "/api/v1/appraisals/export",
                 "/api/v1/awards/{selection_id}/certificate"):
        assert path in spec, path


def test_the_citizens_part_from_the_rating_pads(engine: Engine, org_data: SimpleNamespace,
                                                app_client: TestClient) -> None:
    """No import: the share of 满意 and 非常满意 among the quarter's ratings of the window (voided ones left out)."""
    o = _setup(engine, org_data)
    start, end = awards.quarter_bounds(*awards.parse_quarter(o.quarter))
    with session_scope(engine, write=True) as s:
        # 公安窗口: levels 5, 4, 4, 3 and a voided 1, plus one the day after the quarter: 3 of 4 -> 75.
        for n, (level, day, void) in enumerate([(5, start, False), (4, start, False), (4, end, False),
                                                (3, end, False), (1, end, True), (1, date.fromordinal(
                                                    end.toordinal() + 1), False)]):
            s.add(Rating(case_no=f"AW-{n}", site_id=o.city, window_id=o.window, staff_id=o.staff, level=level,
                         rated_at=datetime(day.year, day.month, day.day, 3, tzinfo=UTC), rated_on=day,
                         rated_month=day.isoformat()[:7], source="pad", void=void))
    board = app_client.get(f"/api/v1/awards?quarter={o.quarter}", headers=bearer(app_client, "manager")).json()
    assert board["citizen_source"] == "ratings"
    assert [c["parts"]["citizen"] for c in board["windows"] if c["subject_id"] == o.window] == [75.0]
    assert [c["parts"]["citizen"] for c in board["staff"] if c["subject_id"] == o.staff] == [75.0]
    assert [c["parts"]["citizen"] for c in board["staff"] if c["subject_id"] == o.staff2] == [None]


def test_the_demo_shows_the_cycle_in_every_managers_jurisdiction(engine: Engine) -> None:
    """The last ended quarter's ballots, votes and selections at the city and each demo county; last year's
    appraisal confirmed for some; seeding again adds nothing."""
    from sqlmodel import Session, col, func, select

    from supervision.awards import Appraisal, AwardSelection, CitizenVote, LeaderBallotCast
    from supervision.awards.demo import DEMO_SITES, seed_awards_demo
    from supervision.models import Site
    from web.composition import seed_demo_everything

    settings = get_settings()
    seed_demo_everything(engine, settings)
    today = datetime.now(settings.tz).date()
    quarter = awards.quarter_key(*awards.last_complete_quarter(today))

    def counts() -> dict[str, tuple[int, int, int, int]]:
        with Session(engine) as s:
            out = {}
            for code in DEMO_SITES:
                site = s.exec(select(Site).where(col(Site.code) == code)).one()
                out[code] = tuple(int(s.exec(select(func.count()).select_from(model).where(
                    col(model.site_id) == site.id, *extra)).one()) for model, extra in (  # type: ignore[attr-defined]
                    (AwardSelection, [col(AwardSelection.quarter) == quarter]),
                    (CitizenVote, [col(CitizenVote.quarter) == quarter]),
                    (LeaderBallotCast, [col(LeaderBallotCast.quarter) == quarter]),
                    (Appraisal, [col(Appraisal.year) == today.year - 1])))
            return out  # type: ignore[return-value]

    first = counts()
    assert all(selected > 0 and votes > 0 and confirmed > 0 for selected, votes, _, confirmed in first.values()), first
    assert first["MY"][2] > 0, first  # the city's duty leaders voted
    seed_awards_demo(engine, today=today)
    assert counts() == first
    app = create_app(settings, engine, migrate=False, services=[])
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        headers = bearer(client, "manager_jy", settings.demo_password)
        board = client.get(f"/api/v1/awards?quarter={quarter}", headers=headers).json()
        assert any(c["selection_id"] for c in board["windows"] + board["staff"])
        rows = client.get("/api/v1/appraisals", headers=headers).json()["rows"]
        assert rows and any(r["grade"] for r in rows)
