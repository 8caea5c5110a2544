"""The register in and out of Excel: a template, an all-or-nothing import with a row-by-row error report,
and an export that imports back into an empty register as the same register.

Two sheets: 风险点 (one row per point) and 防控措施 (one row per measure, naming the points it covers).
People and posts are given by their codes (工号, 岗位编码); the name columns beside them are for readers
and are ignored on import. The last review and the last check may be given, so a ledger kept elsewhere
comes in with its dates: each becomes one history row marked as imported.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import Session, col, select

from risk import deadlines, provisional
from risk.models import (
    CheckFrequency,
    CheckResult,
    Countermeasure,
    CountermeasureCheck,
    GradingCriteria,
    MeasureType,
    ReviewOutcome,
    RiskCategory,
    RiskPoint,
    RiskPointMeasure,
    RiskReview,
)
from risk.register import current_criteria
from risk.scope import local_today
from risk.settings import get_risk_settings
from risk.views import CountermeasureFilter, RiskPointFilter, list_countermeasures, list_risk_points
from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import utcnow
from supervision.errors import FieldProblem, InvalidInput
from supervision.i18n import translate
from supervision.models import Post, Site, Staff
from supervision.org import CODE_RE
from supervision.workdays import load_calendar

logger = logging.getLogger(__name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POINTS_SHEET = "风险点"
MEASURES_SHEET = "防控措施"
HELP_SHEET = "填写说明"
IMPORTED_NOTE = "从台账导入"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    info: bool = False  # exported for readers, ignored on import
    width: int = 14


POINT_COLUMNS: tuple[Column, ...] = (
    Column("code", "风险点编码", required=True),
    Column("name", "风险点名称", required=True, width=28),
    Column("post_code", "岗位编码", required=True),
    Column("post_name", "岗位名称", info=True, width=18),
    Column("department", "所属部门", info=True, width=20),
    Column("category", "风险类别", required=True, width=10),
    Column("level", "风险等级", required=True, width=8),
    Column("manifestation", "表现形式", width=36),
    Column("grading_basis", "定级依据", required=True, width=30),
    Column("criteria_version", "定级标准版本"),
    Column("power", "职权名称", width=18),
    Column("process_step", "办理环节", width=10),
    Column("direct_responsible_code", "直接责任人工号"),
    Column("direct_name", "直接责任人", info=True, width=10),
    Column("department_responsible_code", "部门责任人工号"),
    Column("department_name", "部门责任人", info=True, width=10),
    Column("leader_responsible_code", "责任领导工号"),
    Column("leader_name", "责任领导", info=True, width=10),
    Column("last_reviewed_on", "上次复核日期", width=12),
    Column("next_review_due", "下次复核日期", info=True, width=12),
)

MEASURE_COLUMNS: tuple[Column, ...] = (
    Column("code", "措施编码", required=True),
    Column("content", "措施内容", required=True, width=40),
    Column("measure_type", "措施类型", required=True, width=8),
    Column("owner_code", "责任人工号", required=True),
    Column("owner_name", "责任人", info=True, width=10),
    Column("check_frequency", "检查频次", required=True, width=10),
    Column("check_method", "检查方式", width=30),
    Column("point_codes", "关联风险点编码", width=30),
    Column("last_checked_on", "上次检查日期", width=12),
    Column("last_result", "上次检查结果", width=10),
    Column("last_checker", "上次检查人", width=10),
    Column("next_check_due", "下次检查日期", info=True, width=12),
)

_SPLIT = re.compile(r"[,,、;;\s]+")


class ImportResult(BaseModel):
    points: int
    measures: int
    links: int
    reviews: int
    checks: int


# --- choices: labels in both languages, or the stored value -----------------------------------------


def _choices(prefix: str, values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        out[v.lower()] = v
        out[translate(f"{prefix}.{v}", "zh-CN")] = v
        out[translate(f"{prefix}.{v}", "en").lower()] = v
    return out


def _level_choices() -> dict[str, int]:
    out: dict[str, int] = {}
    for n, zh in ((1, "一"), (2, "二"), (3, "三")):
        for text in (str(n), zh, f"{zh}级", f"{n}级", translate(f"risk.level.{n}", "en").lower()):
            out[text] = n
    out.update({"高": 1, "中": 2, "低": 3, "high": 1, "medium": 2, "low": 3})
    return out


def _zh(prefix: str, value: Any) -> str:
    return translate(f"{prefix}.{value}", "zh-CN") if value not in (None, "") else ""


# --- template and export ----------------------------------------------------------------------------


def register_template() -> bytes:
    """An empty workbook with the columns, pick lists and the instructions."""
    wb = Workbook()
    _sheet(wb.active, POINTS_SHEET, POINT_COLUMNS, [])  # type: ignore[arg-type]
    _sheet(wb.create_sheet(), MEASURES_SHEET, MEASURE_COLUMNS, [])
    _help_sheet(wb.create_sheet())
    return _save(wb)


def export_register(
    session: Session, actor: Principal, *, filters: RiskPointFilter | None = None, today: date | None = None
) -> bytes:
    """The register the actor may read (active points and measures) as a workbook in the template's form."""
    day = today or local_today()
    filters = filters or RiskPointFilter()
    points = list(_all(lambda off: list_risk_points(session, actor, filters=filters, offset=off, limit=500, today=day)))
    point_codes = {p.id: p.code for p in points}
    measures = [
        m
        for m in _all(
            lambda off: list_countermeasures(
                session, actor, filters=CountermeasureFilter(), offset=off, limit=500, today=day
            )
        )
        if any(pid in point_codes for pid in m.point_ids) or not m.point_ids
    ]
    last_checkers = _last_checkers(session, [m.id for m in measures])
    point_rows = [
        [
            p.code,
            p.name,
            p.post_code,
            p.post_name,
            p.department_name,
            _zh("risk.category", p.category.value),
            _zh("risk.level", p.level),
            p.manifestation,
            p.grading_basis,
            p.criteria_version,
            p.power,
            p.process_step,
            *_person(p.direct_responsible),
            *_person(p.department_responsible),
            *_person(p.leader_responsible),
            p.last_reviewed_on,
            p.next_review_due,
        ]
        for p in points
    ]
    measure_rows = [
        [
            m.code,
            m.content,
            _zh("risk.measure_type", m.measure_type.value),
            *_person(m.owner),
            _zh("risk.frequency", m.check_frequency.value),
            m.check_method,
            "、".join(point_codes[p] for p in m.point_ids if p in point_codes),
            m.last_checked_on,
            _zh("risk.result", m.last_result.value if m.last_result else None),
            last_checkers.get(m.id, "") if m.last_checked_on else "",
            m.next_check_due,
        ]
        for m in measures
    ]
    wb = Workbook()
    _sheet(wb.active, POINTS_SHEET, POINT_COLUMNS, point_rows)  # type: ignore[arg-type]
    _sheet(wb.create_sheet(), MEASURES_SHEET, MEASURE_COLUMNS, measure_rows)
    _help_sheet(wb.create_sheet())
    return _save(wb)


