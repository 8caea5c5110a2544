"""Read a table from an uploaded file: Excel (.xlsx) or CSV (UTF-8 with or without BOM, or GB18030).

Rows come back as (row number as the user sees it, {header: cell}); headers are matched by the caller.
New importers use this module (the org and risk workbooks predate it and keep their own readers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from supervision.errors import InvalidInput

XLSX_MAGIC = b"PK\x03\x04"
MAX_ROWS = 200_000


def is_workbook(data: bytes) -> bool:
    return data.startswith(XLSX_MAGIC)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("file", "error.file_encoding")


def read_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """Every non-empty row of the first sheet (or the CSV), with its 1-based row number; cells as read."""
    if is_workbook(data):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InvalidInput("file", "error.file_unreadable") from exc
        try:
            sheet = workbook.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > MAX_ROWS:
                    raise InvalidInput("file", "error.file_too_many_rows", max=MAX_ROWS)
                if any(v is not None and str(v).strip() for v in row):
                    yield number, list(row)
        finally:
            workbook.close()
        return
    for line, cells in enumerate(csv.reader(io.StringIO(_decode(data))), start=1):
        if line > MAX_ROWS:
            raise InvalidInput("file", "error.file_too_many_rows", max=MAX_ROWS)
        if any(cell.strip() for cell in cells):
            yield line, list(cells)


def read_table(data: bytes, headers: dict[str, tuple[str, ...]]) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Rows under a header row, keyed by our field names; `headers` maps a field to the titles it may have.

    Returns the rows and the fields whose column is missing. The header is the first non-empty row.
    """
    lookup = {title.strip().lower(): name for name, titles in headers.items() for title in (name, *titles)}
    rows = read_rows(data)
    try:
        _, header = next(rows)
    except StopIteration:
        return [], list(headers)
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        name = lookup.get(_cell_text(title).lower())
        if name is not None and name not in columns.values():
            columns[index] = name
    missing = [name for name in headers if name not in columns.values()]
    out = [(number, {name: row[i] if i < len(row) else None for i, name in columns.items()})
           for number, row in rows]
    return out, missing


def cell_text(value: Any) -> str:
    """A cell as text, the way a user would read it."""
    return _cell_text(value)
