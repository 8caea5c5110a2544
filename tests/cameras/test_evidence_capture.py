"""Evidence from a real RTSP stream: the ingest worker's buffer, a remuxed MP4 clip, stills, the chain, a full disk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.evidence import EvidenceSettings, file_path, verify
from cameras.ingest import FrameRegistry
from cameras.models import AlertKind, CameraAlert, EvidenceItem, VideoEvent, VideoEventKind
from cameras.worker import IngestService
from supervision.db import session_scope, utcnow
from tests.cameras.conftest import RtspServer, fast_settings, wait_for
from tests.cameras.test_ingest import add_cameras

BEFORE = AFTER = 4.0


def evidence_settings(root: Path, **overrides: object) -> EvidenceSettings:
    values: dict[str, object] = dict(dir=root, before_seconds=BEFORE, after_seconds=AFTER, buffer_seconds=15.0,
                                     poll_seconds=0.3, min_free_mb=1.0)
    values.update(overrides)
    return EvidenceSettings(**values)  # type: ignore[arg-type]


def items(engine: Engine, event_id: int) -> dict[str, EvidenceItem]:
    with Session(engine) as s:
        return {i.label: i for i in s.exec(select(EvidenceItem).where(col(EvidenceItem.event_id) == event_id))}


def open_event(engine: Engine, site_id: int, camera_id: int) -> int:
    """A generic event of camera C at time now, as any job opens one."""
    with session_scope(engine, write=True) as s:
        ev = VideoEvent(kind=VideoEventKind.POST_VACANT, site_id=site_id, camera_id=camera_id,
                        started_at=utcnow() - timedelta(minutes=15))
        s.add(ev)
        s.flush()
        return int(ev.id or 0)


def buffered_seconds(service: IngestService, cid: int) -> float:
    held = service.held.get(cid)
    buf = held.reader.clip_buffer if held else None
    span = buf.span() if buf is not None else None
    return (span[1] - span[0]).total_seconds() if span else 0.0


@pytest.fixture(params=["native", "ffmpeg"])
def running(request: pytest.FixtureRequest, engine: Engine, org_data: SimpleNamespace, rtsp: RtspServer,
            tmp_path: Path) -> Iterator[SimpleNamespace]:
    cid = add_cameras(engine, org_data.city, [rtsp.url("cam1")])[0]
    root = tmp_path / "evidence"
    free = {"bytes": 10 ** 12}
    service = IngestService(engine, camera_settings=fast_settings(ingest_engine=request.param),
                            registry=FrameRegistry(), evidence=evidence_settings(root))
    assert service.evidence is not None
    service.evidence.free_space = lambda _path: free["bytes"]
    service.start()
    try:
        # Enough of the stream in memory for the clip's lead-in.
        assert wait_for(lambda: buffered_seconds(service, cid) > BEFORE + 1, 30), buffered_seconds(service, cid)
        yield SimpleNamespace(cid=cid, root=root, service=service, free=free, engine=engine, site=org_data.city)
    finally:
        service.stop()


@pytest.mark.slow
def test_event_gets_stills_and_a_remuxed_clip(running: SimpleNamespace, clips: dict[str, Path]) -> None:
    engine, root = running.engine, running.root
    opened = time.monotonic()
    eid = open_event(engine, running.site, running.cid)
    assert wait_for(lambda: "start" in items(engine, eid), 10), items(engine, eid)
    assert time.monotonic() - opened <= 5.0  # the start still within 5 s of the event opening
    assert wait_for(lambda: "clip" in items(engine, eid), AFTER + 15), items(engine, eid)
    got = items(engine, eid)
    clip = got["clip"]
    path = file_path(root, clip.sha256)
    assert path.stat().st_size == clip.size
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert stream.duration is not None and stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
        # From the key frame at or before T - 4 s (1 s GOPs) to T + 4 s.
        assert BEFORE + AFTER - 0.5 <= duration <= BEFORE + AFTER + 1.6, duration
        assert clip.duration_s == pytest.approx(duration, abs=0.1)
        first = next(container.decode(stream)).to_ndarray(format="gray")
        frames = 1 + sum(1 for _ in container.decode(stream))
    assert frames >= 25 * (BEFORE + AFTER - 0.5)
    with av.open(str(clips["main"])) as source:
        src = source.streams.video[0].codec_context
        with av.open(str(path)) as again:
            out = again.streams.video[0].codec_context
            # Not re-encoded: the camera's own profile and level.
            assert (out.profile, out.level) == (src.profile, src.level)
    # The first frame decodes to exactly the picture of one of the source's frames: a re-encode would differ.
    with av.open(str(clips["main"])) as source:
        diffs = [int(np.abs(f.to_ndarray(format="gray").astype(int) - first).max()) for f in source.decode(video=0)]
    assert min(diffs) == 0
    # The MP4 plays in a browser while it loads: the index (moov) comes before the data (mdat).
    head = path.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < (head.find(b"mdat") if b"mdat" in head else 1 << 30)
    with av.open(str(file_path(root, got["start"].sha256))) as still:
        picture = next(still.decode(video=0))
        assert (picture.width, picture.height) == (640, 360)
    # The event ends: middle and end stills follow.
    with session_scope(engine, write=True) as s:
        ev = s.get(VideoEvent, eid)
        assert ev is not None
        ev.ended_at = utcnow()
        s.add(ev)
    assert wait_for(lambda: {"middle", "end"} <= set(items(engine, eid)), 10), items(engine, eid)
    with Session(engine) as s:
        assert verify(s, root) == []


@pytest.mark.slow
def test_full_disk_stops_clips_with_an_alert_never_the_ingest(running: SimpleNamespace) -> None:
    engine = running.engine
    running.free["bytes"] = 100 * 1024  # below the 1 MiB floor
    eid = open_event(engine, running.site, running.cid)
    assert wait_for(lambda: "start" in items(engine, eid), 10)

    def alert_open() -> bool:
        with Session(engine) as s:
            return s.exec(select(CameraAlert).where(col(CameraAlert.camera_id) == running.cid,
                                                    col(CameraAlert.kind) == AlertKind.EVIDENCE_DISK_FULL,
                                                    col(CameraAlert.cleared_at).is_(None))).first() is not None

    assert wait_for(alert_open, AFTER + 15)
    assert "clip" not in items(engine, eid)
    reader = running.service.held[running.cid].reader
    packets = reader.state.stats.packets if hasattr(reader.state.stats, "packets") else None
    decoded = reader.state.decoded
    assert wait_for(lambda: reader.state.decoded > decoded + 2, 10)  # ingest goes on
    assert packets is None or reader.state.stats.packets > packets
    # Space again: the next event's clip is written and the alert clears.
    running.free["bytes"] = 10 ** 12
    eid2 = open_event(engine, running.site, running.cid)
    assert wait_for(lambda: "clip" in items(engine, eid2), AFTER + 15)
    assert wait_for(lambda: not alert_open(), 5)
