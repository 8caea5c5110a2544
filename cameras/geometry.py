"""Zone polygons in normalized picture coordinates: checks, masks and crops (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

Point = tuple[float, float]

# Below this share of the picture a zone cannot hold a person at any camera distance we support.
MIN_AREA = 0.0005


class PolygonProblem(ValueError):
    """A polygon refused: `key` is the message, `point` the 1-based number of the point at fault (0: the whole)."""

    def __init__(self, key: str, point: int = 0) -> None:
        super().__init__(key)
        self.key = key
        self.point = point


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether two segments touch or cross (collinear overlaps included)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True

    def on(a: Point, b: Point, c: Point) -> bool:
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

    return ((d1 == 0 and on(q1, q2, p1)) or (d2 == 0 and on(q1, q2, p2))
            or (d3 == 0 and on(p1, p2, q1)) or (d4 == 0 and on(p1, p2, q2)))


def area(points: Sequence[Point]) -> float:
    """The polygon's area as a share of the picture (shoelace)."""
    n = len(points)
    return abs(sum(points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
                   for i in range(n))) / 2


def check_polygon(points: Sequence[Sequence[float]]) -> list[Point]:
    """Return the polygon as (x, y) floats, or raise PolygonProblem naming the point at fault.

    Refused: fewer than 3 points, a point outside the picture (0–1), two equal consecutive points, edges that
    cross (a self-intersecting polygon has no clear inside), and a polygon too small to hold a person.
    """
    if len(points) < 3:
        raise PolygonProblem("zone.error.too_few_points")
    pts: list[Point] = []
    for i, p in enumerate(points, start=1):
        if len(p) != 2:
            raise PolygonProblem("zone.error.point_shape", i)
        x, y = float(p[0]), float(p[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) or x != x or y != y:
            raise PolygonProblem("zone.error.point_outside", i)
        pts.append((x, y))
    n = len(pts)
    for i in range(n):
        if pts[i] == pts[(i + 1) % n]:
            raise PolygonProblem("zone.error.point_repeated", (i + 1) % n + 1)
    for i in range(n):
        a1, a2 = pts[i], pts[(i + 1) % n]
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or j == (i + 1) % n:
                continue  # neighbouring edges share a point
            if _segments_cross(a1, a2, pts[j], pts[(j + 1) % n]):
                raise PolygonProblem("zone.error.self_intersecting", j + 1)
    if area(pts) < MIN_AREA:
        raise PolygonProblem("zone.error.too_small")
    return pts


def pixel_polygon(points: Sequence[Point], width: int, height: int) -> npt.NDArray[np.int32]:
    return np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in points], dtype=np.int32)


def bounding_box(points: Sequence[Point], width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in pixels of the polygon's bounding box, at least 2×2 and inside the picture."""
    poly = pixel_polygon(points, width, height)
    x0, y0 = int(poly[:, 0].min()), int(poly[:, 1].min())
    x1, y1 = int(poly[:, 0].max()) + 1, int(poly[:, 1].max()) + 1
    return x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)


def crop_mask(points: Sequence[Point], width: int, height: int) -> tuple[tuple[int, int, int, int],
                                                                            npt.NDArray[np.uint8]]:
    """The bounding box of the polygon and the polygon's mask (255 inside) over that box."""
    x0, y0, x1, y1 = bounding_box(points, width, height)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    poly = pixel_polygon(points, width, height) - np.array([x0, y0], dtype=np.int32)
    cv2.fillPoly(mask, [poly], 255)
    return (x0, y0, x1, y1), mask