def _all(fetch: Any) -> Iterator[Any]:
    offset = 0
    while True:
        rows, total = fetch(offset)
        yield from rows
        offset += len(rows)
        if not rows or offset >= total:
            return


def _person(ref: Any) -> list[str]:
    return [ref.code, ref.name] if ref is not None else ["", ""]


def _last_checkers(session: Session, measure_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    if not measure_ids:
        return out
    for mid, name in session.exec(
        select(CountermeasureCheck.measure_id, CountermeasureCheck.checker_name)
        .where(col(CountermeasureCheck.measure_id).in_(measure_ids))
        .order_by(col(CountermeasureCheck.checked_on), col(CountermeasureCheck.id))
    ):
        out[mid] = name  # ordered oldest first, so the last one written stays
    return out


def _sheet(ws: Worksheet, title: str, columns: tuple[Column, ...], rows: list[list[Any]]) -> None:
    ws.title = title
    ws.append([c.header + ("*" if c.required else "") for c in columns])
    bold, grey = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for i, c in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = bold
        if c.info:
            cell.fill = grey
        ws.column_dimensions[get_column_letter(i)].width = c.width
    for row in rows:
        ws.append(row)
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(cell.value, str) and len(cell.value) > 20)
    ws.freeze_panes = "B2"
    lists = {
        "category": [_zh("risk.category", c.value) for c in RiskCategory],
        "level": [_zh("risk.level", n) for n in (1, 2, 3)],
        "measure_type": [_zh("risk.measure_type", t.value) for t in MeasureType],
        "check_frequency": [_zh("risk.frequency", f.value) for f in CheckFrequency],
        "last_result": [_zh("risk.result", r.value) for r in CheckResult],
    }
    for i, c in enumerate(columns, start=1):
        if c.key in lists:
            dv = DataValidation(type="list", formula1='"' + ",".join(lists[c.key]) + '"', allow_blank=not c.required)
            letter = get_column_letter(i)
            dv.add(f"{letter}2:{letter}5000")
            ws.add_data_validation(dv)


