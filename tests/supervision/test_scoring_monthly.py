"""The month's scores against hand-worked examples (numbers worked out by hand in the comments), the caps,
the close (frozen rows, refused ledger writes, reopen by a city admin only) and two managers closing at once."""

from __future__ import annotations

import threading
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supervision import ledger, scoring
from supervision.db import session_scope
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.scoring import MonthClose, MonthlyScore, RuleSetCreate, ScoringItemBase

NOV = date(2026, 11, 1)
OCT = date(2026, 10, 1)


def _late(minutes: int, day: date, *, early: bool = False) -> str:
    return ledger.keyed_reason(f"ledger_reason.attendance_{'early' if early else 'late'}", day=day.isoformat(),
                               minutes=str(minutes))


def _add(session: Session, org: SimpleNamespace, *, day: date, kind: str, points: float, staff: int | None = None,
         window: int | None = None, reason: str = "测试", n: list[int] = [0]) -> int:  # noqa: B006 - a counter
    n[0] += 1
    entry = ledger.record_entry(session, actor=org.principals["manager"], day=day, kind=kind, points=points,
                                reason=reason, source_kind="test", source_id=f"t-{n[0]}", staff_id=staff,
                                window_id=window)
    return int(entry.id or 0)


def _row(rows: list[scoring.ScoreRow], kind: str, subject_id: int) -> scoring.ScoreRow:
    return next(r for r in rows if r.subject_kind == kind and r.subject_id == subject_id)


def _november(session: Session, org: SimpleNamespace) -> dict[str, int]:
    d = date(2026, 11, 10)
    ids = {
        "late8": _add(session, org, day=d, kind="late", points=-1, staff=org.staff, window=org.window,
                      reason=_late(8, d)),
        "late25": _add(session, org, day=d, kind="late", points=-2, staff=org.staff, window=org.window,
                       reason=_late(25, d)),
        "missed": _add(session, org, day=d, kind="missed_sign_in", points=-2, staff=org.staff, window=org.window),
        "bad": _add(session, org, day=d, kind="bad_rating", points=-2, staff=org.staff, window=org.window),
        "praise": _add(session, org, day=d, kind="praise", points=1, staff=org.staff, window=org.window),
        "absent": _add(session, org, day=d, kind="absent_half_day", points=-5, staff=org.staff2, window=org.window),
        # October and December do not count in November.
        "oct": _add(session, org, day=date(2026, 10, 31), kind="missed_sign_in", points=-2, staff=org.staff),
        "dec": _add(session, org, day=date(2026, 12, 1), kind="missed_sign_in", points=-2, staff=org.staff),
    }
    session.flush()
    return ids


def test_november_by_hand(session: Session, org_data: SimpleNamespace) -> None:
    ids = _november(session, org_data)
    rows = scoring.compute_month(session, month=NOV, site_path="/")
    zhang = _row(rows, "staff", org_data.staff)
    # 张三: late 8 min −1, late 25 min −2, missed −2, bad rating −2 = −7; praise +1; 100 − 7 + 1 = 94.
    assert (zhang.base, zhang.deductions, zhang.bonuses, zhang.final) == (100, -7, 1, 94)
    assert {line.key: line.points for line in zhang.items} == {
        "attendance.late_short": -1, "attendance.late_long": -2, "attendance.missed_punch": -2, "rating.bad": -2,
        "praise": 1}
    assert next(x for x in zhang.items if x.key == "rating.bad").entry_ids == (ids["bad"],)
    assert all(x.rule_version == "default-2026" for x in zhang.items)
    # 李四: half a day absent −5 = 95.
    assert _row(rows, "staff", org_data.staff2).final == 95
    # The window: attendance items score people only; bad rating −2, praise +1 = 99.
    window = _row(rows, "window", org_data.window)
    assert (window.deductions, window.bonuses, window.final) == (-2, 1, 99)
    # Its department 市公安局 the same: 99; 市民政局 and the county's department have nothing: 100.
    assert _row(rows, "department", org_data.dept).final == 99
    assert _row(rows, "department", org_data.dept2).final == 100
    assert _row(rows, "department", org_data.county_dept).final == 100
    # Ranks: 王五 (county, 100) 1st, 李四 95 2nd, 张三 94 3rd; windows: both untouched at 100 share the 1st.
    people = (org_data.county_staff, org_data.staff2, org_data.staff)
    assert [_row(rows, "staff", s).rank for s in people] == [1, 2, 3]
    assert _row(rows, "window", org_data.comprehensive).rank == 1
    assert _row(rows, "window", org_data.county_window).rank == 1
    assert window.rank == 3
    # The county alone: only its own people, windows and departments.
    county = scoring.compute_month(session, month=NOV, site_path=_path(session, org_data.county))
    assert {(r.subject_kind, r.subject_id) for r in county} == {
        ("staff", org_data.county_staff), ("window", org_data.county_window), ("department", org_data.county_dept)}


