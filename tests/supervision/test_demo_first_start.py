"""The first `supervision demo`: its accounts share one password hash (argon2 is the slowest step of seeding)."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision import accounts
from supervision.demo import ACCOUNTS, seed_demo
from tests.conftest import PASSWORD


def test_the_demo_accounts_are_hashed_once_and_all_log_in(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes: list[str] = []
    original = PasswordHasher.hash

    def counting(self: PasswordHasher, password: str | bytes, **kwargs: Any) -> str:
        hashes.append(str(password))
        return original(self, password, **kwargs)

    monkeypatch.setattr(PasswordHasher, "hash", counting)
    with Session(engine, expire_on_commit=False) as session:
        summary = seed_demo(session, password=PASSWORD)
        session.commit()
    assert len(summary.accounts) == len(ACCOUNTS) > 5
    assert hashes == [PASSWORD]  # one argon2 run for every demo account, not one each
    with Session(engine) as session:
        for spec in ACCOUNTS:
            assert accounts.authenticate(session, spec.username, PASSWORD).username == spec.username
        session.commit()
