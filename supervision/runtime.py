"""The runtime: starts and stops the long-running parts of a process with one shared stop event."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.engine import Engine

from supervision.scheduler import JobSpec, Scheduler
from supervision.settings import Settings

logger = logging.getLogger(__name__)


class Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


ServiceFactory = Callable[[Engine, Settings, threading.Event], Service]


class Runtime:
    """Owns the scheduler and any services (camera ingest) a process runs.

    `jobs`: what the scheduler runs, if this process runs it (`web.composition.scheduled_jobs()`).
    """

    def __init__(self, engine: Engine, settings: Settings, *, jobs: Sequence[JobSpec],
                 services: list[ServiceFactory] | None = None, scheduler: bool | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.stop_event = threading.Event()
        self.scheduler: Scheduler | None = None
        run_scheduler = settings.scheduler_enabled if scheduler is None else scheduler
        if run_scheduler:
            self.scheduler = Scheduler(engine, settings, self.stop_event, jobs)
        self.services: list[Service] = [factory(engine, settings, self.stop_event) for factory in services or []]

    def start(self) -> None:
        if self.scheduler is not None:
            self.scheduler.start()
        for service in self.services:
            service.start()
        logger.info("runtime started (scheduler=%s, services=%d)", self.scheduler is not None, len(self.services))

    def stop(self) -> None:
        self.stop_event.set()
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception:
                logger.exception("service %r did not stop cleanly", service)
        if self.scheduler is not None:
            self.scheduler.stop()