def _path(session: Session, site_id: int) -> str:
    from supervision.models import Site

    site = session.get(Site, site_id)
    assert site is not None
    return site.path


def test_caps_of_an_item_and_of_the_month(session: Session, org_data: SimpleNamespace) -> None:
    scoring.create_rule_set(session, actor=org_data.principals["admin"], body=RuleSetCreate(
        version="2026-10", effective_from=OCT, deduction_cap=4, bonus_cap=1,
        items=[ScoringItemBase(key="attendance.late_short", points=-1, cap=1, applies_to="staff")]))
    d = date(2026, 10, 12)
    for n in range(3):
        _add(session, org_data, day=d, kind="late", points=-1, staff=org_data.staff, reason=_late(5 + n, d))
    _add(session, org_data, day=d, kind="absent_half_day", points=-5, staff=org_data.staff)
    _add(session, org_data, day=d, kind="praise", points=1, staff=org_data.staff)
    _add(session, org_data, day=d, kind="bonus", points=2, staff=org_data.staff)
    row = _row(scoring.compute_month(session, month=OCT, site_path="/"), "staff", org_data.staff)
    late = next(x for x in row.items if x.key == "attendance.late_short")
    # Three times late −3, capped at 1 → −1; with the half day −5: −6, the month's cap 4 → −4.
    assert (late.raw_points, late.points, late.cap, late.rule_version) == (-3, -1, 1, "2026-10")
    # Praise +1 and a bonus +2 = +3, the month's cap 1 → +1; 100 − 4 + 1 = 97.
    assert (row.deductions, row.bonuses, row.final) == (-4, 1, 97)
    # September still follows the version before (no caps).
    for _ in range(3):
        _add(session, org_data, day=date(2026, 9, 3), kind="late", points=-1, staff=org_data.staff,
             reason=_late(3, date(2026, 9, 3)))
    assert _row(scoring.compute_month(session, month=date(2026, 9, 1), site_path="/"), "staff",
                org_data.staff).final == 97  # −3, uncapped


def test_reversal_nets_out_within_the_item(session: Session, org_data: SimpleNamespace) -> None:
    entry = _add(session, org_data, day=date(2026, 11, 4), kind="off_post", points=-3, staff=org_data.staff,
                 window=org_data.window)
    ledger.reverse_entry(session, entry, actor=org_data.principals["manager"], reason="误报")
    rows = scoring.compute_month(session, month=NOV, site_path="/")
    zhang = _row(rows, "staff", org_data.staff)
    assert zhang.final == 100
    assert next(x for x in zhang.items if x.key == "video.off_post").raw_points == 0
    assert len(next(x for x in zhang.items if x.key == "video.off_post").entry_ids) == 2


def test_close_freezes_and_refuses_the_closed_month(session: Session, org_data: SimpleNamespace) -> None:
    _november(session, org_data)
    manager = org_data.principals["manager"]
    close = scoring.close_month(session, actor=manager, month=NOV)
    assert close.status == "closed" and close.rule_version == "default-2026"
    view = scoring.month_view(session, actor=manager, month=NOV, subject_kind="staff")
    assert view.closed and not view.published
    assert _row(view.rows, "staff", org_data.staff).final == 94
    # A ledger write dated in November is refused, naming the month, on the field `day`.
    with pytest.raises(Conflict) as err:
        _add(session, org_data, day=date(2026, 11, 20), kind="late", points=-1, staff=org_data.staff)
    assert "2026-11" in err.value.message("zh-CN") and "2026-11" in err.value.message("en")
    assert err.value.problems[0].field == "day"
    # So is a reversal of a November entry (an appeal grant alone may).
    entry_id = session.exec(select(ledger.LedgerEntry.id).where(
        ledger.LedgerEntry.day == date(2026, 11, 10))).first()
    assert entry_id is not None
    with pytest.raises(Conflict):
        ledger.reverse_entry(session, entry_id, actor=manager, reason="改")
    # A new rule version from November (deductions capped at 1) changes nothing in the frozen month ...
    scoring.create_rule_set(session, actor=org_data.principals["admin"], body=RuleSetCreate(
        version="2026-11", effective_from=NOV, deduction_cap=1))
    again = scoring.month_view(session, actor=manager, month=NOV, subject_kind="staff")
    assert _row(again.rows, "staff", org_data.staff).final == 94
    # ... though the live computation would now say 100 − 1 + 1 = 100.
    assert _row(scoring.compute_month(session, month=NOV, site_path="/"), "staff", org_data.staff).final == 100
    # December is open: a correction goes there as an adjustment.
    _add(session, org_data, day=date(2026, 12, 1), kind="adjustment", points=2, staff=org_data.staff)
    # Closing twice is refused; a county manager's close is covered by the city's.
    with pytest.raises(Conflict):
        scoring.close_month(session, actor=manager, month=NOV)
    with pytest.raises(Conflict):
        scoring.close_month(session, actor=org_data.principals["county_manager"], month=NOV)
    assert scoring.closing_for(session, month=NOV, site_path=_path(session, org_data.county)) is not None


