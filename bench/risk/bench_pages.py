"""Server time of the register and heat-table pages (HTML included) with the full demo register.

    .venv/bin/python bench/risk/bench_pages.py                # SQLite under a temporary directory
    .venv/bin/python bench/risk/bench_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages

The app runs in-process (FastAPI's TestClient, no network), logged in as the demo discipline officer;
each page is fetched `--runs` times after a warm-up and the server time is the time of the whole request.
Goal (issue 4): the register with any filter and the heat table under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date

PAGES = {
    "register, no filter": "/risk",
    "register, level 一级": "/risk?level=1",
    "register, category 业务流程": "/risk?category=process",
    "register, flag review_overdue": "/risk?flag=review_overdue",
    "register, text search": "/risk?q=审批",
    "register, page 5": "/risk?offset=200",
    "heat table": "/risk/heat",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="bench-risk-pages-")
    os.environ.update(SUPERVISION_VAR_DIR=var, SUPERVISION_SCHEDULER_ENABLED="false",
                      SUPERVISION_INGEST_ENABLED="false", SUPERVISION_DATABASE_URL=args.database_url)
    if args.database_url.startswith("postgresql"):
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        url = make_url(args.database_url)
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()

    from fastapi.testclient import TestClient

    from supervision.db import make_engine, upgrade
    from supervision.settings import get_settings
    from web.app import create_app
    from web.composition import MIGRATION_PACKAGES
    from web.domains import risk as risk_domain

    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    from supervision.db import session_scope
    from supervision.demo import seed_demo

    with session_scope(engine, write=True) as session:
        seed_demo(session, password=settings.demo_password)
    risk_domain.seed_demo(engine, settings)
    app = create_app(settings, engine, migrate=False, services=[])
    results = []
    with TestClient(app) as client:
        form = client.get("/login").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"username": "officer", "password": settings.demo_password, "next": "/",
                                    "csrf_token": token})
        for label, path in PAGES.items():
            for _ in range(3):
                assert client.get(path).status_code == 200, path
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            results.append((label, path, min(times), statistics.median(times), max(times)))
    backend = engine.dialect.name
    load = os.getloadavg()[0]
    print(f"### {backend} — {date.today()} — {platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}), load average {load:.1f}\n")
    print("| page | path | best ms | median ms | worst ms |\n|---|---|---:|---:|---:|")
    for label, path, best, median, worst in results:
        print(f"| {label} | `{path}` | {best:.1f} | {median:.1f} | {worst:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
