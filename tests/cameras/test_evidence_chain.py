"""The evidence log: chain verify (a changed byte, a deleted row, a changed row), the CLI, retention with legal hold."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cameras.evidence import (
    EvidenceSettings,
    NewItem,
    file_path,
    hold_event,
    log_items,
    purge_expired,
    store_bytes,
    verify,
)
from cameras.models import EvidenceItem, EvidenceKind, VideoEvent, VideoEventKind
from supervision.db import session_scope, utcnow


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "evidence"
    monkeypatch.setenv("SUPERVISION_EVIDENCE_DIR", str(d))
    from cameras.evidence import get_evidence_settings

    get_evidence_settings.cache_clear()
    yield d
    get_evidence_settings.cache_clear()


def make_event(engine: Engine, site_id: int) -> int:
    with session_scope(engine, write=True) as s:
        ev = VideoEvent(kind=VideoEventKind.POST_VACANT, site_id=site_id, started_at=utcnow())
        s.add(ev)
        s.flush()
        return int(ev.id or 0)


def add_files(engine: Engine, root: Path, event_id: int, n: int = 3) -> list[EvidenceItem]:
    new = []
    for i, label in enumerate(["start", "clip", "end"][:n]):
        sha, size = store_bytes(root, os.urandom(200 + i))
        kind = EvidenceKind.CLIP if label == "clip" else EvidenceKind.STILL
        new.append(NewItem(event_id, None, kind, label, sha, size, utcnow(), 4.0 if label == "clip" else 0.0))
    return log_items(engine, new)


def test_chain_verifies_and_names_a_changed_byte(engine: Engine, org_data: SimpleNamespace, root: Path) -> None:
    a, b = make_event(engine, org_data.city), make_event(engine, org_data.county)
    rows = add_files(engine, root, a) + add_files(engine, root, b)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    with Session(engine) as s:
        assert verify(s, root) == []
    path = file_path(root, rows[4].sha256)
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    with Session(engine) as s:
        problems = verify(s, root)
    assert [(p.seq, p.event_id, p.reason) for p in problems] == [(5, b, "evidence.problem.file_altered")]


def test_a_deleted_or_changed_row_breaks_the_chain(engine: Engine, org_data: SimpleNamespace, root: Path) -> None:
    ev = make_event(engine, org_data.city)
    add_files(engine, root, ev)
    add_files(engine, root, make_event(engine, org_data.city))
    with session_scope(engine, write=True) as s:
        s.execute(delete(EvidenceItem).where(col(EvidenceItem.seq) == 2))
    with Session(engine) as s:
        assert [(p.seq, p.reason) for p in verify(s, root)] == [(2, "evidence.problem.missing")]
    with session_scope(engine, write=True) as s:
        s.execute(update(EvidenceItem).where(col(EvidenceItem.seq) == 5).values(size=1))
    with Session(engine) as s:
        assert (5, "evidence.problem.row_altered") in [(p.seq, p.reason) for p in verify(s, root)]


def test_removing_the_newest_rows_is_found_through_the_audit_log(engine: Engine, org_data: SimpleNamespace,
                                                                  root: Path) -> None:
    add_files(engine, root, make_event(engine, org_data.city))
    with session_scope(engine, write=True) as s:
        s.execute(delete(EvidenceItem).where(col(EvidenceItem.seq) >= 2))
    with Session(engine) as s:
        assert [(p.seq, p.reason) for p in verify(s, root)] == [(3, "evidence.problem.truncated")]


def test_the_same_label_is_logged_once(engine: Engine, org_data: SimpleNamespace, root: Path) -> None:
    ev = make_event(engine, org_data.city)
    add_files(engine, root, ev, 1)
    assert add_files(engine, root, ev, 1) == []  # a second worker finding the start still already logged


def test_cli_verify_exits_non_zero_naming_the_item(engine: Engine, org_data: SimpleNamespace, root: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from web import cli

    ev = make_event(engine, org_data.city)
    rows = add_files(engine, root, ev)
    monkeypatch.setattr(cli, "make_engine", lambda _url: engine)
    runner = CliRunner()
    ok = runner.invoke(cli.app, ["evidence", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    file_path(root, rows[1].sha256).write_bytes(b"not the clip")
    bad = runner.invoke(cli.app, ["evidence", "verify"])
    assert bad.exit_code == 1
    assert "item #2" in bad.output and f"event {ev}" in bad.output and "证据已被改动" in bad.output


def test_purge_keeps_held_events_and_the_rows(engine: Engine, org_data: SimpleNamespace, root: Path) -> None:
    kept, held, fresh = (make_event(engine, org_data.city) for _ in range(3))
    old = add_files(engine, root, kept) + add_files(engine, root, held)
    cut = utcnow()  # the fresh ones are logged after this moment, the old ones before
    new = add_files(engine, root, fresh)
    with session_scope(engine, write=True) as s:
        assert hold_event(s, held) is True
        assert hold_event(s, held) is False
    settings = EvidenceSettings(dir=root, retention_days=30)
    later = cut + timedelta(days=30)
    assert purge_expired(engine, now=later, settings=settings) == 3
    assert purge_expired(engine, now=later, settings=settings) == 0  # safe to run twice
    with Session(engine) as s:
        purged = {r.seq for r in s.exec(select(EvidenceItem).where(col(EvidenceItem.purged_at).is_not(None)))}
        assert len(s.exec(select(EvidenceItem)).all()) == 9  # the rows stay
    assert purged == {r.seq for r in old if r.event_id == kept}
    for r in old:
        assert file_path(root, r.sha256).exists() == (r.event_id == held)
    assert all(file_path(root, r.sha256).exists() for r in new)
    with Session(engine) as s:
        assert verify(s, root) == []  # purged files are not missing: their rows say so


def test_confirming_an_event_holds_its_evidence(engine: Engine, org_data: SimpleNamespace) -> None:
    from cameras.models import ReviewOutcome, VideoEventReview
    from cameras.vacancy import review_event
    from supervision.access import SYSTEM

    with session_scope(engine, write=True) as s:
        ev = VideoEvent(kind=VideoEventKind.POST_VACANT, site_id=org_data.city, staff_id=org_data.staff,
                        post_id=org_data.post, started_at=utcnow() - timedelta(minutes=30),
                        ended_at=utcnow() - timedelta(minutes=5))
        s.add(ev)
        s.flush()
        eid = int(ev.id or 0)
    with session_scope(engine, write=True) as s:
        review_event(s, SYSTEM, eid, VideoEventReview(outcome=ReviewOutcome.CONFIRMED, reason="离岗属实"))
    with Session(engine) as s:
        got = s.get(VideoEvent, eid)
        assert got is not None and got.legal_hold is True


def test_demo_evidence_is_cut_from_the_demo_clip_once(engine: Engine, org_data: SimpleNamespace, root: Path,
                                                      tmp_path: Path) -> None:
    from cameras.demo import render_hall_clip
    from cameras.evidence_capture import seed_demo_evidence
    from tests.cameras.test_ingest import add_cameras

    clip = render_hall_clip(tmp_path / "hall.mp4", seed=1, seconds=12)
    cid = add_cameras(engine, org_data.city, ["rtsp://127.0.0.1:9/none"])[0]
    with session_scope(engine, write=True) as s:
        ev = VideoEvent(kind=VideoEventKind.POST_VACANT, site_id=org_data.city, camera_id=cid,
                        started_at=utcnow() - timedelta(hours=3), ended_at=utcnow() - timedelta(hours=2))
        s.add(ev)
        s.flush()
        eid = ev.id
    assert seed_demo_evidence(engine, cid, clip) == 4
    assert seed_demo_evidence(engine, cid, clip) == 0  # seeding twice: the same evidence
    with Session(engine) as s:
        rows = s.exec(select(EvidenceItem).where(col(EvidenceItem.event_id) == eid)).all()
        assert sorted(r.label for r in rows) == ["clip", "end", "middle", "start"]
        assert verify(s, root) == []
    import av

    clip_row = next(r for r in rows if r.label == "clip")
    with av.open(str(file_path(root, clip_row.sha256))) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert float(c.streams.video[0].duration * c.streams.video[0].time_base) == pytest.approx(12, abs=1.5)


def test_an_event_a_notice_names_keeps_its_evidence(engine: Engine, org_data: SimpleNamespace, root: Path) -> None:
    """A criticism notice (通报) citing a video event puts it under legal hold at the purge: its files stay."""
    from complaints.models import Notice

    cited, other = make_event(engine, org_data.city), make_event(engine, org_data.city)
    old = add_files(engine, root, cited) + add_files(engine, root, other)
    later = utcnow() + timedelta(days=31)
    with session_scope(engine, write=True) as s:
        s.add(Notice(kind="criticism", title="离岗通报", body="窗口工作人员离岗超过 15 分钟", site_id=org_data.city,
                     source_ref=f"video:{cited}", drafted_by="user:officer"))
    assert purge_expired(engine, now=later, settings=EvidenceSettings(dir=root, retention_days=30)) == 3
    for r in old:
        assert file_path(root, r.sha256).exists() == (r.event_id == cited)
    with Session(engine) as s:
        assert s.get(VideoEvent, cited).legal_hold is True  # type: ignore[union-attr]
        assert s.get(VideoEvent, other).legal_hold is False  # type: ignore[union-attr]
