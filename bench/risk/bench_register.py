"""Benchmark of the risk register's service calls on the full demo register.

    .venv/bin/python bench/risk/bench_register.py                       # SQLite under /tmp
    .venv/bin/python bench/risk/bench_register.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_risk

Seeds the demo organisation (supervision.demo) and the demo register once, then times the register with
each filter, the heat table, a post's page, the printable register, the reminder job, the export and a
1,000-row import (rolled back). Targets (issue 4): register and heat table < 100 ms; import < 3 s.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("SUPERVISION_PASSWORD_HASH_FAST", "true")
os.environ.setdefault("SUPERVISION_SECRET_KEY", "bench-secret-key-" + "x" * 32)
os.environ.setdefault("SUPERVISION_VAR_DIR", "/tmp/bench-risk-var")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, func, select

import risk
from risk.demo import seed_risk_demo
from risk.workbook import MEASURE_COLUMNS, MEASURES_SHEET, POINT_COLUMNS, POINTS_SHEET
from supervision import accounts
from supervision.access import Principal
from supervision.db import make_engine, session_scope, upgrade
from supervision.demo import seed_demo
from supervision.models import Department, Post, Staff, User
from web.composition import MIGRATION_PACKAGES

logger = logging.getLogger("bench.risk")
TODAY = date(2026, 11, 27)


def prepare(url: str, fresh: bool) -> Engine:
    """A migrated database holding the demo organisation and the demo register."""
    if url.startswith("sqlite") and fresh:
        Path(make_url(url).database or "").unlink(missing_ok=True)
    if url.startswith("postgresql") and fresh:
        admin = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
        name = make_url(url).database
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine, MIGRATION_PACKAGES)
    with session_scope(engine, write=True) as s:
        started = time.perf_counter()
        seed_demo(s, password="bench-pass-123")
        print(f"demo organisation ready in {time.perf_counter() - started:.1f} s")
    with session_scope(engine, write=True) as s:
        summary = seed_risk_demo(s, today=TODAY, with_incidents=True)
        print(f"demo register: {summary.model_dump()}")
    return engine


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float, Any]:
    """Best, median and worst wall time in ms over `runs` calls (after one warm-up), and the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times), statistics.median(times), max(times), result


def officer(session: Session) -> Principal:
    user = session.exec(select(User).where(col(User.username) == "officer")).one()
    return accounts.principal_for_user(session, user)


