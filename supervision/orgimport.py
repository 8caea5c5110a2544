"""Bulk import and export of the organisation as an Excel workbook (one sheet per kind, rows keyed by code).

The workbook is what a bureau clerk fills in: row 1 holds the Chinese column labels (``*`` marks a
required cell), row 2 the English field keys, data starts on row 3. Enumerations may be written as the
Chinese label or the English value, references name other rows by code.

An import is all-or-nothing: every row goes through the org services (same validation, jurisdiction
checks and audit as a form), each in its own SAVEPOINT so that one bad row cannot poison a PostgreSQL
transaction, and if any row has a problem the whole import is rolled back and every problem is raised.
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, select

from supervision import audit, crypto, org
from supervision.access import Permission, Principal, site_path_clause
from supervision.errors import FieldProblem, InvalidInput, SupervisionError
from supervision.i18n import add_messages, translate
from supervision.models import (
    Department,
    Employment,
    Hall,
    Post,
    Site,
    SiteKind,
    Staff,
    StaffRank,
    Window,
    WindowDelegation,
)
from supervision.org import OrgKind

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
FIRST_DATA_ROW = 3
# Drop-downs cover this many rows; a clerk adding more copies a row down and keeps the validation.
VALIDATION_ROWS = 5000

add_messages({
    "orgimport.sheet.help": ("说明", "Instructions"),
    "orgimport.error.code_outside": (
        "编码“{code}”已被您管辖范围以外的记录使用",
        "the code \u201c{code}\u201d is used by a record outside your jurisdiction"),
    "orgimport.error.column_twice": (
        "列“{column}”出现了两次", "the column \u201c{column}\u201d appears twice"),
    "orgimport.help.title": ("组织架构导入模板使用说明", "How to fill in the organisation workbook"),
    "orgimport.help.1": (
        "本工作簿用于批量导入和导出组织架构:站点、大厅、部门、窗口、岗位、人员,每类一张工作表。",
        "This workbook imports and exports the organisation: sites, halls, departments, windows, posts "
        "and staff, one sheet each."),
    "orgimport.help.2": (
        "每张表第 1 行是中文列名(带 * 的必须填写),第 2 行是英文字段名,请勿修改这两行;数据从第 3 行开始。"
        "列的顺序可以调整;不需要的非必填列可以整列删除,导入时这些字段保持原值不变。",
        "Row 1 of each sheet holds the Chinese column labels (* marks a required cell), row 2 the English "
        "field keys: do not change them. Data starts on row 3. Columns may be reordered; an optional column "
        "may be deleted, and the import then leaves that field as it is."),
    "orgimport.help.3": (
        "以“编码”识别记录:编码已存在则更新该记录,不存在则新建。"
        "编码只能由字母、数字、点、横线和下划线组成,最多 40 位。",
        "Rows are matched by code: an existing code updates that record, a new code creates one. A code "
        "may contain letters, digits, dot, dash and underscore (at most 40)."),
    "orgimport.help.4": (
        "引用其他记录时填写对方的编码(上级站点编码、站点编码、大厅编码、部门编码、窗口编码、岗位编码、首席代表工号);"
        "被引用的记录可以在本文件中(任意行),也可以已在系统中。",
        "Refer to other records by their code (parent site, site, hall, department, window, post, chief "
        "representative); the record referred to may be anywhere in this file or already in the system."),
    "orgimport.help.5": (
        "可选值可填中文名称或英文取值。站点类型:{site_kinds};职级:{ranks};用工性质:{employments};"
        "“是/否”列填 是、否(或 yes、no、1、0)。",
        "Enumerations take the Chinese label or the English value. Site kind: {site_kinds}; rank: {ranks}; "
        "employment: {employments}; yes/no columns take 是, 否, yes, no, 1 or 0."),
    "orgimport.help.6": (
        "综合窗口:“综合窗口”填“是”,可以不填部门;“委托部门编码”可填多个部门编码,用逗号、顿号或空格分隔;"
        "“首席代表工号”填人员表中的人员编码,须为同一站点的人员。",
        "Comprehensive window: set \u201ccomprehensive\u201d to yes (no department needed); list the "
        "delegated departments' codes separated by commas or spaces; the chief representative is a staff "
        "code of the same site."),
    "orgimport.help.7": (
        "站点必须按层级放置:市级中心 → 县(市、区)中心/园区中心 → "
        "乡镇(街道)便民服务中心 → 村(社区)便民服务室。"
        "人员的窗口、岗位须属于其所在站点;部门可以是本站点或上级站点的部门。",
        "Sites follow the tree city → county/park → township → village. A staff member's window and post "
        "belong to the staff member's site; a department may be of the same site or a site above it."),
    "orgimport.help.8": (
        "导入是“全部成功或全部不做”:只要有一处错误,就不保存任何数据,并列出每个错误所在的工作表、行号和列,改正后重新上传即可。",
        "The import is all or nothing: if any row is wrong nothing is saved, and every problem is listed "
        "with its sheet, row and column; correct them and upload again."),
    "orgimport.help.9": (
        "人员电话属于个人信息,导出文件请妥善保管,用完即删。",
        "Staff phone numbers are personal data: keep an exported file safe and delete it after use."),
})


# --- the workbook's shape ---------------------------------------------------------------------


class CellType(StrEnum):
    TEXT = "text"
    CODE = "code"
    CODES = "codes"
    ENUM = "enum"
    BOOL = "bool"


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str  # message key; its zh-CN text heads the column
    cell: CellType = CellType.TEXT
    required: bool = False
    enum: type[StrEnum] | None = None
    enum_prefix: str = ""
    ref: OrgKind | None = None
    width: int = 16


@dataclass(frozen=True)
class SheetSpec:
    kind: OrgKind
    title: str  # the sheet's name in the workbook
    key: str  # accepted as the sheet's name too
    columns: tuple[ColumnSpec, ...]

    def column(self, key: str) -> ColumnSpec:
        return next(c for c in self.columns if c.key == key)


def _code(key: str = "code", label: str = "field.code", *, ref: OrgKind | None = None,
          required: bool = False) -> ColumnSpec:
    return ColumnSpec(key, label, CellType.CODE, required=required or key == "code", ref=ref)


SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(OrgKind.SITE, "站点", "sites", (
        _code(),
        ColumnSpec("name", "field.name", required=True, width=30),
        ColumnSpec("kind", "field.kind", CellType.ENUM, required=True, enum=SiteKind, enum_prefix="site_kind",
                   width=24),
        _code("parent_code", "field.parent_code", ref=OrgKind.SITE),
        ColumnSpec("address", "field.address", width=30),
    )),
    SheetSpec(OrgKind.HALL, "大厅", "halls", (
        _code(),
        ColumnSpec("name", "field.name", required=True, width=24),
        _code("site_code", "field.site_code", ref=OrgKind.SITE, required=True),
        ColumnSpec("floor", "field.floor", width=10),
    )),
    SheetSpec(OrgKind.DEPARTMENT, "部门", "departments", (
        _code(),
        ColumnSpec("name", "field.name", required=True, width=24),
        _code("site_code", "field.site_code", ref=OrgKind.SITE, required=True),
    )),
    SheetSpec(OrgKind.WINDOW, "窗口", "windows", (
        _code(),
        ColumnSpec("name", "field.name", required=True, width=24),
        ColumnSpec("number", "field.number", width=10),
        _code("site_code", "field.site_code", ref=OrgKind.SITE, required=True),
        _code("hall_code", "field.hall_code", ref=OrgKind.HALL),
        _code("department_code", "field.department_code", ref=OrgKind.DEPARTMENT),
        ColumnSpec("is_comprehensive", "field.is_comprehensive", CellType.BOOL, width=12),
        ColumnSpec("delegated_department_codes", "field.delegated_department_codes", CellType.CODES,
                   ref=OrgKind.DEPARTMENT, width=24),
        _code("chief_representative_code", "field.chief_representative_code", ref=OrgKind.STAFF),
    )),
    SheetSpec(OrgKind.POST, "岗位", "posts", (
        _code(),
        ColumnSpec("name", "field.name", required=True, width=24),
        _code("site_code", "field.site_code", ref=OrgKind.SITE, required=True),
        _code("window_code", "field.window_code", ref=OrgKind.WINDOW),
        _code("department_code", "field.department_code", ref=OrgKind.DEPARTMENT),
        ColumnSpec("duties", "field.duties", width=40),
    )),
    SheetSpec(OrgKind.STAFF, "人员", "staff", (
        _code(),
        ColumnSpec("name", "field.display_name", required=True, width=12),
        ColumnSpec("rank", "field.rank", CellType.ENUM, enum=StaffRank, enum_prefix="rank", width=14),
        ColumnSpec("employment", "field.employment", CellType.ENUM, enum=Employment, enum_prefix="employment",
                   width=10),
        _code("site_code", "field.site_code", ref=OrgKind.SITE, required=True),
        _code("department_code", "field.department_code", ref=OrgKind.DEPARTMENT),
        _code("window_code", "field.window_code", ref=OrgKind.WINDOW),
        _code("post_code", "field.post_code", ref=OrgKind.POST),
        ColumnSpec("title", "field.title", width=12),
        ColumnSpec("active", "field.active", CellType.BOOL, width=8),
        ColumnSpec("phone", "field.phone", width=16),
    )),
)
SHEET_OF: dict[OrgKind, SheetSpec] = {s.kind: s for s in SHEETS}

# The import column that carries each service field, so a service's problem names the clerk's column.
_COLUMN_OF_FIELD = {
    "parent_id": "parent_code",
    "site_id": "site_code",
    "hall_id": "hall_code",
    "department_id": "department_code",
    "window_id": "window_code",
    "post_id": "post_code",
    "chief_representative_id": "chief_representative_code",
    "delegated_department_ids": "delegated_department_codes",
}
_FIELD_OF_COLUMN = {v: k for k, v in _COLUMN_OF_FIELD.items()}

_TABLES: dict[OrgKind, Any] = {
    OrgKind.SITE: Site, OrgKind.HALL: Hall, OrgKind.DEPARTMENT: Department,
    OrgKind.WINDOW: Window, OrgKind.POST: Post, OrgKind.STAFF: Staff,
}

_YES = {"是", "yes", "y", "true", "1", "√", "✓", "t"}
_NO = {"否", "no", "n", "false", "0", "×", "✗", "f"}
_CODE_SPLIT = re.compile(r"[,，、;；\s]+")

# Words clerks use for site kinds besides the full labels.
_SITE_KIND_ALIASES = {
    "市": SiteKind.CITY, "市级": SiteKind.CITY, "市级中心": SiteKind.CITY, "市政务服务中心": SiteKind.CITY,
    "县": SiteKind.COUNTY, "区": SiteKind.COUNTY, "县级": SiteKind.COUNTY, "县(市、区)": SiteKind.COUNTY,
    "园区": SiteKind.PARK,
    "乡镇": SiteKind.TOWNSHIP, "街道": SiteKind.TOWNSHIP, "乡镇(街道)": SiteKind.TOWNSHIP,
    "村": SiteKind.VILLAGE, "社区": SiteKind.VILLAGE, "村(社区)": SiteKind.VILLAGE,
}


def _norm(text: str) -> str:
    # NFKC folds full-width brackets and letters, which clerks type as often as the half-width ones.
    return unicodedata.normalize("NFKC", text).strip().lower()


def _zh(key: str) -> str:
    return translate(key, "zh-CN")


def _enum_label(spec: ColumnSpec, value: str) -> str:
    return _zh(f"{spec.enum_prefix}.{value}")


@lru_cache(maxsize=16)
def _enum_lookup(spec: ColumnSpec) -> dict[str, str]:
    assert spec.enum is not None
    table: dict[str, str] = {}
    for member in spec.enum:
        value = str(member.value)
        for text in (value, _enum_label(spec, value), translate(f"{spec.enum_prefix}.{value}", "en")):
            table[_norm(text)] = value
    if spec.enum is SiteKind:
        table.update({_norm(k): v.value for k, v in _SITE_KIND_ALIASES.items()})
    return table


def _enum_choices(spec: ColumnSpec) -> str:
    assert spec.enum is not None
    return "、".join(f"{_enum_label(spec, m.value)}({m.value})" for m in spec.enum)


# --- the report -------------------------------------------------------------------------------


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did, per kind."""

    counts: dict[OrgKind, SheetCounts] = field(default_factory=lambda: {k: SheetCounts() for k in OrgKind})
    seconds: float = 0.0

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {k.value: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
                for k, c in self.counts.items()}


