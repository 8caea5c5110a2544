"""Charts as inline SVG drawn on the server: no script, no CDN; each has a <title>, a <desc> and its numbers.

A chart is `role="img"` labelled by its title and description; every point carries its own <title> (the
browser shows it on hover, a screen reader reads it), and the page puts the same numbers in a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)


@dataclass(frozen=True)
class ChartPoint:
    """One value on the x axis; None where there is nothing (a month without a score): a gap, not a zero."""

    label: str
    value: float | None


def _scale(values: Sequence[float], *, floor_at: float | None) -> tuple[float, float, float]:
    """A round value range and step around the values (scores bunch near 100: start at a round ten below)."""
    low, high = min(values), max(values)
    if floor_at is not None:
        low = min(low, floor_at)
    span = max(high - low, 1.0)
    step = 10 ** math.floor(math.log10(span))
    if span / step < 3:
        step /= 2
    if span / step < 3:
        step /= 2
    lo = math.floor(low / step) * step
    hi = math.ceil(high / step) * step
    if hi == lo:
        hi = lo + step
    return lo, hi, step


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def line_chart(points: Sequence[ChartPoint], *, title: str, desc: str, none_text: str = "–",
               width: int = 640, height: int = 220, floor_at: float | None = None,
               testid: str = "chart") -> Markup:
    """A line through the points, broken where a value is missing; a dot and its number at each point."""
    return _chart(points, title=title, desc=desc, none_text=none_text, width=width, height=height,
                  floor_at=floor_at, testid=testid, bars=False)


def bar_chart(points: Sequence[ChartPoint], *, title: str, desc: str, none_text: str = "–",
              width: int = 640, height: int = 220, floor_at: float | None = None,
              testid: str = "chart") -> Markup:
    """A vertical bar per point, its number above it."""
    return _chart(points, title=title, desc=desc, none_text=none_text, width=width, height=height,
                  floor_at=floor_at, testid=testid, bars=True)


def _chart(points: Sequence[ChartPoint], *, title: str, desc: str, none_text: str, width: int, height: int,
           floor_at: float | None, testid: str, bars: bool) -> Markup:
    uid = f"chart{next(_ids)}"
    left, right, top, bottom = 40, 12, 14, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" aria-labelledby="{uid}-t {uid}-d" '
        f'data-testid="{escape(testid)}">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}: '
        f'{escape("; ".join(f"{p.label} {_fmt(p.value) if p.value is not None else none_text}" for p in points))}'
        "</desc>",
    ]
    if not points:
        parts.append("</svg>")
        return Markup("".join(parts))
    lo, hi, step = _scale(values or [0.0], floor_at=floor_at)

    def y(value: float) -> float:
        return round(top + plot_h - (value - lo) / (hi - lo) * plot_h, 1)

    slot = plot_w / len(points)

    def x(index: int) -> float:
        return round(left + slot * (index + 0.5), 1)

    parts.append('<g class="axis" aria-hidden="true">')
    tick = lo
    while tick <= hi + step / 1000:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick)}" y2="{y(tick)}" class="gridline"/>'
                     f'<text x="{left - 4}" y="{y(tick) + 3}" text-anchor="end">{_fmt(tick)}</text>')
        tick += step
    for i, p in enumerate(points):
        parts.append(f'<text x="{x(i)}" y="{height - 10}" text-anchor="middle">{escape(p.label)}</text>')
    parts.append("</g>")
    if bars:
        bar_w = max(slot * 0.6, 2)
        for i, p in enumerate(points):
            if p.value is None:
                continue
            top_y = y(max(p.value, lo))
            parts.append(
                f'<g class="point"><title>{escape(p.label)}: {_fmt(p.value)}</title>'
                f'<rect class="bar" x="{round(x(i) - bar_w / 2, 1)}" y="{top_y}" width="{round(bar_w, 1)}" '
                f'height="{round(y(lo) - top_y, 1)}"/>'
                f'<text class="value" x="{x(i)}" y="{top_y - 3}" text-anchor="middle">{_fmt(p.value)}</text></g>')
    else:
        run: list[str] = []
        for i, p in enumerate(points):
            if p.value is None:
                if len(run) > 1:
                    parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
                run = []
                continue
            run.append(f"{x(i)},{y(p.value)}")
        if len(run) > 1:
            parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
        for i, p in enumerate(points):
            if p.value is None:
                continue
            parts.append(
                f'<g class="point"><title>{escape(p.label)}: {_fmt(p.value)}</title>'
                f'<circle class="dot" cx="{x(i)}" cy="{y(p.value)}" r="3.5"/>'
                f'<text class="value" x="{x(i)}" y="{y(p.value) - 7}" text-anchor="middle">{_fmt(p.value)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
