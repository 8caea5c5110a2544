"""Time audit.record: entries per second, each in a write transaction of its own, from several threads.

    .venv/bin/python bench/supervision/bench_audit.py [--database-url URL] [--entries 2000] [--threads 4] [--batch 1]

`--batch N` writes N entries per transaction (a group commit or a bulk import): the statements, not the commit.

The database is migrated and its audit chain verified after the run (the chain must stay one chain).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("SUPERVISION_SECRET_KEY", "bench-secret-key-" + "x" * 32)

from sqlmodel import Session

from supervision import audit
from supervision.access import SYSTEM
from supervision.db import make_engine, session_scope, upgrade
from web.composition import MIGRATION_PACKAGES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1, help="entries per transaction")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-audit-')}/audit.db"
    engine = make_engine(url)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade(engine, MIGRATION_PACKAGES)
    per_thread = args.entries // args.threads
    latencies: list[float] = []
    lock = threading.Lock()

    def write() -> None:
        mine = []
        for i in range(per_thread // args.batch):
            started = time.perf_counter()
            with session_scope(engine, write=True) as session:
                for j in range(args.batch):
                    audit.record(session, SYSTEM, "bench.entry", object_kind="bench", object_id=i * args.batch + j,
                                 summary="bench")
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=write) for _ in range(args.threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    with Session(engine) as session:
        broken = audit.verify(session)
    entries = len(latencies) * args.batch
    print(f"{engine.dialect.name}: {entries} entries, {args.threads} threads, {args.batch} per transaction: "
          f"{entries / elapsed:.0f}/s; per transaction median {statistics.median(latencies) * 1000:.2f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms; chain {'intact' if broken is None else broken}")


if __name__ == "__main__":
    main()