# --- writing a workbook -----------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="C00000")
_LABEL_FILL = PatternFill("solid", fgColor="DDEBF7")
_KEY_FILL = PatternFill("solid", fgColor="F2F2F2")
_KEY_FONT = Font(italic=True, color="7F7F7F", size=9)


def _write_workbook(rows: dict[OrgKind, list[dict[str, Any]]]) -> bytes:
    wb = Workbook()
    help_ws = wb.active
    assert help_ws is not None
    help_ws.title = _zh("orgimport.sheet.help")
    _write_help(help_ws)
    for spec in SHEETS:
        ws = wb.create_sheet(spec.title)
        _write_sheet(ws, spec, rows.get(spec.kind, []))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_help(ws: Worksheet) -> None:
    params = {
        "site_kinds": _enum_choices(SHEET_OF[OrgKind.SITE].column("kind")),
        "ranks": _enum_choices(SHEET_OF[OrgKind.STAFF].column("rank")),
        "employments": _enum_choices(SHEET_OF[OrgKind.STAFF].column("employment")),
    }
    ws.column_dimensions["A"].width = 120
    ws.append([translate("orgimport.help.title", "zh-CN")])
    ws["A1"].font = Font(bold=True, size=14)
    for i in range(1, 10):
        ws.append([f"{i}. " + translate(f"orgimport.help.{i}", "zh-CN", **params)])
    ws.append([])
    ws.append([translate("orgimport.help.title", "en")])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
    for i in range(1, 10):
        ws.append([f"{i}. " + translate(f"orgimport.help.{i}", "en", **params)])
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _write_sheet(ws: Worksheet, spec: SheetSpec, rows: list[dict[str, Any]]) -> None:
    for j, column in enumerate(spec.columns, start=1):
        label: Any = ws.cell(1, j, _zh(column.label) + ("*" if column.required else ""))
        label.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        label.fill = _LABEL_FILL
        key: Any = ws.cell(2, j, column.key)
        key.font = _KEY_FONT
        key.fill = _KEY_FILL
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = column.width
        # Codes and phone numbers are text: Excel would otherwise eat leading zeros and long digits.
        if column.cell in (CellType.CODE, CellType.CODES) or column.key in ("phone", "number"):
            ws.column_dimensions[letter].number_format = "@"
        choices: list[str] = []
        if column.cell is CellType.ENUM and column.enum is not None:
            choices = [_enum_label(column, m.value) for m in column.enum]
        elif column.cell is CellType.BOOL:
            choices = ["是", "否"]
        if choices:
            # A warning, not a stop: the English values are accepted too.
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                errorStyle="warning", showErrorMessage=True)
            dv.error = translate("error.choice", "zh-CN", choices="、".join(choices))
            ws.add_data_validation(dv)
            dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{VALIDATION_ROWS}")
    ws.freeze_panes = f"B{FIRST_DATA_ROW}"
    for data in rows:
        ws.append([_cell_out(column, data.get(column.key)) for column in spec.columns])
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW):
        for cell in row:
            cell.number_format = "@"


