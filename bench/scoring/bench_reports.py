"""Scoring reports at the sizes of issue 12: the monthly bulletin of a jurisdiction of 400 people, 105 windows and
86 departments, and a person's 12-month page.

    .venv/bin/python bench/scoring/bench_reports.py                       # SQLite (a fresh file)
    .venv/bin/python bench/scoring/bench_reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/x

Set-up (not timed): the jurisdiction of the engine's bench (bench_month.py, its sizes and mix of entries): the
city centre with 86 departments, 105 windows and 400 window staff; a year of ledger entries (12 per person and
month: 57,600); each of the last 12 months closed (frozen rows) by the city manager.
Timed, as the city manager:
  pdf     the bulletin of the last closed month as PDF (the service: month_view + rendering + audit), goal < 10 s
  xlsx    the same as Excel
  trend   GET /trends/staff/{id} — a person's 12-month page (TestClient, server time), goal < 300 ms
  person  GET /org/staff/{id} — the person's org page with its trend block
Each figure is the median of --runs runs (the first run, which warms caches and fonts, is reported apart).
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
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The sizes of the scoring benches (jurisdiction.py) and the year of entries of the engine's bench (bench_month.py).
import jurisdiction
from bench_month import KINDS, PER_PERSON_MONTH
from bench_month import _months_back as _months
from jurisdiction import DEPARTMENTS, PASSWORD, PEOPLE, WINDOWS


def run(database_url: str, runs: int) -> dict[str, object]:
    from fastapi.testclient import TestClient
    from sqlalchemy import insert
    from sqlmodel import select

    from supervision import accounts, org, scoring
    from supervision.access import SYSTEM
    from supervision.db import make_engine, session_scope, upgrade, utcnow
    from supervision.models import Role, Staff
    from supervision.scoring.reports import bulletin_file
    from supervision.settings import get_settings
    from web.app import create_app
    from web.composition import MIGRATION_PACKAGES

    engine = make_engine(database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    rng = random.Random(12)
    t0 = time.perf_counter()
    with session_scope(engine, write=True) as s:
        def add(entity: org.OrgKind, /, **data: object) -> int:
            return int(org.create_entity(s, SYSTEM, entity, data).id or 0)

        city = add(org.OrgKind.SITE, code="BM", name="基准市政务服务中心", kind="city")
        hall = add(org.OrgKind.HALL, code="BM-H", name="基准大厅", site_id=city)
        depts = [add(org.OrgKind.DEPARTMENT, code=f"BD{d:03d}", name=f"部门{d:03d}", site_id=city)
                 for d in range(DEPARTMENTS)]
        windows = [add(org.OrgKind.WINDOW, code=f"BW{w:03d}", name=f"{w + 1:03d} 号窗口", site_id=city, hall_id=hall,
                       department_id=depts[w % DEPARTMENTS]) for w in range(WINDOWS)]
        s.connection().execute(insert(Staff), [{
            "code": f"BS{n:04d}", "name": f"人员{n:04d}", "site_id": city, "department_id": depts[n % DEPARTMENTS],
            "window_id": windows[n % WINDOWS], "rank": "GENERAL", "employment": "ESTABLISHED", "title": "",
            "active": True, "is_demo": False, "phone_enc": ""} for n in range(PEOPLE)])
        accounts.create_user(s, SYSTEM, {"username": "bench_manager", "display_name": "bench", "role": Role.MANAGER,
                                         "password": PASSWORD, "site_id": city})
    with session_scope(engine) as s:
        staff = [(int(sid or 0), wid) for sid, wid in s.exec(select(Staff.id, Staff.window_id)).all()]
    tz = get_settings().tz
    months = _months(datetime.now(tz).date(), 12)
    rows: list[dict[str, object]] = []
    now = utcnow()
    for month in months:
        for sid, wid in staff:
            for _ in range(PER_PERSON_MONTH):
                kind, points = KINDS[rng.randrange(len(KINDS))]
                day = month + timedelta(days=rng.randrange(27))
                rows.append({"staff_id": sid, "window_id": wid, "site_id": city, "day": day,
                             "kind": kind, "points": points, "reason": "基准", "source_kind": "bench",
                             "source_id": f"b{len(rows)}", "recorded_by": "bench", "recorded_at": now})
    jurisdiction.add_ledger(engine, rows)
    manager = jurisdiction.principal(engine, "bench_manager")
    for month in months:
        with session_scope(engine, write=True) as s:
            scoring.close_month(s, actor=manager, month=month, force=True)
    setup = time.perf_counter() - t0
    last = months[-1]

    def timed(fn: object, n: int) -> tuple[float, list[float]]:
        times = []
        for _ in range(n + 1):
            start = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return times[0], times[1:]

    sizes: dict[str, int] = {}

    def pdf() -> None:
        with session_scope(engine) as s:
            sizes["pdf"] = len(bulletin_file(s, actor=manager, month=last, fmt="pdf", locale="zh-CN").body)

    def xlsx() -> None:
        with session_scope(engine) as s:
            sizes["xlsx"] = len(bulletin_file(s, actor=manager, month=last, fmt="xlsx", locale="zh-CN").body)

    results: dict[str, object] = {"setup_s": round(setup, 1), "entries": len(rows)}
    for name, fn in (("pdf", pdf), ("xlsx", xlsx)):
        first, rest = timed(fn, runs)
        results[name] = {"first_s": round(first, 2), "median_s": round(statistics.median(rest), 2),
                         "max_s": round(max(rest), 2), "bytes": sizes[name]}
    app = create_app(get_settings(), engine, migrate=False, services=[])
    person = staff[len(staff) // 2][0]
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/token", data={"username": "bench_manager",
                                                        "password": PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for name, url in (("person", f"/org/staff/{person}"), ("trend", f"/trends/staff/{person}")):
            def get(url: str = url) -> None:
                response = client.get(url, headers=headers)
                assert response.status_code == 200 and "trend-chart-staff" in response.text, response.text[:300]
            first, rest = timed(get, runs * 3)
            results[name] = {"first_ms": round(first * 1000, 1), "median_ms": round(statistics.median(rest) * 1000, 1),
                             "p90_ms": round(sorted(rest)[int(len(rest) * 0.9) - 1] * 1000, 1)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        jurisdiction.bench_environment(Path(tmp), "bench-reports")
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        results = run(url, args.runs)
    load = os.getloadavg()
    print(f"# {datetime.now():%Y-%m-%d %H:%M} {platform.node()} {platform.processor() or platform.machine()} "
          f"cpus={os.cpu_count()} python={platform.python_version()} load={load[0]:.1f}/{load[1]:.1f} "
          f"db={url.split(':')[0]}")
    for key, value in results.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
