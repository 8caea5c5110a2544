"""Schemathesis over every operation of /openapi.json, against a live `serve --demo`: no 5xx, documented shapes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "schemathesis" / "run.py"

pytestmark = pytest.mark.slow


def test_no_operation_answers_a_server_error(tmp_path: Path) -> None:
    """A short, seeded run of bench/schemathesis/run.py (the bench runs more examples per operation)."""
    pytest.importorskip("schemathesis")
    database = "postgres" if os.environ.get("SUPERVISION_TEST_DATABASE") == "postgres" else "sqlite"
    results = tmp_path / "RESULTS.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISION_")}
    if "SUPERVISION_TEST_POSTGRES_URL" in os.environ:
        env["SUPERVISION_TEST_POSTGRES_URL"] = os.environ["SUPERVISION_TEST_POSTGRES_URL"]
    run = subprocess.run(
        [sys.executable, str(BENCH), "--database", database, "--roles", "admin", "--max-examples", "3",
         "--phases", "examples,coverage,fuzzing", "--max-time", "900", "--results", str(results)],
        env=env, capture_output=True, text=True, timeout=1200, cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-8000:]
    table = results.read_text()
    row = next(line for line in table.splitlines() if line.startswith("| admin |"))
    operations, cases, failures = (int(cell) for cell in row.split("|")[2:5])
    assert operations >= 80 and cases >= operations and failures == 0, table