def _cell_out(column: ColumnSpec, value: Any) -> Any:
    if value is None:
        return None
    if column.cell is CellType.BOOL:
        return "是" if value else "否"
    if column.cell is CellType.ENUM:
        return _enum_label(column, str(value))
    if column.cell is CellType.CODES:
        return ",".join(value)
    return value


def build_template() -> bytes:
    """Return an empty workbook to fill in, with instructions and drop-downs."""
    return _write_workbook({})


# --- export -----------------------------------------------------------------------------------


def export_org(session: Session, actor: Principal, *, ip: str = "") -> bytes:
    """Write the actor's jurisdiction as a workbook `import_org` reads back (audited: it holds phones)."""
    actor.require(Permission.ORG_WRITE)
    codes = {kind: _id_to_code(session, _TABLES[kind]) for kind in OrgKind}

    def code(kind: OrgKind, ref_id: int | None) -> str | None:
        return codes[kind].get(ref_id) if ref_id is not None else None

    sites = list(session.exec(select(Site).where(site_path_clause(actor)).order_by(col(Site.path))))
    rows: dict[OrgKind, list[dict[str, Any]]] = {k: [] for k in OrgKind}
    rows[OrgKind.SITE] = [
        {"code": s.code, "name": s.name, "kind": s.kind, "parent_code": code(OrgKind.SITE, s.parent_id),
         "address": s.address} for s in sites
    ]
    rows[OrgKind.HALL] = [
        {"code": h.code, "name": h.name, "site_code": code(OrgKind.SITE, h.site_id), "floor": h.floor}
        for h in _in_jurisdiction(session, actor, Hall)
    ]
    rows[OrgKind.DEPARTMENT] = [
        {"code": d.code, "name": d.name, "site_code": code(OrgKind.SITE, d.site_id)}
        for d in _in_jurisdiction(session, actor, Department)
    ]
    windows = list(_in_jurisdiction(session, actor, Window))
    delegations: dict[int, list[str]] = {}
    window_ids = [w.id for w in windows]
    for chunk in _chunks(window_ids, 500):
        for d in session.exec(select(WindowDelegation).where(col(WindowDelegation.window_id).in_(chunk))):
            delegations.setdefault(d.window_id, []).append(codes[OrgKind.DEPARTMENT].get(d.department_id, ""))
    rows[OrgKind.WINDOW] = [
        {"code": w.code, "name": w.name, "number": w.number, "site_code": code(OrgKind.SITE, w.site_id),
         "hall_code": code(OrgKind.HALL, w.hall_id),
         "department_code": code(OrgKind.DEPARTMENT, w.department_id),
         "is_comprehensive": w.is_comprehensive,
         "delegated_department_codes": sorted(delegations.get(w.id or 0, [])),
         "chief_representative_code": code(OrgKind.STAFF, w.chief_representative_id)}
        for w in windows
    ]
    rows[OrgKind.POST] = [
        {"code": p.code, "name": p.name, "site_code": code(OrgKind.SITE, p.site_id),
         "window_code": code(OrgKind.WINDOW, p.window_id),
         "department_code": code(OrgKind.DEPARTMENT, p.department_id),
         "duties": p.duties}
        for p in _in_jurisdiction(session, actor, Post)
    ]
    rows[OrgKind.STAFF] = [
        {"code": s.code, "name": s.name, "rank": s.rank, "employment": s.employment,
         "site_code": code(OrgKind.SITE, s.site_id),
         "department_code": code(OrgKind.DEPARTMENT, s.department_id),
         "window_code": code(OrgKind.WINDOW, s.window_id), "post_code": code(OrgKind.POST, s.post_id),
         "title": s.title, "active": s.active, "phone": crypto.decrypt(s.phone_enc)}
        for s in _in_jurisdiction(session, actor, Staff)
    ]
    data = _write_workbook(rows)
    counts = {k.value: len(v) for k, v in rows.items()}
    audit.record(session, actor, "org.export", object_kind="site", object_id=actor.site_id or "",
                 site_id=actor.site_id, summary="org workbook export (with staff phones)",
                 detail=counts, ip=ip)
    logger.info("org export by %s: %s", actor.audit_name, counts)
    return data


