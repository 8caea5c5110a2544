"""The month's roster as an Excel workbook (the same table as the printed A4 page)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from supervision.duty.rosters import DutyDay
from supervision.i18n import translate

WEEKDAY_KEYS = tuple(f"duty.weekday_{n}" for n in range(7))


def month_workbook(days: Sequence[DutyDay], *, site_name: str, year: int, month: int, locale: str) -> bytes:
    """One sheet: date, weekday, the duty leader and the duty cadre (name and title)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{year}-{month:02d}"
    title = translate("duty.print_title", locale, site=site_name, year=year, month=month)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    header = [translate(k, locale) for k in ("field.day", "duty.weekday", "duty_role.leader", "duty_role.cadre")]
    ws.append(header)
    thin = Side(style="thin")
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for entry in days:
        ws.append([
            entry.day.isoformat(), translate(WEEKDAY_KEYS[entry.day.weekday()], locale),
            _person(entry.leader.name if entry.leader else "", entry.leader.title if entry.leader else ""),
            _person(entry.cadre.name if entry.cadre else "", entry.cadre.title if entry.cadre else ""),
        ])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, width in zip("ABCD", (14, 10, 24, 24), strict=True):
        ws.column_dimensions[column].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_title_rows = "2:2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _person(name: str, title: str) -> str:
    return f"{name}({title})" if name and title else name
