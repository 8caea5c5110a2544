"""The demo's virtual cameras register over ONVIF and stream through the same ingest as real ones."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import av
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cameras import CameraCreate, register_camera
from cameras.demo import DemoCameras, render_hall_clip
from cameras.health import FROZEN_DIFF_THRESHOLD, thumbnail_diff
from cameras.ingest import FrameRegistry, luma_thumbnail
from cameras.models import CameraHealth, CameraStatus
from cameras.worker import IngestService
from supervision.db import session_scope
from tests.cameras.conftest import fast_settings, wait_for


def test_demo_cameras_register_and_stream(engine: Engine, org_data: SimpleNamespace, tmp_path: Path,
                                          clips: dict[str, Path]) -> None:
    demo = DemoCameras(tmp_path, clip_seconds=6)
    cams = demo.start(2)
    try:
        assert len(cams) == 2
        ids = []
        for cam in cams:  # a session each: the device is asked with no transaction open
            with session_scope(engine, write=True) as s:
                row = register_camera(s, org_data.principals["admin"], CameraCreate(
                    site_id=org_data.city, hall_id=org_data.hall, name=cam.name, host=cam.onvif_host,
                    port=cam.onvif_port, username=cam.username, password=cam.password, is_demo=True))
                assert row.model == "VirtualHallCam"
                ids.append(int(row.id or 0))
        registry = FrameRegistry()
        svc = IngestService(engine, camera_settings=fast_settings(), registry=registry)
        svc.start()
        try:
            def online() -> bool:
                with Session(engine) as s:
                    return all((h := s.get(CameraHealth, i)) is not None and h.status == CameraStatus.ONLINE
                               for i in ids)

            assert wait_for(online, 20)
            assert wait_for(lambda: all(registry.jpeg(i) is not None for i in ids), 5)
        finally:
            svc.stop()
    finally:
        demo.stop()


def test_demo_cameras_over_http_without_gstreamer(engine: Engine, org_data: SimpleNamespace,
                                                  tmp_path: Path) -> None:
    """The fallback: the same clips as endless MPEG-TS over HTTP, read by the same reader."""
    demo = DemoCameras(tmp_path, clip_seconds=5, transport="http")
    cams = demo.start(1)
    try:
        assert len(cams) == 1 and cams[0].rtsp_uri.startswith("http://127.0.0.1:")
        registry = FrameRegistry()
        with session_scope(engine, write=True) as s:
            row = register_camera(s, org_data.principals["admin"], CameraCreate(
                site_id=org_data.city, hall_id=org_data.hall, name="http-demo", host=cams[0].onvif_host,
                port=cams[0].onvif_port, username=cams[0].username, password=cams[0].password, is_demo=True))
            cid = int(row.id or 0)
        svc = IngestService(engine, camera_settings=fast_settings(), registry=registry)
        svc.start()
        try:
            def online() -> bool:
                with Session(engine) as s:
                    h = s.get(CameraHealth, cid)
                    return h is not None and h.status == CameraStatus.ONLINE and h.fps > 5

            assert wait_for(online, 20)
            first = registry.latest(cid)
            assert first is not None and (first.width, first.height) == (640, 360)
            # Past the clip's end: the loop goes on with rising timestamps, no reconnect needed.
            assert wait_for(lambda: (registry.latest(cid) or first).seq > first.seq + 5, 10)
            with Session(engine) as s:
                health = s.get(CameraHealth, cid)
                assert health is not None and health.reconnects == 0
        finally:
            svc.stop()
    finally:
        demo.stop()


def test_demo_clip_has_one_slice_per_picture_and_never_looks_frozen(tmp_path: Path) -> None:
    """Two slices per picture made GStreamer's payloader repeat SPS/PPS mid-picture and FFmpeg then read every
    key frame as two half pictures (analysed twice a second, stills half concealed). And the analysis, which
    sees the key frames only, must see the calm demo hall change every second, or it calls the camera frozen."""
    clip = render_hall_clip(tmp_path / "hall.mp4", seed=5, seconds=8)
    thumbs = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if not packet.size:
                continue
            data, at, slices = bytes(packet), 0, 0
            while at + 4 <= len(data):  # MP4: NAL units prefixed by their 4-byte length
                length = int.from_bytes(data[at:at + 4], "big")
                slices += (data[at + 4] & 0x1F) in (1, 5)
                at += 4 + length
            assert slices == 1, f"packet at {packet.pts} has {slices} slices"
            if packet.is_keyframe:
                thumbs += [luma_thumbnail(frame) for frame in stream.codec_context.decode(packet)]
    assert len(thumbs) == 8  # one key frame a second
    diffs = [thumbnail_diff(a, b) for a, b in itertools.pairwise([*thumbs, thumbs[0]])]
    assert min(diffs) > FROZEN_DIFF_THRESHOLD * 1.25, diffs