def _in_jurisdiction(session: Session, actor: Principal, table: Any) -> Iterable[Any]:
    stmt = select(table).join(Site, col(Site.id) == table.site_id).where(site_path_clause(actor))
    return session.exec(stmt.order_by(col(table.code)))


def _id_to_code(session: Session, table: Any) -> dict[int, str]:
    return {int(i): str(c) for i, c in session.exec(select(table.id, table.code))}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- reading a workbook -----------------------------------------------------------------------


@dataclass
class _Row:
    sheet: str
    number: int
    cells: dict[str, Any]
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.cells.get("code") or "")

    def add(self, column: str, key: str, **params: Any) -> None:
        self.problems.append(FieldProblem(column, key, params, row=self.number, sheet=self.sheet))


@dataclass
class _Sheet:
    spec: SheetSpec
    title: str
    columns: set[str]
    rows: list[_Row]


def _read_workbook(data: bytes) -> tuple[dict[OrgKind, _Sheet], list[FieldProblem]]:
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("file", "error.upload_too_large", max=MAX_UPLOAD_BYTES // (1024 * 1024))
    problems: list[FieldProblem] = []
    sheets: dict[OrgKind, _Sheet] = {}
    try:
        # Read-only: rows are parsed as they are iterated, instead of every cell becoming an object first.
        # A sheet's XML is read only now, so a broken one fails here, not in load_workbook.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            by_name = {_norm(ws.title): ws for ws in wb.worksheets}
            for spec in SHEETS:
                ws = by_name.get(_norm(spec.title)) or by_name.get(spec.key)
                if ws is None:
                    problems.append(FieldProblem("file", "error.workbook_sheet_missing", sheet=spec.title))
                    continue
                sheet = _read_sheet(ws, spec, problems)
                if sheet is not None:
                    sheets[spec.kind] = sheet
        finally:
            wb.close()
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError,
            SyntaxError) as exc:  # SyntaxError: the XML parsers' ParseError (ElementTree and lxml)
        raise InvalidInput("file", "error.workbook", detail=exc.__class__.__name__) from None
    return sheets, problems


