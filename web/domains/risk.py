"""What the web mounts for the risk domain: its pages and API, and the demo register."""

from __future__ import annotations

from sqlalchemy.engine import Engine

import risk  # registers the reminder job with the scheduler
from supervision.db import session_scope
from supervision.runtime import ServiceFactory
from supervision.settings import Settings

ROUTE_MODULES: tuple[str, ...] = ("web.routes.risk_pages", "web.routes.api_risk")


def service_factories(settings: Settings, *, web_elsewhere: bool = False) -> list[ServiceFactory]:
    """Nothing long-running: the daily reminders are a scheduler job."""
    return []


def seed_demo(engine: Engine, settings: Settings, *, full: bool = False) -> None:
    """The demo register on the city centre's posts, with three years of checks and reviews (about 3 s)."""
    with session_scope(engine, write=True) as session:
        risk.seed_risk_demo(session, years=3, with_incidents=True)
