"""Refuse input that no field may hold, for every route at once: NUL characters and integers beyond 32 bits.

Both used to pass validation and fail later, as a 500: a 20-digit id or offset overflowed SQLite's 64-bit
integers (OverflowError), an id past 2^31 PostgreSQL's INTEGER columns ("integer out of range": every id column
is INTEGER, 32 bits there), and a NUL character was stored on SQLite and refused by PostgreSQL. No field of ours
needs more than 32 bits (ids, offsets, limits, days, years, ports). One app-wide dependency checks the raw
input before any route or service sees it, so a new route or field is covered without doing anything, and the
error names the field.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from supervision.errors import FieldProblem, InvalidInput

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NUL = "\x00"


def _mentions_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _mentions_int(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        return any(_mentions_int(arg) for arg in typing.get_args(annotation))
    return False


_INT_PARAMS: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _int_params(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """Name the path and query parameters of `route` (and its dependencies) that are integers."""
    key = id(route)
    if key not in _INT_PARAMS:
        path: set[str] = set()
        query: set[str] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            path.update(p.alias for p in dependant.path_params if _mentions_int(p.field_info.annotation))
            query.update(p.alias for p in dependant.query_params if _mentions_int(p.field_info.annotation))
            pending.extend(dependant.dependencies)
        _INT_PARAMS[key] = (frozenset(path), frozenset(query))
    return _INT_PARAMS[key]


def _out_of_range(text: str) -> bool:
    text = text.strip()
    if not text.lstrip("+-").isdigit():
        return False  # not an integer: pydantic's validation names it
    return not INT_MIN <= int(text) <= INT_MAX


def _walk_json(value: Any) -> Iterator[tuple[str, Any]]:
    """Yield (dotted path, leaf) for every string, key and number of a JSON document, without recursion."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                yield child_path, str(key)
                stack.append((child_path, child))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(node))
        else:
            yield path or "body", node


def _nul(field: str) -> FieldProblem:
    return FieldProblem(field, "error.nul_character")


def _too_big(field: str) -> FieldProblem:
    return FieldProblem(field, "error.integer_range")


async def refuse_impossible_input(request: Request) -> None:
    """Raise InvalidInput naming each field that holds a NUL character or an integer beyond 32 bits."""
    problems: list[FieldProblem] = []
    route = request.scope.get("route")
    int_path, int_query = _int_params(route) if isinstance(route, APIRoute) else (frozenset(), frozenset())
    for name, text in request.path_params.items():
        if NUL in str(text):
            problems.append(_nul(name))
        elif name in int_path and _out_of_range(str(text)):
            problems.append(_too_big(name))
    for name, text in request.query_params.multi_items():
        if NUL in text or NUL in name:
            problems.append(_nul(name.replace(NUL, "")))
        elif name in int_query and _out_of_range(text):
            problems.append(_too_big(name))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        problems += await _body_problems(request)
    if problems:
        raise InvalidInput(problems=list({p.field: p for p in problems}.values()))


async def _body_problems(request: Request) -> list[FieldProblem]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded" or content_type.startswith("multipart/"):
        # Parsed once: FastAPI's parse (or ours, for a route that reads its form itself) is cached on the request.
        # Starlette's part limit (1 MB) holds for text fields only: a file part is spooled whatever its size
        # and read by its route with that route's own cap, so checking here caps no workbook upload. A
        # file's bytes are its format's business; its name and every text field are checked.
        form = await request.form()
        return [_nul(name.replace(NUL, "")) for name, value in form.multi_items()
                if NUL in name or (NUL in value if isinstance(value, str) else NUL in (value.filename or ""))]
    body = await request.body()  # cached on the request: the route reads the same bytes
    if not body:
        return []
    problems: list[FieldProblem] = []
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        return []
    try:
        document = await request.json()  # parsed once: FastAPI's parse is cached on the same request
    except (ValueError, RecursionError):
        return []  # FastAPI has answered it already, or the route reads the body itself
    for path, leaf in _walk_json(document):
        if isinstance(leaf, str) and NUL in leaf:
            problems.append(_nul(path.replace(NUL, "")))
        elif isinstance(leaf, int) and not isinstance(leaf, bool) and not INT_MIN <= leaf <= INT_MAX:
            problems.append(_too_big(path))
    return problems


__all__ = ["refuse_impossible_input"]
