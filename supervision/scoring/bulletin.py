"""The monthly bulletin (月度考评通报) as a PDF with charts and as an Excel workbook, in the reader's language.

The renderers take the month's rows as the scoring engine gives them (`ScoreRow`, `ItemLine`); they read
nothing and check nothing: the caller gets the rows through `month_view`, which checks the reader.
The same pure helpers (the ranking, who is furthest down and why) serve the manager's home page.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from supervision.i18n import has_message, translate
from supervision.pdffonts import cjk_font
from supervision.scoring import report_messages as _report_messages  # noqa: F401  (registers the texts)
from supervision.scoring import rules

KINDS = ("window", "staff", "department")
# Bars per chart: a window's name stays readable on A4 at 40 rows; 105 windows make three charts.
BARS_PER_CHART = 40


class ItemLike(Protocol):
    """One rule item's effect on one subject's month (the engine's `ItemLine`)."""

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def rule_version(self) -> str: ...
    @property
    def raw_points(self) -> float: ...
    @property
    def points(self) -> float: ...
    @property
    def cap(self) -> float | None: ...
    @property
    def entry_ids(self) -> tuple[int, ...]: ...


class RowLike(Protocol):
    """One subject's month (the engine's `ScoreRow`)."""

    @property
    def subject_kind(self) -> str: ...
    @property
    def subject_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def site_id(self) -> int: ...
    @property
    def base(self) -> float: ...
    @property
    def deductions(self) -> float: ...
    @property
    def bonuses(self) -> float: ...
    @property
    def final(self) -> float: ...
    @property
    def rank(self) -> int: ...
    @property
    def items(self) -> Sequence[ItemLike]: ...


@dataclass(frozen=True)
class Bulletin:
    """What a bulletin shows: the jurisdiction's month, its state and every subject's row."""

    site_name: str
    month: date
    rule_version: str
    closed: bool
    published: bool
    rows: Sequence[RowLike]
    locale: str = "zh-CN"
    generated_at: datetime | None = None
    # The centre of each row's subject: a city's bulletin has a "01 公安窗口" in many centres.
    site_names: Mapping[int, str] = field(default_factory=dict)

    def shown_name(self, row: RowLike) -> str:
        return display_name(row, self.site_names, self.rows)

    def site_of(self, row: RowLike) -> str:
        return self.site_names.get(row.site_id, "")


@dataclass(frozen=True)
class KindSummary:
    kind: str
    count: int
    average: float | None
    highest: float | None
    lowest: float | None
    with_deductions: int
    deductions: float
    bonuses: float


@dataclass(frozen=True)
class Laggard:
    """A subject at the bottom of its ranking and the items that put it there (largest deductions first)."""

    row: RowLike
    reasons: tuple[ItemLike, ...]


# --- pure figures ---------------------------------------------------------------------------------------


def display_name(row: RowLike, site_names: Mapping[int, str], rows: Sequence[RowLike]) -> str:
    """The subject's name, with its centre when the rows come from more than one."""
    site = site_names.get(row.site_id, "")
    if site and len({r.site_id for r in rows}) > 1:
        return f"{row.name}({site})"
    return row.name


def item_label(item: ItemLike, locale: str) -> str:
    return rules.item_label(item.key, locale)


def category(item_key: str) -> str:
    """The category of an item: the part of its key before the dot (attendance, video, complaint…)."""
    return item_key.split(".", 1)[0]


def category_label(name: str, locale: str) -> str:
    key = f"bulletin.category.{name}"
    return translate(key, locale) if has_message(key) else name


def state_key(closed: bool, published: bool) -> str:
    return "bulletin.state_published" if published else "bulletin.state_closed" if closed else "bulletin.state_open"


Row = TypeVar("Row", bound=RowLike)


def ranked(rows: Sequence[Row], kind: str) -> list[Row]:
    """The subjects of one kind, first rank first (ties by name)."""
    return sorted((r for r in rows if r.subject_kind == kind), key=lambda r: (r.rank, -r.final, r.name))


def summarise(rows: Sequence[RowLike], kind: str) -> KindSummary:
    of_kind = [r for r in rows if r.subject_kind == kind]
    finals = [r.final for r in of_kind]
    return KindSummary(
        kind=kind, count=len(of_kind),
        average=round(sum(finals) / len(finals), 2) if finals else None,
        highest=max(finals) if finals else None, lowest=min(finals) if finals else None,
        with_deductions=sum(1 for r in of_kind if r.deductions < 0 or any(i.points < 0 for i in r.items)),
        deductions=round(sum(_deducted(r) for r in of_kind), 2),
        bonuses=round(sum(r.bonuses for r in of_kind), 2))


def _deducted(row: RowLike) -> float:
    """The row's deductions as a negative number, whichever sign the engine stores them with."""
    return -abs(row.deductions)


def reasons(row: RowLike, limit: int = 3) -> tuple[ItemLike, ...]:
    """The row's largest deductions (after caps), largest first."""
    lost = sorted((i for i in row.items if i.points < 0), key=lambda i: (i.points, i.key))
    return tuple(lost[:limit])


def furthest_down(rows: Sequence[RowLike], kind: str, count: int = 3) -> list[Laggard]:
    """The lowest `count` subjects of a kind that lost points, lowest first, each with its largest items."""
    losers = [r for r in ranked(rows, kind) if reasons(r)]
    return [Laggard(r, reasons(r)) for r in reversed(losers[-count:])]


def deductions_by_category(rows: Sequence[RowLike]) -> list[tuple[str, dict[str, float]]]:
    """Points lost per item category and subject kind, the category that costs most first."""
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        for item in row.items:
            if item.points < 0:
                per_kind = table.setdefault(category(item.key), {})
                per_kind[row.subject_kind] = round(per_kind.get(row.subject_kind, 0.0) + item.points, 2)
    return sorted(table.items(), key=lambda kv: (min(kv[1].values()), kv[0]))


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}"


