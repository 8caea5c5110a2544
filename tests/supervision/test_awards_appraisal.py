"""The yearly appraisal: figures, the suggested grade under the 优秀 quota (rounding, ties), confirm and override,
the export."""

from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import awards, ledger
from supervision.access import SYSTEM
from supervision.attendance import AttendanceDay, DayStatus
from supervision.awards import AwardsSettings, ConfirmIn, Figures, Grade
from supervision.db import session_scope
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import AuditEntry

YEAR = 2025


@pytest.mark.parametrize(("people", "percent", "quota"), [
    (7, 20, 1), (9, 20, 1), (10, 20, 2), (4, 20, 0), (5, 20, 1), (15, 20, 3), (14, 25, 3), (3, 0, 0)])
def test_the_quota_is_rounded_down(people: int, percent: float, quota: int) -> None:
    assert awards.excellent_quota(people, percent) == quota


def _f(staff_id: int, average: float | None, absent: float = 0, late: int = 0) -> Figures:
    return Figures(staff_id, average, 12 if average is not None else 0, 0, late, absent, 0)


def test_grades_by_hand() -> None:
    settings = AwardsSettings()  # 称职 from 85, 基本称职 from 70, at most 5 days absent, 20 %
    people = [_f(1, 99), _f(2, 97), _f(3, 96), _f(4, 90), _f(5, 86), _f(6, 84.99), _f(7, 75), _f(8, 69.9),
              _f(9, None), _f(10, 95, absent=6)]
    # Ten people: two 优秀 — 1 and 2; 10 would be next by average but is capped by absence.
    assert awards.suggest(people, settings) == {
        1: Grade.EXCELLENT, 2: Grade.EXCELLENT, 3: Grade.COMPETENT, 4: Grade.COMPETENT, 5: Grade.COMPETENT,
        6: Grade.BASIC, 7: Grade.BASIC, 8: Grade.INCOMPETENT, 9: Grade.COMPETENT, 10: Grade.BASIC}


def test_a_tie_at_the_quota_edge_gives_none_of_the_tied() -> None:
    settings = AwardsSettings()
    people = [_f(1, 99), _f(2, 98), _f(3, 98)] + [_f(i, 90) for i in range(4, 11)]
    grades = awards.suggest(people, settings)
    # Quota 2: 1 is in; 2 and 3 tie for the last place and neither is suggested (the manager decides).
    assert [s for s, g in grades.items() if g is Grade.EXCELLENT] == [1]
    # Fewer days absent break the tie, then fewer days late.
    people[2] = _f(3, 98, absent=0.5)
    assert sorted(s for s, g in awards.suggest(people, settings).items() if g is Grade.EXCELLENT) == [1, 2]
    people[2], people[1] = _f(3, 98, late=1), _f(2, 98, late=3)
    assert sorted(s for s, g in awards.suggest(people, settings).items() if g is Grade.EXCELLENT) == [1, 3]
    # A wider quota takes everyone tied.
    wide = AwardsSettings(excellent_quota=30)
    assert sorted(s for s, g in awards.suggest(people, wide).items() if g is Grade.EXCELLENT) == [1, 2, 3]


