"""A plain stream URI (stream_uri_override) is a network stream: no file, no other FFmpeg protocol."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import av
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cameras import CameraCreate, CameraUpdate, FrameRegistry, register_camera, update_camera
from cameras.demo import render_hall_clip
from cameras.ingest import CameraReader, open_options
from cameras.models import Camera
from supervision.db import session_scope
from supervision.errors import InvalidInput
from tests.cameras.conftest import fast_settings


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_hall_clip(tmp_path_factory.mktemp("clip") / "hall.mp4", seed=1, seconds=2)


@pytest.mark.parametrize("uri", [
    "file:///etc/passwd", "/etc/passwd", "concat:/etc/passwd|/etc/hosts", "subfile,,start,0,end,0,,:/etc/passwd",
    "ftp://127.0.0.1/cam", "rtsp:///no-host", " rtsp://127.0.0.1/cam",
])
def test_register_refuses_a_stream_uri_that_is_no_network_stream(engine: Engine, org_data: SimpleNamespace,
                                                                 uri: str) -> None:
    data = CameraCreate(site_id=org_data.city, name="plain", host="127.0.0.1", port=554, stream_uri_override=uri)
    with pytest.raises(InvalidInput) as err, session_scope(engine, write=True) as s:
        register_camera(s, org_data.principals["admin"], data)
    assert [p.field for p in err.value.problems] == ["stream_uri_override"]
    assert "rtsp://" in err.value.message("en") and "视频流地址" in err.value.message("zh-CN")
    with Session(engine) as s:
        assert s.exec(select(Camera)).all() == []


def test_plain_network_streams_register_and_an_edit_cannot_make_them_files(engine: Engine,
                                                                           org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    ids = []
    for n, uri in enumerate(["rtsp://127.0.0.1:8554/a", "rtsps://cam.example:322/a", "http://127.0.0.1:81/a.ts",
                             "HTTPS://127.0.0.1/a.ts"]):
        with session_scope(engine, write=True) as s:
            ids.append(register_camera(s, admin, CameraCreate(site_id=org_data.city, name=f"p{n}", host="127.0.0.1",
                                                              port=554, stream_uri_override=uri)).id)
    with pytest.raises(InvalidInput) as err, session_scope(engine, write=True) as s:
        update_camera(s, admin, int(ids[0] or 0), CameraUpdate(stream_uri_override="file:///etc/shadow"))
    assert [p.field for p in err.value.problems] == ["stream_uri_override"]
    with Session(engine) as s:
        assert s.get(Camera, ids[0]).stream_uri_override == "rtsp://127.0.0.1:8554/a"  # type: ignore[union-attr]


@pytest.mark.parametrize("form", ["{path}", "file:{path}", "concat:{path}"])
def test_ffmpeg_opens_no_file_through_the_readers_options(clip: Path, form: str) -> None:
    uri = form.format(path=clip)
    with av.open(uri) as readable:  # the file itself is a good stream: only the whitelist refuses it
        assert readable.streams.video
    with pytest.raises(av.error.FFmpegError):
        av.open(uri, options=open_options(uri, fast_settings()), timeout=(5.0, None)).close()


def test_a_reader_given_a_file_path_reads_nothing(clip: Path) -> None:
    registry = FrameRegistry()
    reader = CameraReader(1, str(clip), fast_settings(backoff_min_seconds=0.1, backoff_max_seconds=0.2), registry)
    reader.start()
    try:
        ends = time.monotonic() + 30
        while time.monotonic() < ends and reader.state.reconnects < 2:
            time.sleep(0.05)
        assert reader.state.reconnects >= 2, "the reader never failed to open the file"
        assert reader.state.last_error == "camera.stream.open_failed"
        assert registry.jpeg(1) is None and reader.state.decoded == 0
    finally:
        reader.stop()
        reader.join(10)


def test_openapi_describes_plain_rtsp_cameras(engine: Engine) -> None:
    from supervision.settings import get_settings
    from web.app import create_app

    spec = create_app(get_settings(), engine, migrate=False, services=[]).openapi()
    schemas = spec["components"]["schemas"]
    for name in ("CameraCreate", "CameraUpdate", "CameraPublic"):
        field = schemas[name]["properties"]["stream_uri_override"]
        assert "rtsp" in field["description"] and "ONVIF" in field["description"], name
    examples = spec["paths"]["/api/v1/cameras"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert any("stream_uri_override" in example["value"] for example in examples.values())
