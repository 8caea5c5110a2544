"""Logging in and out (browser and scripts), and switching language."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from supervision import accounts
from supervision.errors import Forbidden, SupervisionError, TooManyAttempts, Unauthorized
from supervision.i18n import LOCALES
from supervision.settings import Settings
from web.deps import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    CurrentPrincipal,
    EngineDep,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    client_ip,
    request_locale,
)
from web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


# The login form has no session yet to hold a CSRF token: the token goes in a cookie of its own and in the
# form (double submit), so a page elsewhere cannot log the browser in under an account of its choosing.
LOGIN_CSRF_COOKIE = "sv_login"


def _login_form(request: Request, settings: Settings, context: dict[str, Any], status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"expired": False, "error": None, **context, "login_csrf": token},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.cookie_secure,
                        max_age=3600, path="/login")
    return response


async def _slow_down(engine: Engine, username: str, ip: str, settings: Settings) -> None:
    """Slow repeated failures down, with no transaction open and without blocking other requests."""
    delay = await run_in_threadpool(accounts.login_delay, engine, username, ip, settings)
    if delay:
        await asyncio.sleep(delay)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, principal: OptionalPrincipal, settings: SettingsDep, next: str = "/",
               expired: int = 0) -> Response:
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_form(request, settings, {"next": next, "expired": bool(expired)})


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_form(request, settings, {"next": next, "username": username,
                                               "error": Forbidden("error.csrf").message(request_locale(request))},
                           status_code=403)
    ip = client_ip(request)
    await _slow_down(engine, username, ip, settings)
    try:
        user, token = await run_in_threadpool(accounts.log_in, engine, username, password, kind="browser", ip=ip,
                                              settings=settings)
    except (Unauthorized, TooManyAttempts) as exc:
        return _login_form(request, settings, {"next": next, "error": exc.message(request_locale(request)),
                                               "username": username}, status_code=exc.status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.cookie_secure,
                        max_age=settings.session_hours * 3600, path="/")
    response.set_cookie(LOCALE_COOKIE, user.locale, samesite="lax", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    accounts.end_session(session, request.cookies.get(SESSION_COOKIE, ""), principal, ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/locale", include_in_schema=False)
def switch_locale(
    request: Request, session: SessionDep, principal: OptionalPrincipal,
    locale: Annotated[str, Form()], next: Annotated[str, Form()] = "/",
) -> Response:
    """Switch language; for a logged-in user the choice is kept on the account."""
    if locale not in LOCALES:
        locale = "zh-CN"
    if principal is not None and principal.kind == "user":
        accounts.set_own_locale(session, principal, locale)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LOCALE_COOKIE, locale, samesite="lax", path="/")
    return response


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/api/v1/auth/token", response_model=TokenResponse, tags=["auth"])
async def issue_token(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    grant_type: Annotated[str, Form()] = "password",
) -> TokenResponse:
    """OAuth2 password flow: a bearer token for scripts (expires after `bearer_token_hours`)."""
    if grant_type != "password":
        raise SupervisionError("error.grant_type")
    ip = client_ip(request)
    await _slow_down(engine, username, ip, settings)
    _user, token = await run_in_threadpool(accounts.log_in, engine, username, password, kind="bearer", ip=ip,
                                           settings=settings)
    return TokenResponse(access_token=token, expires_in=settings.bearer_token_hours * 3600)
