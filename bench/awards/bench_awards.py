"""Awards and appraisal at the sizes of issue 12: 400 people at 105 windows (86 departments), a year of ledger
entries, four duty leaders on every working day.

    .venv/bin/python bench/awards/bench_awards.py [--database-url postgresql+psycopg://…]

  ranking    a quarter's candidates and ranking for the whole centre (3 open months scored from the ledger)
  api        GET /api/v1/awards?quarter=… as the manager (TestClient, server time)
  appraisal  the year's appraisal for the 400 (12 open months, attendance days, leave)
Each a median of 5 after one warm-up. Months are left open: the slowest case (a closed month reads stored rows).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))

# The jurisdiction of the scoring benches: the same sizes and the same manager.
import jurisdiction
from jurisdiction import PASSWORD, PEOPLE, WINDOWS

ENTRIES = 6000
KINDS = (("late", -1.0), ("absent_half_day", -5.0), ("off_post", -3.0), ("bad_rating", -2.0), ("praise", 1.0),
         ("complaint_upheld", -5.0), ("visit_finding", -2.0))


def _median(run: Callable[[], object], n: int = 5) -> float:
    run()
    times = []
    for _ in range(n):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="bench-awards-"))
    jurisdiction.bench_environment(var, "bench-awards")
    from fastapi.testclient import TestClient
    from sqlalchemy import insert, text

    from supervision import awards
    from supervision.db import make_engine, session_scope, upgrade, utcnow
    from supervision.duty import DutyAssignment
    from supervision.models import Staff
    from supervision.settings import get_settings
    from web.app import create_app
    from web.composition import MIGRATION_PACKAGES

    url = args.database_url or f"sqlite:///{var / 'bench.db'}"
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine, MIGRATION_PACKAGES)
    today = date.today()
    year, number = awards.last_complete_quarter(today)
    quarter = awards.quarter_key(year, number)
    rng = random.Random(12)
    place = jurisdiction.create(engine)
    city, staff = place.city, place.staff
    start = date(today.year - 1, today.month, 1)
    rows = []
    for n in range(ENTRIES):
        person, window = rng.choice(staff)
        kind, points = rng.choice(KINDS)
        rows.append({"staff_id": person, "window_id": window, "site_id": city,
                     "day": start + timedelta(days=rng.randrange((today - start).days)), "kind": kind,
                     "points": points, "reason": "bench", "source_kind": "manual", "source_id": f"b{n}",
                     "recorded_by": "bench", "recorded_at": utcnow()})
    jurisdiction.add_ledger(engine, rows)
    with session_scope(engine, write=True) as s:
        s.connection().execute(insert(Staff), [{
            "code": f"L{n}", "name": f"领导{n}", "site_id": city, "rank": "BUREAU_LEADER", "employment": "ESTABLISHED",
            "title": "", "active": True, "is_demo": False, "phone_enc": ""} for n in range(4)])
        leaders = [p for p, in s.connection().execute(text("SELECT id FROM staff WHERE code LIKE 'L%' ORDER BY id"))]
        q_start, q_end = awards.quarter_bounds(year, number)
        day, k = q_start, 0
        while day <= q_end:
            if day.weekday() < 5:
                s.add(DutyAssignment(site_id=city, day=day, role="leader", staff_id=leaders[k % 4], source="manual"))
                k += 1
            day += timedelta(days=1)
    manager = jurisdiction.principal(engine)

    def ranking() -> None:
        with session_scope(engine) as s:
            board = awards.ranking(s, actor=manager, quarter=quarter, today=today)
            assert len(board.staff) == PEOPLE and len(board.windows) == WINDOWS

    def appraisal() -> None:
        with session_scope(engine) as s:
            view = awards.year_view(s, actor=manager, year=today.year)
            assert len(view.rows) == PEOPLE
            s.rollback()  # the view's audit entry is not what is measured

    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, base_url="http://testserver") as client:
        page = client.post("/api/v1/auth/token", data={"username": "manager", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {page.json()['access_token']}"}

        def api() -> None:
            answer = client.get(f"/api/v1/awards?quarter={quarter}", headers=headers)
            assert answer.status_code == 200, answer.text

        results = {"ranking": _median(ranking), "api": _median(api), "appraisal": _median(appraisal, 3)}
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {load:.1f}, {engine.dialect.name}, {today}")
    print(f"ranking   {quarter}, {PEOPLE} people, {WINDOWS} windows, {ENTRIES} ledger entries in the year: "
          f"median {results['ranking'] * 1000:.0f} ms")
    print(f"api       GET /api/v1/awards?quarter={quarter}: median {results['api'] * 1000:.0f} ms")
    print(f"appraisal {today.year}, {PEOPLE} people, 12 months: median {results['appraisal'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
