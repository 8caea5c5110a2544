"""What the officer's order list costs per page (issue 10 §1: four readers beside intake on two cores).

Counted, not timed: how often a page finds the settings (each scans the environment) and decrypts a phone.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import complaints
from complaints import visibility, workorders
from supervision import crypto
from tests.complaints.conftest import MONDAY


def test_a_page_finds_its_settings_once_and_decrypts_each_number_once(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        for i in range(6):
            complaints.create_work_order(s, world.p["supervisor"], {
                "channel": "hotline", "type": "complaint", "content": f"窗口办事等候过长 {i}", "caller_name": "王先生",
                "phone": f"1391234{i:04d}", "window_id": world.window}, now=MONDAY)
        s.commit()
    calls = {"settings": 0, "decrypt": 0}
    real_settings, real_decrypt = workorders.get_complaints_settings, crypto.decrypt

    def settings() -> Any:
        calls["settings"] += 1
        return real_settings()

    def decrypt(token: str) -> str:
        calls["decrypt"] += 1
        return real_decrypt(token)

    monkeypatch.setattr(workorders, "get_complaints_settings", settings)
    monkeypatch.setattr(crypto, "decrypt", decrypt)
    visibility._masked.cache_clear()  # as after a restart (intake showed the numbers it took)
    with Session(engine) as s:
        rows, count = complaints.list_orders(s, world.p["supervisor"], {}, limit=50)
        assert count == 6 and sorted(r.caller_phone_masked for r in rows) == [
            f"139****{i:04d}" for i in range(6)]
        assert calls == {"settings": 1, "decrypt": 6}
        again, _ = complaints.list_orders(s, world.p["supervisor"], {}, limit=50)
        assert [r.caller_phone_masked for r in again] == [r.caller_phone_masked for r in rows]
        assert calls == {"settings": 2, "decrypt": 6}  # the numbers were masked already
