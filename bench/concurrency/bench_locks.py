"""No write waits on a slow thing: intake beside audited reads, throttled logins and a silent camera.

    .venv/bin/python bench/concurrency/bench_locks.py                     # SQLite default, 60 s
    .venv/bin/python bench/concurrency/bench_locks.py --seconds 30 --intake-clients 4
    .venv/bin/python bench/concurrency/bench_locks.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_locks

A real `supervision serve --demo` (ingest and scheduler on, as a newcomer runs it) on a temporary var dir.
For `--seconds`, all at once: intake clients posting work orders (closed loop, as bench/complaints/
bench_http.py), 4 officer clients reading the order list and a confidential order (each read writes an
audit entry), 2 clients sending wrong passwords from one address (throttled up to 8 s), 1 client registering
a camera against a silent device (a TCP socket on 127.0.0.1 that accepts and never answers). One camera reads
a stream of tools/rtsp_server.py; a third of the way in that server is killed, and the time until the
camera's offline alert is measured. Bounded: every client stops at the deadline, every request has a timeout.

Reported: server errors (500, 503, 504 and dropped connections; a 502 is the registration's expected
"device did not answer"), intake latency percentiles, the offline alert's delay.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "complaints"))
from bench_http import PASSWORD, _free_port, pct, token  # noqa: E402

RTSP_SERVER = ROOT / "tools" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass
class Tally:
    """What one kind of client saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)

    def server_errors(self, *, allowed: frozenset[int] = frozenset()) -> int:
        # 0 stands for a dropped connection or a timeout.
        return sum(n for s, n in self.statuses.items() if (s == 0 or s >= 500) and s not in allowed)


def _request(port: int, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str],
             timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


