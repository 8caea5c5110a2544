"""The demo generator on a small demo-like org, and the views over it: the SQL filters agree with the flags
on each row, the heat table and the printable register add up."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

import risk
from risk.demo import grade, seed_risk_demo, step_of
from risk.models import ReviewOutcome
from supervision import org
from supervision.db import session_scope
from supervision.models import Post
from supervision.org import OrgKind
from tests.conftest import SYSTEM

TODAY = date(2026, 6, 1)
POST_NAMES = ("户籍咨询岗", "户籍受理岗", "户籍审核岗", "户籍审批岗", "出入境收费岗", "户籍发证岗", "规划许可勘验岗",
              "交通违法处罚岗", "婚姻登记岗", "转报岗", "委托审批岗", "社会救助受理岗")


@pytest.fixture
def demo(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """A demo city centre with one post per kind of step, seeded with the demo register."""
    with session_scope(engine, write=True) as s:
        def add(kind: OrgKind, /, **data: object) -> int:
            return int(org.create_entity(s, SYSTEM, kind, {**data, "is_demo": True}).id)

        city = org_data.city
        dept = add(OrgKind.DEPARTMENT, code="D-DEMO", name="市演示局", site_id=city)
        window = add(OrgKind.WINDOW, code="W-DEMO", name="演示窗口", site_id=city, department_id=dept)
        add(OrgKind.STAFF, code="L-1", name="局长甲", site_id=city, rank="bureau_leader")
        add(OrgKind.STAFF, code="L-2", name="纪检组长乙", site_id=city, rank="bureau_leader")
        add(OrgKind.STAFF, code="H-1", name="科长丙", site_id=city, rank="section_level", window_id=window)
        for i, name in enumerate(POST_NAMES, start=1):
            post = add(OrgKind.POST, code=f"P-DEMO-{i:02d}", name=name, site_id=city, window_id=window,
                       department_id=dept, duties=f"{name}职责")
            add(OrgKind.STAFF, code=f"S-DEMO-{i:02d}", name=f"员工{i}", site_id=city, window_id=window, post_id=post)
        summary = seed_risk_demo(s, site_code="MY", today=TODAY, with_incidents=True)
    org_data.summary = summary
    return org_data


def test_the_demo_register_follows_the_grading_and_has_history(session: Session, demo: SimpleNamespace) -> None:
    summary = demo.summary
    assert summary.created and summary.posts == len(POST_NAMES)
    assert 2 * len(POST_NAMES) <= summary.points <= 4 * len(POST_NAMES)
    assert summary.measures >= len(POST_NAMES) and summary.checks > summary.measures * 3
    assert summary.reviews > summary.points * 2
    assert set(summary.levels) == {1, 2, 3}
    for point in session.exec(select(risk.RiskPoint)):
        post = session.get(Post, point.post_id)
        assert post is not None and point.is_demo
        line, step = step_of(post.name)
        assert point.level == grade(post.name, "市演示局", step, _template(step, point.name, line))[0]
    assert seed_risk_demo(session, site_code="MY", today=TODAY).created is False


def _template(step: str, point_name: str, line: str) -> risk.demo.PointTemplate:
    return next(t for t in risk.demo.POINT_TEMPLATES[step] if f"{line}{t.name}" == point_name)


def test_approval_and_fee_posts_hold_level_one_points_and_consultation_only_level_three(
    session: Session, demo: SimpleNamespace
) -> None:
    levels: dict[str, set[int]] = {}
    for point in session.exec(select(risk.RiskPoint)):
        post = session.get(Post, point.post_id)
        assert post is not None
        levels.setdefault(post.name, set()).add(point.level)
    assert 1 in levels["户籍审批岗"] and 1 in levels["出入境收费岗"] and 1 in levels["交通违法处罚岗"]
    assert levels["户籍咨询岗"] == {3}
    assert levels["规划许可勘验岗"] == {2}


def test_regradings_in_the_demo_history_keep_the_levels_before(session: Session, demo: SimpleNamespace) -> None:
    reviews = session.exec(select(risk.RiskReview).where(risk.RiskReview.outcome == ReviewOutcome.REGRADED)).all()
    for review in reviews:
        assert review.level_after < review.level_before


def _add_point_due_soon_without_measures(session: Session, demo: SimpleNamespace) -> None:
    """The demo has no point due for review within the reminder lead, nor one without measures: add one."""
    post = session.exec(select(Post).where(Post.code == "P-DEMO-01")).one()
    recorded = TODAY - timedelta(days=risk.get_risk_settings().review_days(1) - 5)
    risk.create_risk_point(session, demo.principals["officer"], {
        "code": "FX-DUE", "name": "即将复核的风险点", "post_id": post.id, "category": "duty", "level": 1,
        "grading_basis": "审批环节", "manifestation": "未按规定审批"}, today=recorded)
    session.flush()


def test_each_point_filter_agrees_with_the_flags_on_the_rows(session: Session, demo: SimpleNamespace) -> None:
    officer = demo.principals["officer"]
    _add_point_due_soon_without_measures(session, demo)
    everything, total = risk.list_risk_points(session, officer, limit=500, today=TODAY)
    assert total == len(everything)
    for flag in risk.PointFlag:
        expected = {r.id for r in everything if flag in r.flags}
        filtered, count = risk.list_risk_points(session, officer, filters=risk.RiskPointFilter(flag=flag),
                                                limit=500, today=TODAY)
        assert {r.id for r in filtered} == expected and count == len(expected), flag
        assert expected, f"no point has {flag}: the filter was not tried"


def test_the_demo_shows_every_kind_of_attention(session: Session, demo: SimpleNamespace) -> None:
    rows, _ = risk.list_risk_points(session, demo.principals["officer"], limit=500, today=TODAY)
    seen = {f for r in rows for f in r.flags}
    assert {risk.PointFlag.DUTIES_CHANGED, risk.PointFlag.REGRADE} <= seen
    measures, _ = risk.list_countermeasures(session, demo.principals["officer"], limit=500, today=TODAY)
    assert any(risk.MeasureFlag.CHECK_OVERDUE in m.flags for m in measures) or any(
        risk.PointFlag.REVIEW_OVERDUE in r.flags for r in rows)


def test_each_measure_filter_agrees_with_the_flags_on_the_rows(session: Session, demo: SimpleNamespace) -> None:
    officer = demo.principals["officer"]
    everything, _ = risk.list_countermeasures(session, officer, limit=500, today=TODAY)
    for flag in risk.MeasureFlag:
        expected = {m.id for m in everything if flag in m.flags}
        filtered, count = risk.list_countermeasures(session, officer, filters=risk.CountermeasureFilter(flag=flag),
                                                    limit=500, today=TODAY)
        assert {m.id for m in filtered} == expected and count == len(expected), flag
        assert expected, f"no measure has {flag}: the filter was not tried"


def test_filters_and_paging(session: Session, demo: SimpleNamespace) -> None:
    officer = demo.principals["officer"]
    level1, n1 = risk.list_risk_points(session, officer, filters=risk.RiskPointFilter(level=1), today=TODAY)
    assert n1 > 0 and all(r.level == 1 for r in level1)
    moral, _ = risk.list_risk_points(session, officer, filters=risk.RiskPointFilter(category="moral", q="户籍"),
                                     today=TODAY)
    assert moral and all(r.category is risk.RiskCategory.MORAL and "户籍" in r.name for r in moral)
    page1, total = risk.list_risk_points(session, officer, limit=5, today=TODAY)
    page2, _ = risk.list_risk_points(session, officer, offset=5, limit=5, today=TODAY)
    assert len(page1) == 5 and not {r.id for r in page1} & {r.id for r in page2} and total > 10
    county, n = risk.list_risk_points(session, demo.principals["county_officer"], today=TODAY)
    assert (county, n) == ([], 0)


def test_heat_table_and_printable_register_add_up(session: Session, demo: SimpleNamespace) -> None:
    officer = demo.principals["officer"]
    total = risk.list_risk_points(session, officer, today=TODAY)[1]
    table = risk.heat_table(session, officer)
    assert table.count == total and [r.department_name for r in table.rows] == ["市演示局"]
    row = table.rows[0]
    assert row.highest_level == 1 and sum(c.count for c in row.cells.values()) == total
    printable = risk.printable_register(session, officer, today=TODAY)
    assert printable.point_count == total
    assert sum(len(p.points) for d in printable.departments for p in d.posts) == total
    assert sum(printable.level_counts.values()) == total and printable.criteria_version == "MY-LZ-2014"


def test_the_post_page_bundles_points_measures_checks_reviews_and_incidents(
    session: Session, demo: SimpleNamespace
) -> None:
    officer = demo.principals["officer"]
    flagged, _ = risk.list_risk_points(session, officer, filters=risk.RiskPointFilter(flag=risk.PointFlag.REGRADE),
                                       today=TODAY)
    page = risk.post_risk_page(session, officer, flagged[0].post_id, today=TODAY)
    assert page.points and page.measures and page.checks and page.reviews
    assert page.signal.prompted and len(page.incidents) >= page.signal.threshold
    assert {m.id for m in page.measures} == {mid for p in page.points for mid in p.measure_ids}
    count = session.exec(select(func.count()).select_from(risk.RiskPoint)).one()
    assert count >= len(page.points)