def _help_sheet(ws: Worksheet) -> None:
    ws.title = HELP_SHEET
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90
    lines = [
        ("说明", "带 * 的列必填;灰色列仅供阅读,导入时忽略。整本工作簿要么全部导入,要么一条也不导入。"),
        ("风险点编码 / 措施编码", "字母、数字、点、横线和下划线,最多 40 位;在系统中唯一。"),
        ("岗位编码、工号", "须为系统中已有的岗位和人员,且在您的管辖范围内。"),
        ("风险类别", "、".join(_zh("risk.category", c.value) for c in RiskCategory)),
        ("风险等级", "一级(高)、二级(中)、三级(低);依据见定级标准。"),
        ("措施类型", "、".join(_zh("risk.measure_type", t.value) for t in MeasureType)),
        ("检查频次", "、".join(_zh("risk.frequency", f.value) for f in CheckFrequency)),
        ("检查结果", "、".join(_zh("risk.result", r.value) for r in CheckResult)),
        ("关联风险点编码", "一条措施可对应多个风险点,用顿号或逗号分隔;可引用本工作簿或系统中已有的风险点。"),
        ("上次复核 / 检查日期", "可选,格式 YYYY-MM-DD;填写后据此计算下次复核和检查日期。"),
        ("示例", "FX-GA-01 | 户籍审核把关不严 | MY-P-GA-02 | 岗位职责 | 二级 | 对不符合条件的申请予以通过 | ..."),
    ]
    for a, b in lines:
        ws.append([a, b])
    for cell in ws["A"]:
        cell.font = Font(bold=True)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- import -----------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    values: dict[str, str]


@dataclass
class _Plan:
    points: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    measures: list[tuple[int, dict[str, Any], list[str]]] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)


