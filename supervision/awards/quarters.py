"""Quarters ("2026Q3") and the pure arithmetic of the awards: the weighted score and the ranking."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from supervision.errors import InvalidInput

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def parse_quarter(value: str, *, field: str = "quarter") -> tuple[int, int]:
    """("2026Q3") -> (2026, 3); anything else is refused naming the field."""
    found = _QUARTER.match(value.strip().upper()) if isinstance(value, str) else None
    if found is None or not 2000 <= int(found.group(1)) <= 2100:
        raise InvalidInput(field, "error.awards_quarter", value=str(value)[:20])
    return int(found.group(1)), int(found.group(2))


def quarter_key(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """The quarter's first and last day."""
    start = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, after - timedelta(days=1)


def quarter_months(year: int, quarter: int) -> list[date]:
    return [date(year, 3 * quarter - 2 + i, 1) for i in range(3)]


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def last_complete_quarter(today: date) -> tuple[int, int]:
    """The latest quarter that ended before today."""
    year, quarter = quarter_of(today)
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


@dataclass(frozen=True)
class Parts:
    """A candidate's four parts, each normalized to 0–100; None = no data for that part."""

    window: float | None
    staff: float | None
    leader: float | None
    citizen: float | None


@dataclass(frozen=True)
class Weights:
    window: float = 30.0
    staff: float = 30.0
    leader: float = 20.0
    citizen: float = 20.0


def clamp100(value: float) -> float:
    return max(0.0, min(100.0, value))


def weighted_score(parts: Parts, weights: Weights) -> float | None:
    """Σ weight × part over the parts with data, divided by the sum of those weights (a part without data
    neither helps nor hurts); None when no part has data. Rounded to 2 places."""
    pairs = [(weights.window, parts.window), (weights.staff, parts.staff), (weights.leader, parts.leader),
             (weights.citizen, parts.citizen)]
    used = [(w, p) for w, p in pairs if p is not None and w > 0]
    total = sum(w for w, _ in used)
    if total <= 0:
        return None
    return round(sum(w * p for w, p in used) / total, 2)


def competition_ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Ranks of scores (1 = best; equal scores share a rank, the next skips: 1, 2, 2, 4); None stays None."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first: dict[float, int] = {}
    for index, score in enumerate(ordered, start=1):
        first.setdefault(score, index)
    return [first[s] if s is not None else None for s in scores]
