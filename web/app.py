"""The FastAPI application: pages, the JSON API, static assets and the runtime's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

import web.messages  # noqa: F401  (registers the web's texts)
from supervision.db import make_engine, upgrade
from supervision.runtime import Runtime, ServiceFactory
from supervision.settings import Settings, get_settings
from web import errors
from web.composition import MIGRATION_PACKAGES, router_modules, service_factories

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Nothing from elsewhere: service networks are often cut off, and a page must not call out.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
}


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith(("/static/", "/healthz")):
        # Pages and data behind a login are never kept by shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            upgrade(engine, MIGRATION_PACKAGES)
        runtime = Runtime(engine, settings, services=services if services is not None else service_factories(settings))
        app.state.runtime = runtime
        runtime.start()
        try:
            yield
        finally:
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
    )
    app.state.settings = settings
    app.state.engine = engine
    errors.install(app)
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in router_modules():
        app.include_router(module.router)
    return app
