"""Run inside a private network namespace (see test_ipycam.py): ipycam as a third-party ONVIF camera.

Starts ipycam (it binds 0.0.0.0 and multicasts WS-Discovery Hello: only ever inside the namespace),
feeds it synthetic frames, then registers it over ONVIF, finds it by WS-Discovery and reads its RTSP
stream through our ingest. Prints one JSON line with what happened; exits within its own time limit.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

PASSWORD = "ipy-Pass-1"
ONVIF_PORT, RTSP_PORT = 18080, 18554


class CameraClock:
    """Set ipycam's clock apart from ours: its WS-Security check, its GetSystemDateAndTime and its HTTP Date.

    ipycam reads the time through `datetime.now`, `time.gmtime` (ipycam.onvif) and http.server's
    `date_time_string`; they are pointed at a shifted clock. The check of the login itself stays ipycam's.
    """

    offset = 0.0

    @classmethod
    def install(cls) -> None:
        clock = cls
        import datetime as dt
        import http.server
        import time as real_time

        import ipycam.http  # type: ignore[import-untyped]
        import ipycam.onvif  # type: ignore[import-untyped]

        class ShiftedDatetime(dt.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return dt.datetime.now(tz) + dt.timedelta(seconds=clock.offset)

        class ShiftedTime:
            def __getattr__(self, name: str) -> Any:
                return getattr(real_time, name)

            def gmtime(self, secs: float | None = None) -> Any:
                return real_time.gmtime((real_time.time() if secs is None else secs) + clock.offset)

        def date_time_string(handler: Any, timestamp: float | None = None) -> str:
            when = (real_time.time() if timestamp is None else timestamp) + clock.offset
            return http.server.BaseHTTPRequestHandler.date_time_string(handler, when)

        ipycam.onvif.datetime = ShiftedDatetime
        ipycam.onvif.time = ShiftedTime()
        ipycam.http.IPCameraHTTPHandler.date_time_string = date_time_string


def main() -> dict[str, Any]:
    import os

    var = Path(tempfile.mkdtemp(prefix="ipycam-ns-"))
    os.environ.update({"SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DATABASE_URL": ""})
    from ipycam import CameraConfig, IPCamera  # type: ignore[import-untyped]

    from cameras import CameraCreate, FrameRegistry, delete_camera, discover, register_camera
    from cameras.ingest import CameraReader
    from cameras.service import stream_uri
    from supervision import org
    from supervision.access import SYSTEM
    from supervision.db import make_engine, session_scope, upgrade
    from supervision.errors import DeviceError
    from tests.cameras.conftest import fast_settings

    out: dict[str, Any] = {}
    config = CameraConfig(name="Hall-East", local_ip="127.0.0.1", onvif_port=ONVIF_PORT, rtsp_port=RTSP_PORT,
                          web_port=18081, go2rtc_api_port=11984, username="admin", password=PASSWORD,
                          main_width=640, main_height=360, main_fps=10, sub_fps=10)
    camera = IPCamera(config)
    out["started"] = bool(camera.start())
    out["mode"] = camera.streaming_mode
    stop = threading.Event()

    def feed() -> None:
        for i in range(3000):  # bounded: ~150 s at most
            if stop.wait(0.05):
                return
            camera.stream(np.full((360, 640, 3), (i * 7) % 255, np.uint8))

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        engine = make_engine(f"sqlite:///{var / 'test.db'}")
        upgrade(engine, ("supervision", "cameras"))
        with session_scope(engine, write=True) as s:
            site = org.create_entity(s, SYSTEM, org.OrgKind.SITE, {"code": "NS", "name": "NS", "kind": "city"})
        try:
            with session_scope(engine, write=True) as s:
                register_camera(s, SYSTEM, CameraCreate(site_id=site.id, name="wrong", host="127.0.0.1",
                                                        port=ONVIF_PORT, username="admin", password="bad"))
        except DeviceError as exc:
            out["wrong_password"] = exc.key
        # ipycam wants a login for GetSystemDateAndTime and refuses one signed more than 300 s off its clock.
        CameraClock.install()
        out["clock"] = {}
        for offset in (600, 3600, -3600):
            CameraClock.offset = offset
            try:
                with session_scope(engine, write=True) as s:
                    row = register_camera(s, SYSTEM, CameraCreate(
                        site_id=site.id, name=f"clock {offset}", host="127.0.0.1", port=ONVIF_PORT,
                        username="admin", password=PASSWORD))
                    out["clock"][str(offset)] = row.clock_offset_seconds
                    clock_id = int(row.id or 0)
                with session_scope(engine, write=True) as s:
                    delete_camera(s, SYSTEM, clock_id)
            except DeviceError as exc:
                out["clock"][str(offset)] = exc.key
        try:
            with session_scope(engine, write=True) as s:
                register_camera(s, SYSTEM, CameraCreate(site_id=site.id, name="wrong", host="127.0.0.1",
                                                        port=ONVIF_PORT, username="admin", password="bad"))
        except DeviceError as exc:
            out["clock_wrong_password"] = exc.key
        CameraClock.offset = 0.0
        with session_scope(engine, write=True) as s:
            row = register_camera(s, SYSTEM, CameraCreate(site_id=site.id, name="ipycam", host="127.0.0.1",
                                                          port=ONVIF_PORT, username="admin", password=PASSWORD))
            out["camera"] = {"manufacturer": row.manufacturer, "model": row.model, "serial": row.serial,
                             "profiles": [p.model_dump() for p in row.profiles], "main": row.main_profile,
                             "analysis": row.analysis_profile, "snapshot_basic_auth": row.snapshot_basic_auth}
            uri = stream_uri(row)
            camera_id = int(row.id or 0)
        with session_scope(engine) as s:
            found = discover(timeout=2.0, session=s)
        out["discovered"] = [d.model_dump() for d in found]
        registry = FrameRegistry()
        reader = CameraReader(camera_id, uri, fast_settings(), registry)
        reader.start()
        ends = time.monotonic() + 20
        while time.monotonic() < ends and registry.jpeg(camera_id) is None:
            time.sleep(0.2)
        got = registry.latest(camera_id)
        out["frame"] = [got.width, got.height] if got else None
        out["reader_error"] = reader.state.last_error
        reader.stop()
        reader.join(10)
    finally:
        stop.set()
        feeder.join(5)
        camera.stop()
    return out


if __name__ == "__main__":
    print(json.dumps(main(), default=str))
    sys.stdout.flush()
