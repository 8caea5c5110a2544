"""The FastAPI application: pages, the JSON API, static assets and the runtime's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import web.messages  # noqa: F401  (registers the web's texts)
from supervision.batching import WriteBatcher
from supervision.db import make_engine, upgrade
from supervision.runtime import Runtime, ServiceFactory
from supervision.settings import Settings, get_settings
from web import errors
from web.composition import (
    MIGRATION_PACKAGES,
    router_modules,
    scheduled_jobs,
    service_factories,
    source_resolvers,
    wire_incidents,
)
from web.deps import CountWriteTransactions
from web.request_checks import refuse_impossible_input

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Nothing from elsewhere: service networks are often cut off, and a page must not call out. Scripts only
    # from /static (no inline script or on*= handler: injected markup cannot run); styles too (no <style>,
    # no style= attribute).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
}


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers (and no-store behind the login) to every response.

    Written against ASGI directly rather than as an `@app.middleware("http")` function: Starlette's
    BaseHTTPMiddleware runs every request through an extra task and stream, which cost ~1 ms a request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = not str(scope.get("path", "")).startswith(("/static/", "/healthz"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self._headers if name not in present]
                if no_store and b"cache-control" not in present:
                    # Pages and data behind a login are never kept by shared caches.
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _favicon(request: Request) -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    migrate: bool = True,
    services: list[ServiceFactory] | None = None,
) -> FastAPI:
    """Build the app; the lifespan applies migrations and starts the scheduler and services."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.effective_database_url)
    wire_incidents()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            upgrade(engine, MIGRATION_PACKAGES)
        runtime = Runtime(engine, settings, jobs=scheduled_jobs(),
                          services=services if services is not None else service_factories(settings))
        app.state.runtime = runtime
        runtime.start()
        try:
            yield
        finally:
            app.state.batcher.stop()
            runtime.stop()

    app = FastAPI(
        title="政务服务电子监察 Supervision API",
        version="1",
        description="Electronic supervision of government service centres. Lists come as "
        '`{"data": [...], "count": N}`; errors as `{"error": {"code", "message", "fields"}}`.',
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        # Before any route: no field may hold a NUL character or an integer beyond 32 bits (web.request_checks).
        dependencies=[Depends(refuse_impossible_input)],
    )
    app.state.settings = settings
    app.state.engine = engine
    # The busiest write routes (intake, pads, telephony) commit in groups: supervision.batching.
    app.state.batcher = WriteBatcher(engine)
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(CountWriteTransactions)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    # Browsers and bookmarks ask for /favicon.ico whatever the page links: send them to the icon.
    app.add_route("/favicon.ico", _favicon, include_in_schema=False)
    for module in router_modules():
        app.include_router(module.router)
    # Where each kind of ledger source leads, for each reader (web/sources.py).
    app.state.source_resolvers = source_resolvers()
    return app
