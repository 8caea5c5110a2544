"""Reviews, checks with evidence, the re-grading signal and reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlmodel import Session

import risk
from risk.evidence import evidence_path
from supervision import incidents, org
from supervision.errors import InvalidInput
from supervision.org import OrgKind
from tests.conftest import SYSTEM
from tests.risk.conftest import TODAY, add_measure, add_point

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_review_dated_before_the_last_one_is_refused(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-05-20"}, today=TODAY)
    with pytest.raises(InvalidInput) as err:
        risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-05-19"}, today=TODAY)
    assert err.value.problems[0].field == "reviewed_on"
    assert "2026-05-20" in err.value.message("en")


def test_a_regrading_keeps_the_history(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-05-01"}, today=TODAY)
    risk.record_review(session, officer, point.id or 0, {
        "reviewed_on": "2026-05-28", "outcome": "regraded", "level": 1, "grading_basis": "岗位增加审批权"},
        today=TODAY)
    assert point.level == 1 and point.grading_basis == "岗位增加审批权"
    # Level 1: 90 days from 2026-05-28 = 2026-08-26 (Wednesday).
    assert point.next_review_due == date(2026, 8, 26)
    history = risk.list_reviews(session, officer, point.id or 0)
    assert [(r.level_before, r.level_after) for r in history] == [(2, 1), (2, 2)]
    assert history[1].grading_basis == "审核环节,不直接作出决定"


def test_a_level_change_must_be_a_regrading_with_a_basis(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    with pytest.raises(InvalidInput) as err:
        risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-05-01", "level": 1}, today=TODAY)
    assert [p.field for p in err.value.problems] == ["outcome"]
    with pytest.raises(InvalidInput) as err:
        risk.record_review(session, officer, point.id or 0,
                           {"reviewed_on": "2026-05-01", "outcome": "regraded", "level": 2}, today=TODAY)
    assert {p.field for p in err.value.problems} == {"level", "grading_basis"}
    with pytest.raises(InvalidInput) as err:
        risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-06-02"}, today=TODAY)
    assert err.value.problems[0].field == "reviewed_on"


def test_a_retired_point_leaves_the_register_but_keeps_its_page(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-05-01", "outcome": "retired"},
                       today=TODAY)
    assert risk.list_risk_points(session, officer, today=TODAY)[1] == 0
    page = risk.post_risk_page(session, officer, risk_org.post, today=TODAY)
    assert [p.active for p in page.points] == [False]


def test_a_change_of_duties_makes_the_point_due_until_reviewed(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    flagged = risk.RiskPointFilter(flag=risk.PointFlag.DUTIES_CHANGED)
    assert risk.list_risk_points(session, officer, filters=flagged, today=TODAY)[1] == 0
    org.update_entity(session, SYSTEM, OrgKind.POST, risk_org.post, {"duties": "受理户籍和居住证业务"})
    rows, total = risk.list_risk_points(session, officer, filters=flagged, today=TODAY)
    assert total == 1 and risk.PointFlag.DUTIES_CHANGED in rows[0].flags
    risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-06-01", "trigger": "duties_changed"},
                       today=TODAY)
    assert risk.list_risk_points(session, officer, filters=flagged, today=TODAY)[1] == 0


def test_a_check_stores_its_evidence_by_hash(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    measure = add_measure(session, risk_org, [point.id or 0])
    upload = risk.EvidenceUpload("抽查记录.pdf", "application/pdf", PDF)
    check = risk.record_check(session, officer, measure.id or 0,
                              {"checked_on": "2026-05-29", "result": "partly", "checker_id": risk_org.head},
                              evidence=upload, today=TODAY)
    assert check.checker_name == "赵科长"
    assert check.evidence_size == len(PDF) and evidence_path(check.evidence_sha256).read_bytes() == PDF
    assert measure.last_result is risk.CheckResult.PARTLY
    assert measure.next_check_due == date(2026, 8, 31)
    found = risk.evidence_of_check(session, risk_org.principals["manager"], check.id or 0)
    assert found.name == "抽查记录.pdf" and found.content_type == "application/pdf"


def test_evidence_of_the_wrong_type_or_size_is_refused(session: Session, risk_org: SimpleNamespace,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    officer = risk_org.principals["officer"]
    measure = add_measure(session, risk_org, [add_point(session, risk_org).id or 0])
    data = {"checked_on": "2026-05-29", "result": "effective", "checker_name": "孙检查"}
    with pytest.raises(InvalidInput) as err:
        risk.record_check(session, officer, measure.id or 0, data,
                          evidence=risk.EvidenceUpload("x.pdf", "application/pdf", b"MZ\x90\x00 not a pdf"))
    assert err.value.problems[0].field == "evidence"
    monkeypatch.setenv("SUPERVISION_RISK_EVIDENCE_MAX_MB", "1")
    with pytest.raises(InvalidInput):
        risk.record_check(session, officer, measure.id or 0, data,
                          evidence=risk.EvidenceUpload("x.pdf", "application/pdf", PDF + b"0" * 1024 * 1024))


def test_incidents_past_the_threshold_flag_the_point_until_a_review(
    session: Session, risk_org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERVISION_RISK_SIGNAL_THRESHOLD", "2")
    officer = risk_org.principals["officer"]
    # A service-attitude point: bad ratings concern it (video alerts about a camera do not).
    point = add_point(session, risk_org, name="窗口服务态度生硬", manifestation="对群众冷硬横推", category="moral")
    flagged = risk.RiskPointFilter(flag=risk.PointFlag.REGRADE)
    incidents.record_incident(session, kind="bad_rating", source_kind="rating", source_id=1,
                              occurred_at=datetime(2026, 5, 20, 2, tzinfo=UTC), staff_id=risk_org.staff)
    incidents.record_incident(session, kind="bad_rating", source_kind="rating", source_id=7,
                              occurred_at=datetime(2025, 12, 1, 2, tzinfo=UTC), post_id=risk_org.post)
    incidents.record_incident(session, kind="video_alert", source_kind="video_event", source_id=3,
                              occurred_at=datetime(2026, 5, 30, 2, tzinfo=UTC), post_id=risk_org.post)
    assert risk.list_risk_points(session, officer, filters=flagged, today=TODAY)[1] == 0  # one is too old
    incidents.record_incident(session, kind="bad_rating", source_kind="rating", source_id=9,
                              occurred_at=datetime(2026, 5, 31, 2, tzinfo=UTC), post_id=risk_org.post)
    rows, total = risk.list_risk_points(session, officer, filters=flagged, today=TODAY)
    assert total == 1 and rows[0].incident_count == 2
    detail = risk.risk_point_detail(session, officer, point.id or 0, today=TODAY)
    assert detail.signal.prompted and [i.source_id for i in detail.incidents] == ["9", "1"]
    assert [i.kind for i in detail.other_incidents] == ["video_alert"]
    review = risk.record_review(session, officer, point.id or 0, {"reviewed_on": "2026-06-01", "trigger": "incidents"},
                                today=TODAY)
    assert review.incident_count == 2
    assert risk.list_risk_points(session, officer, filters=flagged, today=TODAY)[1] == 0


def test_reminders_go_to_officers_and_the_responsible_people(session: Session, risk_org: SimpleNamespace) -> None:
    officer = risk_org.principals["officer"]
    point = add_point(session, risk_org)
    measure = add_measure(session, risk_org, [point.id or 0])
    assert risk.generate_reminders(session, today=TODAY) == 0
    later = date(2026, 9, 2)  # the quarterly check (due 09-01) is overdue
    created = risk.generate_reminders(session, today=later)
    assert created == 2  # the officers' one and the owner's
    assert risk.generate_reminders(session, today=later) == 0
    rows, total = risk.list_reminders(session, officer, today=later)
    assert total == 1 and rows[0].kind is risk.ReminderKind.CHECK_OVERDUE and rows[0].measure_id == measure.id
    # The review (due 2026-11-30) comes into the 14-day lead on 11-16: officers + three responsible people.
    assert risk.generate_reminders(session, today=date(2026, 11, 16)) == 4
    staff_rows, _ = risk.list_reminders(session, risk_org.principals["staff"], today=date(2026, 11, 16))
    assert [r.kind for r in staff_rows] == [risk.ReminderKind.REVIEW_DUE]
    assert risk.list_reminders(session, risk_org.principals["county_officer"], today=later)[1] == 0
    risk.record_check(session, officer, measure.id or 0, {"checked_on": "2026-06-01", "result": "effective",
                                                          "checker_name": "孙检查"}, today=TODAY)
    open_rows, _ = risk.list_reminders(session, officer, today=date(2026, 11, 16))
    assert [r.kind for r in open_rows] == [risk.ReminderKind.REVIEW_DUE]
    risk.close_reminder(session, risk_org.principals["staff"], staff_rows[0].id)
    assert risk.list_reminders(session, risk_org.principals["staff"], today=date(2026, 11, 16))[1] == 0
