"""Load the HTTP intake API of a real `supervision serve` on loopback and report throughput and latency.

    .venv/bin/python bench/complaints/bench_http.py                      # SQLite default, 2,000 orders
    .venv/bin/python bench/complaints/bench_http.py --orders 3000 --concurrency 8
    .venv/bin/python bench/complaints/bench_http.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_http --workers 2

The server runs as a newcomer would (`serve --demo`, scheduler and ingest off) under a temporary var dir.
The load generator is bounded: a fixed number of orders, a fixed number of keep-alive connections, each
sending its next order when the previous answer arrived (closed loop), so latency is not hidden by queueing
in the client. Every request carries its own Idempotency-Key, as the intake screen does.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

PASSWORD = "bench-http-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(var: Path, port: int, database_url: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": PASSWORD,
           "SUPERVISION_SCHEDULER_ENABLED": "false", "SUPERVISION_INGEST_ENABLED": "false",
           "SUPERVISION_DATABASE_URL": database_url, "SUPERVISION_LOG_LEVEL": "WARNING"}
    env.pop("SUPERVISION_SECRET_KEY", None)
    cmd = [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port), "--no-ingest", "--no-scheduler"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    log = open(var / "server.log", "wb")  # noqa: SIM115 - the server owns it until it exits
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((var / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("server did not start")


def token(port: int, username: str) -> str:
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/auth/token", data=body, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


def site_and_window(port: int, bearer: str) -> tuple[int, int]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/windows?limit=5",
                                     headers={"Authorization": f"Bearer {bearer}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        rows = json.loads(response.read())["data"]
    return int(rows[0]["site_id"]), int(rows[0]["id"])


def run_load(port: int, bearer: str, site_id: int, window_id: int, *, orders: int, concurrency: int,
             tag: str) -> tuple[list[float], int, float]:
    """Send `orders` POST /api/v1/work-orders over `concurrency` connections; (latencies s, errors, wall s)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(orders))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        mine: list[float] = []
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            body = json.dumps({"channel": "hotline", "type": ("complaint", "help", "consult", "suggestion")[n % 4],
                               "content": f"压测工单 {n}:窗口办事等候时间过长", "caller_name": "压测",
                               "phone": f"138{n:08d}", "site_id": site_id, "window_id": window_id})
            started = time.perf_counter()
            conn.request("POST", "/api/v1/work-orders", body=body,
                         headers={**headers, "Idempotency-Key": f"{tag}-{n}"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 201:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, name, user + system CPU seconds so far) of every process on this machine (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(") ", 1)
        except (OSError, ValueError, IndexError):
            continue
        fields = rest.split()
        found.append((int(entry.name), int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick))
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds so far of a process and all its descendants."""
    processes = _processes()
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        for child, parent, _, _ in processes:
            if parent == pid and child not in tree:
                tree.add(child)
                todo.append(child)
    return sum(cpu for pid, _, _, cpu in processes if pid in tree)


def postgres_cpu_seconds() -> float:
    """CPU seconds so far of the processes named `postgres` (its backends and workers).

    A backend that exits takes its CPU with it; the server's pool keeps its connections for the run.
    """
    return sum(cpu for _, _, name, cpu in _processes() if name == "postgres")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        var = Path(tmp)
        port = _free_port()
        proc = start_server(var, port, args.database_url, args.workers)
        try:
            bearer = token(port, "supervisor")
            site_id, window_id = site_and_window(port, bearer)
            run_load(port, bearer, site_id, window_id, orders=args.warmup, concurrency=args.concurrency, tag="warm")
            server_cpu = tree_cpu_seconds(proc.pid)
            client_cpu = sum(os.times()[:2])
            database_cpu = postgres_cpu_seconds()
            lat, errors, wall = run_load(port, bearer, site_id, window_id, orders=args.orders,
                                         concurrency=args.concurrency, tag=f"run{time.time_ns()}")
            server_cpu = tree_cpu_seconds(proc.pid) - server_cpu
            client_cpu = sum(os.times()[:2]) - client_cpu
            database_cpu = postgres_cpu_seconds() - database_cpu
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{backend}, {args.workers} worker(s), {args.concurrency} connections, {args.orders} orders")
    print(f"throughput {len(lat) / wall:.0f} orders/s, errors {errors}, p50 {pct(lat, .5):.1f} ms, "
          f"p95 {pct(lat, .95):.1f} ms, p99 {pct(lat, .99):.1f} ms, max {max(lat) * 1000:.0f} ms, "
          f"mean {statistics.mean(lat) * 1000:.1f} ms")
    print(f"CPU per order: server {server_cpu / len(lat) * 1000:.2f} ms ({server_cpu / wall:.2f} cores), "
          f"load generator {client_cpu / len(lat) * 1000:.2f} ms ({client_cpu / wall:.2f} cores)"
          + (f", PostgreSQL {database_cpu / len(lat) * 1000:.2f} ms ({database_cpu / wall:.2f} cores)"
             if backend == "PostgreSQL" else ""))


if __name__ == "__main__":
    main()