def import_register(
    session: Session, actor: Principal, data: bytes, *, ip: str = "", today: date | None = None
) -> ImportResult:
    """Import a workbook: every row checked first, all problems reported with sheet and row, then all saved."""
    actor.require(Permission.RISK_WRITE)
    settings = get_risk_settings()
    if len(data) > settings.evidence_max_mb * 1024 * 1024:
        raise InvalidInput("file", "error.upload_too_large", max=settings.evidence_max_mb)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput("file", "error.workbook", detail=exc.__class__.__name__) from None
    try:
        sheets = {ws.title.strip(): ws for ws in wb.worksheets}
        problems: list[FieldProblem] = []
        point_rows = _read_sheet(sheets, (POINTS_SHEET, "Risk points"), POINT_COLUMNS, problems)
        measure_rows = _read_sheet(sheets, (MEASURES_SHEET, "Countermeasures"), MEASURE_COLUMNS, problems)
    except (SyntaxError, KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        # Read-only: a sheet's XML is parsed only as its rows are read, so a broken sheet fails here.
        raise InvalidInput("file", "error.workbook", detail=exc.__class__.__name__) from None
    finally:
        wb.close()
    if problems:
        raise InvalidInput(problems=problems)
    if not point_rows and not measure_rows:
        raise InvalidInput("file", "risk.error.workbook_empty")
    if len(point_rows) + len(measure_rows) > settings.import_max_rows:
        raise InvalidInput("file", "risk.error.workbook_too_many", max=settings.import_max_rows)
    day = today or local_today()
    plan = _check_rows(session, actor, point_rows, measure_rows, day)
    if plan.problems:
        raise InvalidInput(problems=sorted(plan.problems, key=lambda p: (p.sheet != POINTS_SHEET, p.row or 0)))
    return _save_plan(session, actor, plan, day, ip)


def _read_sheet(
    sheets: dict[str, Any], names: tuple[str, ...], columns: tuple[Column, ...], problems: list[FieldProblem]
) -> list[_Row]:
    ws = next((sheets[n] for n in names if n in sheets), None)
    if ws is None:
        problems.append(FieldProblem("sheet", "error.workbook_sheet_missing", sheet=names[0]))
        return []
    # The recorded size may be wrong (files written by other tools): read to the last row there is.
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    by_header = {c.header: c.key for c in columns} | {c.key: c.key for c in columns}
    positions: dict[str, int] = {}
    for i, text in enumerate(header):
        name = str(text or "").strip().rstrip("*").strip()
        if name in by_header:
            positions.setdefault(by_header[name], i)
    missing = [c for c in columns if c.required and c.key not in positions]
    for c in missing:
        problems.append(
            FieldProblem(c.key, "error.workbook_column_missing", {"column": c.header}, row=1, sheet=names[0])
        )
    if missing:
        return []
    out: list[_Row] = []
    for number, values in enumerate(rows, start=2):
        cells = {key: _cell(values[i] if i < len(values) else None) for key, i in positions.items()}
        if any(cells.values()):
            out.append(_Row(number, cells))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.replace("/", "-").replace(".", "-")[:10])
    except ValueError:
        raise ValueError(text) from None


class _Lookups:
    """Everything the rows refer to, loaded once (a 1,000-row workbook must not cost 1,000 queries)."""

    def __init__(self, session: Session, actor: Principal) -> None:
        paths = {s.id: s.path for s in session.exec(select(Site))}
        self.posts = {p.code: p for p in session.exec(select(Post)) if actor.covers_path(paths.get(p.site_id, "?"))}
        self.staff = {s.code: s for s in session.exec(select(Staff).where(col(Staff.active)))}
        self.point_codes = set(session.exec(select(RiskPoint.code)).all())
        self.measure_codes = set(session.exec(select(Countermeasure.code)).all())
        self.criteria = {c.version: c for c in session.exec(select(GradingCriteria))}
        post_ids = {post.id for post in self.posts.values()}
        self.existing_points = {p.code: p for p in session.exec(select(RiskPoint)) if p.post_id in post_ids}
        self.categories = _choices("risk.category", [c.value for c in RiskCategory])
        self.levels = _level_choices()
        self.types = _choices("risk.measure_type", [t.value for t in MeasureType])
        self.frequencies = _choices("risk.frequency", [f.value for f in CheckFrequency])
        self.results = _choices("risk.result", [r.value for r in CheckResult])


