"""Benchmark of the complaints services: intake throughput, the due list and statistics at 100,000 orders.

    .venv/bin/python bench/complaints/bench_complaints.py                      # SQLite under /tmp
    .venv/bin/python bench/complaints/bench_complaints.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_complaints

Intake: each order is one `create_work_order` call in its own write transaction (what one API request
does: validation, number, deadline from the calendar, the order, its event, the audit entry, the
idempotency key). Then the database is filled to 100,000 orders by bulk insert (a year of orders over
30 windows, 10% still open) and the supervisor's due list and the statistics are timed.
Targets (issue 5): intake ≥ 200 orders/s with p99 < 100 ms; due list and statistics < 150 ms.

The bulk insert bypasses the services, so the statistics roll-up is rebuilt after it (what an admin
does after a bulk import: `complaints.rollup.rebuild`). `--http` also times the statistics page and the
overdue list through the whole app in-process (a supervisor with a bearer session; Starlette's TestClient,
so the figure is the server's time plus the in-process transport, no network).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics as stats
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("SUPERVISION_PASSWORD_HASH_FAST", "true")
os.environ.setdefault("SUPERVISION_SECRET_KEY", "bench-secret-key-" + "x" * 32)
os.environ.setdefault("SUPERVISION_VAR_DIR", "/tmp/bench-complaints-var")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, func, select

import complaints
from complaints import rollup
from complaints.models import WorkOrder
from supervision import org
from supervision.access import ROLE_PERMISSIONS, SYSTEM, Principal
from supervision.db import make_engine, session_scope, upgrade
from supervision.models import Role, Site, Window
from web.composition import MIGRATION_PACKAGES

logger = logging.getLogger("bench.complaints")
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Monday 16 November 2026, 10:00 in Shanghai
TODAY = date(2026, 11, 16)


def prepare(url: str) -> Engine:
    if url.startswith("sqlite"):
        Path(make_url(url).database or "").unlink(missing_ok=True)
    else:
        admin = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
        name = make_url(url).database
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine, MIGRATION_PACKAGES)
    return engine


def seed_org(engine: Engine) -> dict[str, Any]:
    ids: dict[str, Any] = {"departments": [], "windows": []}
    with session_scope(engine, write=True) as s:
        def add(kind: org.OrgKind, /, **data: Any) -> int:
            return int(org.create_entity(s, SYSTEM, kind, data).id)

        city = add(org.OrgKind.SITE, code="MY", name="绵阳市政务服务中心", kind="city")
        ids["city"] = city
        county = add(org.OrgKind.SITE, code="FC", name="涪城区政务服务中心", kind="county", parent_id=city)
        hall = add(org.OrgKind.HALL, code="H1", name="公共服务大厅", site_id=city)
        for d in range(10):
            dept = add(org.OrgKind.DEPARTMENT, code=f"D{d}", name=f"部门{d}", site_id=city)
            ids["departments"].append(dept)
            for w in range(3):
                site = city if w < 2 else county
                ids["windows"].append(add(org.OrgKind.WINDOW, code=f"W{d}-{w}", name=f"窗口{d}-{w}", site_id=site,
                                          hall_id=hall if site == city else None, department_id=dept))
        path = s.get(Site, city).path  # type: ignore[union-attr]
    ids["supervisor"] = Principal(kind="user", id=1, name="supervisor", site_id=city, site_path=path,
                                  role=Role.SUPERVISOR, permissions=ROLE_PERMISSIONS[Role.SUPERVISOR])
    return ids


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_intake(engine: Engine, ids: dict[str, Any], count: int, threads: int) -> dict[str, float]:
    """Orders through the intake service, each in its own write transaction."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = count // threads

    def worker(n: int) -> None:
        rnd = random.Random(n)
        mine: list[float] = []
        for i in range(per_thread):
            data = {"channel": "hotline", "type": rnd.choice(["consult", "help", "complaint"]),
                    "content": "等候时间过长,窗口无人" * 3, "caller_name": "王先生",
                    "phone": f"139{rnd.randrange(10**8):08d}", "window_id": rnd.choice(ids["windows"]),
                    "lead_department_id": rnd.choice(ids["departments"])}
            start = time.perf_counter()
            with session_scope(engine, write=True) as s:
                complaints.create_work_order(s, ids["supervisor"], data, idempotency_key=f"t{n}-{i}", now=NOW)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    return {"orders": len(latencies), "per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000, "max_ms": max(latencies) * 1000}


def fill(engine: Engine, ids: dict[str, Any], total: int) -> None:
    """Bulk-insert orders up to `total`: a year of history, 10% open, spread over windows and channels."""
    with Session(engine) as s:
        have = int(s.exec(select(func.count()).select_from(WorkOrder)).one())
    rnd = random.Random(7)
    channels = [c.value for c in complaints.Channel]
    rows: list[dict[str, Any]] = []
    start = TODAY - timedelta(days=365)
    with Session(engine) as s:
        sites = {w.id: w.site_id for w in s.exec(select(Window))}
    for i in range(have, total):
        received = start + timedelta(days=rnd.randrange(366))
        window = rnd.choice(ids["windows"])
        due = received + timedelta(days=rnd.choice([4, 9, 21]))
        is_open = rnd.random() < 0.1 and received > TODAY - timedelta(days=40)
        closed_on = None if is_open else received + timedelta(days=rnd.randrange(1, 25))
        rows.append({
            "number": f"BK{i:08d}", "channel": rnd.choice(channels), "type": "complaint", "urgency": "normal",
            "site_id": sites[window], "received_at": datetime.combine(received, datetime.min.time(), UTC),
            "received_on": received, "received_month": received.strftime("%Y-%m"), "received_by": "bench",
            "caller_name": "x", "anonymous": False, "phone_enc": "", "phone_hash": "", "confidential": False,
            "integrity": rnd.random() < 0.01, "title": "t", "content": "c", "window_id": window,
            "department_id": rnd.choice(ids["departments"]), "source_ref": "", "tracking_secret_enc": "",
            "state": "handling" if is_open else "closed", "version": 3, "is_open": is_open,
            "lead_department_id": rnd.choice(ids["departments"]), "time_limit_days": 15, "due_on": due,
            "due_provisional": False, "due_source": "official", "extended_days": 0, "card": "", "reply": "",
            "callback_method": "", "callback_level": None if is_open else rnd.randint(1, 5), "callback_reason": "",
            "reopen_count": 0, "outcome": "" if is_open else rnd.choice(["", "upheld", "not_upheld"]),
            "disposition": "", "closed_on": closed_on, "on_time": None if is_open else closed_on <= due,  # type: ignore[operator]
            "extension_pending_reason": "",
        })
        if len(rows) == 5000:
            with session_scope(engine, write=True) as s:
                s.execute(sa.insert(WorkOrder), rows)
            rows = []
    if rows:
        with session_scope(engine, write=True) as s:
            s.execute(sa.insert(WorkOrder), rows)
    with session_scope(engine, write=True) as s:
        rollup.rebuild(s)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


def timed(engine: Engine, fn: Callable[[Session], Any], runs: int = 20) -> dict[str, float]:
    times: list[float] = []
    for _ in range(runs):
        with session_scope(engine, write=True) as s:
            start = time.perf_counter()
            fn(s)
            times.append(time.perf_counter() - start)
    return {"median_ms": stats.median(times) * 1000, "p95_ms": percentile(times, 95) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite:////tmp/bench-complaints.db")
    parser.add_argument("--intake", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--http", action="store_true", help="also time the pages through the app in-process")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"# {platform.node()} {platform.processor() or platform.machine()} {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {args.database_url.split(':')[0]}, {datetime.now():%Y-%m-%d %H:%M}")
    engine = prepare(args.database_url)
    ids = seed_org(engine)
    for threads in (1, 4):
        result = bench_intake(engine, ids, args.intake // 2, threads)
        print(f"intake, {threads} thread(s): {result['orders']:.0f} orders, {result['per_s']:.0f}/s, "
              f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms")
    started = time.perf_counter()
    fill(engine, ids, args.orders)
    print(f"filled to {args.orders} orders in {time.perf_counter() - started:.1f} s")
    sup = ids["supervisor"]
    year = (TODAY - timedelta(days=365), TODAY)
    cases: dict[str, Callable[[Session], Any]] = {
        "due list (page of 50)": lambda s: complaints.due_orders(s, sup, today=TODAY, limit=50),
        "overdue filter (page of 50)": lambda s: complaints.list_orders(s, sup, {"overdue_only": True},
                                                                        today=TODAY, limit=50),
        "order list, newest (page of 50)": lambda s: complaints.list_orders(s, sup, today=TODAY, limit=50),
    }
    for group in complaints.GroupBy:
        cases[f"statistics by {group.value}, one year"] = (
            lambda s, g=group: complaints.statistics(s, sup, group_by=g, since=year[0], until=year[1], today=TODAY))
    cases["statistics by month + Excel export"] = lambda s: complaints.export_statistics(
        complaints.statistics(s, sup, group_by="month", since=year[0], until=year[1], today=TODAY),
        group_by="month", since=year[0], until=year[1])
    for name, fn in cases.items():
        r = timed(engine, fn, args.runs)
        print(f"{name}: median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms")
    if args.http:
        bench_http_pages(engine, ids, year, args.runs)
    engine.dispose()


def bench_http_pages(engine: Engine, ids: dict[str, Any], year: tuple[date, date], runs: int) -> None:
    """The statistics page and the overdue list as a supervisor's browser gets them, through the whole app."""
    from fastapi.testclient import TestClient

    from supervision import accounts
    from supervision.settings import get_settings
    from web.app import create_app

    with session_scope(engine, write=True) as s:
        accounts.create_user(s, SYSTEM, {"username": "bench-sup", "display_name": "bench", "role": "supervisor",
                                         "password": "bench-pass-123", "site_id": ids["city"]})
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        token = client.post("/api/v1/auth/token", data={"username": "bench-sup", "password": "bench-pass-123"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        period = f"since={year[0].isoformat()}&until={year[1].isoformat()}"
        pages = {f"GET /complaints/stats?group_by={g.value} (one year)":
                 f"/complaints/stats?group_by={g.value}&{period}" for g in complaints.GroupBy}
        pages["GET /complaints/orders?due=overdue (page of 50)"] = "/complaints/orders?due=overdue"
        pages["GET /api/v1/work-orders?overdue_only=true"] = "/api/v1/work-orders?overdue_only=true"
        for name, url in pages.items():
            times: list[float] = []
            for _ in range(runs + 2):
                start = time.perf_counter()
                response = client.get(url, headers=headers)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, (url, response.status_code, response.text[:300])
            times = times[2:]  # the first requests warm the templates
            print(f"HTTP {name}: median {stats.median(times) * 1000:.1f} ms, p95 {percentile(times, 95) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
