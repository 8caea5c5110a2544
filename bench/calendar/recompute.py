"""How long the write transactions of a calendar change last when N provisional due dates follow it.

Run: PYTHONPATH=. SUPERVISION_VAR_DIR=/tmp/calbench SUPERVISION_PASSWORD_HASH_FAST=true SUPERVISION_ENVIRONMENT=test \
     .venv/bin/python bench/calendar/recompute.py 1500 sqlite:////tmp/calbench/b.db   (an empty directory, a new file)
"""
import sys
import time
from datetime import UTC, date, datetime

from sqlalchemy import event
from sqlmodel import Session

import complaints
from supervision import workdays as wd
from supervision.db import make_engine, upgrade
from tests.conftest import make_org
from web.composition import MIGRATION_PACKAGES

n = int(sys.argv[1])
engine = make_engine(sys.argv[2])
upgrade(engine, MIGRATION_PACKAGES)
org = make_org(engine)
sup, admin = org.principals["supervisor"], org.principals["admin"]
with Session(engine) as s:
    for i in range(n):
        complaints.create_work_order(s, sup, {"channel": "hotline", "type": "complaint", "content": f"c{i}",
                                               "caller_name": "王", "window_id": org.window},
                                     now=datetime(2026, 12, 14 + i % 4, 2, tzinfo=UTC))
    s.commit()
spans: list[float] = []
began: dict[int, float] = {}
event.listen(engine, "begin", lambda conn: began.__setitem__(id(conn), time.perf_counter()))
event.listen(engine, "commit",
             lambda conn: spans.append(time.perf_counter() - began.pop(id(conn), time.perf_counter())))
steps = (("override", lambda s: wd.set_override(s, admin, day=date(2027, 1, 4), is_workday=False, name="x")),
         ("declare", lambda s: wd.declare_year(s, admin, year=2027, notice="国办发明电")))
for step, change in steps:
    spans.clear()
    with Session(engine) as s:
        started = time.perf_counter()
        change(s)
        s.commit()
    median = sorted(spans)[len(spans) // 2]
    print("first transactions (ms):", [round(x * 1000) for x in spans[:4]])
    print(f"{step}: {n} provisional orders recomputed in {time.perf_counter() - started:.2f} s; "
          f"{len(spans)} write transactions, longest {max(spans) * 1000:.0f} ms, median {median * 1000:.0f} ms")