def _header_key(spec: SheetSpec, text: Any) -> str | None:
    if text is None:
        return None
    raw = _norm(str(text)).rstrip("*").strip()
    for part in [raw, *re.split(r"\s*/\s*", raw)]:
        for column in spec.columns:
            if part in (column.key, _norm(_zh(column.label)), _norm(translate(column.label, "en"))):
                return column.key
    return None


def _read_sheet(ws: Any, spec: SheetSpec, problems: list[FieldProblem]) -> _Sheet | None:
    """Read one sheet of a read-only workbook (`ws`: openpyxl's stubs type its rows for `Worksheet` only)."""
    # The sheet's recorded size may be wrong (files written by other tools): read to the last row there is.
    ws.reset_dimensions()
    head = list(ws.iter_rows(min_row=1, max_row=2, values_only=True))
    row1 = list(head[0]) if head else []
    row2 = list(head[1]) if len(head) > 1 else []
    # Row 2 of our template holds the field keys; a sheet made by hand may have only the label row.
    field_keys = {c.key for c in spec.columns}
    keys2 = [_norm(str(v)) if v is not None and _norm(str(v)) in field_keys else None for v in row2]
    two_rows = any(keys2)
    index: dict[str, int] = {}
    for j in range(max(len(row1), len(row2))):
        key = keys2[j] if two_rows and j < len(keys2) else None
        if key is None and j < len(row1):
            key = _header_key(spec, row1[j])
        if key is None:
            continue
        if key in index:
            problems.append(FieldProblem(key, "orgimport.error.column_twice", {"column": key},
                                         sheet=ws.title))
        index[key] = j
    if not any(not _blank(v) for v in row1 + row2):
        # A clerk who cleared a whole sheet means "nothing of this kind", not a broken file.
        return _Sheet(spec, ws.title, set(), [])
    missing = [c for c in spec.columns if c.required and c.key not in index]
    for column in missing:
        problems.append(FieldProblem(column.key, "error.workbook_column_missing",
                                     {"column": f"{_zh(column.label)} / {column.key}"}, sheet=ws.title))
    if missing:
        return None
    first = FIRST_DATA_ROW if two_rows else 2
    rows: list[_Row] = []
    for number, values in enumerate(ws.iter_rows(min_row=first, values_only=True), start=first):
        if all(_blank(v) for v in values):
            continue
        row = _Row(ws.title, number, {})
        for column in spec.columns:
            if column.key in index:
                j = index[column.key]
                row.cells[column.key] = _parse_cell(row, column, values[j] if j < len(values) else None)
        rows.append(row)
    return _Sheet(spec, ws.title, set(index), rows)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    # Excel stores typed digits as numbers: 1001 comes back as 1001 or 1001.0, 13800001111 as an int.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_cell(row: _Row, column: ColumnSpec, value: Any) -> Any:
    text = _text(value)
    if not text:
        if column.required:
            row.add(column.key, "error.required")
        return [] if column.cell is CellType.CODES else None if column.cell is not CellType.TEXT else ""
    if column.cell is CellType.CODES:
        return [c for c in _CODE_SPLIT.split(text) if c]
    if column.cell is CellType.BOOL:
        if isinstance(value, bool):
            return value
        folded = _norm(text)
        if folded in _YES:
            return True
        if folded in _NO:
            return False
        row.add(column.key, "error.boolean")
        return None
    if column.cell is CellType.ENUM:
        found = _enum_lookup(column).get(_norm(text))
        if found is None:
            row.add(column.key, "error.choice", choices=_enum_choices(column))
        return found
    return text


# --- import -----------------------------------------------------------------------------------


@dataclass
class _Known:
    """Codes already in the database or created by this import."""

    ids: dict[OrgKind, dict[str, int]]
    outside: dict[OrgKind, set[str]]  # existing codes beyond the actor's jurisdiction
    failed: dict[OrgKind, set[str]]  # codes of rows that have problems (their dependants are not blamed)


class _BlockedError(Exception):
    """A row refers to a row of the file that failed; its own problems would only repeat that one."""


