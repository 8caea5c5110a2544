"""One module per domain: what the web mounts for it (routes, services, demo data).

Each module defines:
    ROUTE_MODULES: tuple[str, ...]            route modules under web/routes to mount
    JOBS: tuple[JobSpec, ...]                 the domain's scheduled jobs (the domain package's `JOBS`)
    service_factories(settings, *, web_elsewhere) -> list   long-running services for `serve` (e.g. camera ingest)
    seed_demo(engine, settings, *, full) -> None   the domain's demo data, after the organisation's
"""