def _check_rows(
    session: Session, actor: Principal, point_rows: list[_Row], measure_rows: list[_Row], day: date
) -> _Plan:
    in_force = current_criteria(session, on=day).version
    look = _Lookups(session, actor)
    plan = _Plan()
    seen: dict[str, int] = {}

    def problem(sheet: str, row: int, field_name: str, key: str, **params: Any) -> None:
        plan.problems.append(FieldProblem(field_name, key, params, row=row, sheet=sheet))

    for r in point_rows:
        v, sheet, before = r.values, POINTS_SHEET, len(plan.problems)
        _code(v.get("code", ""), r.number, sheet, seen, look.point_codes, problem)
        for key in ("name", "grading_basis"):
            if not v.get(key):
                problem(sheet, r.number, key, "error.required")
        post = look.posts.get(v.get("post_code", ""))
        if post is None:
            problem(sheet, r.number, "post_code", "error.unknown_ref", kind="kind.post", value=v.get("post_code", ""))
        category = look.categories.get(v.get("category", "").lower()) or look.categories.get(v.get("category", ""))
        if category is None:
            problem(
                sheet,
                r.number,
                "category",
                "risk.error.choice",
                choices="、".join(_zh("risk.category", c.value) for c in RiskCategory),
            )
        level = look.levels.get(v.get("level", "").lower())
        if level is None:
            problem(sheet, r.number, "level", "risk.error.level")
        version = v.get("criteria_version") or in_force
        if version not in look.criteria:
            problem(sheet, r.number, "criteria_version", "risk.error.unknown_criteria", version=version)
        people: dict[str, int | None] = {}
        for key, target in (
            ("direct_responsible_code", "direct_responsible_id"),
            ("department_responsible_code", "department_responsible_id"),
            ("leader_responsible_code", "leader_responsible_id"),
        ):
            code = v.get(key, "")
            staff = look.staff.get(code) if code else None
            if code and staff is None:
                problem(sheet, r.number, key, "error.unknown_ref", kind="kind.staff", value=code)
            people[target] = staff.id if staff else None
        reviewed = _parse_date(v.get("last_reviewed_on", ""), sheet, r.number, "last_reviewed_on", day, problem)
        for key in ("name", "power", "process_step"):
            limit = 200
            if len(v.get(key, "")) > limit:
                problem(sheet, r.number, key, "error.too_long", max=limit)
        if len(plan.problems) == before and post is not None and level is not None and category is not None:
            plan.points.append(
                (
                    r.number,
                    {
                        "code": v["code"],
                        "name": v["name"],
                        "post": post,
                        "category": category,
                        "level": level,
                        "manifestation": v.get("manifestation", ""),
                        "grading_basis": v["grading_basis"],
                        "criteria": look.criteria[version],
                        "power": v.get("power", ""),
                        "process_step": v.get("process_step", ""),
                        "last_reviewed_on": reviewed,
                        **people,
                    },
                )
            )

    file_points = {v.get("code", "") for v in (r.values for r in point_rows)}
    seen_measures: dict[str, int] = {}
    for r in measure_rows:
        v, sheet, before = r.values, MEASURES_SHEET, len(plan.problems)
        _code(v.get("code", ""), r.number, sheet, seen_measures, look.measure_codes, problem)
        if not v.get("content"):
            problem(sheet, r.number, "content", "error.required")
        mtype = look.types.get(v.get("measure_type", "").lower()) or look.types.get(v.get("measure_type", ""))
        if mtype is None:
            problem(
                sheet,
                r.number,
                "measure_type",
                "risk.error.choice",
                choices="、".join(_zh("risk.measure_type", t.value) for t in MeasureType),
            )
        owner = look.staff.get(v.get("owner_code", ""))
        if not v.get("owner_code"):
            problem(sheet, r.number, "owner_code", "error.required")
        elif owner is None:
            problem(sheet, r.number, "owner_code", "error.unknown_ref", kind="kind.staff", value=v["owner_code"])
        freq = look.frequencies.get(v.get("check_frequency", "").lower()) or look.frequencies.get(
            v.get("check_frequency", "")
        )
        if freq is None:
            problem(
                sheet,
                r.number,
                "check_frequency",
                "risk.error.choice",
                choices="、".join(_zh("risk.frequency", f.value) for f in CheckFrequency),
            )
        codes = [c for c in _SPLIT.split(v.get("point_codes", "")) if c]
        for code in codes:
            if code not in file_points and code not in look.existing_points:
                problem(sheet, r.number, "point_codes", "error.unknown_ref", kind="kind.risk_point", value=code)
        checked = _parse_date(v.get("last_checked_on", ""), sheet, r.number, "last_checked_on", day, problem)
        result = look.results.get(v.get("last_result", "").lower()) or look.results.get(v.get("last_result", ""))
        if v.get("last_result") and result is None:
            problem(
                sheet,
                r.number,
                "last_result",
                "risk.error.choice",
                choices="、".join(_zh("risk.result", x.value) for x in CheckResult),
            )
        if checked is not None and not v.get("last_result"):
            problem(sheet, r.number, "last_result", "error.required")
        if v.get("last_result") and not v.get("last_checked_on"):
            problem(sheet, r.number, "last_checked_on", "error.required")
        if len(plan.problems) == before and owner is not None and mtype is not None and freq is not None:
            plan.measures.append(
                (
                    r.number,
                    {
                        "code": v["code"],
                        "content": v["content"],
                        "measure_type": mtype,
                        "owner": owner,
                        "check_frequency": freq,
                        "check_method": v.get("check_method", ""),
                        "last_checked_on": checked,
                        "last_result": result,
                        "last_checker": v.get("last_checker", "") or owner.name,
                    },
                    codes,
                )
            )
    return plan


