"""Attendance at the sizes of issue 11: a month of punches for 400 people, computing the month, the month grid,
and the gateway push against a real server.

    .venv/bin/python bench/attendance/bench_attendance.py                 # all four, SQLite
    .venv/bin/python bench/attendance/bench_attendance.py --skip-push     # in-process parts only

In process (a fresh SQLite file, the city centre with 400 window staff in 10 departments):
  import   a terminal export (CSV, 4 punches per person per working day of last month, ~35,000 rows) — goal < 10 s
  compute  every person's days of that month from the punches, hours, calendar and leave — goal < 3 s
  grid     GET /attendance?month=… as the city manager (TestClient, server time, median of 10) — goal < 300 ms
Real server (`serve --demo`, scheduler and ingest off, under a temporary var dir):
  push     POST /api/v1/attendance/punches in batches of 100 over 4 keep-alive connections — goal ≥ 2,000 punches/s
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PEOPLE = 400


def _last_month(today: date) -> tuple[date, date]:
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, today.replace(day=1) - timedelta(days=1)


def in_process(var: Path) -> dict[str, float]:
    os.environ["SUPERVISION_VAR_DIR"] = str(var)
    os.environ.setdefault("SUPERVISION_SECRET_KEY", "bench-attendance-" + "k" * 32)
    os.environ["SUPERVISION_SCHEDULER_ENABLED"] = "false"
    os.environ["SUPERVISION_INGEST_ENABLED"] = "false"
    os.environ["SUPERVISION_PASSWORD_HASH_FAST"] = "true"
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from supervision import accounts, attendance, org
    from supervision.access import SYSTEM
    from supervision.db import make_engine, session_scope, upgrade
    from supervision.models import Role, Staff
    from supervision.settings import get_settings
    from supervision.workdays import load_calendar
    from web.app import create_app
    from web.composition import MIGRATION_PACKAGES

    engine = make_engine(f"sqlite:///{var / 'bench.db'}")
    upgrade(engine, MIGRATION_PACKAGES)
    with session_scope(engine, write=True) as s:
        city = int(org.create_entity(s, SYSTEM, org.OrgKind.SITE, {"code": "MY", "name": "市中心", "kind": "city"}).id
                   or 0)
        depts = [int(org.create_entity(s, SYSTEM, org.OrgKind.DEPARTMENT, {
            "code": f"D{d}", "name": f"部门{d}", "site_id": city}).id or 0) for d in range(10)]
        s.connection().execute(insert(Staff), [{
            "code": f"S{n:04d}", "name": f"人员{n}", "site_id": city, "department_id": depts[n % 10],
            "rank": "GENERAL", "employment": "ESTABLISHED", "title": "", "active": True, "is_demo": False,
            "phone_enc": ""} for n in range(PEOPLE)])
        accounts.create_user(s, SYSTEM, {"username": "manager", "display_name": "manager", "password": "bench-pass-1",
                                         "role": Role.MANAGER, "site_id": city})
    tz = get_settings().tz
    first, last = _last_month(datetime.now(tz).date())
    with session_scope(engine) as s:
        calendar = load_calendar(s)
        workdays = [first + timedelta(days=k) for k in range((last - first).days + 1)
                    if calendar.is_workday(first + timedelta(days=k)).value]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工号", "打卡时间", "设备", "验证方式", "记录号"])
    rows = 0
    for n in range(PEOPLE):
        for day in workdays:
            for k, (hh, mm) in enumerate(((8, 40 + n % 19), (12, 2), (13, 25), (17, 1 + n % 20))):
                writer.writerow([f"S{n:04d}", f"{day} {hh:02d}:{mm:02d}:00", "ZK-01", "人脸", f"{n}-{day}-{k}"])
                rows += 1
    data = out.getvalue().encode()
    manager = SYSTEM
    started = time.perf_counter()
    with session_scope(engine, write=True) as s:
        receipt = attendance.import_punches(s, actor=manager, data=data)
    t_import = time.perf_counter() - started
    assert receipt.accepted == rows, receipt.accepted
    started = time.perf_counter()
    with session_scope(engine, write=True) as s:
        summary = attendance.compute_days(s, actor=SYSTEM, start=first, end=last)
    t_compute = time.perf_counter() - started
    app = create_app(get_settings(), engine, migrate=False, services=[])
    times = []
    with TestClient(app) as client:
        client.post("/login", data={"username": "manager", "password": "bench-pass-1",
                                    "csrf_token": _csrf(client.get("/login").text), "next": "/"})
        for _ in range(11):
            started = time.perf_counter()
            page = client.get(f"/attendance?month={first:%Y-%m}")
            times.append(time.perf_counter() - started)
            cells = page.text.count('class="st st-')
            assert page.status_code == 200 and cells >= PEOPLE * len(workdays), (page.status_code, cells)
    return {"rows": rows, "import_s": t_import, "days": summary.days, "compute_s": t_compute,
            "grid_ms": statistics.median(times[1:]) * 1000, "workdays": len(workdays)}


def _csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def push(var: Path, batches: int, concurrency: int) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "complaints"))
    import bench_http  # the real-server helpers of the intake bench

    port = bench_http._free_port()
    proc = bench_http.start_server(var, port, "", 1)
    try:
        admin = bench_http.token(port, "admin")

        def call(method: str, path: str, body: object | None = None) -> object:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                             data=None if body is None else json.dumps(body).encode(),
                                             headers={"Authorization": f"Bearer {admin}",
                                                      "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())

        me = call("GET", "/api/v1/me")
        made = call("POST", "/api/v1/api-tokens", {"name": "压测考勤网关", "scopes": ["attendance:push"],
                                                    "site_id": me["site_id"]})  # type: ignore[index]
        secret = made["token"]  # type: ignore[index]
        codes = [r["code"] for r in call("GET", "/api/v1/staff?limit=500")["data"]]  # type: ignore[index]
        day = date.today() - timedelta(days=1)
        counter = iter(range(batches))
        lock = threading.Lock()
        accepted = [0]
        errors = [0]

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while True:
                with lock:
                    b = next(counter, None)
                if b is None:
                    break
                body = json.dumps({"punches": [
                    {"staff_code": codes[(b * 100 + k) % len(codes)], "punched_at": f"{day}T08:{k % 60:02d}:00",
                     "device": f"BENCH-{b % 7}", "record_id": f"{time.time_ns()}-{b}-{k}", "verify_mode": "face"}
                    for k in range(100)]})
                conn.request("POST", "/api/v1/attendance/punches", body=body,
                             headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
                response = conn.getresponse()
                answer = response.read()
                with lock:
                    if response.status == 200:
                        accepted[0] += json.loads(answer)["accepted"]
                    else:
                        errors[0] += 1
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"punches": batches * 100, "accepted": accepted[0], "errors": errors[0], "wall_s": wall,
            "rate": batches * 100 / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-push", action="store_true")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} (shared with other engineers' work)")
    with tempfile.TemporaryDirectory(prefix="bench-att-") as tmp:
        r = in_process(Path(tmp))
    print(f"import  {r['rows']:,.0f} rows (400 people × {r['workdays']:.0f} working days × 4): {r['import_s']:.2f} s"
          f"  (goal < 10 s)")
    print(f"compute {r['days']:,.0f} days: {r['compute_s']:.2f} s  (goal < 3 s)")
    print(f"grid    /attendance month page, 400 people: median {r['grid_ms']:.0f} ms  (goal < 300 ms)")
    if not args.skip_push:
        with tempfile.TemporaryDirectory(prefix="bench-att-push-") as tmp:
            p = push(Path(tmp), args.batches, args.concurrency)
        print(f"push    {p['punches']:,.0f} punches in batches of 100 over {args.concurrency} connections: "
              f"{p['rate']:,.0f} punches/s, {p['accepted']:,.0f} accepted, {p['errors']:.0f} errors  (goal ≥ 2,000/s)")


if __name__ == "__main__":
    main()
