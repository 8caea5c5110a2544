"""Quarterly awards: eligibility edge cases, the weighting against numbers worked by hand, ballots, the citizens'
import, the selection and its certificate."""

from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import awards, ledger, org
from supervision.access import SYSTEM
from supervision.awards import (
    AwardsSettings,
    BallotIn,
    Parts,
    SelectionIn,
    SubjectKind,
    Tick,
    Weights,
    weighted_score,
)
from supervision.awards.quarters import competition_ranks, last_complete_quarter
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyRole
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import AuditEntry

TODAY = date(2026, 12, 5)
Q3 = "2026Q3"


# --- pure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("2026Q3", (2026, 3)), ("2025q1", (2025, 1)), (" 2026Q4 ", (2026, 4))])
def test_a_quarter_is_read(text: str, expected: tuple[int, int]) -> None:
    assert awards.parse_quarter(text) == expected


@pytest.mark.parametrize("text", ["2026Q5", "2026-3", "Q3", "", "1999Q1", "2026Q0"])
def test_a_bad_quarter_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        awards.parse_quarter(text)
    assert refused.value.problems[0].field == "quarter"


def test_quarter_bounds_and_the_last_complete_one() -> None:
    assert awards.quarter_bounds(2026, 3) == (date(2026, 7, 1), date(2026, 9, 30))
    assert awards.quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert last_complete_quarter(date(2026, 12, 5)) == (2026, 3)
    assert last_complete_quarter(date(2027, 1, 1)) == (2026, 4)
    assert last_complete_quarter(date(2026, 3, 31)) == (2025, 4)


def test_the_weighting_by_hand() -> None:
    weights = Weights(30, 30, 20, 20)
    # 0.3 × 96 + 0.3 × 90 + 0.2 × 50 + 0.2 × 80 = 28.8 + 27 + 10 + 16
    assert weighted_score(Parts(96, 90, 50, 80), weights) == 81.8
    # No duty leader voted: the other weights share the whole, (28.8 + 27 + 16) / 0.8
    assert weighted_score(Parts(96, 90, None, 80), weights) == 89.75
    assert weighted_score(Parts(None, None, None, None), weights) is None
    # Another weighting: only the citizens count.
    assert weighted_score(Parts(96, 90, 50, 80), Weights(0, 0, 0, 100)) == 80.0


def test_equal_scores_share_a_rank() -> None:
    assert competition_ranks([90.0, 95.0, 90.0, None, 80.0]) == [2, 1, 2, None, 4]


# --- against the database -----------------------------------------------------------------------


def _entry(s: Session, day: date, kind: str, points: float, *, staff: int | None = None,
           window: int | None = None, source: str = "") -> int:
    found = ledger.record_entry(s, actor=SYSTEM, day=day, kind=kind, points=points, reason="测试",
                                source_kind="manual", source_id=source or f"{kind}-{day}-{staff}-{window}",
                                staff_id=staff, window_id=window)
    assert found.id is not None
    return found.id


