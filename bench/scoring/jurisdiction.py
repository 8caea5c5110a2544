"""The jurisdiction of the scoring and awards benches, at the sizes of issue 12: one city centre with 86
departments, 105 windows and 400 window staff, its manager's account, and ledger entries written in bulk.

Shared by bench_month.py, bench_reports.py and bench/awards/bench_awards.py (which adds this folder to
sys.path). The project is imported inside the functions: a bench sets its environment (`bench_environment`)
before anything of the service is imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from supervision.access import Principal

PEOPLE, WINDOWS, DEPARTMENTS = 400, 105, 86
PASSWORD = "bench-pass-1"


def bench_environment(var: Path, name: str) -> None:
    """Run the service in `var` with no scheduler and no ingest, and hash passwords fast."""
    os.environ["SUPERVISION_VAR_DIR"] = str(var)
    os.environ.setdefault("SUPERVISION_SECRET_KEY", f"{name}-" + "k" * 32)
    os.environ["SUPERVISION_SCHEDULER_ENABLED"] = "false"
    os.environ["SUPERVISION_INGEST_ENABLED"] = "false"
    os.environ["SUPERVISION_PASSWORD_HASH_FAST"] = "true"


@dataclass(frozen=True)
class Jurisdiction:
    city: int
    staff: list[tuple[int, int]]  # (person, their window), in the order of their ids


def create(engine: Engine, *, manager: str = "manager") -> Jurisdiction:
    """The city centre (MY), its departments, windows and window staff, and the city manager's account."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from supervision import accounts, org
    from supervision.access import SYSTEM
    from supervision.db import session_scope
    from supervision.models import Role, Staff, Window

    with session_scope(engine, write=True) as s:
        city = int(org.create_entity(s, SYSTEM, org.OrgKind.SITE, {"code": "MY", "name": "市中心", "kind": "city"}).id
                   or 0)
        depts = [int(org.create_entity(s, SYSTEM, org.OrgKind.DEPARTMENT, {
            "code": f"D{d}", "name": f"部门{d}", "site_id": city}).id or 0) for d in range(DEPARTMENTS)]
        s.connection().execute(insert(Window), [{
            "code": f"W{w:03d}", "name": f"窗口{w}", "number": f"A{w:03d}", "site_id": city,
            "department_id": depts[w % DEPARTMENTS], "is_comprehensive": False, "is_demo": False}
            for w in range(WINDOWS)])
        windows = [int(w or 0) for w in s.exec(select(Window.id).order_by(col(Window.id))).all()]
        s.connection().execute(insert(Staff), [{
            "code": f"S{n:04d}", "name": f"人员{n}", "site_id": city, "department_id": depts[n % DEPARTMENTS],
            "window_id": windows[n % WINDOWS], "rank": "GENERAL", "employment": "ESTABLISHED", "title": "",
            "active": True, "is_demo": False, "phone_enc": ""} for n in range(PEOPLE)])
        staff = [(int(p or 0), int(w or 0)) for p, w in s.exec(
            select(Staff.id, Staff.window_id).where(col(Staff.window_id).is_not(None)).order_by(col(Staff.id))).all()]
        accounts.create_user(s, SYSTEM, {"username": manager, "display_name": manager, "password": PASSWORD,
                                         "role": Role.MANAGER, "site_id": city})
    return Jurisdiction(city, staff)


def principal(engine: Engine, username: str = "manager") -> Principal:
    """The principal of an account made by the bench."""
    from sqlmodel import col, select

    from supervision import accounts
    from supervision.db import session_scope
    from supervision.models import User

    with session_scope(engine) as s:
        return accounts.principal_for_user(s, s.exec(select(User).where(col(User.username) == username)).one())


def add_ledger(engine: Engine, rows: list[dict[str, Any]], *, chunk: int = 5000) -> None:
    """Insert ledger entries in bulk, in one write transaction."""
    from sqlalchemy import insert

    from supervision.db import session_scope
    from supervision.models import LedgerEntry

    with session_scope(engine, write=True) as s:
        for start in range(0, len(rows), chunk):
            s.connection().execute(insert(LedgerEntry), rows[start:start + chunk])
