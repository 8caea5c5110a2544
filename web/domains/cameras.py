"""What the web mounts for the cameras domain: its pages and API, its jobs, ingest inside `serve`, the demo cameras."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

import cameras
from cameras import IngestService, demo_service_factory, get_camera_settings, ingest_service_factory
from supervision.runtime import ServiceFactory
from supervision.scheduler import JobSpec
from supervision.settings import Settings

ROUTE_MODULES: tuple[str, ...] = ("web.routes.cameras_pages", "web.routes.api_cameras", "web.routes.zones_pages",
                                  "web.routes.api_zones", "web.routes.api_evidence", "web.routes.api_review")

# The camera silence check, post vacancies, queue alerts and the evidence purge.
JOBS: tuple[JobSpec, ...] = cameras.JOBS


def service_factories(settings: Settings, *, web_elsewhere: bool = False) -> list[ServiceFactory]:
    """Ingest when this process reads cameras; before it, the demo's virtual cameras under `--demo`.

    `web_elsewhere`: the web answers in other processes (`serve --workers N`), so ingest serves its
    frames on loopback for them, as `supervision worker` does, instead of in-process only.
    """
    if not settings.ingest_enabled:
        return []
    factories: list[ServiceFactory] = []
    if get_camera_settings().demo:
        factories.append(demo_service_factory)
    factories.append(_ingest_serving_frames if web_elsewhere else ingest_service_factory)
    return factories


def _ingest_serving_frames(engine: Engine, settings: Settings, stop_event: threading.Event) -> IngestService:
    return IngestService(engine, settings, stop_event, serve_frames=True)


def seed_demo(engine: Engine, settings: Settings, *, full: bool = False) -> None:
    """Nothing to seed: the virtual cameras register themselves when `serve --demo` starts them."""
