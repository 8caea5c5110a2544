"""The three workbook imports for the role × route walk: files whose rows name the city's objects, so a
county user's import must be refused row by row, naming the column that points outside the jurisdiction."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import openpyxl
from sqlalchemy.engine import Engine

from risk.workbook import MEASURE_COLUMNS, MEASURES_SHEET, POINT_COLUMNS, POINTS_SHEET
from supervision import orgimport

# Upload = (form fields, files) as the TestClient takes them.
Upload = tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    del engine, org  # the files aim at the shared org's city objects
    return {}, []


def _org_workbook() -> bytes:
    """The org template with a department of the city (site code MY) and a city window renamed."""
    wb = openpyxl.load_workbook(io.BytesIO(orgimport.build_template()))
    rows = {
        "部门": [{"code": "X-D-IMP", "name": "越权导入部门", "site_code": "MY"}],
        "窗口": [{"code": "W-GA", "name": "越权改名窗口", "site_code": "MY", "hall_code": "H-GG",
                  "department_code": "D-GA"}],
    }
    for title, items in rows.items():
        ws = wb[title]
        keys = [c.value for c in ws[2]]
        for item in items:
            ws.append([item.get(str(k)) for k in keys])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _risk_workbook() -> bytes:
    """A register with one point on the city's 户籍受理岗 (P-GA-1), its responsible people the city's staff."""
    values = {"code": "X-FX-IMP", "name": "越权导入风险点", "post_code": "P-GA-1", "category": "岗位职责",
              "level": "二级", "grading_basis": "越权", "direct_responsible_code": "S001"}
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = POINTS_SHEET
    ws.append([c.header for c in POINT_COLUMNS])
    ws.append([values.get(c.key, "") for c in POINT_COLUMNS])
    wb.create_sheet(MEASURES_SHEET).append([c.header for c in MEASURE_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def uploads(org: SimpleNamespace) -> dict[tuple[str, str], Upload]:
    """A file per import route that would be accepted inside the city, aimed at the city's objects."""
    del org
    calls = "来电时间,来电人,来电号码,诉求类型,诉求内容,窗口编码,通话编号\n" \
            "2026-11-02 09:00,越权来电人,13700001111,投诉举报,越权导入的投诉内容,W-GA,X-IMP-1\n"
    return {
        ("POST", "/org/import"): ({}, {"file": ("org.xlsx", _org_workbook(), XLSX)}),
        ("POST", "/risk/import"): ({}, {"file": ("register.xlsx", _risk_workbook(), XLSX)}),
        ("POST", "/complaints/calls/import"): ({}, {"file": ("calls.csv", calls.encode(), "text/csv")}),
    }
