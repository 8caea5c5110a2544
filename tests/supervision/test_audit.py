from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from supervision import audit
from supervision.models import AuditEntry
from web.cli import app as cli_app


def _cli_env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    from supervision.settings import get_settings

    get_settings.cache_clear()


def test_intact_chain_verifies(engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(engine) as s:
        assert audit.verify(s) is None
        assert audit.count(s) > 20
    _cli_env(engine, monkeypatch)
    result = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_database_refuses_to_change_an_entry(engine: Engine, org_data: SimpleNamespace) -> None:
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entry SET summary = 'x' WHERE seq = 3"))
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq = 3"))


@pytest.fixture
def unguarded(engine: Engine) -> Iterator[None]:
    """What someone with the database owner's rights could do: remove the triggers first."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER audit_entry_no_change ON audit_entry"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))
    yield
    if engine.dialect.name == "postgresql":  # the PostgreSQL test database outlives the test
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
                                 "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"))


def test_verify_names_the_first_altered_entry(engine: Engine, org_data: SimpleNamespace,
                                              monkeypatch: pytest.MonkeyPatch, unguarded: None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entry SET summary = 'forged' WHERE seq IN (5, 9)"))
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and broken.seq == 5 and "altered" in broken.reason
    _cli_env(engine, monkeypatch)
    result = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "#5" in result.output


def test_verify_names_a_missing_entry(engine: Engine, org_data: SimpleNamespace, unguarded: None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq = 7"))
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and broken.seq == 7 and "missing" in broken.reason


def test_removing_the_newest_entries_is_noticed(engine: Engine, org_data: SimpleNamespace, unguarded: None) -> None:
    with Session(engine) as s:
        last = s.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc())).first()
    assert last is not None
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq = :s"), {"s": last.seq})
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and broken.seq == last.seq


def test_cli_help_lists_every_command(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["--help"], ["serve", "--help"], ["db", "upgrade", "--help"], ["user", "add", "--help"],
                 ["import", "org", "--help"], ["audit", "verify", "--help"], ["demo", "--help"]):
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 0, (args, result.output)


def test_a_writer_that_waited_for_the_head_links_to_the_entry_it_waited_for(engine: Engine) -> None:
    """Two transactions record at once: the second waits for the first's head lock, then chains onto its entry.

    On PostgreSQL the waiting UPDATE's RETURNING reads its snapshot from before the first commit; the entry
    it must link to is looked up again.
    """
    import threading

    from supervision.access import SYSTEM
    from supervision.db import session_scope

    first_recorded, errors = threading.Event(), []
    second_done = threading.Event()

    def second() -> None:
        try:
            assert first_recorded.wait(10)
            with session_scope(engine, write=True) as s:
                audit.record(s, SYSTEM, "test.second", object_kind="test", object_id=2)
        except Exception as exc:
            errors.append(exc)
        finally:
            second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with session_scope(engine, write=True) as s:
        audit.record(s, SYSTEM, "test.first", object_kind="test", object_id=1)
        first_recorded.set()
        assert not second_done.wait(0.5)  # it waits for this transaction's head lock
    thread.join(20)
    assert not errors, errors
    with Session(engine) as s:
        assert audit.verify(s) is None
        actions = s.exec(select(AuditEntry.action).order_by(col(AuditEntry.seq).desc()).limit(2)).all()
    assert list(actions) == ["test.second", "test.first"]


@pytest.mark.parametrize("also_relink", [False, True], ids=["counter", "counter-and-hash"])
def test_removing_the_newest_entries_and_lowering_the_head_is_noticed(
        engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, unguarded: None,
        also_relink: bool) -> None:
    """What someone with the database owner's rights could do to hide the last changes: cut the tail, fix the head."""
    with Session(engine) as s:
        newest = s.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc())).first()
    assert newest is not None and newest.seq > 5
    kept = newest.seq - 3
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq > :s"), {"s": kept})
        conn.execute(sa.text("UPDATE audit_head SET seq = :s WHERE id = 1"), {"s": kept})
        if also_relink:
            conn.execute(sa.text("UPDATE audit_head SET last_hash = (SELECT hash FROM audit_entry WHERE seq = :s) "
                                 "WHERE id = 1"), {"s": kept})
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and broken.seq == kept and "head" in broken.reason and "altered" in broken.reason
    _cli_env(engine, monkeypatch)
    result = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"#{kept}" in result.output and "head" in result.output


