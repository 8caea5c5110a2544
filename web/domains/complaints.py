"""What the web mounts for the complaints domain."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from supervision.runtime import ServiceFactory
from supervision.settings import Settings

ROUTE_MODULES: tuple[str, ...] = ()


def service_factories(settings: Settings) -> list[ServiceFactory]:
    return []


def seed_demo(engine: Engine, settings: Settings, *, full: bool = False) -> None:
    """Nothing yet."""
