"""Fuzz the JSON API with schemathesis against a live `supervision serve --demo`; count distinct 5xx failures.

    .venv/bin/python bench/schemathesis/run.py                       # SQLite, as admin
    .venv/bin/python bench/schemathesis/run.py --database postgres   # a fresh PostgreSQL database
    .venv/bin/python bench/schemathesis/run.py --roles admin,officer,supervisor
    .venv/bin/python bench/schemathesis/run.py --max-examples 3 --results /tmp/r.md
                                                                     # what tests/web/test_schemathesis.py runs

Writes RESULTS.md (operations, test cases, distinct failures per role) and exits 1 when any failure was found.
Bounded: `--max-examples` per operation and phase, a fixed seed, and a time limit per role.
The run is slow on a loaded machine (~20 requests/s on 2 shared cores): the default roles are admin only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "demo-fuzz-2026"
PG_URL = os.environ.get("SUPERVISION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Checks that hold for every answer we give: no 5xx, and a documented answer has the documented shape.
CHECKS = "not_a_server_error_but_a_device,response_schema_conformance,content_type_conformance"


@dataclass
class RoleRun:
    role: str
    operations: int = 0
    test_cases: int = 0
    failures: int = 0
    by_operation: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    complete: bool = True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_database(url: str) -> tuple[str, Any]:
    """Create a fresh database beside `url`; return its URL and a function that drops it."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from supervision.db import make_engine

    name = f"sv_fuzz_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


class Server:
    """`supervision serve --demo` on a free loopback port, scheduler on, camera ingest off."""

    def __init__(self, workdir: Path, database_url: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        env = {**os.environ, "SUPERVISION_VAR_DIR": str(workdir / "var"), "SUPERVISION_DEMO_PASSWORD": PASSWORD,
               "SUPERVISION_INGEST_ENABLED": "false", "SUPERVISION_DATABASE_URL": database_url,
               "SUPERVISION_PASSWORD_HASH_FAST": "false"}
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "web", "serve", "--demo", "--port", str(self.port),
                                      "--no-ingest"], env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log_path.read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("server did not answer /healthz within 180 s")

    def token(self, username: str) -> tuple[str, int]:
        body = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
        with urllib.request.urlopen(self.base + "/api/v1/auth/token", data=body, timeout=30) as response:
            token = str(json.load(response)["access_token"])
        request = urllib.request.Request(self.base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return token, int(json.load(response)["id"])

    def unhandled_errors(self) -> list[str]:
        """Each unhandled error in the server's log: the request line and the exception's last line."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = []
        for i, line in enumerate(lines):
            if "unhandled error on " in line:
                tail = next((x for x in lines[i + 1:i + 400] if x and not x[0].isspace() and ":" in x
                             and not x.startswith(("Traceback", "The above", "During handling"))), "")
                found.append(f"{line.split('unhandled error on ')[1]} → {tail[:200]}")
        return found

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self._log.close()


def fuzz(server: Server, role: str, args: argparse.Namespace, workdir: Path) -> RoleRun:
    """Run schemathesis's CLI once as `role`; read its JSON report."""
    _, self_id = server.token(role)
    report = workdir / f"report-{role}.json"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HERE), "SV_FUZZ_BASE_URL": server.base,
           "SV_FUZZ_USERNAME": role, "SV_FUZZ_PASSWORD": PASSWORD, "SV_FUZZ_SELF_ID": str(self_id)}
    command = [str(BIN / "schemathesis"), "run", server.base + "/openapi.json", "--checks", CHECKS,
               "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--workers", "1",
               "--phases", args.phases, "--suppress-health-check", "all", "--request-timeout", "60",
               "--report", "json", "--report-json-path", str(report),
               "--no-color"]
    started = time.monotonic()
    # Not schemathesis's --max-time: that repeats fuzzing until the time is spent; this only stops a hung run.
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.max_time, cwd=workdir)
    (workdir / f"schemathesis-{role}.txt").write_text(out.stdout + out.stderr)
    data = json.loads(report.read_text())
    run = RoleRun(role, seconds=time.monotonic() - started, complete=bool(data.get("complete")))
    run.operations = int(data["operations"]["tested"])
    run.test_cases = int(data["test_cases"]["generated"])
    run.failures = int(data["test_cases"]["unique_failures"]) + sum(int(e.get("count", 1)) for e in data["errors"])
    for failure in data["failures"]:
        for operation in failure["operations"]:
            run.by_operation.setdefault(operation, []).append(f"{failure['code']} {failure['title']}")
    for error in data["errors"]:
        run.by_operation.setdefault("(run)", []).append(f"error: {error['title']}")
    return run


def write_results(path: Path, args: argparse.Namespace, database: str, runs: list[RoleRun],
                  unhandled: list[str]) -> None:
    lines = [
        "# Schemathesis against a live `supervision serve --demo`",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · database {database} · schemathesis "
        f"{_version()} · seed {args.seed} · up to {args.max_examples} examples per operation and phase "
        f"({args.phases}) · checks {CHECKS}",
        "",
        f"`{Path(sys.executable).name} bench/schemathesis/run.py {' '.join(sys.argv[1:])}`",
        "",
        "| role | operations | test cases | distinct failures | time |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.role} | {r.operations} | {r.test_cases} | {r.failures} | {r.seconds:.0f} s"
              f"{'' if r.complete else ' (stopped)'} |" for r in runs]
    lines += ["", f"Unhandled errors in the server's log (500 `internal`): {len(unhandled)}.", ""]
    for r in runs:
        for operation, found in sorted(r.by_operation.items()):
            lines.append(f"- {r.role}: `{operation}`: {', '.join(found)}")
    path.write_text("\n".join(lines).rstrip() + "\n")


def _version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--roles", default="admin", help="comma-separated demo accounts, e.g. admin,officer,supervisor")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--max-time", type=int, default=3600, help="seconds per role before the run is stopped")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sv-fuzz-") as tmp:
        workdir = Path(tmp)
        drop = None
        database_url = ""
        if args.database == "postgres":
            database_url, drop = _postgres_database(PG_URL)
        server = Server(workdir, database_url)
        try:
            runs = [fuzz(server, role, args, workdir) for role in args.roles.split(",")]
            unhandled = server.unhandled_errors()
        finally:
            server.stop()
            if drop is not None:
                drop()
        write_results(args.results, args, args.database, runs, unhandled)
        for r in runs:
            print(f"{r.role}: {r.operations} operations, {r.test_cases} test cases, {r.failures} distinct failures")
        if any(r.failures for r in runs) or unhandled:
            for role in args.roles.split(","):
                print((workdir / f"schemathesis-{role}.txt").read_text()[-6000:], file=sys.stderr)
            print("\n".join(sorted(set(unhandled))), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
