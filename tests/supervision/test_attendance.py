"""Attendance services on a real database: punches in (push, import), days computed and scored to the ledger,
corrections and 补卡 reversing what they replace, jurisdictions, and the versioned rule set."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import attendance, ledger, scoring
from supervision.access import Permission, Principal
from supervision.attendance import (
    AttendanceDay,
    CorrectionAsk,
    CorrectionDecision,
    DayCorrection,
    DayStatus,
    Punch,
    PunchBatch,
    PunchIn,
    UnknownPunch,
)
from supervision.db import session_scope
from supervision.errors import InvalidInput, NotFound
from supervision.models import AuditEntry, LedgerEntry, Site
from supervision.scoring import RuleSetCreate, ScoringItemBase
from supervision.settings import get_settings
from supervision.workdays import load_calendar
from tests.conftest import SYSTEM


def _workday(engine: Engine, back: int = 3) -> date:
    """A working day at least `back` days ago (so it is over and computable)."""
    today = datetime.now(get_settings().tz).date()
    with session_scope(engine) as s:
        cal = load_calendar(s)
        day = today - timedelta(days=back)
        while not cal.is_workday(day).value:
            day -= timedelta(days=1)
    return day


def _gateway(engine: Engine, site_id: int) -> Principal:
    with session_scope(engine) as s:
        site = s.get(Site, site_id)
        assert site is not None
        return Principal(kind="token", id=99, name="考勤网关", site_id=site_id, site_path=site.path,
                         permissions=frozenset({Permission.ATTENDANCE_PUSH}))


def _punch(code: str, day: date, hh: int, mm: int, record: str, device: str = "ZK-01") -> PunchIn:
    return PunchIn(staff_code=code, punched_at=datetime.combine(day, time(hh, mm)), device=device, record_id=record,
                   verify_mode="fingerprint")


def _ledger(s: Session, day_id: int) -> list[tuple[str, float]]:
    rows = s.exec(select(LedgerEntry).where(col(LedgerEntry.source_kind) == "attendance",
                                            col(LedgerEntry.source_id) == str(day_id))
                  .order_by(col(LedgerEntry.id))).all()
    return [(r.kind, r.points) for r in rows]


def _day(s: Session, staff_id: int, day: date) -> AttendanceDay:
    found = s.exec(select(AttendanceDay).where(col(AttendanceDay.staff_id) == staff_id,
                                               col(AttendanceDay.day) == day)).first()
    assert found is not None
    return found


def test_push_saves_once_keeps_unknown_apart_and_refuses_bad_times(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    gateway = _gateway(engine, org_data.city)
    batch = PunchBatch(punches=[
        _punch("S001", day, 8, 55, "r1"), _punch("S001", day, 17, 5, "r2"),
        _punch("X999", day, 8, 40, "r3"),  # nobody has this number
        _punch("S002", day + timedelta(days=30), 9, 0, "r4"),  # in the future
        _punch("S002", day - timedelta(days=800), 9, 0, "r5"),  # years back
        _punch("S001", day, 8, 55, "r1"),  # the same punch twice in one batch
    ])
    with session_scope(engine, write=True) as s:
        receipt = attendance.push_punches(s, actor=gateway, batch=batch)
    assert (receipt.accepted, receipt.duplicates) == (2, 1)
    assert [(u.row, u.staff_code) for u in receipt.unknown] == [(3, "X999")]
    assert [(r.row, r.record_id, r.field) for r in receipt.refused] == [
        (4, "r4", "punched_at"), (5, "r5", "punched_at")]
    with session_scope(engine, write=True) as s:
        again = attendance.push_punches(s, actor=gateway, batch=batch)
    assert (again.accepted, again.duplicates) == (0, 3)
    with session_scope(engine) as s:
        assert len(s.exec(select(Punch)).all()) == 2
        assert [u.staff_code for u in s.exec(select(UnknownPunch)).all()] == ["X999"]
        stored = s.exec(select(Punch).where(col(Punch.record_id) == "r1")).one()
    # Local 08:55 in Asia/Shanghai is 00:55 UTC the same day; the attendance day is the local one.
    assert stored.punched_at.astimezone(get_settings().tz).time() == time(8, 55)
    assert stored.punched_at.utcoffset() == timedelta(0) and stored.punched_at.hour == 0
    assert stored.local_day == day


def test_a_county_gateway_cannot_punch_for_city_staff(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    with session_scope(engine, write=True) as s:
        receipt = attendance.push_punches(s, actor=_gateway(engine, org_data.county),
                                          batch=PunchBatch(punches=[_punch("S001", day, 8, 55, "c1")]))
    assert receipt.accepted == 0 and [u.staff_code for u in receipt.unknown] == ["S001"]
    with session_scope(engine) as s:
        rows, count = attendance.list_unknown(s, actor=org_data.principals["county_manager"])
        city_rows, _ = attendance.list_unknown(s, actor=org_data.principals["manager"])
    assert count == 1 and rows[0].staff_code == "S001"
    assert len(city_rows) == 1  # the city sees its counties' unknown punches too


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["工号", "打卡时间", "设备", "验证方式"], *rows])
    return out.getvalue().encode("gb18030")


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Staff number", "Date-time", "Device", "Verify mode", "Record id"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_reports_every_bad_row_and_saves_nothing(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    manager = org_data.principals["manager"]
    future = (day + timedelta(days=60)).isoformat()
    bad = _csv([[ "S001", f"{day} 08:55:00", "ZK-01", "指纹"], ["S002", "昨天早上", "ZK-01", "人脸"],
                ["", f"{day} 09:00", "ZK-01", "刷卡"], ["S002", f"{future} 09:00", "ZK-01", "刷卡"]])
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput) as refused:
        attendance.import_punches(s, actor=manager, data=bad)
    assert sorted((p.row, p.field) for p in refused.value.problems) == [
        (3, "punched_at"), (4, "staff_code"), (5, "punched_at")]
    with session_scope(engine) as s:
        assert s.exec(select(Punch)).all() == []
    good = _csv([["S001", f"{day} 08:55:00", "ZK-01", "指纹"], ["S001", f"{day} 17:01", "ZK-01", "指纹"],
                 ["Z-404", f"{day} 09:00", "ZK-01", "刷卡"]])
    with session_scope(engine, write=True) as s:
        receipt = attendance.import_punches(s, actor=manager, data=good)
    assert (receipt.accepted, [u.staff_code for u in receipt.unknown]) == (2, ["Z-404"])
    with session_scope(engine, write=True) as s:
        again = attendance.import_punches(s, actor=manager, data=good)
    assert (again.accepted, again.duplicates) == (0, 2)


def test_excel_import_is_all_or_nothing(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    manager = org_data.principals["manager"]
    rows: list[list[object]] = [["S001", datetime.combine(day, time(8, 50)), "ZK-02", "face", "x1"],
                                ["S002", "not a time", "ZK-02", "face", "x2"],
                                ["S002", datetime.combine(day, time(9, 0)), "ZK-02", "iris", "x3"]]
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput) as refused:
        attendance.import_punches(s, actor=manager, data=_xlsx(rows))
    assert sorted((p.row, p.field) for p in refused.value.problems) == [(3, "punched_at"), (4, "verify_mode")]
    with session_scope(engine) as s:
        assert s.exec(select(Punch)).all() == []
    with session_scope(engine, write=True) as s:
        receipt = attendance.import_punches(s, actor=manager, data=_xlsx([rows[0]]))
    assert receipt.accepted == 1


def _push_day(engine: Engine, org: SimpleNamespace, day: date, times: list[tuple[int, int]], prefix: str) -> None:
    with session_scope(engine, write=True) as s:
        attendance.push_punches(s, actor=_gateway(engine, org.city), batch=PunchBatch(punches=[
            _punch("S001", day, hh, mm, f"{prefix}{i}") for i, (hh, mm) in enumerate(times)]))


def test_compute_scores_to_the_ledger_once_and_a_correction_reverses(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    manager = org_data.principals["manager"]
    _push_day(engine, org_data, day, [(9, 7), (17, 2)], "a")
    with session_scope(engine, write=True) as s:
        summary = attendance.compute_days(s, actor=manager, start=day, end=day)
    assert summary.changed == 3  # 张三 late; 李四 and the county's 王五 absent (the city covers its counties)
    with session_scope(engine) as s:
        late = _day(s, org_data.staff, day)
        absent = _day(s, org_data.staff2, day)
        assert (late.status, late.late_minutes) == (DayStatus.LATE, 7)
        assert absent.status == DayStatus.ABSENT
        assert _ledger(s, late.id or 0) == [("late", -1.0)]
        assert _ledger(s, absent.id or 0) == [("absent_day", -10.0)]
    # Computing again changes nothing and writes nothing.
    with session_scope(engine, write=True) as s:
        again = attendance.compute_days(s, actor=manager, start=day, end=day)
        assert (again.changed, again.ledger_entries) == (0, 0)
    # The manager excuses 李四 (a trip nobody entered): the deduction is reversed, nothing new is written.
    with session_scope(engine, write=True) as s:
        attendance.correct_day(s, actor=manager, day_id=absent.id or 0, correction=DayCorrection(
            status=DayStatus.TRIP, reason="外出办事,已补出差单"))
    with session_scope(engine) as s:
        assert _ledger(s, absent.id or 0) == [("absent_day", -10.0), ("absent_day", 10.0)]
        fixed = _day(s, org_data.staff2, day)
        assert (fixed.status, fixed.corrected, fixed.leave_kind) == (DayStatus.TRIP, True, "trip")
        audited = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "attendance.correct")).all()
        assert len(audited) == 1 and "外出办事" in str(audited[0].detail)
        # Each reason reads in the reader's language alone, never "考勤更正 / corrected".
        reasons = [e.reason for e in s.exec(select(LedgerEntry).where(
            col(LedgerEntry.source_kind) == "attendance", col(LedgerEntry.source_id).in_(
                [str(late.id), str(absent.id)])).order_by(col(LedgerEntry.id))).all()]
        assert [ledger.render_reason(r, "zh-CN") for r in reasons] == [
            f"考勤 {day.isoformat()}:迟到 7 分钟", f"考勤 {day.isoformat()}:旷工一天", "考勤更正:外出办事,已补出差单"]
        assert [ledger.render_reason(r, "en") for r in reasons] == [
            f"Attendance {day.isoformat()}: 7 min late", f"Attendance {day.isoformat()}: absent all day",
            "Attendance corrected: 外出办事,已补出差单"]
    # A recomputation keeps the hand correction.
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=manager, start=day, end=day)
    with session_scope(engine) as s:
        assert _day(s, org_data.staff2, day).status == DayStatus.TRIP


def test_an_approved_missed_punch_recomputes_the_day_and_its_ledger(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    manager, staff = org_data.principals["manager"], org_data.principals["staff"]
    _push_day(engine, org_data, day, [(8, 51)], "m")
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=manager, start=day, end=day, staff_ids=[org_data.staff])
    with session_scope(engine) as s:
        before = _day(s, org_data.staff, day)
        assert (before.status, _ledger(s, before.id or 0)) == (DayStatus.MISSED_PUNCH, [("missed_sign_in", -2.0)])
    with session_scope(engine, write=True) as s:
        asked = attendance.ask_correction(s, actor=staff, ask=CorrectionAsk(
            day=day, punch_time=time(17, 6), reason="考勤机故障未识别"))
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput):
        attendance.decide_correction(s, actor=manager, request_id=asked.id or 0,
                                     decision=CorrectionDecision(approve=False))  # a rejection needs a note
    with session_scope(engine, write=True) as s, pytest.raises(NotFound):
        attendance.decide_correction(s, actor=org_data.principals["county_manager"], request_id=asked.id or 0,
                                     decision=CorrectionDecision(approve=True))
    with session_scope(engine, write=True) as s:
        attendance.decide_correction(s, actor=manager, request_id=asked.id or 0,
                                     decision=CorrectionDecision(approve=True, note="属实"))
    with session_scope(engine) as s:
        after = _day(s, org_data.staff, day)
        assert (after.status, after.last_out) == (DayStatus.PRESENT, time(17, 6))
        assert _ledger(s, after.id or 0) == [("missed_sign_in", -2.0), ("missed_sign_in", 2.0)]
        rows, _ = attendance.list_corrections(s, actor=staff)
    assert [r.state.value for r in rows] == ["approved"]


def test_staff_see_only_their_own_days_and_county_managers_not_the_city(engine: Engine,
                                                                       org_data: SimpleNamespace) -> None:
    day = _workday(engine)
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=SYSTEM, start=day, end=day)
    with session_scope(engine) as s:
        own, _ = attendance.list_days(s, actor=org_data.principals["staff"], start=day, end=day)
        county, _ = attendance.list_days(s, actor=org_data.principals["county_manager"], start=day, end=day)
        city_day = _day(s, org_data.staff2, day)
        with pytest.raises(NotFound):
            attendance.person_month(s, actor=org_data.principals["staff"], staff_id=org_data.staff2,
                                    year=day.year, month=day.month)
    assert {r.staff_id for r in own} == {org_data.staff}
    assert {r.staff_id for r in county} == {org_data.county_staff}
    with session_scope(engine, write=True) as s, pytest.raises(NotFound):
        attendance.correct_day(s, actor=org_data.principals["county_manager"], day_id=city_day.id or 0,
                               correction=DayCorrection(status=DayStatus.PRESENT, reason="越权"))


def test_a_new_rule_version_scores_its_months_only(engine: Engine, org_data: SimpleNamespace) -> None:
    day = _workday(engine, back=3)
    next_month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    admin = org_data.principals["admin"]
    with session_scope(engine, write=True) as s:
        scoring.create_rule_set(s, actor=admin, body=RuleSetCreate(
            version="2027-strict", effective_from=next_month,
            items=[ScoringItemBase(key="attendance.absent_day", points=-20)]))
    with session_scope(engine) as s:
        assert scoring.points(s, "attendance.absent_day", on=day) == -10
        assert scoring.points(s, "attendance.absent_day", on=next_month) == -20
        assert scoring.points(s, "attendance.missed_punch", on=next_month) == -2  # kept from the version before
        versions = scoring.rule_sets(s, actor=admin)
    # Newest first (the migration's default version is there too, except where a test reset emptied the tables).
    assert versions[0].version == "2027-strict"
    assert {i.key: i.points for i in versions[0].items}["attendance.absent_day"] == -20
    with session_scope(engine, write=True) as s, pytest.raises(InvalidInput):
        scoring.create_rule_set(s, actor=admin, body=RuleSetCreate(version="mid", effective_from=date(2027, 3, 15)))


def test_approved_leave_and_a_sites_own_hours_shape_the_day(engine: Engine, org_data: SimpleNamespace) -> None:
    from supervision import leave, officehours
    from supervision.officehours import PeriodSpec, Season

    day = _workday(engine)
    manager, staff = org_data.principals["manager"], org_data.principals["staff"]
    with session_scope(engine, write=True) as s:
        asked = leave.request_leave(s, staff, kind=leave.LeaveKind.SICK, start_day=day, end_day=day, reason="发烧")
        leave.decide(s, manager, request_id=asked.id or 0, approve=True)
    # The county opens at 8:30 all year, every weekday: 王五 at 8:40 is 10 minutes late there.
    with session_scope(engine, write=True) as s:
        periods = [PeriodSpec(season, wd, time(8, 30), time(12, 0)) for season in Season for wd in range(7)] + [
            PeriodSpec(season, wd, time(14, 0), time(17, 30)) for season in Season for wd in range(7)]
        officehours.set_timetable(s, org_data.principals["admin"], site_id=org_data.county, summer=None,
                                  periods=periods)
        attendance.push_punches(s, actor=_gateway(engine, org_data.county), batch=PunchBatch(punches=[
            _punch("FC-S01", day, 8, 40, "w1"), _punch("FC-S01", day, 17, 31, "w2")]))
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=manager, start=day, end=day)
    with session_scope(engine) as s:
        sick = _day(s, org_data.staff, day)
        county = _day(s, org_data.county_staff, day)
        assert (sick.status, sick.leave_kind, _ledger(s, sick.id or 0)) == (DayStatus.LEAVE, "sick", [])
        assert (county.status, county.late_minutes) == (DayStatus.LATE, 10)


def test_a_day_on_the_roster_is_marked_on_duty(engine: Engine, org_data: SimpleNamespace) -> None:
    from supervision.duty.models import AssignmentSource, DutyAssignment, DutyRole

    day = _workday(engine)
    with session_scope(engine, write=True) as s:
        s.add(DutyAssignment(site_id=org_data.city, day=day, role=DutyRole.CADRE, staff_id=org_data.staff2,
                             source=AssignmentSource.MANUAL))
    _push_day(engine, org_data, day, [(8, 50), (17, 10)], "d")
    with session_scope(engine, write=True) as s:
        attendance.compute_days(s, actor=SYSTEM, start=day, end=day)
    with session_scope(engine) as s:
        assert _day(s, org_data.staff2, day).on_duty is True
        assert _day(s, org_data.staff, day).on_duty is False


def test_the_daily_job_computes_the_past_week_and_is_listed(engine: Engine, org_data: SimpleNamespace,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from supervision.attendance.jobs import run_daily
    from web.composition import scheduled_jobs

    monkeypatch.setenv("SUPERVISION_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    assert {j.id: j.func for j in scheduled_jobs()}["attendance.daily"] == "supervision.attendance.jobs:run_daily"
    day = _workday(engine, back=2)
    _push_day(engine, org_data, day, [(8, 59), (17, 1)], "j")
    summary = run_daily(today=day + timedelta(days=1))
    assert summary.changed >= 3  # everyone's working days of the week before
    with session_scope(engine) as s:
        assert _day(s, org_data.staff, day).status == DayStatus.PRESENT
    assert run_daily(today=day + timedelta(days=1)).changed == 0  # nothing new: nothing rewritten
