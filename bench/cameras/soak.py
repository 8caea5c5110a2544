"""Soak test: `serve --demo` with its virtual cameras and the ingest for a while; does anything grow?

Starts a real `python -m web serve --demo` (SQLite, a temporary SUPERVISION_VAR_DIR, a free loopback port),
lets it run for `--minutes` and every `--interval` seconds records, for the server process and all its
descendants (the demo's RTSP server included): RSS (VmRSS), threads (/proc/<pid>/task), open fds
(/proc/<pid>/fd), CPU seconds; through the API as the demo admin: cameras ONLINE, their analysed frame rate,
and one snapshot per camera (its age from X-Frame-At, its sequence number). Writes a CSV and prints a summary:
RSS at 10 min vs at the end, the slope (MB/hour, least squares after the warm-up), threads and fds at the
first sample after the warm-up vs at the end, the fewest cameras online.

Bounded: it stops by itself after --minutes and terminates the server it started, by its PID.
Run it niced, the machine is shared: `nice -n 19 .venv/bin/python bench/cameras/soak.py --minutes 90`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSWORD = "soak-2026"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(var: Path, port: int, cameras: int, transport: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": PASSWORD,
           "SUPERVISION_DATABASE_URL": "", "SUPERVISION_CAMERA_DEMO_CAMERAS": str(cameras),
           "SUPERVISION_CAMERA_DEMO_TRANSPORT": transport, "SUPERVISION_LOG_LEVEL": "WARNING"}
    env.pop("SUPERVISION_SECRET_KEY", None)
    cmd = [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port)]
    var.mkdir(parents=True, exist_ok=True)
    log = open(var / "server.log", "wb")  # noqa: SIM115 - the server owns it until it exits
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((var / "server.log").read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError("server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the server we started, by its PID
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- /proc ---------------------------------------------------------------------------------------------

def descendants(root: int) -> list[int]:
    """root and every process below it (by the parent PID in /proc/<pid>/stat)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


@dataclass
class ProcFigures:
    rss_kb: int = 0
    threads: int = 0
    fds: int = 0
    cpu_s: float = 0.0


def proc_figures(pid: int) -> ProcFigures:
    f = ProcFigures()
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                f.rss_kb = int(line.split()[1])
        f.threads = len(os.listdir(f"/proc/{pid}/task"))
        f.fds = len(os.listdir(f"/proc/{pid}/fd"))
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        f.cpu_s = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    except (OSError, ValueError, IndexError):
        pass  # gone meanwhile
    return f


# --- API -----------------------------------------------------------------------------------------------

@dataclass
class Api:
    base: str
    bearer: str = ""

    def login(self) -> None:
        body = urllib.parse.urlencode({"username": "admin", "password": PASSWORD}).encode()
        with urllib.request.urlopen(f"{self.base}/api/v1/auth/token", data=body, timeout=30) as response:
            self.bearer = str(json.loads(response.read())["access_token"])

    def get(self, path: str) -> tuple[bytes, dict[str, str]]:
        for attempt in (1, 2):
            request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.bearer}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.read(), {k.lower(): v for k, v in response.headers.items()}
            except urllib.error.HTTPError as e:
                if e.code == 401 and attempt == 1:
                    self.login()
                    continue
                raise
        raise AssertionError("unreachable")


