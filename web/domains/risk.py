"""What the web mounts for the risk domain: its pages and API, its jobs, and the demo register."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

import risk
from supervision.db import session_scope
from supervision.errors import InvalidInput
from supervision.runtime import ServiceFactory
from supervision.scheduler import JobSpec
from supervision.settings import Settings

logger = logging.getLogger(__name__)

ROUTE_MODULES: tuple[str, ...] = ("web.routes.risk_pages", "web.routes.api_risk")

# The morning reminders and the re-link of incidents to the points they concern.
JOBS: tuple[JobSpec, ...] = risk.JOBS


def service_factories(settings: Settings, *, web_elsewhere: bool = False) -> list[ServiceFactory]:
    """Nothing long-running: the daily reminders are a scheduler job."""
    return []


def seed_demo(engine: Engine, settings: Settings, *, full: bool = False) -> None:
    """The demo register: the city centre's posts with three years of reviews and checks (about 3 s), then
    each county's, park's and (default demo) township's posts with one year, so every jurisdiction has one.

    Each centre in its own short transaction, each once (a restart adds nothing).
    """
    with session_scope(engine, write=True) as session:
        risk.seed_risk_demo(session, years=3, with_incidents=True)
    with session_scope(engine) as session:
        codes = risk.demo_centre_codes(session, full=full)
    created = 0
    for code in codes:
        with session_scope(engine, write=True) as session:
            try:
                created += risk.seed_risk_demo(session, site_code=code, years=1, duties_changes=0,
                                               with_incidents=True).created
            except InvalidInput:  # a centre without demo posts (an organisation imported by hand)
                continue
    if created:
        logger.info("demo risk registers of %d counties, parks and townships seeded", created)
