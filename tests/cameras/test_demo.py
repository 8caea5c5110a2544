"""The demo's virtual cameras register over ONVIF and stream through the same ingest as real ones."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.engine import Engine
from sqlmodel import Session

from cameras import CameraCreate, register_camera
from cameras.demo import DemoCameras
from cameras.ingest import FrameRegistry
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
        with session_scope(engine, write=True) as s:
            for cam in cams:
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