@dataclass
class Sample:
    t_s: float
    rss_main_mb: float
    rss_tree_mb: float
    threads_main: int
    threads_tree: int
    fds_main: int
    fds_tree: int
    procs: int
    cpu_tree_s: float
    cameras: int
    online: int
    analysed_fps_min: float
    analysed_fps_mean: float
    snapshots_ok: int
    snapshot_age_max_s: float
    reconnects: int
    load1: float
    errors: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def sample(proc: subprocess.Popen[bytes], api: Api, started: float, last_seq: dict[int, int]) -> Sample:
    pids = descendants(proc.pid)
    figs = {pid: proc_figures(pid) for pid in pids}
    main = figs[proc.pid]
    errors: list[str] = []
    cams: list[dict[str, Any]] = []
    try:
        body, _ = api.get("/api/v1/cameras")
        cams = json.loads(body)["data"]
    except (OSError, ValueError, KeyError) as e:
        errors.append(f"list: {e}")
    online = [c for c in cams if c["health"]["status"] == "online"]
    fps = [float(c["health"]["analysed_fps"]) for c in online]
    ok, age_max = 0, 0.0
    for c in cams:
        cid = int(c["id"])
        try:
            jpeg, headers = api.get(f"/api/v1/cameras/{cid}/snapshot.jpg")
            seq = int(headers.get("x-frame-seq", "0"))
            at = headers.get("x-frame-at")
            age = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(at)).total_seconds() if at else 1e9
            fresh = jpeg[:2] == b"\xff\xd8" and age < 10 and seq != last_seq.get(cid)
            last_seq[cid] = seq
            ok += fresh
            age_max = max(age_max, age)
        except (OSError, ValueError) as e:
            errors.append(f"snapshot {cid}: {e}")
            age_max = 1e9
    return Sample(
        t_s=round(time.monotonic() - started, 1),
        rss_main_mb=round(main.rss_kb / 1024, 1),
        rss_tree_mb=round(sum(f.rss_kb for f in figs.values()) / 1024, 1),
        threads_main=main.threads, threads_tree=sum(f.threads for f in figs.values()),
        fds_main=main.fds, fds_tree=sum(f.fds for f in figs.values()), procs=len(pids),
        cpu_tree_s=round(sum(f.cpu_s for f in figs.values()), 1),
        cameras=len(cams), online=len(online),
        analysed_fps_min=round(min(fps), 2) if fps else 0.0,
        analysed_fps_mean=round(sum(fps) / len(fps), 2) if fps else 0.0,
        snapshots_ok=ok, snapshot_age_max_s=round(age_max, 1),
        reconnects=sum(int(c["health"]["reconnects"]) for c in cams),
        load1=float(Path("/proc/loadavg").read_text().split()[0]),
        errors="; ".join(errors)[:300],
    )


def slope_mb_per_hour(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return 0.0 if den == 0 else sum((t - mx) * (v - my) for t, v in points) / den * 3600


def summarise(rows: list[Sample], warmup_s: float) -> str:
    after = [r for r in rows if r.t_s >= warmup_s] or rows[-1:]
    first, last = after[0], rows[-1]
    loads = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        f"samples: {len(rows)} over {rows[-1].t_s / 60:.1f} min (warm-up {warmup_s / 60:.0f} min excluded from slopes)",
        f"RSS tree MB: at {first.t_s / 60:.1f} min {first.rss_tree_mb}, at the end {last.rss_tree_mb}; "
        f"slope {slope_mb_per_hour([(r.t_s, r.rss_tree_mb) for r in after]):+.1f} MB/h",
        f"RSS server MB: at {first.t_s / 60:.1f} min {first.rss_main_mb}, at the end {last.rss_main_mb}; "
        f"slope {slope_mb_per_hour([(r.t_s, r.rss_main_mb) for r in after]):+.1f} MB/h",
        f"threads server/tree: {first.threads_main}/{first.threads_tree} -> {last.threads_main}/{last.threads_tree}"
        f" (max {max(r.threads_tree for r in after)})",
        f"fds server/tree: {first.fds_main}/{first.fds_tree} -> {last.fds_main}/{last.fds_tree}"
        f" (max {max(r.fds_tree for r in after)})",
        f"processes: {first.procs} -> {last.procs}",
        f"cameras online: min {min(r.online for r in after)} of {max(r.cameras for r in rows)}; analysed fps min "
        f"{min(r.analysed_fps_min for r in after):.2f}, "
        f"mean {sum(r.analysed_fps_mean for r in after) / len(after):.2f}",
        f"fresh snapshots: min {min(r.snapshots_ok for r in after)} per sample; oldest "
        f"{max(r.snapshot_age_max_s for r in after):.1f} s",
        f"reconnects: {first.reconnects} -> {last.reconnects}",
        f"CPU of the tree: {(last.cpu_tree_s - first.cpu_tree_s) / max(last.t_s - first.t_s, 1) * 100:.0f}% of a core"
        f" (after the warm-up)",
        f"load1 over the samples: mean {sum(r.load1 for r in rows) / len(rows):.1f}, max {max(r.load1 for r in rows)};"
        f" load average now: {' '.join(loads)}; samples with errors: {sum(1 for r in rows if r.errors)}",
    ]
    return "\n".join(lines)


