"""Score appeals end to end: filed within the working days after publication, granted (entry reversed, score
recomputed as a new revision, the old one kept) or refused with a reason; refusals name what is wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlmodel import Session, col, select

from supervision import ledger, scoring
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import AuditEntry, LedgerEntry
from supervision.scoring import MonthClose, MonthlyScore, appeals
from supervision.scoring.appeals import AppealCreate, AppealDecision, AppealFilter, ScoreAppeal

NOV = date(2026, 11, 1)
# Published on Tuesday 1 December 2026, 10:00 in Shanghai. Five working days after it (Wed 2, Thu 3, Fri 4,
# Mon 7, Tue 8; no holiday in between): the last day to appeal is Tuesday 8 December.
PUBLISHED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LAST_DAY = date(2026, 12, 8)


def _entry(s: Session, org: SimpleNamespace, *, kind: str, points: float, staff: int, window: int | None,
           source: str) -> int:
    entry = ledger.record_entry(s, actor=org.principals["manager"], day=date(2026, 11, 10), kind=kind, points=points,
                                reason="测试记分", source_kind="test", source_id=source, staff_id=staff,
                                window_id=window)
    return int(entry.id or 0)


@pytest.fixture
def month(session: Session, org_data: SimpleNamespace) -> SimpleNamespace:
    """November with 张三's bad rating (−2, also his window's) and lateness (−1), 李四's missed punch (−2);
    closed and published by the city's manager."""
    ns = SimpleNamespace(org=org_data)
    ns.bad = _entry(session, org_data, kind="bad_rating", points=-2, staff=org_data.staff, window=org_data.window,
                    source="r1")
    ns.late = _entry(session, org_data, kind="missed_sign_in", points=-2, staff=org_data.staff, window=None,
                     source="a1")
    ns.other = _entry(session, org_data, kind="missed_sign_in", points=-2, staff=org_data.staff2, window=None,
                      source="a2")
    close = scoring.close_month(session, actor=org_data.principals["manager"], month=NOV)
    scoring.publish_month(session, actor=org_data.principals["manager"], month=NOV)
    close.published_at = PUBLISHED
    session.add(close)
    session.flush()
    ns.close = close
    return ns


def _file(s: Session, who: object, *, entry: int | None = None, month: str | None = None,
          today: date = date(2026, 12, 3)) -> ScoreAppeal:
    return appeals.file_appeal(s, actor=who, body=AppealCreate(ledger_entry_id=entry, month=month,  # type: ignore[arg-type]
                                                               reason="该差评系误评,办件当天本人不在岗"), today=today)


def _current(s: Session, kind: str, subject_id: int) -> MonthlyScore:
    return s.exec(select(MonthlyScore).where(col(MonthlyScore.subject_kind) == kind,
                                             col(MonthlyScore.subject_id) == subject_id,
                                             col(MonthlyScore.superseded_at).is_(None))).one()


def test_granted_appeal_reverses_the_entry_and_recomputes_the_score_keeping_the_history(
        session: Session, month: SimpleNamespace) -> None:
    org = month.org
    staff, manager = org.principals["staff"], org.principals["manager"]
    # 张三 before: 100 − 2 (bad rating) − 2 (missed punch) = 96; his window: 100 − 2 = 98.
    assert _current(session, "staff", org.staff).final == 96
    assert _current(session, "window", org.window).final == 98

    appeal = _file(session, staff, entry=month.bad)
    assert (appeal.status, appeal.deadline, appeal.month) == ("pending", LAST_DAY, NOV)
    with pytest.raises(Conflict) as twice:
        _file(session, staff, entry=month.bad)
    assert twice.value.key == "error.scoring_appeal_exists"
    # 李四's entry is not 张三's to appeal: as unknown as a missing one.
    with pytest.raises(InvalidInput) as other:
        _file(session, staff, entry=month.other)
    assert other.value.problems[0].field == "ledger_entry_id"
    # A county manager does not reach a city appeal; the person does not decide at all.
    with pytest.raises(NotFound):
        appeals.decide_appeal(session, actor=org.principals["county_manager"], appeal_id=appeal.id or 0,
                              body=AppealDecision(grant=True, reason="越权"))
    with pytest.raises(Forbidden):
        appeals.decide_appeal(session, actor=staff, appeal_id=appeal.id or 0,
                              body=AppealDecision(grant=True, reason="自己批准"))
    assert appeals.pending_count(session, actor=manager) == 1
    assert appeals.pending_count(session, actor=org.principals["county_manager"]) == 0

    decided = appeals.decide_appeal(session, actor=manager, appeal_id=appeal.id or 0,
                                    body=AppealDecision(grant=True, reason="经核实系误评"))
    assert (decided.status, decided.revision, decided.decision_reason) == ("granted", 2, "经核实系误评")
    [reversal] = session.exec(select(LedgerEntry).where(col(LedgerEntry.reverses_id) == month.bad)).all()
    assert reversal.points == 2 and decided.reversal_ids == str(reversal.id)
    # 张三 after: 100 − 2 (missed punch) = 98, revision 2; the window back to 100; the first revisions kept.
    assert (_current(session, "staff", org.staff).final, _current(session, "staff", org.staff).revision) == (98, 2)
    assert _current(session, "window", org.window).final == 100
    history = scoring.score_history(session, actor=staff, month=NOV, subject_kind="staff", subject_id=org.staff)
    assert [(h.revision, h.final, h.superseded_at is not None) for h in history] == [(1, 96, True), (2, 98, False)]
    assert ledger.reason_key(history[1].change_reason) == ("scoring.revision_reason.appeal", {"reason": "经核实系误评"})
    # 李四 untouched.
    assert _current(session, "staff", org.staff2).revision == 1
    # The person sees the decision; deciding twice is refused.
    [seen], _ = appeals.list_appeals(session, actor=staff)
    assert (seen.status, seen.decision_reason) == ("granted", "经核实系误评")
    with pytest.raises(Conflict):
        appeals.decide_appeal(session, actor=manager, appeal_id=appeal.id or 0,
                              body=AppealDecision(grant=False, reason="再次"))
    actions = session.exec(select(AuditEntry.action).where(col(AuditEntry.object_kind) == "scoring_appeal")).all()
    assert sorted(actions) == ["scoring.appeal", "scoring.appeal_decide"]


