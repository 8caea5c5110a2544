"""What the web mounts for the cameras domain: its pages and API, ingest inside `serve`, the demo cameras."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from cameras import demo_service_factory, get_camera_settings, ingest_service_factory
from supervision.runtime import ServiceFactory
from supervision.settings import Settings

ROUTE_MODULES: tuple[str, ...] = ("web.routes.cameras_pages", "web.routes.api_cameras")


def service_factories(settings: Settings) -> list[ServiceFactory]:
    """Ingest when this process reads cameras; before it, the demo's virtual cameras under `--demo`."""
    if not settings.ingest_enabled:
        return []
    factories: list[ServiceFactory] = []
    if get_camera_settings().demo:
        factories.append(demo_service_factory)
    factories.append(ingest_service_factory)
    return factories


def seed_demo(engine: Engine, settings: Settings, *, full: bool = False) -> None:
    """Nothing to seed: the virtual cameras register themselves when `serve --demo` starts them."""