@pytest.fixture
def quarter(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """The city's 2026 Q3: deductions, a reversed violation, a violation on the last day, two duty leaders."""
    o = org_data
    with session_scope(engine, write=True) as s:
        # 张三: half a day absent in August (staff only): 100, 95, 100.
        _entry(s, date(2026, 8, 12), "absent_half_day", -5, staff=o.staff)
        # 李四: a day absent in September: 100, 100, 90.
        _entry(s, date(2026, 9, 8), "absent_day", -10, staff=o.staff2)
        # The window itself: a visit finding in July: 98, 100, 100.
        _entry(s, date(2026, 7, 20), "visit_finding", -2, window=o.window)
        # 张三 caught off post in July, reversed on appeal: bars nobody, scores nothing.
        off = _entry(s, date(2026, 7, 5), "off_post", -3, staff=o.staff)
        ledger.reverse_entry(s, off, actor=SYSTEM, reason="申诉成立")
        # 王五 (county): a bad rating on the quarter's last day bars him and his window.
        _entry(s, date(2026, 9, 30), "bad_rating", -2, staff=o.county_staff)
        # 李四: an upheld complaint the day after the quarter: Q4's business.
        _entry(s, date(2026, 10, 1), "complaint_upheld", -5, staff=o.staff2)
        ids = {}
        for code, name in (("L1", "赵局长"), ("L2", "钱副局长")):
            ids[code] = int(org.create_entity(s, SYSTEM, org.OrgKind.STAFF, {
                "code": code, "name": name, "site_id": o.city, "rank": "bureau_leader"}).id)
        for n, day in enumerate((date(2026, 7, 6), date(2026, 7, 7), date(2026, 8, 3))):
            s.add(DutyAssignment(site_id=o.city, day=day, role=DutyRole.LEADER, staff_id=ids["L1" if n < 2 else "L2"],
                                 source=AssignmentSource.MANUAL))
    o.leaders = ids
    return o


def _cast(engine: Engine, o: SimpleNamespace) -> None:
    manager = o.principals["manager"]
    with session_scope(engine, write=True) as s:
        awards.cast_ballot(s, actor=manager, body=BallotIn(quarter=Q3, leader_id=o.leaders["L1"], ticks=[
            Tick(subject_kind=SubjectKind.WINDOW, subject_id=o.window),
            Tick(subject_kind=SubjectKind.WINDOW, subject_id=o.comprehensive),
            Tick(subject_kind=SubjectKind.STAFF, subject_id=o.staff)]))
        awards.cast_ballot(s, actor=manager, body=BallotIn(quarter=Q3, leader_id=o.leaders["L2"], ticks=[
            Tick(subject_kind=SubjectKind.WINDOW, subject_id=o.comprehensive),
            Tick(subject_kind=SubjectKind.STAFF, subject_id=o.staff)]))
        sheet = "类型,编号,票数\n窗口,W-GA,30\n窗口,W-ZH,60\n个人,S001,40\n个人,S002,80\n"
        awards.import_citizen_votes(s, actor=manager, quarter=Q3, data=sheet.encode())


def _board(engine: Engine, o: SimpleNamespace, who: str = "manager", **kwargs: object) -> awards.QuarterRanking:
    with Session(engine) as s:
        return awards.ranking(s, actor=o.principals[who], quarter=Q3, today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_eligibility_edge_cases(engine: Engine, quarter: SimpleNamespace) -> None:
    o = quarter
    board = _board(engine, o)
    staff = {c.subject_id: c for c in board.staff}
    windows = {c.subject_id: c for c in board.windows}
    # A reversed violation does not bar; an entry after the quarter does not either.
    assert staff[o.staff].eligible and staff[o.staff2].eligible
    # An entry on the quarter's last day does, for the person and for their window, with the reason.
    assert not staff[o.county_staff].eligible
    assert [(b.condition, b.day) for b in staff[o.county_staff].bars] == [("bad_rating", date(2026, 9, 30))]
    assert not windows[o.county_window].eligible and staff[o.county_staff].score is None
    assert windows[o.window].eligible
    # The complaint of October 1 bars 李四 in the fourth quarter.
    with Session(engine) as s:
        q4 = awards.ranking(s, actor=o.principals["manager"], quarter="2026Q4", today=TODAY)
    assert [c.bars[0].condition for c in q4.staff if c.subject_id == o.staff2] == ["complaint"]


def test_each_condition_is_a_setting(engine: Engine, quarter: SimpleNamespace,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    o = quarter
    off = _board(engine, o, settings=AwardsSettings(bar_bad_rating=False))
    assert all(c.eligible for c in off.staff) and all(c.eligible for c in off.windows)
    # Through the environment, as an installation sets it.
    monkeypatch.setenv("SUPERVISION_AWARDS_BAR_BAD_RATING", "false")
    assert all(c.eligible for c in _board(engine, o).staff)
    monkeypatch.setenv("SUPERVISION_AWARDS_BAR_BAD_RATING", "true")
    monkeypatch.setenv("SUPERVISION_AWARDS_BAR_VIDEO", "false")
    with session_scope(engine, write=True) as s:
        _entry(s, date(2026, 8, 20), "off_post", -3, staff=o.staff2)
    assert [c.eligible for c in _board(engine, o).staff if c.subject_id == o.staff2] == [True]
    monkeypatch.setenv("SUPERVISION_AWARDS_BAR_VIDEO", "true")
    assert [c.bars[0].condition for c in _board(engine, o).staff if c.subject_id == o.staff2] == ["video"]


def test_the_ranking_against_hand_worked_numbers(engine: Engine, quarter: SimpleNamespace) -> None:
    o = quarter
    _cast(engine, o)
    board = _board(engine, o)
    assert board.ballots == 2 and board.citizen_source == "import" and board.ended
    windows = {c.subject_id: c for c in board.windows}
    staff = {c.subject_id: c for c in board.staff}
    # 公安窗口: its months 98, 100, 100 -> 99.333; its people's six months (100, 95, 100, 100, 100, 90) -> 97.5;
    # ticked by 1 of 2 leaders -> 50; 30 votes of the most 60 -> 50.
    # 0.3 × 99.333 + 0.3 × 97.5 + 0.2 × 50 + 0.2 × 50 = 29.8 + 29.25 + 10 + 10 = 79.05
    ga = windows[o.window]
    assert ga.parts.window == pytest.approx(99.3333, abs=1e-3) and ga.parts.staff == pytest.approx(97.5)
    assert (ga.parts.leader, ga.parts.citizen, ga.score, ga.rank) == (50.0, 50.0, 79.05, 2)
    # 综合窗口: 100, nobody at it (no staff part), both leaders, the most votes: (30·100 + 20·100 + 20·100) / 70
    assert (windows[o.comprehensive].parts.staff, windows[o.comprehensive].score,
            windows[o.comprehensive].rank) == (None, 100.0, 1)
    # 张三: window 99.333, own 98.333, both leaders 100, 40 of 80 votes 50:
    # 29.8 + 29.5 + 20 + 10 = 89.3
    assert (staff[o.staff].score, staff[o.staff].rank) == (89.3, 1)
    # 李四: 29.8 + 0.3 × 96.667 (29.0) + 0 + 20 = 78.8
    assert (staff[o.staff2].score, staff[o.staff2].rank, staff[o.staff2].leader_votes) == (78.8, 2, 0)
    assert staff[o.county_staff].rank is None
    assert [c.subject_id for c in board.staff] == [o.staff, o.staff2, o.county_staff]


def test_the_citizens_part_from_the_rating_pads(engine: Engine, quarter: SimpleNamespace) -> None:
    """Without an import the citizens' part is the share of 满意 and 非常满意 ratings."""
    o = quarter

    def counts(_s: Session, start: date, end: date, windows: object, people: object
               ) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
        assert (start, end) == (date(2026, 7, 1), date(2026, 9, 30))
        return {o.window: (45, 50)}, {o.staff: (9, 12)}

    board = _board(engine, o, rating_counts=counts)
    assert board.citizen_source == "ratings" and board.ballots == 0
    ga = next(c for c in board.windows if c.subject_id == o.window)
    zhang = next(c for c in board.staff if c.subject_id == o.staff)
    assert (ga.parts.citizen, zhang.parts.citizen) == (90.0, 75.0)
    # No ballots: (0.3 × 99.333 + 0.3 × 97.5 + 0.2 × 90) / 0.8 = (29.8 + 29.25 + 18) / 0.8 = 96.3125
    assert ga.score == 96.31
    # 李四 has no ratings: his part has no data and does not count.
    li = next(c for c in board.staff if c.subject_id == o.staff2)
    assert li.parts.citizen is None and li.score == round((29.8 + 0.3 * 96.6666667) / 0.6, 2)


def test_ballots_only_for_duty_leaders_and_by_managers(engine: Engine, quarter: SimpleNamespace) -> None:
    o = quarter
    with session_scope(engine, write=True) as s:
        # 张三 was never on the roster as a leader.
        with pytest.raises(InvalidInput) as refused:
            awards.cast_ballot(s, actor=o.principals["manager"], body=BallotIn(quarter=Q3, leader_id=o.staff))
        assert refused.value.problems[0].field == "leader_id"
        # An officer reads but does not enter votes.
        with pytest.raises(Forbidden):
            awards.cast_ballot(s, actor=o.principals["officer"], body=BallotIn(quarter=Q3, leader_id=o.leaders["L1"]))
        # A county manager cannot reach the city's leader.
        with pytest.raises(NotFound):
            awards.cast_ballot(s, actor=o.principals["county_manager"],
                               body=BallotIn(quarter=Q3, leader_id=o.leaders["L1"]))
        with pytest.raises(InvalidInput) as twice:
            awards.cast_ballot(s, actor=o.principals["manager"], body=BallotIn(quarter=Q3, leader_id=o.leaders["L1"],
                               ticks=[Tick(subject_kind=SubjectKind.STAFF, subject_id=o.staff)] * 2))
        assert twice.value.problems[0].field == "ticks"
    _cast(engine, o)
    # A second ballot of the same leader replaces the first.
    with session_scope(engine, write=True) as s:
        awards.cast_ballot(s, actor=o.principals["manager"], body=BallotIn(
            quarter=Q3, leader_id=o.leaders["L1"], ticks=[Tick(subject_kind=SubjectKind.STAFF, subject_id=o.staff2)]))
        assert awards.ballot_of(s, quarter=Q3, leader_id=o.leaders["L1"]) == {("staff", o.staff2)}
        leaders = awards.leaders(s, actor=o.principals["manager"], quarter=Q3)
    assert [(x.name, x.days, x.cast) for x in leaders] == [("赵局长", 2, True), ("钱副局长", 1, True)]
    board = _board(engine, o)
    assert {c.subject_id: c.leader_votes for c in board.staff} == {o.staff: 1, o.staff2: 1, o.county_staff: 0}


def test_a_leader_votes_with_their_own_account(engine: Engine, quarter: SimpleNamespace) -> None:
    import dataclasses

    o = quarter
    leader = dataclasses.replace(o.principals["staff"], staff_id=o.leaders["L2"], name="L2")
    with session_scope(engine, write=True) as s:
        awards.cast_ballot(s, actor=leader, body=BallotIn(quarter=Q3, leader_id=o.leaders["L2"], ticks=[
            Tick(subject_kind=SubjectKind.WINDOW, subject_id=o.window)]))
        # But not for another leader.
        with pytest.raises(Forbidden):
            awards.cast_ballot(s, actor=leader, body=BallotIn(quarter=Q3, leader_id=o.leaders["L1"]))
    assert _board(engine, o).ballots == 1


def test_a_wrong_citizens_sheet_saves_nothing_and_names_the_rows(engine: Engine, quarter: SimpleNamespace) -> None:
    o = quarter
    sheet = "类型,编号,票数\n窗口,W-GA,30\n窗口,NOPE,5\n个人,S001,many\n团体,S002,4\n个人,FC-S01,7\n"
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput) as refused:
        awards.import_citizen_votes(s, actor=o.principals["county_manager"], quarter=Q3, data=sheet.encode())
    message = refused.value.problems[0].message("en")
    assert refused.value.problems[0].field == "file"
    # W-GA and S001 are the city's: outside a county manager's reach.
    for row in ("2: code W-GA", "3: code NOPE", "4: code S001", "5: kind"):
        assert row in message
    assert "6:" not in message
    with pytest.raises(InvalidInput) as columns, session_scope(engine, write=True) as s:
        awards.import_citizen_votes(s, actor=o.principals["manager"], quarter=Q3, data=b"name,votes\nx,1\n")
    assert columns.value.problems[0].field == "file"
    assert _board(engine, o).citizen_source == "none"


def test_selection_with_audit_withdrawal_and_refusals(engine: Engine, quarter: SimpleNamespace) -> None:
    o = quarter
    manager = o.principals["manager"]
    with session_scope(engine, write=True) as s:
        chosen = awards.select_award(s, actor=manager, today=TODAY, body=SelectionIn(
            quarter=Q3, subject_kind=SubjectKind.WINDOW, subject_id=o.window))
        # No votes yet: (29.8 + 29.25) / 0.6, second to 综合窗口's 100.
        assert chosen is not None and chosen.certificate_no == f"2026Q3-W{o.window:06d}"
        assert (chosen.score, chosen.rank) == (98.42, 2)
        with pytest.raises(Conflict):  # twice
            awards.select_award(s, actor=manager, today=TODAY, body=SelectionIn(
                quarter=Q3, subject_kind=SubjectKind.WINDOW, subject_id=o.window))
        with pytest.raises(Conflict) as barred:
            awards.select_award(s, actor=manager, today=TODAY, body=SelectionIn(
                quarter=Q3, subject_kind=SubjectKind.STAFF, subject_id=o.county_staff))
        assert barred.value.key == "error.awards_not_eligible"
        with pytest.raises(Conflict) as early:
            awards.select_award(s, actor=manager, today=TODAY, body=SelectionIn(
                quarter="2026Q4", subject_kind=SubjectKind.STAFF, subject_id=o.staff))
        assert early.value.key == "error.awards_quarter_open"
        with pytest.raises(NotFound):
            awards.select_award(s, actor=o.principals["county_manager"], today=TODAY, body=SelectionIn(
                quarter=Q3, subject_kind=SubjectKind.STAFF, subject_id=o.staff))
        with pytest.raises(Forbidden):
            awards.select_award(s, actor=o.principals["officer"], today=TODAY, body=SelectionIn(
                quarter=Q3, subject_kind=SubjectKind.STAFF, subject_id=o.staff))
        awards.select_award(s, actor=manager, today=TODAY, body=SelectionIn(
            quarter=Q3, subject_kind=SubjectKind.STAFF, subject_id=o.staff))
    board = _board(engine, o)
    assert [c.selection_id is not None for c in board.windows if c.subject_id == o.window] == [True]
    with session_scope(engine, write=True) as s:
        awards.select_award(s, actor=manager, today=TODAY, body=SelectionIn(
            quarter=Q3, subject_kind=SubjectKind.WINDOW, subject_id=o.window, selected=False))
        actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.action).startswith("awards."))).all()
    assert actions.count("awards.select") == 2 and actions.count("awards.withdraw") == 1
    with Session(engine) as s:
        # Window staff see their own award (and their window's); the county sees none of the city's.
        assert [r.subject_id for r in awards.selections(s, actor=o.principals["staff"])] == [o.staff]
        assert awards.selections(s, actor=o.principals["county_manager"]) == []


