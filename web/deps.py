"""Request dependencies: the database session, who is asking, what they may do, and CSRF."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar, overload

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision import accounts
from supervision.access import Permission, Principal, machine_may_use
from supervision.batching import Staged, WriteBatcher
from supervision.db import queued_after_read, read_session, session_scope, track_write_transactions, writer
from supervision.errors import Forbidden, Unauthorized
from supervision.settings import Settings

SESSION_COOKIE = "sv_session"
LOCALE_COOKIE = "sv_locale"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine_dep(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


class CountWriteTransactions:
    """ASGI middleware: each request counts its own open write transactions, shared by its threads.

    `supervision.db.write_transaction_open()` then answers for the request, wherever it runs: a request's
    transaction may begin in one thread of the pool and be waited across in another, or in the event loop.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            track_write_transactions()
        await self.app(scope, receive, send)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns (before the response is sent).

    A GET reads: the audit entries of what it showed are written after its transaction ended, in a short
    write (the group commit), still before the response is sent (on SQLite, upgrading the read to a write
    would fail whenever another writer committed in between).
    """
    engine = get_engine_dep(request)
    reading = request.method in SAFE_METHODS
    with read_session(engine) if reading else Session(writer(engine), expire_on_commit=False) as session:
        # Pages name the people and records they show with this session (web.sources.Trail), while rendering.
        request.state.db_session = session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        if reading:
            _write_after_read(request, session, engine)


def _write_after_read(request: Request, session: Session, engine: Engine) -> None:
    """Write what a read queued (its audit entries) in the process's next group commit, beside the intake.

    One transaction for many readers and writers instead of one each: fewer turns of the write lock.
    """
    units = queued_after_read(session)
    if not units:
        return
    batcher: WriteBatcher | None = getattr(request.app.state, "batcher", None)
    if batcher is None:
        with session_scope(engine, write=True) as write:
            for queued in units:
                queued(write)
        return

    def audit_unit(_checks: Session) -> Staged[None]:
        # The audit chain's head is a hot row: taken in `finish`, after every unit's checks in the batch.
        def finish(write: Session) -> None:
            for queued in units:
                queued(write)

        return Staged(finish)

    # Bounded like any write: the SQLite write lock gives up after 30 s too.
    batcher.submit(audit_unit).result(timeout=60)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine_dep)]


def get_batcher(request: Request) -> WriteBatcher:
    batcher: WriteBatcher = request.app.state.batcher
    return batcher


BatcherDep = Annotated[WriteBatcher, Depends(get_batcher)]


@overload
async def in_batch(batcher: WriteBatcher, unit: Callable[[Session], Staged[T]]) -> T: ...


@overload
async def in_batch(batcher: WriteBatcher, unit: Callable[[Session], T]) -> T: ...


async def in_batch(batcher: WriteBatcher, unit: Callable[[Session], Any]) -> Any:
    """Run a write unit in the process's next group commit, without holding a thread while it waits."""
    return await asyncio.wrap_future(batcher.submit(unit))
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _form_csrf(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else ""
    return ""


def _route_permissions(route: object) -> frozenset[Permission]:
    """The permissions a route's `require(...)` dependencies declare (none for an unknown route)."""
    found: set[Permission] = set()
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        found.update(getattr(dep.call, "required_permissions", ()))
        stack.extend(dep.dependencies)
    return frozenset(found)


def _resolve(request: Request) -> tuple[Principal | None, str]:
    """Find the caller (sync, so it runs in the thread pool): returns the principal and the CSRF token.

    The look-up has a short read transaction of its own, not the request's session: on SQLite a request
    that writes holds the write lock from its first statement, and the caller's identity is no reason
    to hold it longer.
    """
    engine = get_engine_dep(request)
    token = _bearer(request)
    with Session(engine, expire_on_commit=False) as lookup:
        if token:
            principal: Principal | None
            stale = False
            if token.startswith(accounts.TOKEN_PREFIX):
                principal = accounts.resolve_api_token(lookup, token)
                stale = principal is not None and principal.id is not None and accounts.api_token_stale(
                    lookup, principal.id)
            else:
                live = accounts.resolve_session(lookup, token, "bearer")
                principal = live.principal if live else None
            if principal is None:
                raise Unauthorized("error.session_expired")
            route = request.scope.get("route")
            if principal.kind == "token" and not machine_may_use(
                    principal.permissions, getattr(route, "path", ""), _route_permissions(route)):
                raise Forbidden("error.forbidden")
            if stale and principal.id is not None:
                lookup.rollback()
                with session_scope(engine, write=True) as session:
                    accounts.touch_api_token(session, principal.id)
            return principal, ""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        found = accounts.resolve_session(lookup, cookie, "browser") if cookie else None
    if found is None:
        if cookie:
            request.state.session_expired = True
        return None, ""
    return found.principal, found.csrf_token


_Resolved = Annotated[tuple[Principal | None, str], Depends(_resolve, scope="function")]


async def optional_principal(request: Request, resolved: _Resolved) -> Principal | None:
    """The caller, if any; a browser form that changes something must carry the session's CSRF token."""
    principal, csrf = resolved
    if principal is not None and csrf:
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token") or await _form_csrf(request)
            if not sent or not hmac.compare_digest(sent, csrf):
                raise Forbidden("error.csrf")
        request.state.csrf_token = csrf
    request.state.principal = principal
    if principal is not None:
        request.state.locale = principal.locale
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal, scope="function")]


async def current_principal(request: Request, principal: OptionalPrincipal) -> Principal:
    if principal is None:
        expired = getattr(request.state, "session_expired", False)
        raise Unauthorized("error.session_expired" if expired else "error.unauthorized")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal, scope="function")]


def require(*permissions: Permission) -> Callable[..., Any]:
    """A dependency that lets through only callers holding every one of `permissions`."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        for permission in permissions:
            if not principal.can(permission):
                raise Forbidden("error.forbidden")
        return principal

    dependency.required_permissions = permissions  # type: ignore[attr-defined]
    return dependency


def request_locale(request: Request) -> str:
    locale = getattr(request.state, "locale", None)
    if locale:
        return str(locale)
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in ("zh-CN", "en"):
        return cookie
    settings: Settings = request.app.state.settings
    return settings.default_locale


def needs(*permissions: Permission) -> Any:
    """Use as `actor: Annotated[Principal, needs(Permission.ORG_READ)]` in a route signature."""
    return Depends(require(*permissions), scope="function")
