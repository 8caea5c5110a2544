"""Excel in and out: the template, all-or-nothing import with row errors, and the round trip."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func
from sqlmodel import Session, select

import risk
from risk.models import RiskPointMeasure
from risk.workbook import MEASURE_COLUMNS, MEASURES_SHEET, POINT_COLUMNS, POINTS_SHEET
from supervision.errors import InvalidInput
from tests.risk.conftest import TODAY, add_measure, add_point


def _sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _workbook(points: list[list[Any]], measures: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = POINTS_SHEET
    ws.append([c.header for c in POINT_COLUMNS])
    for row in points:
        ws.append(row)
    ms = wb.create_sheet(MEASURES_SHEET)
    ms.append([c.header for c in MEASURE_COLUMNS])
    for row in measures:
        ms.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _point_row(code: str, post: str = "P-GA-1", **over: Any) -> list[Any]:
    values = {"code": code, "name": "户籍审核把关不严", "post_code": post, "category": "岗位职责", "level": "二级",
              "grading_basis": "审核环节", "direct_responsible_code": "S001",
              "department_responsible_code": "S010", "leader_responsible_code": "S011"}
    values.update(over)
    return [values.get(c.key, "") for c in POINT_COLUMNS]


def _measure_row(code: str, points: str, **over: Any) -> list[Any]:
    values = {"code": code, "content": "双人复核", "measure_type": "流程", "owner_code": "S010",
              "check_frequency": "每季度", "point_codes": points}
    values.update(over)
    return [values.get(c.key, "") for c in MEASURE_COLUMNS]


def _count(session: Session, table: Any) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def test_the_template_has_both_sheets_and_the_required_columns() -> None:
    sheets = _sheets(risk.register_template())
    assert list(sheets) == ["风险点", "防控措施", "填写说明"]
    assert sheets["风险点"][0][:3] == ("风险点编码*", "风险点名称*", "岗位编码*")
    assert "措施类型*" in sheets["防控措施"][0]


def test_export_then_import_into_an_empty_register_gives_the_same_register(
    session: Session, risk_org: SimpleNamespace
) -> None:
    officer = risk_org.principals["officer"]
    p1 = add_point(session, risk_org)
    p2 = add_point(session, risk_org, code="FX-002", name="收受好处", category="moral", level=1,
                   leader_responsible_id=None)
    p3 = add_point(session, risk_org, code="FC-FX-1", post_id=risk_org.county_post, level=3,
                   direct_responsible_id=risk_org.county_staff)
    m1 = add_measure(session, risk_org, [p1.id or 0, p2.id or 0])
    add_measure(session, risk_org, [p3.id or 0], code="CS-002", measure_type="education",
                check_frequency="yearly", check_method="")
    risk.record_review(session, officer, p1.id or 0, {"reviewed_on": "2026-04-10"}, today=TODAY)
    risk.record_check(session, officer, m1.id or 0, {"checked_on": "2026-05-06", "result": "partly",
                                                     "checker_name": "孙检查"}, today=TODAY)
    before = risk.export_register(session, officer, today=TODAY)

    for table in (risk.RiskReminder, risk.CountermeasureCheck, risk.RiskReview, RiskPointMeasure,
                  risk.Countermeasure, risk.RiskPoint):
        session.exec(delete(table))
    session.flush()
    result = risk.import_register(session, officer, before, today=TODAY)
    assert (result.points, result.measures, result.links, result.reviews, result.checks) == (3, 2, 3, 1, 1)
    after = risk.export_register(session, officer, today=TODAY)
    assert _sheets(after) == _sheets(before)
    assert _sheets(before)["防控措施"][1][7] == "FX-001、FX-002"


def test_a_broken_row_saves_nothing_and_names_sheet_row_and_field(session: Session, risk_org: SimpleNamespace) -> None:
    data = _workbook(
        [_point_row("FX-1"), _point_row("FX-2", post="NO-SUCH-POST", level="四级"), _point_row("FX-1")],
        [_measure_row("CS-1", "FX-1、FX-9", owner_code="", check_frequency="经常")],
    )
    with pytest.raises(InvalidInput) as err:
        risk.import_register(session, risk_org.principals["officer"], data, today=TODAY)
    found = {(p.sheet, p.row, p.field) for p in err.value.problems}
    assert found == {
        ("风险点", 3, "post_code"), ("风险点", 3, "level"), ("风险点", 4, "code"),
        ("防控措施", 2, "owner_code"), ("防控措施", 2, "check_frequency"), ("防控措施", 2, "point_codes"),
    }
    dup = next(p for p in err.value.problems if p.row == 4)
    assert "row 2" in dup.message("en")
    assert _count(session, risk.RiskPoint) == 0 and _count(session, risk.Countermeasure) == 0


def test_a_code_already_in_the_register_is_a_duplicate(session: Session, risk_org: SimpleNamespace) -> None:
    add_point(session, risk_org)
    with pytest.raises(InvalidInput) as err:
        risk.import_register(session, risk_org.principals["officer"], _workbook([_point_row("FX-001")], []),
                             today=TODAY)
    assert [(p.row, p.field, p.key) for p in err.value.problems] == [(2, "code", "error.duplicate_code")]


def test_a_measure_may_cover_a_point_already_in_the_register(session: Session, risk_org: SimpleNamespace) -> None:
    point = add_point(session, risk_org)
    result = risk.import_register(session, risk_org.principals["officer"],
                                  _workbook([], [_measure_row("CS-9", "FX-001", last_checked_on="2026-05-01",
                                                              last_result="有效")]), today=TODAY)
    assert result.measures == 1 and result.checks == 1
    rows, _ = risk.list_countermeasures(session, risk_org.principals["officer"],
                                        filters=risk.CountermeasureFilter(point_id=point.id), today=TODAY)
    assert [r.code for r in rows] == ["CS-9"] and rows[0].last_result is risk.CheckResult.EFFECTIVE


def test_posts_outside_the_jurisdiction_are_unknown(session: Session, risk_org: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        risk.import_register(session, risk_org.principals["county_officer"], _workbook([_point_row("FX-1")], []),
                             today=TODAY)
    assert [p.field for p in err.value.problems] == ["post_code"]


def test_a_file_that_is_not_a_workbook_is_refused(session: Session, risk_org: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        risk.import_register(session, risk_org.principals["officer"], b"not a workbook", today=TODAY)
    assert err.value.problems[0].field == "file"
    with pytest.raises(InvalidInput) as err:
        risk.import_register(session, risk_org.principals["officer"], _workbook([], []), today=TODAY)
    assert err.value.problems[0].key == "risk.error.workbook_empty"


def _rewrite_sheets(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            dst.writestr(item, change(body) if item.filename.startswith("xl/worksheets/sheet") else body)
    return out.getvalue()


def test_a_sheet_recording_a_wrong_size_is_read_to_its_last_row(session: Session, risk_org: SimpleNamespace) -> None:
    data = _workbook([_point_row(f"FX-{i}") for i in range(1, 6)], [])
    # Some tools write a wrong <dimension>; read-only openpyxl trusts it unless told otherwise.
    wrong = _rewrite_sheets(data, lambda body: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', body))
    result = risk.import_register(session, risk_org.principals["officer"], wrong, today=TODAY)
    assert result.points == 5


def test_a_broken_sheet_inside_a_workbook_is_refused_not_a_crash(session: Session, risk_org: SimpleNamespace) -> None:
    broken = _rewrite_sheets(_workbook([_point_row("FX-1")], []), lambda body: body[: len(body) // 2])
    with pytest.raises(InvalidInput) as err:
        risk.import_register(session, risk_org.principals["officer"], broken, today=TODAY)
    assert [(p.field, p.key) for p in err.value.problems] == [("file", "error.workbook")]