def test_month_not_ended_and_permissions(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        scoring.close_month(session, actor=org_data.principals["manager"], month=scoring.monthly.local_today())
    assert err.value.problems[0].field == "month"
    for name in ("officer", "admin", "staff", "supervisor"):
        with pytest.raises(Forbidden):
            scoring.close_month(session, actor=org_data.principals[name], month=NOV)
    # A county manager cannot close the city.
    with pytest.raises(NotFound):
        scoring.close_month(session, actor=org_data.principals["county_manager"], month=NOV, site_id=org_data.city)


def test_reopen_by_a_city_admin_only_with_a_reason(session: Session, org_data: SimpleNamespace) -> None:
    _november(session, org_data)
    scoring.close_month(session, actor=org_data.principals["manager"], month=NOV)
    for name in ("manager", "county_admin"):
        with pytest.raises(Forbidden):
            scoring.reopen_month(session, actor=org_data.principals[name], month=NOV, site_id=org_data.city,
                                 reason="错了")
    with pytest.raises(InvalidInput) as err:
        scoring.reopen_month(session, actor=org_data.principals["admin"], month=NOV, site_id=org_data.city,
                             reason="  ")
    assert err.value.problems[0].field == "reason"
    reopened = scoring.reopen_month(session, actor=org_data.principals["admin"], month=NOV, site_id=org_data.city,
                                    reason="考勤机故障,需重算")
    assert reopened.status == "reopened" and reopened.reopen_reason == "考勤机故障,需重算"
    # Open again: the entry is taken, the live score moves, the old frozen rows stay as history.
    _add(session, org_data, day=date(2026, 11, 20), kind="late", points=-1, staff=org_data.staff,
         reason=_late(4, date(2026, 11, 20)))
    view = scoring.month_view(session, actor=org_data.principals["manager"], month=NOV)
    assert not view.closed and _row(view.rows, "staff", org_data.staff).final == 93
    scoring.close_month(session, actor=org_data.principals["manager"], month=NOV)
    history = scoring.score_history(session, actor=org_data.principals["manager"], month=NOV, subject_kind="staff",
                                    subject_id=org_data.staff)
    assert [h.final for h in history] == [94, 93]
    from supervision.models import AuditEntry

    actions = set(session.exec(select(AuditEntry.action)).all())
    assert {"scoring.month_close", "scoring.month_reopen"} <= actions


def test_publish_and_what_staff_see(session: Session, org_data: SimpleNamespace) -> None:
    _november(session, org_data)
    staff = org_data.principals["staff"]
    # Before the close and before publishing: nothing for the person.
    assert scoring.month_view(session, actor=staff, month=NOV).rows == []
    scoring.close_month(session, actor=org_data.principals["manager"], month=NOV)
    assert scoring.month_view(session, actor=staff, month=NOV).rows == []
    with pytest.raises(NotFound):
        scoring.explain(session, actor=staff, month=NOV, subject_kind="staff", subject_id=org_data.staff)
    scoring.publish_month(session, actor=org_data.principals["manager"], month=NOV)
    with pytest.raises(Conflict):
        scoring.publish_month(session, actor=org_data.principals["manager"], month=NOV)
    mine = scoring.month_view(session, actor=staff, month=NOV)
    assert [(r.subject_kind, r.subject_id, r.final) for r in mine.rows] == [("staff", org_data.staff, 94)]
    row, entries = scoring.explain(session, actor=staff, month=NOV, subject_kind="staff", subject_id=org_data.staff)
    assert row.final == 94 and len(entries) == 5
    with pytest.raises(NotFound):
        scoring.explain(session, actor=staff, month=NOV, subject_kind="staff", subject_id=org_data.staff2)
    # A county manager does not reach the city's people.
    with pytest.raises(NotFound):
        scoring.explain(session, actor=org_data.principals["county_manager"], month=NOV, subject_kind="staff",
                        subject_id=org_data.staff)
    assert scoring.trend(session, actor=staff, subject_kind="staff", subject_id=org_data.staff,
                         until=date(2026, 12, 1), months=3) == [(OCT, None), (NOV, 94), (date(2026, 12, 1), None)]


def test_refreeze_keeps_the_old_revision(session: Session, org_data: SimpleNamespace) -> None:
    ids = _november(session, org_data)
    close = scoring.close_month(session, actor=org_data.principals["manager"], month=NOV)
    ledger.reverse_entry(session, ids["bad"], actor=org_data.principals["manager"], reason="申诉成立",
                         allow_closed=True)
    row = scoring.refreeze(session, close=close, subject_kind="staff", subject_id=org_data.staff, reason="申诉成立")
    # 94 without the bad rating's −2: 96, revision 2; the old revision kept.
    assert (row.final, row.revision) == (96, 2)
    stored = session.exec(select(MonthlyScore).where(MonthlyScore.subject_kind == "staff",
                                                     MonthlyScore.subject_id == org_data.staff)).all()
    assert sorted((s.revision, s.final, s.superseded_at is not None) for s in stored) == [(1, 94, True), (2, 96, False)]


def test_close_checks_ask_first_or_are_recorded(session: Session, org_data: SimpleNamespace,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring.monthly, "_CLOSE_CHECKS", [])
    scoring.register_close_check(lambda s, month, path: ["申诉 #3 待处理"] if month == NOV else [])
    with pytest.raises(Conflict) as err:
        scoring.close_month(session, actor=org_data.principals["manager"], month=NOV)
    assert "申诉 #3 待处理" in err.value.message("zh-CN")
    close = scoring.close_month(session, actor=org_data.principals["manager"], month=NOV, force=True)
    assert close.forced_over == "申诉 #3 待处理"


def test_two_managers_closing_at_once_close_it_once(engine: Engine, org_data: SimpleNamespace) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def close() -> None:
        barrier.wait(timeout=60)
        try:
            with session_scope(engine, write=True) as s:
                scoring.close_month(s, actor=org_data.principals["manager"], month=NOV)
            outcomes.append("closed")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=close) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["closed", "conflict"]
    with Session(engine) as s:
        assert len(s.exec(select(MonthClose)).all()) == 1