def _json(port: int, method: str, path: str, bearer: str, payload: object | None = None) -> tuple[int, object]:
    body = json.dumps(payload).encode() if payload is not None else None
    status, raw = _request(port, method, path, body=body,
                           headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"})
    return status, (json.loads(raw) if raw else None)


class SilentDevice:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers (a camera that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def start_server(var: Path, port: int, database_url: str, workers: int = 1) -> subprocess.Popen[bytes]:
    """`serve --demo` as a newcomer runs it: ingest (the demo cameras) and scheduler on."""
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": PASSWORD,
           "SUPERVISION_SCHEDULER_ENABLED": "true", "SUPERVISION_INGEST_ENABLED": "true",
           "SUPERVISION_DATABASE_URL": database_url, "SUPERVISION_LOG_LEVEL": "WARNING"}
    env.pop("SUPERVISION_SECRET_KEY", None)
    log = open(var / "server.log", "wb")  # noqa: SIM115 - the server owns it until it exits
    cmd = [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((var / "server.log").read_text()[-3000:])
        status, _ = _request(port, "GET", "/healthz", headers={}, timeout=2)
        if status == 200:
            return proc
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("server did not start within 300 s")


def start_rtsp(var: Path) -> tuple[subprocess.Popen[str], int]:
    """tools/rtsp_server.py with one mount, `drop`, looping a rendered hall clip."""
    sys.path.insert(0, str(ROOT))
    from cameras.demo import render_hall_clip

    clip = render_hall_clip(var / "clip.mp4", seed=7, seconds=20)
    port = _free_port()
    proc = subprocess.Popen([SYSTEM_PYTHON, str(RTSP_SERVER), "--port", str(port), "--clip", f"main={clip}",
                             "--mount", "drop=main"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise RuntimeError(f"rtsp_server did not start: {line!r}")
    return proc, port


def wait_settled(port: int, admin: str, limit: float = 900) -> float:
    """Seconds until every camera of the demo is online, three polls in a row.

    The first start of a new demo renders its hall clips (once, cached under var/media/demo) with a core to
    itself before its cameras come online; the load starts on the service as it runs from then on.
    """
    started = time.monotonic()
    settled = 0
    while time.monotonic() < started + limit:
        status, found = _json(port, "GET", "/api/v1/cameras", admin)
        rows = found.get("data", []) if status == 200 and isinstance(found, dict) else []
        states = [str(r.get("health", {}).get("status")) for r in rows]
        settled = settled + 1 if len(states) > 1 and all(s == "online" for s in states) else 0
        if settled >= 3:
            return time.monotonic() - started
        time.sleep(2)
    raise RuntimeError(f"the demo's cameras were not all online within {limit:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--intake-clients", type=int, default=4)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=1, help="web worker processes (serve --workers)")
    parser.add_argument("--readers", type=int, default=4, help="officer clients of audited reads")
    parser.add_argument("--wrong-logins", type=int, default=2, help="clients sending wrong passwords")
    parser.add_argument("--no-registration", action="store_true",
                        help="leave out the registration against a silent device")
    args = parser.parse_args()
    intake, reads, logins, registrations = Tally(), Tally(), Tally(), Tally()
    alert: dict[str, float | str] = {}
    settle = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-locks-") as tmp:
        var = Path(tmp)
        rtsp, rtsp_port = start_rtsp(var)
        silent = SilentDevice()
        port = _free_port()
        server = start_server(var, port, args.database_url, args.workers)
        try:
            supervisor, officer, admin = (token(port, u) for u in ("supervisor", "officer", "admin"))
            status, windows = _json(port, "GET", "/api/v1/windows?limit=5", supervisor)
            assert status == 200 and isinstance(windows, dict), windows
            site_id, window_id = int(windows["data"][0]["site_id"]), int(windows["data"][0]["id"])
            order = {"channel": "hotline", "type": "complaint", "content": "压测:保密举报", "caller_name": "举报人",
                     "phone": "13800000000", "site_id": site_id, "window_id": window_id, "confidential": True}
            status, made = _json(port, "POST", "/api/v1/work-orders", supervisor, order)
            assert status == 201 and isinstance(made, dict), made
            secret = str(made.get("number") or made.get("order", {}).get("number"))
            camera = {"site_id": site_id, "name": "压测-断流摄像机", "host": "127.0.0.1", "port": rtsp_port,
                      "skip_probe": True, "stream_uri_override": f"rtsp://127.0.0.1:{rtsp_port}/drop"}
            status, cam = _json(port, "POST", "/api/v1/cameras", admin, camera)
            assert status == 201 and isinstance(cam, dict), cam
            camera_id = int(cam["id"])
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                status, health = _json(port, "GET", f"/api/v1/cameras/{camera_id}/status", admin)
                if status == 200 and isinstance(health, dict) and health.get("status") == "online":
                    break
                time.sleep(0.5)
            else:
                raise RuntimeError("the bench camera did not come online within 120 s")
            settle = wait_settled(port, admin)
            print(f"load starts (server pid {server.pid})", flush=True)

            stop_at = time.monotonic() + args.seconds
            counter = iter(range(10**9))
            count_lock = threading.Lock()

            def intake_client() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                headers = {"Authorization": f"Bearer {supervisor}", "Content-Type": "application/json"}
                while time.monotonic() < stop_at:
                    with count_lock:
                        n = next(counter)
                    body = json.dumps({"channel": "hotline", "type": "help", "content": f"压测工单 {n}",
                                       "caller_name": "压测", "phone": f"139{n:08d}", "site_id": site_id,
                                       "window_id": window_id})
                    started = time.perf_counter()
                    try:
                        conn.request("POST", "/api/v1/work-orders", body=body,
                                     headers={**headers, "Idempotency-Key": f"locks-{time.time_ns()}-{n}"})
                        response = conn.getresponse()
                        response.read()
                        status = response.status
                    except OSError:
                        status = 0
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    intake.add(status, time.perf_counter() - started)
                conn.close()

            def reader(n: int) -> None:
                i = n
                while time.monotonic() < stop_at:
                    path = "/api/v1/work-orders?limit=50" if i % 2 else f"/api/v1/work-orders/{secret}"
                    started = time.perf_counter()
                    status, _ = _request(port, "GET", path, headers={"Authorization": f"Bearer {officer}"})
                    reads.add(status, time.perf_counter() - started)
                    i += 1

            def wrong_logins(n: int) -> None:
                i = 0
                while time.monotonic() < stop_at:
                    name = ("officer", "supervisor", "nobody", f"guess{n}")[i % 4]
                    body = urllib.parse.urlencode({"username": name, "password": "wrong-password"}).encode()
                    started = time.perf_counter()
                    status, _ = _request(port, "POST", "/api/v1/auth/token", body=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
                    logins.add(status, time.perf_counter() - started)
                    i += 1

            def registrar() -> None:
                i = 0
                while time.monotonic() < stop_at:
                    body = {"site_id": site_id, "name": f"压测-无应答设备-{i}", "host": "127.0.0.1",
                            "port": silent.port, "username": "admin", "password": "x"}
                    started = time.perf_counter()
                    status, _ = _json(port, "POST", "/api/v1/cameras", admin, body)
                    registrations.add(status, time.perf_counter() - started)
                    i += 1

            def drop_camera() -> None:
                # A third of the way in, the camera's stream dies; wait for its offline alert.
                while time.monotonic() < stop_at - args.seconds * 2 / 3:
                    time.sleep(0.2)
                rtsp.kill()
                killed = time.time()
                alert["killed_at"] = datetime.fromtimestamp(killed).astimezone().isoformat()
                while time.monotonic() < stop_at + 60:
                    _status, found = _json(port, "GET", "/api/v1/camera-alerts?open_only=true", admin)
                    rows = found.get("data", []) if isinstance(found, dict) else []
                    mine = [r for r in rows if r.get("camera_id") == camera_id and r.get("kind") == "offline"]
                    if mine:
                        alert["seen_after"] = time.time() - killed
                        alert["started_after"] = datetime.fromisoformat(mine[0]["started_at"]).timestamp() - killed
                        return
                    time.sleep(0.25)

            threads = ([threading.Thread(target=intake_client) for _ in range(args.intake_clients)]
                       + [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
                       + [threading.Thread(target=wrong_logins, args=(n,)) for n in range(args.wrong_logins)]
                       + ([] if args.no_registration else [threading.Thread(target=registrar)])
                       + [threading.Thread(target=drop_camera)])
            for t in threads:
                t.start()
            for t in threads:
                t.join(args.seconds + 180)
            log = (var / "server.log").read_text(errors="replace")
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            silent.close()
            if rtsp.poll() is None:
                rtsp.kill()
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"the demo's cameras all online {settle:.0f} s after the bench camera (first start: "
          "clips rendered)")
    print(f"{backend}, {args.workers} web process(es), {args.seconds:.0f} s, {args.intake_clients} intake clients, "
          f"{args.readers} audited readers, "
          f"{args.wrong_logins} wrong-login clients, {0 if args.no_registration else 1} registration against a "
          "silent device, 1 dropped camera")
    errors = (intake.server_errors() + reads.server_errors() + logins.server_errors()
              + registrations.server_errors(allowed=frozenset({502})))
    print(f"server errors: {errors} (intake {intake.server_errors()}, reads {reads.server_errors()}, "
          f"logins {logins.server_errors()}, registrations {registrations.server_errors(allowed=frozenset({502}))})")
    lat = intake.latencies
    if lat:
        print(f"intake: {len(lat)} orders, {dict(intake.statuses)}, p50 {pct(lat, .5):.1f} ms, p95 {pct(lat, .95):.1f} "
              f"ms, p99 {pct(lat, .99):.1f} ms, max {max(lat) * 1000:.0f} ms")
    if reads.latencies:
        print(f"audited reads: {len(reads.latencies)}, {dict(reads.statuses)}, p50 {pct(reads.latencies, .5):.1f} ms, "
              f"p99 {pct(reads.latencies, .99):.1f} ms")
    print(f"wrong logins: {len(logins.latencies)}, {dict(logins.statuses)}")
    if registrations.latencies:
        print(f"registrations against a silent device: {len(registrations.latencies)}, "
              f"{dict(registrations.statuses)}, longest {max(registrations.latencies):.1f} s")
    if "started_after" in alert:
        print(f"offline alert of the dropped camera: started {float(alert['started_after']):.1f} s after the kill, "
              f"seen by a client after {float(alert['seen_after']):.1f} s")
    else:
        print("offline alert of the dropped camera: NOT SEEN within the run + 60 s")
    locked = log.count("database is locked")
    print(f"server log: {log.count('unhandled error')} unhandled errors, {locked} 'database is locked'")
    first = log.find("unhandled error")
    if first >= 0:
        print("the first unhandled error:\n" + log[first:first + 4000])


if __name__ == "__main__":
    main()
