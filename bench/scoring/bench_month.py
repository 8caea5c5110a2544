"""Monthly scoring at the sizes of issue 12: 400 people, 105 windows, 86 departments and a year of ledger entries.

    .venv/bin/python bench/scoring/bench_month.py                       # SQLite (a fresh file)
    .venv/bin/python bench/scoring/bench_month.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

  score  compute_month for the whole city (every person, window, department; median of 5) — goal < 1 s
  close  close_month: compute and store the frozen rows, in one write transaction (median of 3) — goal < 5 s
  page   GET /scoring?month=… as the city manager (TestClient, server time, median of 10), live month
The ledger: ~12 entries per person per month for 12 months (~57,600 entries), ratings and complaints on windows.
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
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jurisdiction
from jurisdiction import DEPARTMENTS, PASSWORD, PEOPLE, WINDOWS

PER_PERSON_MONTH = 12
KINDS = (("late", -1.0), ("missed_sign_in", -2.0), ("absent_half_day", -5.0), ("off_post", -3.0),
         ("bad_rating", -2.0), ("complaint_upheld", -5.0), ("praise", 1.0), ("visit_finding", -2.0))


def _months_back(today: date, n: int) -> list[date]:
    out, cursor = [], today.replace(day=1)
    for _ in range(n):
        cursor = (cursor - timedelta(days=1)).replace(day=1)
        out.append(cursor)
    return sorted(out)


def run(url: str | None) -> dict[str, float]:
    var = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    jurisdiction.bench_environment(var, "bench-scoring")
    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from supervision import scoring
    from supervision.db import make_engine, session_scope, upgrade, utcnow
    from supervision.settings import get_settings
    from web.app import create_app
    from web.composition import MIGRATION_PACKAGES

    admin = None
    name = f"bench_scoring_{os.getpid()}"
    if url:
        # A database of its own, dropped at the end: the server is shared with the test runs.
        from sqlalchemy.engine import make_url

        admin = make_engine(url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    else:
        engine = make_engine(f"sqlite:///{var / 'bench.db'}")
    upgrade(engine, MIGRATION_PACKAGES)
    rng = random.Random(12)
    months = _months_back(date.today(), 12)
    place = jurisdiction.create(engine)
    city, staff = place.city, place.staff
    rows = []
    now = utcnow()
    for month in months:
        for staff_id, window_id in staff:
            for k in range(PER_PERSON_MONTH):
                kind, points = KINDS[rng.randrange(len(KINDS))]
                rows.append({"staff_id": staff_id, "window_id": window_id, "site_id": city,
                             "day": month + timedelta(days=rng.randrange(27)), "kind": kind, "points": points,
                             "reason": "bench", "source_kind": "bench", "source_id": f"{staff_id}-{month}-{k}",
                             "recorded_by": "system:bench", "recorded_at": now})
    jurisdiction.add_ledger(engine, rows)
    target = months[-1]
    manager = jurisdiction.principal(engine)
    score = []
    for _ in range(5):
        with session_scope(engine) as s:
            t0 = time.perf_counter()
            found = scoring.compute_month(s, month=target, site_path="/")
            score.append(time.perf_counter() - t0)
    assert len(found) == PEOPLE + WINDOWS + DEPARTMENTS, len(found)
    page = []
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app) as client:
        client.post("/api/v1/auth/token", data={"username": "manager", "password": PASSWORD})
        token = client.post("/api/v1/auth/token", data={"username": "manager", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for _ in range(10):
            t0 = time.perf_counter()
            got = client.get(f"/api/v1/monthly-scores?month={target:%Y-%m}&kind=staff", headers=headers)
            page.append(time.perf_counter() - t0)
            assert got.status_code == 200 and len(got.json()["rows"]) == PEOPLE
    close = []
    for month in months[-3:]:
        t0 = time.perf_counter()
        with session_scope(engine, write=True) as s:
            scoring.close_month(s, actor=manager, month=month)
        close.append(time.perf_counter() - t0)
    engine.dispose()
    if admin is not None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return {"entries": float(len(rows)), "score_s": statistics.median(score), "close_s": statistics.median(close),
            "api_s": statistics.median(page)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a database of its own is made there and dropped)")
    args = parser.parse_args()
    figures = run(args.postgres)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{date.today()} {platform.machine()} {os.cpu_count()} CPUs, {backend}, {int(figures['entries'])} entries")
    print(f"score a month (400 people, 105 windows, 86 departments): {figures['score_s'] * 1000:.0f} ms (goal < 1 s)")
    print(f"close a month (compute and store): {figures['close_s'] * 1000:.0f} ms (goal < 5 s)")
    print(f"GET /api/v1/monthly-scores (staff, live): {figures['api_s'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
