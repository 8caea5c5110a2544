"""A real server (`supervision serve --demo`) on a free loopback port, and headless Debian Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SUPERVISION_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-e2e-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the service as a newcomer would, with the demo, on SQLite; yield its base URL."""
    var = tmp_path_factory.mktemp("live") / "var"
    port = _free_port()
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": DEMO_PASSWORD,
           "SUPERVISION_SCHEDULER_ENABLED": "true", "SUPERVISION_INGEST_ENABLED": "false",
           "SUPERVISION_PASSWORD_HASH_FAST": "false", "SUPERVISION_DATABASE_URL": ""}
    env.pop("SUPERVISION_SECRET_KEY", None)
    log = open(var.parent / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port), "--no-ingest"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("server exited: " + (var.parent / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("server did not answer /healthz within 120 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()