def _load_known(session: Session, actor: Principal) -> _Known:
    paths = {int(i or 0): str(p) for i, p in session.exec(select(Site.id, Site.path))}
    ids: dict[OrgKind, dict[str, int]] = {}
    outside: dict[OrgKind, set[str]] = {}
    for kind, table in _TABLES.items():
        ids[kind], outside[kind] = {}, set()
        site_col = table.id if kind is OrgKind.SITE else table.site_id
        for row_id, code, site_id in session.exec(select(table.id, table.code, site_col)):
            ids[kind][str(code)] = int(row_id)
            if not actor.covers_path(paths.get(int(site_id), "")):
                outside[kind].add(code)
    return _Known(ids, outside, {k: set() for k in OrgKind})


class _Importer:
    def __init__(self, session: Session, actor: Principal, sheets: dict[OrgKind, _Sheet], ip: str) -> None:
        self.session = session
        self.actor = actor
        self.sheets = sheets
        self.ip = ip
        self.known = _load_known(session, actor)
        self.report = ImportReport()
        self.problems: list[FieldProblem] = []
        self.current: dict[OrgKind, dict[str, Any]] = {k: {} for k in OrgKind}
        self.touched: set[tuple[OrgKind, str]] = set()
        # The session's identity map holds rows weakly: without these references the services would
        # reload the same site, window and department from the database for every row.
        self.pinned: dict[tuple[OrgKind, int], Any] = {}

    # -- helpers --

    def rows(self, kind: OrgKind) -> list[_Row]:
        sheet = self.sheets.get(kind)
        return sheet.rows if sheet else []

    def has(self, kind: OrgKind, column: str) -> bool:
        sheet = self.sheets.get(kind)
        return sheet is not None and column in sheet.columns

    def fail(self, kind: OrgKind, row: _Row) -> None:
        """Give up on a row (its own problems are kept; rows that refer to it are skipped silently)."""
        self.known.failed[kind].add(row.code)
        self.problems.extend(row.problems)

    def load_current(self) -> None:
        """Fetch the existing rows the file names, in a few queries instead of one per row."""
        for kind, table in _TABLES.items():
            codes = [r.code for r in self.rows(kind) if r.code in self.known.ids[kind]]
            for chunk in _chunks(codes, 500):
                for entity in self.session.exec(select(table).where(col(table.code).in_(chunk))):
                    self.current[kind][entity.code] = entity

    def ref(self, row: _Row, column: str, kind: OrgKind, current_id: int | None) -> int | None:
        code = row.cells.get(column)
        if code is None:
            return None
        return self._resolve(row, column, kind, str(code), current_id)

    def _resolve(
        self, row: _Row, column: str, kind: OrgKind, code: str, current_id: int | None
    ) -> int | None:
        found = self.known.ids[kind].get(code)
        if found is not None and (code not in self.known.outside[kind] or found == current_id):
            # A reference beyond the jurisdiction stays allowed when it is what the row already has
            # (a county admin's export names the city as its county's parent).
            self.pin(kind, found)
            return found
        if code in self.known.failed[kind]:
            raise _BlockedError
        row.add(column, "error.unknown_ref", kind=f"kind.{kind.value}", value=code)
        return None

    def pin(self, kind: OrgKind, entity_id: int) -> None:
        if (kind, entity_id) in self.pinned:
            return
        entity = self.session.get(_TABLES[kind], entity_id)
        self.pinned[(kind, entity_id)] = entity
        if entity is not None and kind is not OrgKind.SITE:
            self.pin(OrgKind.SITE, int(entity.site_id))

    def release(self, kind: OrgKind, row: _Row) -> None:
        """Forget a finished row; every row kept makes each later audit UPDATE scan a larger session."""
        if kind is not OrgKind.WINDOW:  # windows are needed again to set their chief representatives
            self.current[kind].pop(row.code, None)

    def check_code(self, kind: OrgKind, row: _Row) -> Any:
        """Return the existing entity the row updates, or None for a new one."""
        if row.code in self.known.outside[kind]:
            row.add("code", "orgimport.error.code_outside", code=row.code)
            return None
        return self.current[kind].get(row.code)

    def apply(self, kind: OrgKind, row: _Row, existing: Any, data: dict[str, Any],
              compare: Callable[[str, Any], bool] | None = None) -> Any:
        """Create or update through the org service in a SAVEPOINT; count what happened."""
        try:
            return self._apply(kind, row, existing, data, compare)
        finally:
            self.release(kind, row)

    def _apply(self, kind: OrgKind, row: _Row, existing: Any, data: dict[str, Any],
               compare: Callable[[str, Any], bool] | None) -> Any:
        if row.problems:
            self.fail(kind, row)
            return None
        counts = self.report.counts[kind]
        if existing is not None:
            same = compare or (lambda k, v: getattr(existing, k) == v)
            changes = {k: v for k, v in data.items() if k != "code" and not same(k, v)}
            if not changes:
                counts.unchanged += 1
                return existing
        try:
            with self.session.begin_nested():
                if existing is None:
                    entity = org.create_entity(self.session, self.actor, kind, data, ip=self.ip)
                else:
                    entity = org.update_entity(self.session, self.actor, kind, existing.id, changes,
                                               ip=self.ip)
        except SupervisionError as exc:
            for p in exc.problems or [FieldProblem("code", exc.key, exc.params)]:
                self._add_service_problem(row, p)
            self.fail(kind, row)
            return None
        if existing is None:
            counts.created += 1
            self.known.ids[kind][row.code] = int(entity.id)
            if kind is OrgKind.WINDOW:
                self.current[kind][row.code] = entity
        else:
            counts.updated += 1
        self.touched.add((kind, row.code))
        return entity

    def _add_service_problem(self, row: _Row, p: FieldProblem) -> None:
        column = _COLUMN_OF_FIELD.get(p.field, p.field)
        params = dict(p.params)
        if p.key == "error.unknown_ref" and column in row.cells:
            # The service names the id; the clerk wrote a code.
            params["value"] = row.cells[column]
        row.add(column, p.key, **params)

    def collect_duplicates(self) -> None:
        for kind in OrgKind:
            first: dict[str, int] = {}
            for row in self.rows(kind):
                if not row.code:
                    continue
                if row.code in first:
                    row.add("code", "error.duplicate_in_file", code=row.code, first=first[row.code])
                else:
                    first[row.code] = row.number

    # -- the kinds, in dependency order --

    def run(self) -> None:
        self.collect_duplicates()
        self.load_current()
        self.import_sites()
        self.import_simple(OrgKind.HALL, ("floor",))
        self.import_simple(OrgKind.DEPARTMENT, ())
        chiefs = self.import_windows()
        self.import_posts()
        self.import_staff()
        self.set_chiefs(chiefs)

    def _base(self, kind: OrgKind, row: _Row, existing: Any, texts: Iterable[str]) -> dict[str, Any]:
        data: dict[str, Any] = {"code": row.code, "name": row.cells.get("name") or ""}
        for key in texts:
            if self.has(kind, key):
                data[key] = row.cells.get(key) or ""
        if kind is not OrgKind.SITE:
            data["site_id"] = self.ref(row, "site_code", OrgKind.SITE, getattr(existing, "site_id", None))
        return data

    def _optional_ref(self, kind: OrgKind, row: _Row, existing: Any, data: dict[str, Any], column: str,
                      target: OrgKind) -> None:
        if self.has(kind, column):
            field_name = _FIELD_OF_COLUMN[column]
            data[field_name] = self.ref(row, column, target, getattr(existing, field_name, None))

    def import_sites(self) -> None:
        rows = self.rows(OrgKind.SITE)
        in_file = {r.code: r for r in rows if r.code and not any(p.key == "error.duplicate_in_file"
                                                                  for p in r.problems)}
        done: set[str] = set()
        for start in rows:
            if not (start.code and in_file.get(start.code) is start):
                self.fail(OrgKind.SITE, start)
                continue
            # Walk up to the first parent that is done or not in the file, then create downwards, so a
            # site may name a parent further down the sheet. Iterative: a file may hold a long chain.
            chain: list[_Row] = []
            on_chain: set[str] = set()
            row: _Row | None = start
            while row is not None and row.code not in done:
                if row.code in on_chain:
                    looped = row
                    for member in chain[chain.index(looped):]:
                        member.add("parent_code", "error.site_cycle")
                        # Known as failed at once, so the others of the loop are not also "unknown".
                        self.known.failed[OrgKind.SITE].add(member.code)
                    break
                chain.append(row)
                on_chain.add(row.code)
                parent = row.cells.get("parent_code")
                row = in_file.get(str(parent)) if parent else None
            for row in reversed(chain):
                done.add(row.code)
                self.import_site(row)

    def import_site(self, row: _Row) -> None:
        existing = self.check_code(OrgKind.SITE, row)
        try:
            data = self._base(OrgKind.SITE, row, existing, ("address",))
            if row.cells.get("kind") is not None:
                data["kind"] = row.cells["kind"]
            self._optional_ref(OrgKind.SITE, row, existing, data, "parent_code", OrgKind.SITE)
        except _BlockedError:
            self.fail(OrgKind.SITE, row)
            return
        self.apply(OrgKind.SITE, row, existing, data)

    def import_simple(self, kind: OrgKind, texts: tuple[str, ...]) -> None:
        for row in self.rows(kind):
            existing = self.check_code(kind, row)
            try:
                data = self._base(kind, row, existing, texts)
            except _BlockedError:
                self.fail(kind, row)
                continue
            self.apply(kind, row, existing, data)

    def import_windows(self) -> list[tuple[_Row, str | None]]:
        """Create and update windows; return the chief representatives to set once staff exist."""
        kind = OrgKind.WINDOW
        chiefs: list[tuple[_Row, str | None]] = []
        for row in self.rows(kind):
            existing = self.check_code(kind, row)
            try:
                data = self._base(kind, row, existing, ("number",))
                for column in ("hall_code", "department_code"):
                    self._optional_ref(kind, row, existing, data, column, OrgKind.HALL
                                       if column == "hall_code" else OrgKind.DEPARTMENT)
                if self.has(kind, "is_comprehensive") and row.cells.get("is_comprehensive") is not None:
                    data["is_comprehensive"] = row.cells["is_comprehensive"]
                if self.has(kind, "delegated_department_codes"):
                    current = (set(org.delegated_departments(self.session, existing.id))
                               if existing is not None else set())
                    ids: set[int] = set()
                    for code in row.cells.get("delegated_department_codes") or []:
                        known_id = self.known.ids[OrgKind.DEPARTMENT].get(code)
                        found = self._resolve(row, "delegated_department_codes", OrgKind.DEPARTMENT, code,
                                              known_id if known_id in current else None)
                        if found is not None:
                            ids.add(found)
                    data["delegated_department_ids"] = sorted(ids)
            except _BlockedError:
                self.fail(kind, row)
                continue
            chief_code: str | None = None
            if self.has(kind, "chief_representative_code"):
                chief_code = row.cells.get("chief_representative_code")
                # Staff are imported after windows and may move; a chief that changes is cleared here and
                # set again after the staff, so neither pass sees a half-moved window.
                desired = self.known.ids[OrgKind.STAFF].get(chief_code) if chief_code else None
                if existing is not None and existing.chief_representative_id not in (None, desired):
                    data["chief_representative_id"] = None
                chiefs.append((row, chief_code))

            def same(key: str, value: Any, existing: Any = existing) -> bool:
                if key == "delegated_department_ids":
                    return bool(sorted(org.delegated_departments(self.session, existing.id)) == value)
                return bool(getattr(existing, key) == value)

            self.apply(kind, row, existing, data, same)
        return chiefs

    def import_posts(self) -> None:
        kind = OrgKind.POST
        for row in self.rows(kind):
            existing = self.check_code(kind, row)
            try:
                data = self._base(kind, row, existing, ("duties",))
                self._optional_ref(kind, row, existing, data, "window_code", OrgKind.WINDOW)
                self._optional_ref(kind, row, existing, data, "department_code", OrgKind.DEPARTMENT)
            except _BlockedError:
                self.fail(kind, row)
                continue
            self.apply(kind, row, existing, data)

    def import_staff(self) -> None:
        kind = OrgKind.STAFF
        for row in self.rows(kind):
            existing = self.check_code(kind, row)
            try:
                data = self._base(kind, row, existing, ("title", "phone"))
                refs = (("department_code", OrgKind.DEPARTMENT), ("window_code", OrgKind.WINDOW),
                        ("post_code", OrgKind.POST))
                for column, target in refs:
                    self._optional_ref(kind, row, existing, data, column, target)
                for key in ("rank", "employment", "active"):
                    if self.has(kind, key) and row.cells.get(key) is not None:
                        data[key] = row.cells[key]
            except _BlockedError:
                self.fail(kind, row)
                continue

            def same(key: str, value: Any, existing: Any = existing) -> bool:
                if key == "phone":
                    return bool(crypto.decrypt(existing.phone_enc) == value)
                return bool(getattr(existing, key) == value)

            self.apply(kind, row, existing, data, same)

    def set_chiefs(self, chiefs: list[tuple[_Row, str | None]]) -> None:
        kind = OrgKind.WINDOW
        for row, chief_code in chiefs:
            window = self.current[kind].get(row.code)
            if window is None or row.code in self.known.failed[kind]:
                continue
            try:
                chief_id = (self._resolve(row, "chief_representative_code", OrgKind.STAFF, chief_code,
                                          window.chief_representative_id) if chief_code else None)
            except _BlockedError:
                continue
            if row.problems:
                self.problems.extend(row.problems)
                continue
            if window.chief_representative_id == chief_id:
                continue
            try:
                with self.session.begin_nested():
                    org.update_entity(self.session, self.actor, kind, window.id,
                                      {"chief_representative_id": chief_id}, ip=self.ip)
            except SupervisionError as exc:
                for p in exc.problems or [FieldProblem("code", exc.key, exc.params)]:
                    self._add_service_problem(row, p)
                self.problems.extend(row.problems)
                continue
            # A window created or updated in the first pass is counted already.
            if (kind, row.code) not in self.touched:
                self.report.counts[kind].unchanged -= 1
                self.report.counts[kind].updated += 1
                self.touched.add((kind, row.code))


