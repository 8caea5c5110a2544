"""The installation's keys: one key for all machines, refused when missing in production, rotated without loss."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select
from typer.testing import CliRunner

import complaints
from cameras.models import Camera
from supervision import audit, crypto, keys
from supervision.access import SYSTEM
from supervision.db import session_scope
from supervision.leave.models import LeaveKind, LeaveRequest
from supervision.models import AuditEntry
from supervision.settings import Settings, get_settings
from web.cli import app as cli_app
from web.composition import sealed_columns

TEST_KEY = os.environ["SUPERVISION_SECRET_KEY"]  # what the test database's audit chain was signed with
PHONE = "13912345678"
SUPERVISION = str(Path(sys.executable).with_name("supervision"))


def _use_key_file(monkeypatch: pytest.MonkeyPatch, path: Path, engine: Engine | None = None) -> None:
    monkeypatch.setenv("SUPERVISION_SECRET_KEY", "")
    monkeypatch.setenv("SUPERVISION_SECRET_KEY_FILE", str(path))
    if engine is not None:
        monkeypatch.setenv("SUPERVISION_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()


def _machine_env(tmp_path: Path, key_file: Path, name: str) -> dict[str, str]:
    env = {**os.environ, "SUPERVISION_SECRET_KEY": "", "SUPERVISION_SECRET_KEY_FILE": str(key_file),
           "SUPERVISION_VAR_DIR": str(tmp_path / name)}
    return env


def _on_machine(env: dict[str, str], code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_production_without_a_key_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="SUPERVISION_SECRET_KEY_FILE"):
        Settings(environment="production", secret_key="", password_hash_fast=False)
    Settings(environment="production", secret_key="", secret_key_file=tmp_path / "shared.key", password_hash_fast=False)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment="production", secret_key="short", password_hash_fast=False)
    env = {**os.environ, "SUPERVISION_ENVIRONMENT": "production", "SUPERVISION_SECRET_KEY": "",
           "SUPERVISION_PASSWORD_HASH_FAST": "false", "SUPERVISION_VAR_DIR": str(tmp_path / "var")}
    env.pop("SUPERVISION_SECRET_KEY_FILE", None)
    started = subprocess.run([SUPERVISION, "serve", "--port", "1"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 2, started.stdout + started.stderr
    assert "SUPERVISION_SECRET_KEY_FILE" in started.stderr and "Traceback" not in started.stderr
    assert not (tmp_path / "var" / "secret.key").exists()


def test_machines_sharing_a_key_file_read_each_others_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared" / "secret.key"
    env_a = _machine_env(tmp_path, shared, "machine-a")
    sealed_on_a = _on_machine(env_a, f"from supervision import crypto; print(crypto.encrypt({PHONE!r}))")
    assert shared.stat().st_mode & 0o777 == 0o600
    _use_key_file(monkeypatch, shared)
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(tmp_path / "machine-b"))
    get_settings.cache_clear()
    assert crypto.decrypt(sealed_on_a) == PHONE
    sealed_on_b = crypto.encrypt("camera-password")
    assert _on_machine(env_a, f"from supervision import crypto; print(crypto.decrypt({sealed_on_b!r}))") == \
        "camera-password"
    assert crypto.keyed_hash("phone:" + PHONE) == _on_machine(
        env_a, f"from supervision import crypto; print(crypto.keyed_hash('phone:' + {PHONE!r}))")


def test_machines_starting_at_once_agree_on_one_new_key(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "secret.key"
    go, ready = tmp_path / "go", tmp_path / "ready"
    ready.mkdir()
    # Each process imports everything, says it is ready, then waits for the others: they open the file together.
    code = ("import os, time; from supervision import keys\n"
            f"open(os.path.join({str(ready)!r}, str(os.getpid())), 'w')\n"
            f"deadline = time.monotonic() + 60\n"
            f"while not os.path.exists({str(go)!r}) and time.monotonic() < deadline: time.sleep(0.0005)\n"
            "print(keys.ring().newest.id)")
    starting = [subprocess.Popen([sys.executable, "-c", code], env=_machine_env(tmp_path, shared, f"m{i}"),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(6)]
    deadline = time.monotonic() + 120
    while len(list(ready.iterdir())) < len(starting) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    ids = set()
    for process in starting:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        ids.add(out.strip())
    assert ids == {keys.key_id(shared.read_text().strip())}
    assert [p.name for p in shared.parent.iterdir() if p.name != "secret.key"] == []  # no temporary file left


def test_a_key_file_is_private_from_its_creation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777, *args: object, **kwargs: object) -> int:
        opened.append((str(path), flags, mode))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", spy)
    keys.create_key_file(tmp_path / "secret.key")
    writes = [(flags, mode) for p, flags, mode in opened if flags & os.O_CREAT]
    assert writes and all(flags & os.O_EXCL and mode == 0o600 for flags, mode in writes)
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_the_lookup_digest_has_a_key_of_its_own() -> None:
    secret = keys.ring().newest.secret
    plain = hmac.new(secret.encode(), b"phone:" + PHONE.encode(), hashlib.sha256).hexdigest()
    labelled = hmac.new(keys.derive(secret, "lookup-hash"), b"phone:" + PHONE.encode(), hashlib.sha256).hexdigest()
    assert crypto.keyed_hash("phone:" + PHONE) == labelled != plain
    assert plain in crypto.lookup_hashes("phone:" + PHONE)  # rows digested before still found until rotated


def test_every_encrypted_column_is_rotated() -> None:
    import cameras.models  # noqa: F401  (every table model registered)
    import complaints.models  # noqa: F401

    encrypted = {f"{t.name}.{c.name}" for t in SQLModel.metadata.tables.values() for c in t.columns
                 if c.name.endswith("_enc")}
    assert encrypted and encrypted == {s.name for s in sealed_columns()}


def _sealed_values(engine: Engine) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for sealed in sealed_columns():
            found[sealed.name] = [r[0] for r in conn.execute(
                sa.text(f"SELECT {sealed.column} FROM {sealed.table} WHERE {sealed.column} <> ''"))]
    return found


def test_rotation_reencrypts_everything_and_keeps_the_chain_verifiable(
        engine: Engine, org_data: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "shared.key"
    key_file.write_text(TEST_KEY + "\n")
    _use_key_file(monkeypatch, key_file, engine)
    with session_scope(engine, write=True) as s:
        order = complaints.create_work_order(s, SYSTEM, {
            "channel": "hotline", "type": "complaint", "site_id": org_data.city, "window_id": org_data.window,
            "content": "窗口人员态度生硬", "caller_name": "王女士", "phone": PHONE,
            "received_at": datetime(2026, 11, 3, 9, 0, tzinfo=UTC)})
        s.add(Camera(site_id=org_data.city, name="大厅一号", host="127.0.0.1", username="admin",
                     password_enc=crypto.encrypt("cam-secret")))
        complaints.log_call(s, SYSTEM, {"external_id": "CALL-1", "phone": "13700001111", "site_id": org_data.city,
                                        "window_id": org_data.window, "content": "咨询"})
        s.add(LeaveRequest(staff_id=org_data.staff, site_id=org_data.city, kind=LeaveKind.SICK,
                           start_day=date(2026, 11, 4), end_day=date(2026, 11, 4), half_days=2,
                           reason_enc=crypto.encrypt("发烧就医")))
        # The public form's tracking secret (set here rather than through the rate-limited form).
        s.connection().execute(sa.text("UPDATE work_order SET tracking_secret_enc = :v WHERE id = :id"),
                               {"v": crypto.encrypt("track-me"), "id": order.id})
    before = _sealed_values(engine)
    assert all(before.values()), before  # each sealed column has a value to rotate
    plain_before = {name: [crypto.decrypt(v) for v in values] for name, values in before.items()}
    old_id = keys.key_id(TEST_KEY)

    result = CliRunner().invoke(cli_app, ["keys", "rotate", "--batch", "1"])
    assert result.exit_code == 0, result.output
    ring = keys.ring(refresh=True)
    assert ring.keys[0].id == old_id and ring.newest.id != old_id
    assert key_file.stat().st_mode & 0o777 == 0o600

    after = _sealed_values(engine)
    assert {name: [crypto.decrypt(v) for v in values] for name, values in after.items()} == plain_before
    for name, values in after.items():
        assert all(crypto.reencrypt(v) is None for v in values), f"{name} still holds values under the old key"
    with Session(engine) as s:
        assert [o.id for o in complaints.phone_history(s, SYSTEM, PHONE)] == [order.id]
        assert audit.verify(s) is None
        actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.action).startswith("keys."))).all()
        signers = set(s.exec(select(AuditEntry.key_id)).all())
    assert "keys.rotate" in actions and actions.count("keys.reencrypt") == len({s.name for s in sealed_columns()})
    assert signers >= {old_id, ring.newest.id}
    # Nothing needs the old key to decrypt any more: only to verify the entries it signed.
    key_file.write_text(ring.newest.secret + "\n")
    keys.ring(refresh=True)
    assert [crypto.decrypt(v) for v in _sealed_values(engine)["staff.phone_enc"]] == plain_before["staff.phone_enc"]
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and "lacks" in broken.reason

    again = CliRunner().invoke(cli_app, ["keys", "rotate", "--reencrypt-only"])
    assert again.exit_code == 0 and "0 re-encrypted" in again.output


def test_rotate_refuses_keys_from_the_environment(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["keys", "rotate"])
    assert result.exit_code == 2 and "SUPERVISION_PREVIOUS_SECRET_KEYS" in result.output


def test_previous_keys_from_the_environment_still_decrypt_and_verify(
        engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = crypto.encrypt(PHONE)
    monkeypatch.setenv("SUPERVISION_SECRET_KEY", "new-key-" + "y" * 32)
    monkeypatch.setenv("SUPERVISION_PREVIOUS_SECRET_KEYS", TEST_KEY)
    get_settings.cache_clear()
    assert crypto.decrypt(sealed) == PHONE
    with session_scope(engine, write=True) as s:
        audit.record(s, SYSTEM, "test.after_rotation")
    with Session(engine) as s:
        assert audit.verify(s) is None


def test_a_process_sees_a_key_another_machine_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    engine: Engine, org_data: SimpleNamespace) -> None:
    """The other machine rotated: this process decrypts what it wrote and signs with the new key at once."""
    key_file = tmp_path / "shared.key"
    key_file.write_text(TEST_KEY + "\n")
    _use_key_file(monkeypatch, key_file)
    assert keys.ring().newest.id == keys.key_id(TEST_KEY)  # cached
    other = _machine_env(tmp_path, key_file, "other")
    sealed_there = _on_machine(other, "from supervision import crypto, keys; keys.add_key(); "
                                      f"print(crypto.encrypt({PHONE!r}))")
    assert crypto.decrypt(sealed_there) == PHONE
    newest = keys.ring(refresh=True).newest
    with session_scope(engine, write=True) as s:
        seq = audit.record(s, SYSTEM, "test.after_rotation")
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.seq == seq)).one()
        assert entry.key_id == newest.id
        assert audit.verify(s) is None


def test_an_entry_signed_with_an_older_key_after_a_newer_one_is_noticed(
        engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever kept a retired key cannot append entries with it once the chain moved on to the new key."""
    monkeypatch.setenv("SUPERVISION_SECRET_KEY", "new-key-" + "y" * 32)
    monkeypatch.setenv("SUPERVISION_PREVIOUS_SECRET_KEYS", TEST_KEY)
    get_settings.cache_clear()
    with session_scope(engine, write=True) as s:
        audit.record(s, SYSTEM, "test.new_key")
    full_ring = keys.ring()
    retired_only = keys.KeyRing(full_ring.keys[:1])
    monkeypatch.setattr(keys, "ring", lambda *a, **k: retired_only)
    with session_scope(engine, write=True) as s:
        forged = audit.record(s, SYSTEM, "test.forged_with_the_old_key")
    monkeypatch.setattr(keys, "ring", lambda *a, **k: full_ring)
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and broken.seq == forged and "older key" in broken.reason
