"""Server CPU per request of the officer's audited order list and of intake: this tree against an older one.

    git worktree add --detach /tmp/supervision-old main          # the code to compare with
    .venv/bin/python bench/concurrency/bench_cpu.py --old /tmp/supervision-old
    .venv/bin/python bench/concurrency/bench_cpu.py --old /tmp/supervision-old --rounds 8 --requests 100

On a machine shared with other work, latency says more about the neighbours than about the code; the CPU a
server process spends per request does not. Two real `supervision serve --demo` processes (scheduler and
ingest off) run side by side, each on its own SQLite demo database: one from this tree, one from `--old`
(with this virtualenv's libraries). Rounds alternate between them (old first in odd rounds, new first in even
ones), so a change in the machine's load falls on both. A round sends `--requests` requests one after the other
on one connection and reads the server process tree's user + system CPU time (Linux /proc) before and after:
- read: `GET /api/v1/work-orders?limit=50` as the demo officer (confidential orders in the list: each read
  writes an audit entry), the request bench_locks.py's four reader clients send;
- intake: `POST /api/v1/work-orders` as the supervisor, each with its own Idempotency-Key; every fifth order
  confidential, so the officer's list of the newest 50 always holds some and every read is audited.
Reported: the median over rounds of CPU ms per request, per path and tree, and the load average.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "complaints"))
from bench_http import PASSWORD, _free_port, site_and_window, token, tree_cpu_seconds  # noqa: E402


def start(tree: Path, var: Path, port: int) -> subprocess.Popen[bytes]:
    """`serve --demo` of the code in `tree` (its packages first on the path), without scheduler and ingest."""
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": PASSWORD,
           "SUPERVISION_SCHEDULER_ENABLED": "false", "SUPERVISION_INGEST_ENABLED": "false",
           "SUPERVISION_LOG_LEVEL": "WARNING", "PYTHONPATH": str(tree)}
    for name in ("SUPERVISION_SECRET_KEY", "SUPERVISION_DATABASE_URL"):
        env.pop(name, None)
    log = open(var / "server.log", "wb")  # noqa: SIM115 - the server owns it until it exits
    return subprocess.Popen([sys.executable, "-m", "web", "serve", "--demo", "--port", str(port), "--no-ingest",
                             "--no-scheduler"], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(proc: subprocess.Popen[bytes], var: Path, port: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((var / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"the server on {port} did not start in {limit:.0f} s")


class Target:
    """One running server and what its requests need."""

    def __init__(self, name: str, tree: Path, var: Path) -> None:
        self.name, self.tree, self.var, self.port = name, tree, var, _free_port()
        self.proc = start(tree, var, self.port)
        self.reads: list[float] = []
        self.intakes: list[float] = []
        self.sent = 0

    def prepare(self) -> None:
        self.officer = {"Authorization": f"Bearer {token(self.port, 'officer')}"}
        supervisor = token(self.port, "supervisor")
        self.supervisor = {"Authorization": f"Bearer {supervisor}", "Content-Type": "application/json"}
        self.site_id, self.window_id = site_and_window(self.port, supervisor)
        status, body = self._send("GET", "/api/v1/work-orders?limit=50", self.officer)
        orders = json.loads(body)["data"]
        assert status == 200 and len(orders) == 50, (status, body[:300])

    def confidential_in_list(self) -> int:
        status, body = self._send("GET", "/api/v1/work-orders?limit=50", self.officer)
        assert status == 200, body[:300]
        return sum(1 for o in json.loads(body)["data"] if o["confidential"] or o["integrity"])

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            conn = getattr(self, "_conn", None) or http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self._conn = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._conn = None  # the server closed the idle connection: open another
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def read(self) -> None:
        status, body = self._send("GET", "/api/v1/work-orders?limit=50", self.officer)
        assert status == 200, body[:300]

    def intake(self) -> None:
        self.sent += 1
        body = json.dumps({"channel": "hotline", "type": "complaint",
                           "content": f"压测工单 {self.sent}:窗口办事等候时间过长", "caller_name": "压测",
                           "phone": f"138{self.sent:08d}", "site_id": self.site_id,
                           "window_id": self.window_id, "confidential": self.sent % 5 == 0}).encode()
        status, answer = self._send("POST", "/api/v1/work-orders", {**self.supervisor,
                                                                     "Idempotency-Key": f"cpu-{time.time_ns()}"}, body)
        assert status == 201, answer[:300]

    def measure(self, what: str, requests: int) -> float:
        """CPU ms the server spent per request over `requests` requests of one kind."""
        action = self.read if what == "read" else self.intake
        action()  # a fresh connection first: the server closes an idle one after 5 s (uvicorn's keep-alive)
        before = tree_cpu_seconds(self.proc.pid)
        for _ in range(requests):
            action()
        return float(tree_cpu_seconds(self.proc.pid) - before) * 1000 / requests

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=100, help="requests of each kind per round")
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        targets = []
        for name, tree in (("old", args.old.resolve()), ("new", ROOT)):
            (Path(tmp) / name).mkdir()
            targets.append(Target(name, tree, Path(tmp) / name))
        try:
            for t in targets:
                wait_ready(t.proc, t.var, t.port, 900)  # both seed their demo at once
                t.prepare()
                for _ in range(args.warmup):
                    t.read()
                    t.intake()
            for n in range(args.rounds):
                for t in (targets if n % 2 == 0 else targets[::-1]):
                    t.reads.append(t.measure("read", args.requests))
                    t.intakes.append(t.measure("intake", args.requests))
                loads.append(os.getloadavg()[0])
                print(f"round {n + 1}: " + "; ".join(
                    f"{t.name} read {t.reads[-1]:.2f} / intake {t.intakes[-1]:.2f} ms" for t in targets), flush=True)
        finally:
            shown = [t.confidential_in_list() for t in targets]
            for t in targets:
                t.stop()
    old, new = targets
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {min(loads):.1f}–{max(loads):.1f} during the run, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{args.rounds} rounds × {args.requests} requests of each kind per server; the officer's list of 50 holds "
          f"{shown[1]} confidential orders at the end (old: {shown[0]}): every read writes an audit entry")
    for what, pick in (("read  GET /api/v1/work-orders?limit=50 (officer, audited)", "reads"),
                       ("intake POST /api/v1/work-orders", "intakes")):
        before, after = statistics.median(getattr(old, pick)), statistics.median(getattr(new, pick))
        print(f"{what}: server CPU per request, median of rounds: old {before:.2f} ms, new {after:.2f} ms "
              f"({(after - before) / before * 100:+.0f} %)")


if __name__ == "__main__":
    main()
