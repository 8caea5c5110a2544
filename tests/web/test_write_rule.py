"""No write waits on a slow thing: throttled logins and audited reads beside intake, on a real HTTP server.

On SQLite the write lock is global: a login slow-down slept inside its write transaction, or a GET that
upgraded its read to a write, made every other writer wait, then fail ("database is locked", a 500).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

import complaints
from supervision.access import SYSTEM
from supervision.db import session_scope
from supervision.models import AuditEntry, LoginAttempt
from supervision.settings import get_settings
from tests.conftest import PASSWORD
from web.app import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app on a real HTTP server (uvicorn, a thread of this process) over the test's database."""
    # A slow-down long enough to overlap the other clients' requests (the suite's default is 0.05 s).
    monkeypatch.setenv("SUPERVISION_LOGIN_THROTTLE_MAX_DELAY_SECONDS", "4")
    get_settings.cache_clear()
    app = create_app(get_settings(), engine, migrate=False, services=[])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start within 60 s"
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _bearer(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=60)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _confidential_orders(engine: Engine, org: SimpleNamespace, n: int) -> list[str]:
    numbers = []
    with session_scope(engine, write=True) as s:
        for i in range(n):
            order = complaints.create_work_order(s, SYSTEM, {
                "channel": "hotline", "type": "complaint", "site_id": org.city, "window_id": org.window,
                "content": f"保密举报 {i}", "caller_name": "举报人", "phone": "13812345678", "integrity": True})
            numbers.append(order.number)
    return numbers


ORDER = {"channel": "walk_in", "type": "help", "anonymous": True, "content": "群众求助", "site_id": 0}


def test_a_throttled_login_holds_no_write_lock_while_it_waits(live: str, engine: Engine,
                                                             org_data: SimpleNamespace) -> None:
    # Enough failures for this name that its next attempt is slowed by the longest delay, 4 s.
    with session_scope(engine, write=True) as s:
        s.add_all([LoginAttempt(username="manager", ip="127.0.0.1", success=False) for _ in range(8)])
    intake = _bearer(live, "supervisor")
    sleeping = threading.Event()
    real_sleep = asyncio.sleep

    async def noted_sleep(seconds: float, result: object = None) -> object:
        if seconds >= 1:
            sleeping.set()
        return await real_sleep(seconds, result)

    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as pool:
        patch.setattr(asyncio, "sleep", noted_sleep)
        login = pool.submit(httpx.post, f"{live}/api/v1/auth/token",
                            data={"username": "manager", "password": "wrong"}, timeout=60)
        assert sleeping.wait(60), "the login was not slowed down"
        started = time.monotonic()
        written = httpx.post(f"{live}/api/v1/work-orders", json={**ORDER, "site_id": org_data.city},
                             headers=intake, timeout=60)
        took = time.monotonic() - started
        # The order went in while the login still waited: it did not queue behind the login's delay.
        still_waiting = not login.done()
        assert login.result().status_code in (401, 429)
    assert written.status_code == 201, written.text
    assert still_waiting and took < 2.5, f"intake took {took:.2f} s beside a throttled login"


def test_audited_reads_beside_intake_never_fail_and_are_all_recorded(live: str, engine: Engine,
                                                                     org_data: SimpleNamespace) -> None:
    secret = _confidential_orders(engine, org_data, 3)
    officer, intake = _bearer(live, "officer"), _bearer(live, "supervisor")
    reads_per_client, writes = 15, 30

    def read(n: int) -> list[int]:
        with httpx.Client(base_url=live, headers=officer, timeout=60) as client:
            codes = []
            for i in range(reads_per_client):
                path = "/api/v1/work-orders?limit=50" if i % 2 else f"/api/v1/work-orders/{secret[(n + i) % 3]}"
                codes.append(client.get(path).status_code)
            return codes

    def write() -> list[int]:
        with httpx.Client(base_url=live, headers=intake, timeout=60) as client:
            return [client.post("/api/v1/work-orders", json={**ORDER, "site_id": org_data.city,
                                                              "content": f"求助 {i}"}).status_code
                    for i in range(writes)]

    with ThreadPoolExecutor(5) as pool:
        readers = [pool.submit(read, n) for n in range(4)]
        writer = pool.submit(write)
        read_codes = [code for r in readers for code in r.result()]
        write_codes = writer.result()
    assert read_codes == [200] * (4 * reads_per_client)
    assert write_codes == [201] * writes
    # Every read that showed a confidential order left its entry, written after the read ended.
    with Session(engine) as s:
        lists = s.exec(select(func.count()).select_from(AuditEntry).where(
            col(AuditEntry.action) == "view.work_order_list")).one()
        views = s.exec(select(func.count()).select_from(AuditEntry).where(
            col(AuditEntry.action) == "view.work_order")).one()
    assert (lists, views) == (4 * (reads_per_client // 2), 4 * (reads_per_client - reads_per_client // 2))