def read_csv(path: Path) -> list[Sample]:
    """The samples of an earlier run (`--summarise`)."""
    types = {"float": float, "int": int, "str": str}
    with open(path, newline="") as fh:
        return [Sample(**{k: types[str(Sample.__dataclass_fields__[k].type)](v) for k, v in row.items()})
                for row in csv.DictReader(fh)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--interval", type=float, default=45, help="seconds between samples (30-60)")
    parser.add_argument("--warmup-minutes", type=float, default=10)
    parser.add_argument("--cameras", type=int, default=6, help="SUPERVISION_CAMERA_DEMO_CAMERAS")
    parser.add_argument("--transport", choices=("auto", "rtsp", "http"), default="auto",
                        help="SUPERVISION_CAMERA_DEMO_TRANSPORT (auto: RTSP when GStreamer is installed)")
    parser.add_argument("--csv", type=Path, default=None, help="default: soak-<time>.csv in the temp directory root")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var directory")
    parser.add_argument("--summarise", type=Path, default=None, metavar="CSV",
                        help="only print the summary of an earlier run's CSV")
    args = parser.parse_args()
    if args.summarise is not None:
        print(summarise(read_csv(args.summarise), args.warmup_minutes * 60))
        return 0
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    out = args.csv or tmp.parent / f"soak-{stamp}.csv"
    port = free_port()
    print(f"soak: {args.minutes} min, sample every {args.interval} s, {args.cameras} cameras ({args.transport}), "
          f"var {tmp / 'var'}, port {port}, csv {out}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill <soak PID>` still stops the server and summarises
    started = time.monotonic()
    proc = start_server(tmp / "var", port, args.cameras, args.transport)
    print(f"server PID {proc.pid} up after {time.monotonic() - started:.1f} s", flush=True)
    api = Api(f"http://127.0.0.1:{port}")
    api.login()
    rows: list[Sample] = []
    last_seq: dict[int, int] = {}
    end = started + args.minutes * 60
    try:
        with open(out, "w", newline="") as fh:
            names = [n for n in Sample.__dataclass_fields__ if n != "extra"]
            writer = csv.writer(fh)
            writer.writerow(names)
            while True:
                if proc.poll() is not None:
                    print(f"server exited with {proc.returncode}", flush=True)
                    break
                row = sample(proc, api, started, last_seq)
                rows.append(row)
                writer.writerow([getattr(row, n) for n in names])
                fh.flush()
                print(f"{row.t_s / 60:6.1f} min rss {row.rss_main_mb}/{row.rss_tree_mb} MB threads "
                      f"{row.threads_main}/{row.threads_tree} fds {row.fds_main}/{row.fds_tree} online "
                      f"{row.online}/{row.cameras} fps {row.analysed_fps_min} fresh {row.snapshots_ok} "
                      f"load {row.load1} {row.errors}", flush=True)
                remaining = end - time.monotonic()
                if remaining <= 0:
                    break
                time.sleep(min(args.interval, remaining))
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        stop_server(proc)
    if rows:
        print(summarise(rows, args.warmup_minutes * 60), flush=True)
    print(f"csv: {out}", flush=True)
    log = tmp / "var" / "server.log"
    if log.exists():
        (out.parent / f"{out.stem}-server.log").write_bytes(log.read_bytes()[-500_000:])
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