def _code(code: str, row: int, sheet: str, seen: dict[str, int], existing: set[str], problem: Any) -> None:
    if not code:
        problem(sheet, row, "code", "error.required")
    elif not CODE_RE.match(code):
        problem(sheet, row, "code", "error.code_format")
    elif code in seen:
        problem(sheet, row, "code", "error.duplicate_in_file", code=code, first=seen[code])
    elif code in existing:
        problem(sheet, row, "code", "error.duplicate_code", code=code)
    if code and code not in seen:
        seen[code] = row


def _parse_date(text: str, sheet: str, row: int, field_name: str, day: date, problem: Any) -> date | None:
    try:
        value = _date(text)
    except ValueError:
        problem(sheet, row, field_name, "risk.error.date")
        return None
    if value is not None and value > day:
        problem(sheet, row, field_name, "risk.error.future_date")
        return None
    return value


def _deepest_common(paths: dict[int, str], site_ids: set[int]) -> int | None:
    """risk.scope.common_site over paths loaded once (it would fetch each site per measure)."""
    parts = [paths[s].strip("/").split("/") for s in site_ids if s in paths]
    prefix: list[str] = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        prefix.append(column[0])
    return int(prefix[-1]) if prefix else None


def _save_plan(session: Session, actor: Principal, plan: _Plan, day: date, ip: str) -> ImportResult:
    settings = get_risk_settings()
    calendar = load_calendar(session)
    points: dict[str, RiskPoint] = {}
    for _, p in plan.points:
        post: Post = p["post"]
        last = p["last_reviewed_on"] or day
        points[p["code"]] = RiskPoint(
            code=p["code"],
            name=p["name"],
            post_id=post.id or 0,
            manifestation=p["manifestation"],
            category=RiskCategory(p["category"]),
            grading_basis=p["grading_basis"],
            power=p["power"],
            process_step=p["process_step"],
            direct_responsible_id=p["direct_responsible_id"],
            department_responsible_id=p["department_responsible_id"],
            leader_responsible_id=p["leader_responsible_id"],
            level=p["level"],
            criteria_id=p["criteria"].id,
            next_review_due=last,  # set below, with whether it is provisional
            last_reviewed_on=p["last_reviewed_on"],
            duties_seen_at=post.duties_changed_at,
        )
        provisional.set_review_due(points[p["code"]], deadlines.review_due(
            last, p["level"], settings.review_days(p["level"]), calendar))
    session.add_all(points.values())
    session.flush()
    existing = {
        p.code: p
        for p in session.exec(
            select(RiskPoint).where(
                col(RiskPoint.code).in_({c for _, _, codes in plan.measures for c in codes} - set(points))
            )
        )
    }
    post_sites = {p.id: p.site_id for p in session.exec(select(Post))}
    site_paths = {site.id or 0: site.path for site in session.exec(select(Site))}
    measures: list[tuple[Countermeasure, list[RiskPoint], dict[str, Any]]] = []
    for _, m, codes in plan.measures:
        covered = [points.get(c) or existing[c] for c in dict.fromkeys(codes)]
        site_id = _deepest_common(site_paths, {post_sites[p.post_id] for p in covered}) if covered else None
        last = m["last_checked_on"] or day
        measure = Countermeasure(
            code=m["code"],
            content=m["content"],
            measure_type=MeasureType(m["measure_type"]),
            owner_id=m["owner"].id,
            check_frequency=CheckFrequency(m["check_frequency"]),
            check_method=m["check_method"],
            site_id=site_id or m["owner"].site_id,
            next_check_due=last,  # set below, with whether it is provisional
            last_checked_on=m["last_checked_on"],
            last_result=CheckResult(m["last_result"]) if m["last_result"] else None,
        )
        provisional.set_check_due(measure, deadlines.check_due(last, CheckFrequency(m["check_frequency"]), calendar))
        measures.append((measure, covered, m))
    session.add_all([m for m, _, _ in measures])
    session.flush()
    links = [{"point_id": p.id, "measure_id": m.id} for m, covered, _ in measures for p in covered]
    if links:
        session.execute(insert(RiskPointMeasure), links)
    who, now = actor.audit_name[:80], utcnow()
    reviews = [
        {
            "point_id": pt.id,
            "reviewed_on": pt.last_reviewed_on,
            "reviewer_name": actor.name[:60],
            "reviewer_user_id": actor.id if actor.kind == "user" else None,
            "outcome": ReviewOutcome.CONFIRMED,
            "level_before": pt.level,
            "level_after": pt.level,
            "criteria_id": pt.criteria_id,
            "grading_basis": pt.grading_basis,
            "notes": IMPORTED_NOTE,
            "trigger": "import",
            "incident_count": 0,
            "recorded_by": who,
            "recorded_at": now,
            "is_demo": False,
        }
        for pt in points.values()
        if pt.last_reviewed_on is not None
    ]
    if reviews:
        session.execute(insert(RiskReview), reviews)
    checks = [
        {
            "measure_id": m.id,
            "checked_on": m.last_checked_on,
            "checker_name": str(raw["last_checker"])[:60],
            "result": m.last_result,
            "notes": IMPORTED_NOTE,
            "evidence_sha256": "",
            "evidence_name": "",
            "evidence_type": "",
            "evidence_size": 0,
            "recorded_by": who,
            "recorded_at": now,
            "is_demo": False,
        }
        for m, _, raw in measures
        if m.last_checked_on is not None
    ]
    if checks:
        session.execute(insert(CountermeasureCheck), checks)
    session.flush()
    result = ImportResult(
        points=len(points), measures=len(measures), links=len(links), reviews=len(reviews), checks=len(checks)
    )
    audit.record(
        session,
        actor,
        "risk.import",
        object_kind="risk_point",
        site_id=actor.site_id,
        summary=f"{result.points} points, {result.measures} measures",
        detail={
            "points": sorted(points)[:200],
            "measures": sorted(m.code for m, _, _ in measures)[:200],
            **result.model_dump(),
        },
        ip=ip,
    )
    logger.info("risk register import: %s", result.model_dump())
    return result