def import_workbook(session: Session, rows: int) -> bytes:
    """A workbook of `rows` rows (60% points, 40% measures) on the demo posts, with new codes."""
    posts = session.exec(select(Post).where(col(Post.is_demo)).order_by(col(Post.code))).all()
    staff = session.exec(select(Staff).where(col(Staff.active)).order_by(col(Staff.code))).all()
    n_points = rows * 6 // 10
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = POINTS_SHEET
    ws.append([c.header for c in POINT_COLUMNS])
    for i in range(n_points):
        post = posts[i % len(posts)]
        values = {"code": f"BX-{i:05d}", "name": f"导入风险点{i}", "post_code": post.code,
                  "category": ("岗位职责", "思想道德", "业务流程", "制度机制", "外部环境")[i % 5],
                  "level": ("一级", "二级", "三级")[i % 3], "manifestation": "表现形式说明" * 3,
                  "grading_basis": "按定级标准", "power": "行政审批", "process_step": "审核",
                  "direct_responsible_code": staff[i % len(staff)].code,
                  "department_responsible_code": staff[(i + 1) % len(staff)].code,
                  "leader_responsible_code": staff[(i + 2) % len(staff)].code,
                  "last_reviewed_on": "2026-03-02" if i % 2 else ""}
        ws.append([values.get(c.key, "") for c in POINT_COLUMNS])
    ms = wb.create_sheet(MEASURES_SHEET)
    ms.append([c.header for c in MEASURE_COLUMNS])
    for j in range(rows - n_points):
        values = {"code": f"BC-{j:05d}", "content": f"导入防控措施{j}", "measure_type": "制度",
                  "owner_code": staff[j % len(staff)].code, "check_frequency": "每季度", "check_method": "抽查",
                  "point_codes": f"BX-{(2 * j) % n_points:05d}、BX-{(2 * j + 1) % n_points:05d}",
                  "last_checked_on": "2026-09-01" if j % 2 else "", "last_result": "有效" if j % 2 else ""}
        ms.append([values.get(c.key, "") for c in MEASURE_COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="sqlite:////tmp/bench-risk.db")
    parser.add_argument("--fresh", action="store_true", help="drop the database first")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    engine = prepare(args.database_url, args.fresh)
    rows: list[tuple[str, float, float, float, str]] = []

    def bench(name: str, fn: Callable[[], Any], note: Callable[[Any], str], runs: int = args.runs) -> None:
        best, median, worst, result = timed(fn, runs)
        rows.append((name, best, median, worst, note(result)))

    with Session(engine) as s:
        actor = officer(s)
        points = s.exec(select(func.count()).select_from(risk.RiskPoint)).one()
        measures = s.exec(select(func.count()).select_from(risk.Countermeasure)).one()
        checks = s.exec(select(func.count()).select_from(risk.CountermeasureCheck)).one()
        reviews = s.exec(select(func.count()).select_from(risk.RiskReview)).one()
        dept = s.exec(select(Department).join(Post, col(Post.department_id) == col(Department.id))
                      .join(risk.RiskPoint, col(risk.RiskPoint.post_id) == col(Post.id))
                      .order_by(col(Department.code))).first()
        assert dept is not None
        post_id = s.exec(select(risk.RiskPoint.post_id).order_by(col(risk.RiskPoint.level))).first()
        assert post_id is not None

        def listing(f: risk.RiskPointFilter) -> Callable[[], Any]:
            return lambda: risk.list_risk_points(s, actor, filters=f, limit=50, today=TODAY)

        total = lambda r: f"{r[1]} rows"  # noqa: E731
        bench("register, no filter (page of 50)", listing(risk.RiskPointFilter()), total)
        bench("register, department", listing(risk.RiskPointFilter(department_id=dept.id)), total)
        bench("register, level 一级", listing(risk.RiskPointFilter(level=1)), total)
        bench("register, category + text", listing(risk.RiskPointFilter(category="moral", q="审批")), total)
        for flag in risk.PointFlag:
            bench(f"register, flag {flag.value}", listing(risk.RiskPointFilter(flag=flag)), total)
        bench("register, whole register (limit 500)",
              lambda: risk.list_risk_points(s, actor, limit=500, today=TODAY), total)
        bench("countermeasures, flag check_overdue", lambda: risk.list_countermeasures(
            s, actor, filters=risk.CountermeasureFilter(flag=risk.MeasureFlag.CHECK_OVERDUE), today=TODAY), total)
        bench("heat table", lambda: risk.heat_table(s, actor), lambda t: f"{len(t.rows)} departments, {t.count} points")
        bench("post page", lambda: risk.post_risk_page(s, actor, post_id, today=TODAY),
              lambda p: f"{len(p.points)} points, {len(p.checks)} checks")
        bench("printable register", lambda: risk.printable_register(s, actor, today=TODAY),
              lambda p: f"{p.point_count} points", runs=5)
        bench("export to Excel", lambda: risk.export_register(s, actor, today=TODAY),
              lambda b: f"{len(b) // 1024} KiB", runs=3)
        bench("reminder job (rolled back)", lambda: _rolled_back(s, lambda: risk.generate_reminders(s, today=TODAY)),
              lambda n: f"{n} reminders", runs=3)
        data = import_workbook(s, 1000)
        bench("import 1,000-row workbook (rolled back)",
              lambda: _rolled_back(s, lambda: risk.import_register(s, actor, data, today=TODAY)),
              lambda r: f"{r.points} points, {r.measures} measures, {r.links} links", runs=3)

    backend = engine.dialect.name
    print()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"### {backend} — {date.today().isoformat()} — {platform.node()} ({machine})")
    print()
    print(f"Register: {points} points, {measures} measures, {checks} checks, {reviews} reviews. "
          f"Service calls (no HTML rendering), best / median / worst of the runs in ms; "
          f"load average during the run {os.getloadavg()[0]:.1f}.")
    print()
    print("| call | best ms | median ms | worst ms | result |")
    print("|---|---:|---:|---:|---|")
    for name, best, median, worst, note in rows:
        print(f"| {name} | {best:.1f} | {median:.1f} | {worst:.1f} | {note} |")


def _rolled_back(session: Session, fn: Callable[[], Any]) -> Any:
    """Run a writing call inside a savepoint and undo it, so each run starts from the same register."""
    nested = session.begin_nested()
    try:
        return fn()
    finally:
        nested.rollback()
        session.expire_all()


if __name__ == "__main__":
    main()
