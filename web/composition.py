"""The one place that names every package: their migrations, routes, services, scheduled jobs and demo data."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from supervision.rekey import SealedColumn
from supervision.runtime import ServiceFactory
from supervision.scheduler import CORE_JOBS, JobSpec
from supervision.settings import Settings

if TYPE_CHECKING:
    from web.sources import SourceResolver

# Each package keeps its own Alembic branch under <package>/migrations/versions; all heads are applied.
# A package without that folder yet is skipped.
MIGRATION_PACKAGES: tuple[str, ...] = (
    "supervision", "supervision.leave", "cameras", "risk", "complaints", "supervision.duty", "supervision.attendance",
    "supervision.scoring",
    "supervision.awards",
)

# The core's route modules, in the order they are mounted; each domain adds its own (web/domains/*.py).
CORE_ROUTE_MODULES: tuple[str, ...] = (
    "web.routes.health",
    "web.routes.auth",
    "web.routes.home",
    "web.routes.org_import",
    "web.routes.org_pages",
    "web.routes.admin_pages",
    "web.routes.ledger_pages",
    "web.routes.api_core",
    "web.routes.api_org",
    "web.routes.hours_pages",
    "web.routes.api_hours",
    "web.routes.duty_pages",
    "web.routes.api_duty",
    "web.routes.attendance_pages",
    "web.routes.api_attendance",
    "web.routes.scoring_pages",
    "web.routes.api_scoring",
    "web.routes.appeals_pages",
    "web.routes.api_appeals",
    "web.routes.reports_pages",
    "web.routes.awards_pages",
    "web.routes.api_awards",
)

DOMAINS: tuple[str, ...] = ("web.domains.cameras", "web.domains.risk", "web.domains.complaints")


def domain_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in DOMAINS]


# Mounted first: the framework tries routes in order (about 3 µs each, ~180 routes), and these answer
# the machines and the busiest screens — health checks, intake and rating pads, camera stills and the API.
FIRST_ROUTE_MODULES: tuple[str, ...] = (
    "web.routes.health",
    "web.routes.api_complaints",
    "web.routes.api_cameras",
    "web.routes.cameras_pages",
)


def router_modules() -> list[ModuleType]:
    names = list(CORE_ROUTE_MODULES)
    for domain in domain_modules():
        names.extend(domain.ROUTE_MODULES)
    first = [name for name in FIRST_ROUTE_MODULES if name in names]
    ordered = first + [name for name in names if name not in first]
    return [importlib.import_module(name) for name in ordered]


def source_resolvers() -> dict[str, SourceResolver]:
    """Where each kind of ledger source leads (web/sources.py): the `SOURCE_RESOLVERS` of web.sources and of
    every route module that has one — a package that writes a new kind of source names its resolver there."""
    from web import sources

    found: dict[str, SourceResolver] = dict(sources.SOURCE_RESOLVERS)
    for module in router_modules():
        for kind, resolver in getattr(module, "SOURCE_RESOLVERS", {}).items():
            if kind in found and found[kind] is not resolver:
                raise ValueError(f"two resolvers for the ledger source kind {kind!r}")
            found[kind] = resolver
    return found


def service_factories(settings: Settings, *, web_elsewhere: bool = False) -> list[ServiceFactory]:
    """The long-running services `serve` runs besides the web app (camera ingest, when enabled).

    `web_elsewhere`: they run beside web workers in other processes (`serve --workers N`).
    """
    factories: list[ServiceFactory] = []
    for domain in domain_modules():
        factories.extend(domain.service_factories(settings, web_elsewhere=web_elsewhere))
    return factories


def scheduled_jobs() -> list[JobSpec]:
    """Every job the scheduler runs: the core's (`supervision.scheduler.CORE_JOBS`), then each domain's `JOBS`.

    Every process that starts a scheduler gets this list (the app's lifespan, `serve --workers N`).
    """
    jobs = list(CORE_JOBS)
    for domain in domain_modules():
        jobs.extend(domain.JOBS)
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:  # the job store keys jobs by id: the second would silently replace the first
            raise ValueError(f"two scheduled jobs with the id {job.id!r}")
        seen.add(job.id)
    return jobs


def wire_incidents() -> None:
    """Who reads what an incident is about (complaints: its orders and ratings), and who links each new one
    to the risk points it concerns (risk). The core calls them; no domain imports another."""
    import cameras
    import complaints
    import risk
    from supervision import incidents

    incidents.wire(readers={**complaints.CONCERN_READERS, **cameras.CONCERN_READERS}, listeners=[risk.link_incident])
    # A video event a work order or a notice names keeps its evidence (legal hold at the retention purge).
    from cameras.evidence import wire_references
    from complaints.references import video_events_referenced

    wire_references([video_events_referenced])
    wire_scoring()


def wire_scoring() -> None:
    """Closing a month first asks for the score appeals still open (or lists them when forced)."""
    from supervision import scoring
    from supervision.scoring import appeals

    scoring.register_close_check(appeals.open_appeals_check)


def seed_demo_everything(engine: Engine, settings: Settings, *, full: bool = False) -> list[tuple[str, str, str]]:
    """Seed the demo organisation, then each domain's demo data; return (username, role, jurisdiction)."""
    from supervision.db import session_scope
    from supervision.demo import seed_demo

    wire_incidents()
    with session_scope(engine, write=True) as session:
        summary = seed_demo(session, full=full, password=settings.demo_password)
    from datetime import datetime

    from supervision import hours_demo

    hours_demo.seed_demo(engine, today=datetime.now(settings.tz).date(), full=full)
    from supervision.duty.demo import seed_duty_demo

    # After leave: the rosters keep the demo's leave and trips free.
    seed_duty_demo(engine, today=datetime.now(settings.tz).date(), tz=settings.tz)
    from supervision.attendance.demo import seed_attendance_demo

    # After office hours, leave and the roster: the days are computed from them.
    with session_scope(engine, write=True) as session:
        seed_attendance_demo(session)
    for domain in domain_modules():
        domain.seed_demo(engine, settings, full=full)
    from supervision.scoring.demo import seed_scoring_demo

    # After attendance and every domain: a closed month refuses their ledger entries.
    seed_scoring_demo(engine, today=datetime.now(settings.tz).date())
    from supervision.scoring.appeals_demo import seed_appeals_demo

    # After the scoring demo's closed months: appeals granted, refused and pending.
    seed_appeals_demo(engine, today=datetime.now(settings.tz).date())
    from supervision.awards.demo import seed_awards_demo

    # After the rosters (the duty leaders), the ledger of every domain (eligibility) and the monthly scores.
    seed_awards_demo(engine, today=datetime.now(settings.tz).date())
    return [(a.username, a.role.value, a.site_name) for a in summary.accounts]


def sealed_columns() -> list[SealedColumn]:
    """Every column encrypted with `supervision.crypto` (and its keyed digest), for `supervision keys rotate`."""
    return [
        SealedColumn("staff", "phone_enc"),
        SealedColumn("camera", "password_enc"),
        SealedColumn("work_order", "phone_enc", hash_column="phone_hash", hash_prefix="phone:"),
        SealedColumn("work_order", "tracking_secret_enc"),
        SealedColumn("hotline_call", "phone_enc", hash_column="phone_hash", hash_prefix="phone:"),
        SealedColumn("leave_request", "reason_enc"),
    ]