def _signed(value: float) -> str:
    return f"{value:+.1f}" if value else "0"


def _t(key: str, locale: str, **params: object) -> str:
    return translate(key, locale, **params)


def title_of(b: Bulletin) -> str:
    return _t("bulletin.title", b.locale, site=b.site_name, month=b.month.strftime("%Y-%m"))


# --- PDF ------------------------------------------------------------------------------------------------


def bulletin_pdf(b: Bulletin) -> bytes:
    """The bulletin as an A4 PDF: heading, summary, charts, rankings, who is furthest down and why."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    loc = b.locale
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, textColor=colors.HexColor("#555555"))
    h1 = ParagraphStyle("h1", parent=body, fontSize=17, leading=22, alignment=TA_CENTER, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontSize=12.5, leading=17, spaceBefore=10, spaceAfter=4)
    grid = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ])

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(_escape(text), style)

    def table(rows: list[list[object]], widths: list[float], *, left: int = 1) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = TableStyle(grid.getCommands())
        for column in range(left):
            style.add("ALIGN", (column, 1), (column, -1), "LEFT")
        t.setStyle(style)
        return t

    story: list[object] = [
        p(title_of(b), h1),
        p(_t("bulletin.heading_line", loc, site=b.site_name, month=b.month.strftime("%Y-%m"),
             version=b.rule_version or "–", state=_t(state_key(b.closed, b.published), loc)), small),
    ]
    if not b.closed:
        story.append(p(_t("bulletin.provisional_note", loc), small))
    story.append(p(_t("bulletin.summary", loc), h2))
    head: list[object] = [_t(k, loc) for k in ("bulletin.col_kind", "bulletin.col_count", "bulletin.col_average",
                                  "bulletin.col_highest", "bulletin.col_lowest", "bulletin.col_with_deductions",
                                  "bulletin.col_deductions", "bulletin.col_bonuses")]
    summary_rows: list[list[object]] = [head]
    for kind in KINDS:
        s = summarise(b.rows, kind)
        summary_rows.append([_t(f"bulletin.kind.{kind}", loc), s.count, _num(s.average), _num(s.highest),
                             _num(s.lowest), s.with_deductions, _signed(s.deductions), _signed(s.bonuses)])
    story.append(table(summary_rows, [28 * mm] + [20 * mm] * 7))

    categories = deductions_by_category(b.rows)
    story.append(p(_t("bulletin.by_category", loc), h2))
    if categories:
        cat_rows: list[list[object]] = [[_t("bulletin.col_category", loc),
                                         *(_t(f"bulletin.kind.{k}", loc) for k in KINDS)]]
        for name, per_kind in categories:
            cat_rows.append([category_label(name, loc), *(_signed(per_kind.get(k, 0.0)) for k in KINDS)])
        story.append(table(cat_rows, [50 * mm] + [30 * mm] * 3))
    else:
        story.append(p(_t("bulletin.no_deductions", loc)))

    windows = ranked(b.rows, "window")
    if windows:
        story.append(p(_t("bulletin.window_chart", loc), h2))
        for start in range(0, len(windows), BARS_PER_CHART):
            story.append(_window_chart(windows[start:start + BARS_PER_CHART], b, font, width=170 * mm))
            story.append(Spacer(1, 4 * mm))

    story.append(p(_t("bulletin.furthest_down", loc), h2))
    any_laggard = False
    for kind in ("window", "staff"):
        for lag in furthest_down(b.rows, kind):
            any_laggard = True
            why = "; ".join(f"{item_label(i, loc)} {_signed(i.points)}" for i in lag.reasons)
            story.append(p(_t("bulletin.laggard_line", loc, kind=_t(f"bulletin.kind.{kind}", loc),
                              name=b.shown_name(lag.row), final=_num(lag.row.final), rank=lag.row.rank, why=why)))
    if not any_laggard:
        story.append(p(_t("bulletin.no_deductions", loc)))

    rank_head: list[object] = [_t(k, loc) for k in ("bulletin.col_rank", "bulletin.col_name", "bulletin.col_base",
                                       "bulletin.col_deductions", "bulletin.col_bonuses", "bulletin.col_final",
                                       "bulletin.col_items")]
    for kind in KINDS:
        rows = ranked(b.rows, kind)
        if not rows:
            continue
        heading = p(_t("bulletin.ranking_of", loc, kind=_t(f"bulletin.kind.{kind}", loc), count=len(rows)), h2)
        data: list[list[object]] = [rank_head]
        for r in rows:
            items = "; ".join(f"{item_label(i, loc)} {_signed(i.points)}" for i in r.items if i.points)
            data.append([r.rank, p(b.shown_name(r)), _num(r.base), _signed(_deducted(r)), _signed(r.bonuses),
                         _num(r.final), p(items, small)])
        t = table(data, [12 * mm, 42 * mm, 14 * mm, 16 * mm, 16 * mm, 16 * mm, 58 * mm], left=2)
        story.append(KeepTogether([heading, t]) if len(rows) < 25 else heading)
        if len(rows) >= 25:
            story.append(t)

    generated = b.generated_at or datetime.now()
    story.append(Spacer(1, 6 * mm))
    story.append(p(_t("bulletin.generated", loc, at=generated.strftime("%Y-%m-%d %H:%M")), small))

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=title_of(b), author=b.site_name,
                            subject=_t("bulletin.kind_of_document", loc))

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, _t("bulletin.page", loc, title=title_of(b),
                                                            page=canvas.getPageNumber()))
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _window_chart(rows: Sequence[RowLike], b: Bulletin, font: str, *, width: float) -> object:
    """A horizontal bar per window (final score), best at the top, its value at the bar's end."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    bar = 11.0
    height = bar * len(rows) + 40
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 24
    chart.width, chart.height = width - 190, bar * len(rows)
    # The category axis draws its first category at the bottom: reverse so rank 1 is on top.
    ordered = list(reversed(rows))
    chart.data = [[r.final for r in ordered]]
    chart.categoryAxis.categoryNames = [_short(b.shown_name(r), 22) for r in ordered]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -3
    low = min(r.final for r in rows)
    high = max(max(r.final for r in rows), max(r.base for r in rows))
    # Scores bunch just under 100: an axis from 0 would show bars of equal length; start at a round ten below.
    chart.valueAxis.valueMin = max(0.0, math.floor((low - 5) / 10) * 10) if low >= 0 else math.floor(low / 10) * 10
    chart.valueAxis.valueMax = math.ceil((high + 1) / 10) * 10
    chart.valueAxis.valueStep = 10
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#3a6ea5")
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    drawing.add(chart)
    drawing.add(String(150, height - 10, translate("bulletin.window_chart_axis", b.locale), fontName=font,
                       fontSize=7.5))
    return drawing


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Excel ----------------------------------------------------------------------------------------------