def test_refused_with_a_reason_and_late_appeals_name_the_deadline(session: Session, month: SimpleNamespace) -> None:
    org = month.org
    staff, manager = org.principals["staff"], org.principals["manager"]
    whole = _file(session, staff, month="2026-11", today=LAST_DAY)  # the last day still counts
    with pytest.raises(Conflict) as again:
        _file(session, staff, month="2026-11", today=LAST_DAY)
    assert again.value.key == "error.scoring_appeal_exists"
    with pytest.raises(InvalidInput) as no_reason:
        appeals.decide_appeal(session, actor=manager, appeal_id=whole.id or 0,
                              body=AppealDecision(grant=False, reason="   "))
    assert no_reason.value.problems[0].field == "reason"
    refused = appeals.decide_appeal(session, actor=manager, appeal_id=whole.id or 0,
                                    body=AppealDecision(grant=False, reason="扣分事实清楚,不予支持"))
    assert (refused.status, refused.decision_reason, refused.revision) == ("refused", "扣分事实清楚,不予支持", None)
    assert _current(session, "staff", org.staff).revision == 1  # nothing recomputed
    assert session.exec(select(LedgerEntry).where(col(LedgerEntry.reverses_id).is_not(None))).all() == []

    with pytest.raises(Conflict) as late:
        _file(session, staff, entry=month.late, today=date(2026, 12, 9))
    assert late.value.key == "error.scoring_appeal_late"
    assert "2026-12-08" in late.value.message("zh-CN") and "2026-12-08" in late.value.message("en")
    # October was never published: nothing to appeal.
    with pytest.raises(Conflict) as unpublished:
        _file(session, staff, month="2026-10")
    assert unpublished.value.key == "error.scoring_appeal_unpublished"
    with pytest.raises(InvalidInput) as bad_month:
        _file(session, staff, month="2026-13")
    assert bad_month.value.problems[0].field == "month"


def test_a_whole_score_grant_reverses_the_entries_the_reviewer_names(session: Session,
                                                                     month: SimpleNamespace) -> None:
    org = month.org
    whole = _file(session, org.principals["staff"], month="2026-11")
    with pytest.raises(InvalidInput) as foreign:
        appeals.decide_appeal(session, actor=org.principals["manager"], appeal_id=whole.id or 0,
                              body=AppealDecision(grant=True, reason="部分成立", entry_ids=[month.other]))
    assert foreign.value.problems[0].field == "entry_ids"
    granted = appeals.decide_appeal(session, actor=org.principals["manager"], appeal_id=whole.id or 0,
                                    body=AppealDecision(grant=True, reason="漏打卡系设备故障", entry_ids=[month.late]))
    assert granted.revision == 2
    assert _current(session, "staff", org.staff).final == 98  # 96 + 2


def test_closing_with_open_appeals_asks_to_decide_them_or_lists_them(session: Session,
                                                                     month: SimpleNamespace) -> None:
    org = month.org
    _file(session, org.principals["staff"], entry=month.bad)
    # The city admin reopens November; closing it again finds the appeal still open.
    scoring.reopen_month(session, actor=org.principals["admin"], month=NOV, site_id=org.city, reason="更正考勤")
    with pytest.raises(Conflict) as asked:
        scoring.close_month(session, actor=org.principals["manager"], month=NOV)
    assert "张三 2026-11" in asked.value.message("zh-CN")
    # A county's close is not held up by a city appeal.
    assert appeals.open_appeals_check(session, NOV, "/" + "/".join(
        [str(org.city), str(org.county)]) + "/") == []
    forced = scoring.close_month(session, actor=org.principals["manager"], month=NOV, force=True)
    assert "张三 2026-11" in forced.forced_over
    assert session.exec(select(MonthClose).where(col(MonthClose.status) == "closed")).one().id == forced.id


def test_lists_are_scoped(session: Session, month: SimpleNamespace) -> None:
    org = month.org
    _file(session, org.principals["staff"], entry=month.bad)
    assert appeals.list_appeals(session, actor=org.principals["manager"])[1] == 1
    assert appeals.list_appeals(session, actor=org.principals["county_manager"])[1] == 0
    assert appeals.list_appeals(session, actor=org.principals["manager"],
                                f=AppealFilter(status="granted"))[1] == 0
    with pytest.raises(InvalidInput):
        appeals.list_appeals(session, actor=org.principals["manager"], f=AppealFilter(status="whatever"))
