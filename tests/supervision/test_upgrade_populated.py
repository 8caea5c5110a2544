"""An installation upgrades: every migration since the last release runs on a SQLite database that holds rows.

A migration that rebuilds a table (alembic's batch copy on SQLite) fails there once other tables' rows point at it
with foreign keys, which an empty test database never shows. Here the database is brought to the schema of the
previous release, every table gets a row, and the upgrade to the newest schema must go through with foreign keys
on, keeping the rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from supervision.db import alembic_config, make_engine
from web.composition import MIGRATION_PACKAGES

# The heads of the release before this one's migrations (main at 58c0f95).
PREVIOUS_HEADS = ("core_0006", "hours_0001", "leave_0001", "risk_0002", "cameras_0003", "complaints_0004",
                  "duty_0001", "attendance_0001", "scoring_0001")


def _value(type_name: str, column: str) -> object:
    kind = type_name.upper()
    if column == "id" or column.endswith("_id") or "INT" in kind:
        return 1
    if "BOOL" in kind:
        return 0
    if "FLOAT" in kind or "REAL" in kind or "NUMERIC" in kind:
        return 0.0
    if kind == "DATE":
        return "2026-11-02"
    if "DATETIME" in kind or "TIMESTAMP" in kind:
        return "2026-11-02 08:00:00.000000"
    if "JSON" in kind:
        return "{}"
    if "BLOB" in kind:
        return b""
    return "1"


def test_the_new_migrations_run_on_a_database_with_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(tmp_path))
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(engine, MIGRATION_PACKAGES)
    for head in PREVIOUS_HEADS:
        command.upgrade(cfg, head)
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    filled = []
    # Filled over a plain connection with foreign keys off (one row each, every id 1), then checked with them on.
    raw = sqlite3.connect(tmp_path / "old.db")
    for table in tables:
        columns = raw.execute(f'PRAGMA table_info("{table}")').fetchall()
        names = [c[1] for c in columns]
        quoted = ", ".join(f'"{n}"' for n in names)
        try:
            raw.execute(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" for _ in names)})',
                        [_value(str(c[2]), c[1]) for c in columns])
            filled.append(table)
        except sqlite3.IntegrityError:  # a table that holds its row already (the audit head, the default rules)
            pass
    raw.commit()
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    raw.close()
    assert {"risk_point", "risk_countermeasure", "video_event", "camera_alert", "zone", "site", "staff"} <= set(filled)
    # Foreign keys are on in every connection of the engine: as an installation upgrades.
    command.upgrade(cfg, "heads")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        for table in filled:
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == 1, table
