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
    return org.problems_from_errors(exc.errors(), skip=("body", "query", "path", "form", "header"))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await _supervision_error(request, InvalidInput(problems=problems_from_request_validation(exc)))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    locale = request_locale(request)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = translate("error.not_found", locale) if exc.status_code == 404 else str(exc.detail)
    if wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    return _error_page(request, exc.status_code, code, message)


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
    app.add_exception_handler(Exception, _unexpected)