def import_org(session: Session, actor: Principal, data: bytes, *, ip: str = "") -> ImportReport:
    """Create or update the organisation from a workbook; all or nothing (InvalidInput lists each problem)."""
    actor.require(Permission.ORG_WRITE)
    started = time.perf_counter()
    sheets, problems = _read_workbook(data)
    if problems:
        raise InvalidInput(problems=problems)
    # Our own SAVEPOINT around the whole import: a caller that commits anyway still saves nothing.
    outer = session.begin_nested()
    try:
        importer = _Importer(session, actor, sheets, ip)
        importer.run()
        if importer.problems:
            outer.rollback()
            importer.problems.sort(key=lambda p: (_sheet_order(p.sheet), p.row or 0))
            raise InvalidInput(problems=importer.problems)
        report = importer.report
        report.seconds = round(time.perf_counter() - started, 3)
        audit.record(session, actor, "org.import", object_kind="site", object_id=actor.site_id or "",
                     site_id=actor.site_id, summary=f"org workbook import: {report.created} created, "
                     f"{report.updated} updated", detail=report.as_dict(), ip=ip)
        outer.commit()
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise
    logger.info("org import by %s in %.2fs: %s", actor.audit_name, report.seconds, report.as_dict())
    return report


def _sheet_order(title: str | None) -> int:
    for i, spec in enumerate(SHEETS):
        if title in (spec.title, spec.key):
            return i
    return len(SHEETS)


__all__ = ["SHEETS", "ImportReport", "SheetCounts", "build_template", "export_org", "import_org"]

