"""What the web mounts for the complaints domain: its pages, the public form, the API, its jobs, the demo's orders."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

import complaints
from supervision.runtime import ServiceFactory
from supervision.scheduler import JobSpec
from supervision.settings import Settings

logger = logging.getLogger(__name__)

ROUTE_MODULES: tuple[str, ...] = (
    "web.routes.complaints_pages",
    "web.routes.public_pages",
    "web.routes.api_complaints",
    "web.routes.records_pages",
)

# The chase of due orders, the red cards after it, the purge of rate-limit hits and idempotency keys.
JOBS: tuple[JobSpec, ...] = complaints.JOBS


def service_factories(settings: Settings, *, web_elsewhere: bool = False) -> list[ServiceFactory]:
    """Nothing long-running: the chase and purge jobs run on the core scheduler."""
    return []


def seed_demo(engine: Engine, settings: Settings, *, full: bool = False) -> None:
    """A small, believable month of the loop: orders in every state, calls, ratings, a visit and notices."""
    from complaints.demo import seed_complaints, seed_handlers

    started = datetime.now(UTC)
    seed_handlers(engine, password=settings.demo_password)
    seed_complaints(engine, orders=120 if full else 36, townships=not full)
    # Points that lead to their source (a bad rating, a visit finding, a granted appeal) in every demo centre.
    from complaints.demo_points import seed_point_sources

    points_started = datetime.now(UTC)
    centres = seed_point_sources(engine)
    logger.info("demo points of %d centres seeded in %.1f s", centres,
                (datetime.now(UTC) - points_started) / timedelta(seconds=1))
    logger.info("complaints demo seeded in %.1f s", (datetime.now(UTC) - started) / timedelta(seconds=1))