def bulletin_xlsx(b: Bulletin) -> bytes:
    """The bulletin as a workbook: a sheet per subject kind (the ranking) and one of every item line."""
    loc = b.locale
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    info = _t("bulletin.heading_line", loc, site=b.site_name, month=b.month.strftime("%Y-%m"),
              version=b.rule_version or "–", state=_t(state_key(b.closed, b.published), loc))
    head = [_t(k, loc) for k in ("bulletin.col_rank", "bulletin.col_name", "bulletin.col_base",
                                  "bulletin.col_deductions", "bulletin.col_bonuses", "bulletin.col_final",
                                  "bulletin.col_id", "bulletin.col_site")]
    for kind in KINDS:
        ws = wb.create_sheet(_sheet_name(_t(f"bulletin.kind.{kind}", loc)))
        ws.append([title_of(b)])
        ws.append([info])
        ws.append(head)
        for r in ranked(b.rows, kind):
            ws.append([r.rank, r.name, r.base, _deducted(r), r.bonuses, r.final, r.subject_id, b.site_of(r)])
        _dress(ws, (8, 28, 10, 12, 12, 10, 10, 28))
    ws = wb.create_sheet(_sheet_name(_t("bulletin.sheet_items", loc)))
    ws.append([title_of(b)])
    ws.append([info])
    ws.append([_t(k, loc) for k in ("bulletin.col_kind", "bulletin.col_name", "bulletin.col_item",
                                     "bulletin.col_rule_version", "bulletin.col_raw_points", "bulletin.col_points",
                                     "bulletin.col_cap", "bulletin.col_entries", "bulletin.col_site")])
    for kind in KINDS:
        for r in ranked(b.rows, kind):
            for i in r.items:
                ws.append([_t(f"bulletin.kind.{kind}", loc), r.name, item_label(i, loc), i.rule_version,
                           i.raw_points, i.points, i.cap, len(i.entry_ids), b.site_of(r)])
    _dress(ws, (10, 28, 30, 14, 10, 10, 10, 10, 28))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:31]


def _dress(ws: Worksheet, widths: Sequence[int]) -> None:
    ws["A1"].font = Font(bold=True, size=14)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for n, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.freeze_panes = "A4"
