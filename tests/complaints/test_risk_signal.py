"""The risk signal points at the right risks: complaints count against the points they concern (issue 14 §6).

Driven as users would: a supervisor's upheld complaints about a clerk's manner, the register an officer
reads, and the officer's re-link. The expected links are written out here, not computed by the code.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session, col, select

import risk
from complaints.concerns import order_concerns
from risk.models import RiskIncidentLink
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.incidents import Concern
from supervision.models import AuditEntry, Incident
from tests.complaints.conftest import MONDAY
from tests.complaints.test_revisions_rollup import _closed_upheld

TODAY = (MONDAY + timedelta(days=5)).date()
REGRADE = risk.RiskPointFilter(flag=risk.PointFlag.REGRADE)


def _point(s: Session, w: SimpleNamespace, code: str, name: str, manifestation: str, category: str) -> int:
    data: dict[str, Any] = {"code": code, "name": name, "post_id": w.post, "category": category, "level": 2,
                            "manifestation": manifestation, "grading_basis": "窗口岗位,直接面对群众"}
    return risk.create_risk_point(s, w.p["officer"], data, today=TODAY).id or 0


@pytest.fixture
def points(s: Session, world: SimpleNamespace) -> SimpleNamespace:
    """The post's register as the demo files it: an attitude point, a 优亲厚友 point, a review point."""
    return SimpleNamespace(
        attitude=_point(s, world, "FX-TD", "服务态度生硬、推诿", "对群众咨询敷衍了事、冷硬横推", "moral"),
        favour=_point(s, world, "FX-YQ", "人情审核、优亲厚友", "对熟人、关系人的申请降低审查标准或优先办理", "moral"),
        review=_point(s, world, "FX-SH", "审核把关不严", "对不符合条件的申请提出同意意见", "duty"),
    )


def _flagged(s: Session, w: SimpleNamespace) -> dict[str, int]:
    rows, _ = risk.list_risk_points(s, w.p["officer"], filters=REGRADE, today=TODAY)
    return {r.code: r.incident_count for r in rows}


def _counts(s: Session, w: SimpleNamespace) -> dict[str, int]:
    rows, _ = risk.list_risk_points(s, w.p["officer"], filters=risk.RiskPointFilter(post_id=w.post), today=TODAY)
    return {r.code: r.incident_count for r in rows}


def test_the_words_of_an_order_and_of_a_point_say_what_they_are_about() -> None:
    assert order_concerns("", "窗口工作人员态度生硬", integrity=False) == {Concern.ATTITUDE}
    assert order_concerns("办事被要求插队费", "工作人员为熟人插队办理", integrity=False) == {Concern.FAVOURITISM}
    assert order_concerns("", "说不清楚", integrity=True) == {Concern.GRAFT}  # an integrity tip by default
    assert order_concerns("", "说不清楚", integrity=False) == frozenset()
    assert risk.point_concerns("服务态度生硬、推诿", "对群众咨询敷衍了事、冷硬横推", "moral") == {
        Concern.ATTITUDE: "态度", Concern.DELAY: "推诿"}
    assert risk.point_concerns("人情审核、优亲厚友", "对熟人、关系人的申请降低审查标准", "moral") == {
        Concern.FAVOURITISM: "优亲厚友"}
    # The category counts too: a 制度机制 point that mentions 收费 is about the system, not a clerk's fees.
    assert risk.point_concerns("票据管理混乱", "收费票据领用不规范", "system") == {}


def test_three_attitude_complaints_flag_the_attitude_point_and_not_favouritism(
    s: Session, world: SimpleNamespace, points: SimpleNamespace
) -> None:
    for _ in range(3):
        _closed_upheld(s, world)  # "窗口工作人员态度生硬", upheld, about 张三 of the post
    assert _flagged(s, world) == {"FX-TD": 3}
    assert _counts(s, world) == {"FX-TD": 3, "FX-YQ": 0, "FX-SH": 0}
    links = s.exec(select(RiskIncidentLink).where(col(RiskIncidentLink.point_id) == points.attitude)).all()
    assert {(x.made_by, x.concern, x.matched) for x in links} == {(risk.LinkMaker.RULE, "attitude", "态度")}
    detail = risk.risk_point_detail(s, world.p["officer"], points.favour, today=TODAY)
    assert detail.incidents == [] and len(detail.other_incidents) == 3  # the officer can still link them


