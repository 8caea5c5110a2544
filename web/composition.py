"""The one place that names every package: their migrations, their routes, their long-running services."""

from __future__ import annotations

import importlib
from types import ModuleType

from sqlalchemy.engine import Engine

from supervision.runtime import ServiceFactory
from supervision.settings import Settings

# Each package keeps its own Alembic branch under <package>/migrations/versions; all heads are applied.
# A package without that folder yet is skipped.
MIGRATION_PACKAGES: tuple[str, ...] = ("supervision", "cameras", "risk", "complaints")

# Route modules under web/routes, in the order they are mounted.
ROUTE_MODULES: tuple[str, ...] = (
    "web.routes.health",
    "web.routes.auth",
    "web.routes.home",
    "web.routes.org_pages",
    "web.routes.admin_pages",
    "web.routes.ledger_pages",
    "web.routes.api_core",
    "web.routes.api_org",
)


def router_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in ROUTE_MODULES]


def service_factories(settings: Settings) -> list[ServiceFactory]:
    """The long-running services `serve` runs besides the web app (camera ingest, when enabled)."""
    return []


def seed_demo_everything(engine: Engine, settings: Settings, *, full: bool = False) -> list[tuple[str, str, str]]:
    """Seed the demo organisation, then each domain's demo data; return (username, role, jurisdiction)."""
    from supervision.db import session_scope
    from supervision.demo import seed_demo

    with session_scope(engine, write=True) as session:
        summary = seed_demo(session, full=full, password=settings.demo_password)
    return [(a.username, a.role.value, a.site_name) for a in summary.accounts]
