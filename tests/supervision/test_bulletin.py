"""The monthly bulletin's renderers over hand-written rows: the PDF's text read back, the workbook's cells, the SVG."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from supervision.scoring import ItemLine, ScoreRow
from supervision.scoring import bulletin as bl
from web.charts import ChartPoint, bar_chart, line_chart

# The engine's own row types: the renderers take what month_view gives.
Line, Row = ItemLine, ScoreRow


LATE = Line("attendance.late_short", "late", "v2026", -3.0, -3.0, None, (11, 12, 13))
ABSENT = Line("attendance.absent_half", "absent", "v2026", -5.0, -5.0, None, (14,))
OFF_POST = Line("video.off_post", "off post", "v2026", -9.0, -6.0, 6.0, (21, 22, 23))
PRAISE = Line("praise", "praise", "v2026", 2.0, 2.0, None, (31,))

ROWS = [
    Row("window", 1, "综合受理窗口", 1, 100, 0, 2, 102, 1, (PRAISE,)),
    Row("window", 2, "不动产登记窗口", 1, 100, -6, 0, 94, 2, (OFF_POST,)),
    Row("window", 3, "Tax window 7", 1, 100, -8, 0, 92, 3, (LATE, ABSENT)),
    Row("staff", 10, "王芳", 1, 100, 0, 2, 102, 1, (PRAISE,)),
    Row("staff", 11, "李强", 1, 100, -3, 0, 97, 2, (LATE,)),
    Row("staff", 12, "张伟", 1, 100, -11, 0, 89, 3, (ABSENT, OFF_POST)),
    Row("department", 20, "市场监管局", 1, 100, -3, 0, 97, 1, (LATE,)),
]


def _bulletin(locale: str, *, closed: bool = True, published: bool = False) -> bl.Bulletin:
    return bl.Bulletin(site_name="示范市政务服务中心", month=date(2026, 10, 1), rule_version="v2026", closed=closed,
                       published=published, rows=ROWS, locale=locale, generated_at=datetime(2026, 11, 2, 9, 30),
                       site_names={1: "示范市政务服务中心", 2: "示范县政务服务中心"})


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_reads_back_in_chinese() -> None:
    data = bl.bulletin_pdf(_bulletin("zh-CN"))
    assert data.startswith(b"%PDF")
    text = _flat(_pdf_text(data))
    assert "示范市政务服务中心2026-10月度考评通报" in text
    assert "规则版本:v2026" in text and "已结账,未公布" in text
    # The window ranking: name and final score on one line, in rank order.
    ranking = text[text.index("窗口排名(共3个)"):text.index("人员排名(共3个)")]
    assert "1综合受理窗口100.00+2.0102.0" in ranking and "2不动产登记窗口100.0-6.0094.0" in ranking
    assert ranking.index("综合受理窗口") < ranking.index("不动产登记窗口") < ranking.index("Taxwindow7")
    assert "94.0" in text and "92.0" in text
    # Furthest down and why: 张伟 lost most to off-post (capped at −6) then absence (−5).
    assert "人员张伟:89.0分,第3名。主要扣分:离岗超过15分钟-6.0;旷工半天-5.0" in text
    # Deductions by category: attendance for persons −3 −5 = −8.
    assert "考勤" in text and "视频监察" in text
    # The chart draws a bar per window with its score.
    assert "窗口最终得分(按排名)" in text


def test_the_pdf_reads_back_in_english() -> None:
    text = _pdf_text(bl.bulletin_pdf(_bulletin("en", closed=False)))
    assert "monthly performance bulletin 2026-10" in text
    assert "not closed (provisional)" in text and "provisional and may change" in text
    flat = _flat(text)
    assert "person张伟:89.0points,rank3.Largestdeductions:offpostformorethan15minutes-6.0;absenthalfaday-5.0" \
        in flat
    assert "Rankingofwindows(3)" in flat


def test_the_pdf_of_a_large_jurisdiction_has_every_window() -> None:
    rows = [Row("window", n, f"窗口{n:03d}", 1, 100, -(n % 7), 0, 100 - (n % 7), n, ()) for n in range(1, 106)]
    data = bl.bulletin_pdf(bl.Bulletin("大市", date(2026, 9, 1), "v1", True, True, rows, "zh-CN"))
    text = _flat(_pdf_text(data))
    assert all(f"窗口{n:03d}" in text for n in range(1, 106))
    assert "已结账并公布" in text


def test_the_workbook_has_a_sheet_per_kind_and_one_of_items() -> None:
    wb = load_workbook(io.BytesIO(bl.bulletin_xlsx(_bulletin("zh-CN"))))
    assert wb.sheetnames == ["窗口", "人员", "部门", "计分明细"]
    windows = wb["窗口"]
    assert windows["A1"].value == "示范市政务服务中心 2026-10 月度考评通报"
    assert [c.value for c in windows[3]] == ["名次", "名称", "基础分", "扣分", "加分", "最终得分", "编号", "所属中心"]
    assert [c.value for c in windows[4]] == [1, "综合受理窗口", 100, 0, 2, 102, 1, "示范市政务服务中心"]
    assert [c.value for c in windows[6]] == [3, "Tax window 7", 100, -8, 0, 92, 3, "示范市政务服务中心"]
    staff = wb["人员"]
    assert [c.value for c in staff[6]][:6] == [3, "张伟", 100, -11, 0, 89]
    items = wb["计分明细"]
    lines = [[c.value for c in row] for row in items.iter_rows(min_row=4)]
    assert ["人员", "张伟", "离岗超过 15 分钟", "v2026", -9, -6, 6, 3, "示范市政务服务中心"] in lines
    assert len(lines) == sum(len(r.items) for r in ROWS)


def test_the_workbook_in_english() -> None:
    wb = load_workbook(io.BytesIO(bl.bulletin_xlsx(_bulletin("en"))))
    assert wb.sheetnames == ["window", "person", "department", "Items"]
    assert wb["window"]["A1"].value == "示范市政务服务中心: monthly performance bulletin 2026-10"


def test_a_name_carries_its_centre_when_the_rows_span_several() -> None:
    county = Row("window", 4, "综合受理窗口", 2, 100, -1, 0, 99, 2, (LATE,))
    b = bl.Bulletin("示范市", date(2026, 10, 1), "v2026", True, True, [*ROWS, county], "zh-CN",
                    site_names={1: "示范市政务服务中心", 2: "示范县政务服务中心"})
    assert b.shown_name(county) == "综合受理窗口(示范县政务服务中心)"
    assert b.shown_name(ROWS[0]) == "综合受理窗口(示范市政务服务中心)"
    text = _flat(_pdf_text(bl.bulletin_pdf(b)))
    assert "综合受理窗口(示范县政务服务中心)" in text
    assert _bulletin("zh-CN").shown_name(ROWS[0]) == "综合受理窗口"  # one centre: the name alone


def test_furthest_down_names_the_largest_items() -> None:
    lag = bl.furthest_down(ROWS, "staff")
    assert [(x.row.name, [i.key for i in x.reasons]) for x in lag] == [
        ("张伟", ["video.off_post", "attendance.absent_half"]), ("李强", ["attendance.late_short"])]
    assert [x.row.name for x in bl.furthest_down(ROWS, "window", count=1)] == ["Tax window 7"]
    assert bl.deductions_by_category(ROWS) == [
        ("attendance", {"window": -8.0, "staff": -8.0, "department": -3.0}), ("video", {"window": -6.0, "staff": -6.0})]
    s = bl.summarise(ROWS, "staff")
    assert (s.count, s.average, s.highest, s.lowest, s.with_deductions, s.deductions, s.bonuses) == (
        3, 96.0, 102, 89, 2, -14.0, 2.0)


def test_the_line_chart_breaks_at_a_missing_month_and_carries_its_numbers() -> None:
    points = [ChartPoint("2026-01", 98.0), ChartPoint("2026-02", None), ChartPoint("2026-03", 91.5),
              ChartPoint("2026-04", 100.0)]
    svg = str(line_chart(points, title="近 12 个月得分", desc="王芳", none_text="无"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title id=" in svg
    assert "<desc" in svg and "2026-02 无" in svg and "2026-03 91.5" in svg
    assert svg.count('<circle class="dot"') == 3
    # Two runs: 01 alone (no line), 03–04 joined: one polyline with two points.
    polylines = re.findall(r'<polyline class="line" points="([^"]+)"', svg)
    assert len(polylines) == 1 and len(polylines[0].split()) == 2
    assert "<title>2026-04: 100</title>" in svg


def test_the_bar_chart_escapes_names() -> None:
    svg = str(bar_chart([ChartPoint("<b>", 90.0)], title="t & t", desc="d"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg and "t &amp; t" in svg
    assert svg.count('<rect class="bar"') == 1


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_bulletin_text_exists(locale: str) -> None:
    from supervision.i18n import has_message

    for key in ("bulletin.title", "bulletin.heading_line", "bulletin.laggard_line", "bulletin.sheet_items"):
        assert has_message(key)
