"""Risk points and countermeasures: validation, roles, audit."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

import risk
from risk.models import RiskPointMeasure
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import AuditEntry
from tests.risk.conftest import TODAY, add_measure, add_point, measure_data, point_data


def test_a_point_records_level_basis_criteria_and_next_review(session: Session, risk_org: SimpleNamespace) -> None:
    point = add_point(session, risk_org)
    assert point.level == 2
    criteria = session.get(risk.GradingCriteria, point.criteria_id)
    assert criteria is not None and criteria.version == "MY-LZ-2014"
    # 2026-06-01 + 180 days = 2026-11-28, a Saturday: due on Monday the 30th.
    assert point.next_review_due == date(2026, 11, 30)
    actions = [e.action for e in session.exec(select(AuditEntry))]
    assert "risk.point.create" in actions


def test_unknown_post_bad_category_and_level_are_named(session: Session, risk_org: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        add_point(session, risk_org, category="money", level=4)
    assert {p.field for p in err.value.problems} == {"category", "level"}
    with pytest.raises(InvalidInput) as err:
        add_point(session, risk_org, post_id=99999)
    assert [p.field for p in err.value.problems] == ["post_id"]
    assert "post" in err.value.message("en")


def test_every_problem_of_a_point_is_reported_at_once(session: Session, risk_org: SimpleNamespace) -> None:
    add_point(session, risk_org)
    with pytest.raises(InvalidInput) as err:
        add_point(session, risk_org, name=" ", grading_basis="", direct_responsible_id=4242)
    assert {p.field for p in err.value.problems} == {"code", "name", "grading_basis", "direct_responsible_id"}


def test_a_measure_without_owner_or_frequency_is_refused(session: Session, risk_org: SimpleNamespace) -> None:
    point = add_point(session, risk_org)
    data = measure_data(risk_org, [point.id or 0])
    del data["owner_id"], data["check_frequency"]
    with pytest.raises(InvalidInput) as err:
        risk.create_countermeasure(session, risk_org.principals["officer"], data)
    assert {p.field for p in err.value.problems} == {"owner_id", "check_frequency"}


def test_one_measure_covers_several_points(session: Session, risk_org: SimpleNamespace) -> None:
    p1 = add_point(session, risk_org)
    p2 = add_point(session, risk_org, code="FX-002", name="户籍受理刁难", category="moral", level=3)
    m = add_measure(session, risk_org, [p1.id or 0, p2.id or 0])
    links = session.exec(select(RiskPointMeasure).where(RiskPointMeasure.measure_id == m.id)).all()
    assert {link.point_id for link in links} == {p1.id, p2.id}
    assert m.site_id == risk_org.city
    # Quarterly from 2026-06-01: 2026-09-01, a Tuesday.
    assert m.next_check_due == date(2026, 9, 1)


def test_update_keeps_the_level_and_audits_the_difference(session: Session, risk_org: SimpleNamespace) -> None:
    point = add_point(session, risk_org)
    risk.update_risk_point(session, risk_org.principals["officer"], point.id or 0, {"name": "户籍审核不严"})
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "risk.point.update")).one()
    assert "户籍审核不严" in entry.detail
    assert point.level == 2


def test_managers_read_but_cannot_write(session: Session, risk_org: SimpleNamespace) -> None:
    point = add_point(session, risk_org)
    manager = risk_org.principals["manager"]
    assert risk.get_risk_point(session, manager, point.id or 0).code == "FX-001"
    with pytest.raises(Forbidden):
        risk.create_risk_point(session, manager, point_data(risk_org, code="FX-009"))
    with pytest.raises(Forbidden):
        risk.update_risk_point(session, manager, point.id or 0, {"name": "x"})


def test_officers_write_only_inside_their_jurisdiction(session: Session, risk_org: SimpleNamespace) -> None:
    county_officer = risk_org.principals["county_officer"]
    with pytest.raises(InvalidInput) as err:
        risk.create_risk_point(session, county_officer, point_data(risk_org))
    assert [p.field for p in err.value.problems] == ["post_id"]
    city_point = add_point(session, risk_org)
    with pytest.raises(NotFound):
        risk.get_risk_point(session, county_officer, city_point.id or 0)
    own = risk.create_risk_point(session, county_officer, point_data(
        risk_org, code="FC-FX-1", post_id=risk_org.county_post, direct_responsible_id=risk_org.county_staff))
    assert own.post_id == risk_org.county_post


def test_window_staff_read_the_points_and_measures_of_their_own_post_only(
    session: Session, risk_org: SimpleNamespace
) -> None:
    mine = add_point(session, risk_org)
    measure = add_measure(session, risk_org, [mine.id or 0])
    other = add_point(session, risk_org, code="FC-FX-1", post_id=risk_org.county_post, actor="officer")
    staff = risk_org.principals["staff"]
    rows, total = risk.list_risk_points(session, staff, today=TODAY)
    assert total == 1 and rows[0].id == mine.id
    measures, _ = risk.list_countermeasures(session, staff, today=TODAY)
    assert [m.id for m in measures] == [measure.id]
    with pytest.raises(NotFound):
        risk.get_risk_point(session, staff, other.id or 0)
    with pytest.raises(Forbidden):
        risk.update_risk_point(session, staff, mine.id or 0, {"name": "x"})


def test_supervisors_have_no_access(session: Session, risk_org: SimpleNamespace) -> None:
    # Supervisors hold OWN_RECORDS but no staff record: they see nothing rather than everything.
    add_point(session, risk_org)
    rows, total = risk.list_risk_points(session, risk_org.principals["supervisor"], today=TODAY)
    assert (rows, total) == ([], 0)


def test_a_point_with_reviews_cannot_be_deleted(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-06-01"}, today=TODAY)
    with pytest.raises(Conflict):
        risk.delete_risk_point(session, officer, point.id or 0)
    fresh = add_point(session, risk_org, code="FX-002")
    risk.delete_risk_point(session, officer, fresh.id or 0)
    with pytest.raises(NotFound):
        risk.get_risk_point(session, officer, fresh.id or 0)


def test_changing_the_frequency_moves_the_next_check(session: Session, risk_org: SimpleNamespace) -> None:
    point = add_point(session, risk_org)
    measure = add_measure(session, risk_org, [point.id or 0])
    risk.record_check(session, risk_org.principals["officer"], measure.id or 0,
                      {"checked_on": "2026-03-02", "result": "effective", "checker_name": "孙检查"}, today=TODAY)
    risk.update_countermeasure(session, risk_org.principals["officer"], measure.id or 0,
                               {"check_frequency": "monthly"})
    assert measure.next_check_due == date(2026, 4, 2)


def test_a_measure_page_lists_its_points_and_checks(session: Session, risk_org: SimpleNamespace) -> None:
    p1 = add_point(session, risk_org)
    p2 = add_point(session, risk_org, code="FX-002")
    measure = add_measure(session, risk_org, [p1.id or 0, p2.id or 0])
    risk.record_check(session, risk_org.principals["officer"], measure.id or 0,
                      {"checked_on": "2026-05-06", "result": "not_effective", "checker_name": "孙检查"}, today=TODAY)
    detail = risk.countermeasure_detail(session, risk_org.principals["staff"], measure.id or 0, today=TODAY)
    assert [p.code for p in detail.points] == ["FX-001", "FX-002"]
    assert [c.result for c in detail.checks] == [risk.CheckResult.NOT_EFFECTIVE]
    assert risk.MeasureFlag.NOT_EFFECTIVE in detail.measure.flags


def test_a_refused_update_changes_nothing(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    add_point(session, risk_org)
    other = add_point(session, risk_org, code="FX-002", name="原名称")
    with pytest.raises(InvalidInput) as err:
        risk.update_risk_point(session, officer, other.id or 0, {"code": "FX-001", "name": "新名称", "category": None})
    assert {p.field for p in err.value.problems} == {"code", "category"}
    session.commit()
    assert risk.get_risk_point(session, officer, other.id or 0).name == "原名称"
    measure = add_measure(session, risk_org, [other.id or 0])
    with pytest.raises(InvalidInput) as err:
        risk.update_countermeasure(session, officer, measure.id or 0, {"owner_id": None, "check_frequency": None})
    assert {p.field for p in err.value.problems} == {"owner_id", "check_frequency"}
