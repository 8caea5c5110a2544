"""Map our errors to pages and JSON in one place; never show a stack trace."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from supervision import org
from supervision.errors import FieldProblem, InvalidInput, SupervisionError, Unauthorized
from supervision.i18n import translate
from supervision.shapes import NULL_NOT_ALLOWED
from web.deps import request_locale
from web.templating import render

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path in ("/healthz", "/openapi.json")


def error_body(exc: SupervisionError, locale: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message(locale)}
    if exc.problems:
        body["fields"] = [p.as_dict(locale) for p in exc.problems]
    return {"error": body}


def _error_page(request: Request, status: int, code: str, message: str,
                problems: list[dict[str, Any]] | None = None) -> Response:
    return render(request, "error.html", {"status": status, "code": code, "message": message,
                                          "problems": problems or []}, status_code=status)


async def _supervision_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SupervisionError)
    locale = request_locale(request)
    if wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(error_body(exc, locale), status_code=exc.status, headers=headers)
    if isinstance(exc, Unauthorized):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        expired = "&expired=1" if exc.key == "error.session_expired" else ""
        return RedirectResponse(f"/login?next={quote(target)}{expired}", status_code=303)
    problems = [p.as_dict(locale) for p in exc.problems]
    return _error_page(request, exc.status, exc.code, exc.message(locale), problems)


def problems_from_request_validation(exc: RequestValidationError) -> list[FieldProblem]:
    out: list[FieldProblem] = []
    rest = []
    for err in exc.errors():
        kind = str(err.get("type"))
        if kind == "json_invalid":
            # FastAPI puts the character position where the field goes ("loc": ["body", 11]).
            out.append(FieldProblem("body", "error.json_invalid", {"position": err["loc"][-1]}))
        elif kind == NULL_NOT_ALLOWED:
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form", "header")]
            out.append(FieldProblem(".".join(loc) or "body", "error.not_null", {}))
        else:
            rest.append(err)
    return out + org.problems_from_errors(rest, skip=("body", "query", "path", "form", "header"))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await _supervision_error(request, InvalidInput(problems=problems_from_request_validation(exc)))


# Starlette's and FastAPI's own refusals, as our stable codes and texts (their `detail` is English only).
HTTP_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    401: ("unauthorized", "error.unauthorized"),
    403: ("forbidden", "error.forbidden"),
    404: ("not_found", "error.not_found"),
    405: ("method_not_allowed", "error.method_not_allowed"),
    406: ("not_acceptable", "error.not_acceptable"),
    413: ("payload_too_large", "error.payload_too_large"),
    415: ("unsupported_media_type", "error.unsupported_media_type"),
    429: ("too_many_attempts", "error.too_many_attempts"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 or (exc.status_code < 500 and exc.status_code not in HTTP_STATUS_ERRORS):
        # FastAPI answers 400 for a body it cannot read (invalid UTF-8, nesting deeper than the JSON parser's
        # limit), Starlette for a malformed form: the body is the field at fault.
        return await _supervision_error(request, InvalidInput("body", "error.body_unreadable"))
    locale = request_locale(request)
    code, key = HTTP_STATUS_ERRORS.get(exc.status_code, ("internal", "error.internal"))
    message = translate(key, locale)
    if wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    return _error_page(request, exc.status_code, code, message)


async def _overflow(request: Request, exc: Exception) -> Response:
    # web.request_checks refuses integers beyond 32 bits by field before a route runs; this catches one that
    # a route computed itself (a date far out of range, an offset times a page size).
    logger.warning("value out of range on %s %s: %s", request.method, request.url.path, exc)
    return await _supervision_error(request, InvalidInput("request", "error.value_out_of_range"))


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    locale = request_locale(request)
    message = translate("error.internal", locale)
    if wants_json(request):
        return JSONResponse({"error": {"code": "internal", "message": message}}, status_code=500)
    return _error_page(request, 500, "internal", message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SupervisionError, _supervision_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(Exception, _unexpected)