@pytest.fixture
def year(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    o = org_data
    with session_scope(engine, write=True) as s:
        # 张三: half a day absent in March (-5): eleven months of 100 and one of 95 -> 99.58.
        ledger.record_entry(s, actor=SYSTEM, day=date(YEAR, 3, 10), kind="absent_half_day", points=-5, reason="旷工",
                            source_kind="manual", source_id="a1", staff_id=o.staff)
        # 李四: 40 points off in June -> (11 × 100 + 60) / 12 = 96.67
        ledger.record_entry(s, actor=SYSTEM, day=date(YEAR, 6, 10), kind="other", points=-40, reason="调整",
                            source_kind="manual", source_id="a2", staff_id=o.staff2)
        for day, status in ((date(YEAR, 4, 1), DayStatus.LATE), (date(YEAR, 4, 2), DayStatus.LATE_EARLY),
                            (date(YEAR, 3, 10), DayStatus.ABSENT_HALF), (date(YEAR, 5, 6), DayStatus.ABSENT),
                            (date(YEAR + 1, 1, 5), DayStatus.ABSENT)):
            s.add(AttendanceDay(staff_id=o.staff, site_id=o.city, day=day, status=status))
    return o


def _view(engine: Engine, who: SimpleNamespace, name: str = "manager", **kwargs: object) -> awards.YearView:
    with Session(engine) as s:
        return awards.year_view(s, actor=who.principals[name], year=YEAR, **kwargs)  # type: ignore[arg-type]


def test_the_years_figures(engine: Engine, year: SimpleNamespace) -> None:
    o = year
    view = _view(engine, o)
    rows = {r.staff_id: r for r in view.rows}
    assert set(rows) == {o.staff, o.staff2, o.county_staff}
    zhang = rows[o.staff].figures
    assert (zhang.average, zhang.months, zhang.days_late, zhang.days_absent) == (99.58, 12, 2, 1.5)
    assert rows[o.staff2].figures.average == 96.67
    # Three people at 20 %: no 优秀.
    assert view.quota == 0 and {r.suggested for r in view.rows} == {Grade.COMPETENT}
    # A county manager sees the county's own.
    assert [r.staff_id for r in _view(engine, o, "county_manager").rows] == [o.county_staff]
    # Window staff: their own row only.
    assert [r.staff_id for r in _view(engine, o, "staff").rows] == [o.staff]


def test_confirm_override_and_quota(engine: Engine, year: SimpleNamespace) -> None:
    o = year
    manager = o.principals["manager"]
    with session_scope(engine, write=True) as s:
        row = awards.confirm(s, actor=manager, body=ConfirmIn(year=YEAR, staff_id=o.staff))
        assert (row.grade, row.suggested, row.average) == ("competent", "competent", 99.58)
        with pytest.raises(InvalidInput) as no_reason:
            awards.confirm(s, actor=manager, body=ConfirmIn(year=YEAR, staff_id=o.staff2, grade=Grade.BASIC))
        assert no_reason.value.problems[0].field == "reason"
        awards.confirm(s, actor=manager, body=ConfirmIn(year=YEAR, staff_id=o.staff2, grade=Grade.BASIC,
                                                        reason="六月重大失误"))
        # No room for 优秀 among three at 20 %.
        with pytest.raises(Conflict) as full:
            awards.confirm(s, actor=manager, body=ConfirmIn(year=YEAR, staff_id=o.staff, grade=Grade.EXCELLENT,
                                                            reason="表现突出"))
        assert full.value.key == "error.appraisal_quota_full"
        with pytest.raises(NotFound):
            awards.confirm(s, actor=o.principals["county_manager"], body=ConfirmIn(year=YEAR, staff_id=o.staff))
        with pytest.raises(Forbidden):
            awards.confirm(s, actor=o.principals["officer"], body=ConfirmIn(year=YEAR, staff_id=o.staff))
        wide = AwardsSettings(excellent_quota=50)  # one of three
        awards.confirm(s, actor=manager, settings=wide, body=ConfirmIn(year=YEAR, staff_id=o.staff,
                                                                       grade=Grade.EXCELLENT, reason="表现突出"))
        with pytest.raises(Conflict):
            awards.confirm(s, actor=manager, settings=wide, body=ConfirmIn(
                year=YEAR, staff_id=o.county_staff, grade=Grade.EXCELLENT, reason="也突出"))
        audited = s.exec(select(AuditEntry.summary).where(col(AuditEntry.action) == "appraisal.confirm")).all()
    assert len(audited) == 3
    rows = {r.staff_id: r for r in _view(engine, o).rows}
    assert (rows[o.staff].grade, rows[o.staff2].grade, rows[o.staff2].reason) == (
        Grade.EXCELLENT, Grade.BASIC, "六月重大失误")
    assert rows[o.county_staff].grade is None


def test_the_export_reads_back(engine: Engine, year: SimpleNamespace) -> None:
    o = year
    with session_scope(engine, write=True) as s:
        awards.confirm(s, actor=o.principals["manager"], body=ConfirmIn(
            year=YEAR, staff_id=o.staff2, grade=Grade.BASIC, reason="六月重大失误"))
    for locale, heading, grade in (("zh-CN", "姓名", "基本称职"), ("en", "Name", "Basically competent")):
        data = awards.export_workbook(_view(engine, o), locale)
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        rows = [[c.value for c in r] for r in sheet.iter_rows()]
        assert rows[0][0] == heading
        li = next(r for r in rows if r[0] == "李四")
        assert li[3] == 96.67 and li[10] == grade and li[11] == "六月重大失误"