def test_attendance_leaves_a_closed_month_alone(session: Session, org_data: SimpleNamespace) -> None:
    from supervision import attendance
    from supervision.attendance import AttendanceDay, DayCorrection, DayStatus

    day = AttendanceDay(staff_id=org_data.staff, site_id=org_data.city, day=date(2026, 10, 14),
                        status=DayStatus.LATE, late_minutes=20)
    session.add(day)
    session.flush()
    scoring.close_month(session, actor=org_data.principals["manager"], month=OCT)
    session.commit()
    before = len(session.exec(select(ledger.LedgerEntry)).all())
    # A correction by hand of a day in the closed month is refused, naming the month.
    with pytest.raises(Conflict) as err:
        attendance.correct_day(session, actor=org_data.principals["manager"], day_id=day.id or 0,
                               correction=DayCorrection(status=DayStatus.ABSENT, reason="补录旷工"))
    assert "2026-10" in err.value.message("en")
    session.rollback()
    # A recomputation of the closed month writes nothing to the ledger.
    attendance.compute_days(session, actor=org_data.principals["manager"], start=date(2026, 10, 1),
                            end=date(2026, 10, 31))
    assert len(session.exec(select(ledger.LedgerEntry)).all()) == before
    # November is open: the same computation scores its days.
    attendance.compute_days(session, actor=org_data.principals["manager"], start=date(2026, 11, 1),
                            end=date(2026, 11, 30))
    assert len(session.exec(select(ledger.LedgerEntry)).all()) > before