def test_a_head_without_its_seal_is_noticed(engine: Engine, org_data: SimpleNamespace) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_head SET mac = '' WHERE id = 1"))
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and "no seal" in broken.reason


def test_entries_written_after_the_head_was_read_are_left_for_the_next_verify(
        engine: Engine, org_data: SimpleNamespace) -> None:
    """`verify` on a live service: a writer that commits while the walk runs is not a break."""
    from supervision.access import SYSTEM
    from supervision.db import session_scope

    with Session(engine) as s:
        real_exec = s.exec
        written = []

        def exec_then_write(stmt: Any, *args: Any, **kwargs: Any) -> Any:
            result = real_exec(stmt, *args, **kwargs)
            if not written:  # right after the head was read
                with session_scope(engine, write=True) as other:
                    written.append(audit.record(other, SYSTEM, "test.during_verify"))
            return result

        s.exec = exec_then_write  # type: ignore[method-assign]
        assert audit.verify(s) is None
    assert written


def test_a_truncation_stays_visible_after_the_service_writes_again(
        engine: Engine, org_data: SimpleNamespace, unguarded: None) -> None:
    """The service keeps running after the tampering: its next entries must not reseal the lowered head."""
    from supervision.access import SYSTEM
    from supervision.db import session_scope

    with Session(engine) as s:
        newest = s.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc())).first()
    assert newest is not None
    kept = newest.seq - 2
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq > :s"), {"s": kept})
        conn.execute(sa.text("UPDATE audit_head SET seq = :s, last_hash = (SELECT hash FROM audit_entry "
                             "WHERE seq = :s) WHERE id = 1"), {"s": kept})
    for n in range(3):
        with session_scope(engine, write=True) as s:
            audit.record(s, SYSTEM, "test.after_tampering", object_id=n)
    with Session(engine) as s:
        broken = audit.verify(s)
    assert broken is not None and "altered" in broken.reason and "head" in broken.reason


def test_entries_of_a_process_of_the_previous_version_are_chained_on(engine: Engine, org_data: SimpleNamespace) -> None:
    """A rolling upgrade: an old process bumps the counter and writes unsealed, key-less entries after the seal."""
    from supervision.access import SYSTEM
    from supervision.db import session_scope

    with engine.begin() as conn:  # what the previous version's record() did
        for n in range(2):
            seq = conn.execute(sa.text("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq")).scalar_one()
            prev = conn.execute(sa.text("SELECT hash FROM audit_entry WHERE seq = :s"), {"s": seq - 1}).scalar_one()
            row = {"seq": seq, "at": datetime.now(UTC), "actor_kind": "system", "actor_id": None,
                   "actor_name": "system", "action": "test.old_version", "object_kind": "", "object_id": str(n),
                   "site_id": None, "summary": "", "detail": "{}", "ip": "", "prev_hash": prev}
            row["hash"] = audit.entry_hash(row)
            conn.execute(sa.insert(AuditEntry.__table__), row)  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert audit.verify(s) is None
    with session_scope(engine, write=True) as s:
        audit.record(s, SYSTEM, "test.new_version")
    with Session(engine) as s:
        assert audit.verify(s) is None


def test_a_deferred_sqlite_transaction_keeps_the_head_until_it_wrote(
        engine: Engine, org_data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer cannot commit between the head's read and the entry's insert (no SQLITE_BUSY_SNAPSHOT)."""
    import threading

    from supervision import keys
    from supervision.access import SYSTEM
    from supervision.db import session_scope

    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the head row with FOR UPDATE")
    real_ring, other_done, errors = keys.ring, threading.Event(), []

    def other_writer() -> None:
        try:
            with session_scope(engine, write=True) as s:
                audit.record(s, SYSTEM, "test.other")
        except Exception as exc:
            errors.append(exc)
        finally:
            other_done.set()

    def ring_after_the_head_was_read(*args: Any, **kwargs: Any) -> keys.KeyRing:
        if not threading.current_thread().name.startswith("other"):
            monkeypatch.setattr(keys, "ring", real_ring)
            threading.Thread(target=other_writer, name="other").start()
            other_done.wait(0.5)  # with the head's write lock held it cannot finish
        return real_ring(*args, **kwargs)

    monkeypatch.setattr(keys, "ring", ring_after_the_head_was_read)
    with Session(engine) as s:  # deferred: a GET request's session
        audit.record(s, SYSTEM, "test.deferred")
        s.commit()
    assert other_done.wait(30) and not errors, errors
    with Session(engine) as s:
        assert audit.verify(s) is None