def test_the_certificate_reads_back(engine: Engine, quarter: SimpleNamespace) -> None:
    o = quarter
    with session_scope(engine, write=True) as s:
        window = awards.select_award(s, actor=o.principals["manager"], today=TODAY, body=SelectionIn(
            quarter=Q3, subject_kind=SubjectKind.WINDOW, subject_id=o.window))
        person = awards.select_award(s, actor=o.principals["manager"], today=TODAY, body=SelectionIn(
            quarter=Q3, subject_kind=SubjectKind.STAFF, subject_id=o.staff))
    assert window is not None and window.id is not None and person is not None and person.id is not None
    with session_scope(engine, write=True) as s:
        pdf = awards.certificate_pdf(s, actor=o.principals["officer"], selection_id=window.id)
        own = awards.certificate_pdf(s, actor=o.principals["staff"], selection_id=person.id)
        with pytest.raises(NotFound):
            awards.certificate_pdf(s, actor=o.principals["county_manager"], selection_id=window.id)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("荣誉证书", "公安窗口", "文明服务窗口", "第三季度", "绵阳市政务服务中心", window.certificate_no,
                     "Civilised Service Window"):
        assert expected in text, (expected, text)
    own_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(own)).pages)
    assert "张三" in own_text and "服务标兵" in own_text and "公安窗口" in own_text