def test_an_officers_relink_moves_the_flag_and_is_audited(
    s: Session, world: SimpleNamespace, points: SimpleNamespace
) -> None:
    officer = world.p["officer"]
    orders = [_closed_upheld(s, world) for _ in range(3)]
    ids = [s.exec(select(Incident.id).where(col(Incident.source_id) == str(o))).one() for o in orders]
    # The officer reads the complaints: the clerk favoured acquaintances; manner was only how it showed.
    for incident_id in ids:
        risk.change_link(s, officer, points.favour, {"incident_id": incident_id, "linked": True,
                                                     "reason": "调查发现系为熟人优先办理"})
    risk.change_link(s, officer, points.attitude, {"incident_id": ids[0], "linked": False,
                                                   "reason": "态度问题系优亲厚友的表现"})
    assert _flagged(s, world) == {"FX-YQ": 3}
    assert _counts(s, world) == {"FX-TD": 2, "FX-YQ": 3, "FX-SH": 0}
    # The re-link job does not put back a link an officer took off.
    assert risk.relink_incidents(s, today=TODAY) == 0
    assert _counts(s, world)["FX-TD"] == 2
    page = risk.post_risk_page(s, officer, world.post, today=TODAY)
    first = next(i for i in page.incidents if i.id == ids[0])
    assert {(x.point_code, x.made_by.value, x.removed) for x in first.links} == {
        ("FX-TD", "rule", True), ("FX-YQ", "officer", False)}
    actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.object_kind) == "risk_point")
                     .order_by(col(AuditEntry.id))).all()
    assert actions.count("risk.incident_link") == 3 and actions.count("risk.incident_unlink") == 1


def test_a_relink_needs_a_reason_the_same_post_and_the_officers_permission(
    s: Session, world: SimpleNamespace, points: SimpleNamespace
) -> None:
    officer = world.p["officer"]
    incident_id = s.exec(select(Incident.id).where(
        col(Incident.source_id) == str(_closed_upheld(s, world)))).one()
    with pytest.raises(InvalidInput) as err:
        risk.change_link(s, officer, points.favour, {"incident_id": incident_id, "linked": True, "reason": " "})
    assert err.value.problems[0].field == "reason"
    with pytest.raises(Conflict):
        risk.change_link(s, officer, points.attitude, {"incident_id": incident_id, "linked": True, "reason": "x"})
    with pytest.raises(Conflict):
        risk.change_link(s, officer, points.favour, {"incident_id": incident_id, "linked": False, "reason": "x"})
    with pytest.raises(Forbidden):
        risk.change_link(s, world.p["manager"], points.favour, {"incident_id": incident_id, "linked": True,
                                                                "reason": "x"})
    other = _point(s, world, "FX-X", "优亲厚友", "为熟人插队", "moral")
    s.get(risk.RiskPoint, other).post_id = world.county_post  # type: ignore[union-attr]
    s.flush()
    with pytest.raises(NotFound):  # an incident of another post is not about this point
        risk.change_link(s, world.p["officer"], other, {"incident_id": incident_id, "linked": True, "reason": "x"})


def test_incidents_recorded_before_the_table_are_linked_by_the_relink_job(
    s: Session, world: SimpleNamespace, points: SimpleNamespace
) -> None:
    _closed_upheld(s, world)
    s.exec(select(RiskIncidentLink)).all()
    for link in s.exec(select(RiskIncidentLink)).all():
        s.delete(link)  # as an installation upgraded to risk_0002 finds its incidents: no links
    s.flush()
    assert _counts(s, world)["FX-TD"] == 0
    assert risk.relink_incidents(s, today=TODAY) == 1
    assert _counts(s, world) == {"FX-TD": 1, "FX-YQ": 0, "FX-SH": 0}
    assert risk.relink_incidents(s, today=TODAY) == 0


def test_risk_pages_read_incidents_in_the_readers_language(
    s: Session, world: SimpleNamespace, points: SimpleNamespace
) -> None:
    from supervision.i18n import translate

    _closed_upheld(s, world)
    row = risk.risk_point_detail(s, world.p["officer"], points.attitude, today=TODAY).incidents[0]
    assert row.text_key == "risk.incident_text.complaint" and row.ref.startswith("GD")
    for locale, expected in (("zh-CN", f"工单 {row.ref} 投诉属实"), ("en", f"Work order {row.ref} upheld")):
        text = translate(row.text_key, locale, ref=row.ref, detail=translate(row.detail_key, locale))
        assert text == expected
