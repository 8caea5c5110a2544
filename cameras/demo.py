"""The demo's virtual cameras: a synthetic hall scene served over RTSP, with a minimal ONVIF answer each.

`DemoCameras(var_dir).start(n)` renders a looping hall clip per camera (once, cached under var/media/demo),
serves all of them with tools/rtsp_server.py (GStreamer, system python3) and starts a VirtualOnvifDevice
per camera, so `register_camera` and the ingest read them exactly as they read real cameras. The clips
loop inside the server, so memory stays flat for hours.

Without GStreamer the same clips are served as endless MPEG-TS over HTTP (`HttpClipServer`): packets are
copied (never re-encoded) in real time, with timestamps shifted on every loop, and PyAV reads them through
the same reader as RTSP. `DemoCameraService` runs all this inside `supervision serve --demo` and registers
the cameras in the demo organisation (idempotent: a restart finds them by name and probes them again).
"""

from __future__ import annotations

import contextlib
import logging
import math
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Engine

from cameras.virtual import VirtualDeviceSpec, VirtualOnvifDevice, VirtualProfile
from supervision.settings import Settings

logger = logging.getLogger(__name__)

SERVER_SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
DEMO_PASSWORD = "demo-cam-2026"
# Part of the cached clip's file name: a change to the rendering renders the clips again.
CLIP_VERSION = "v5"
# The real footage camera (issue 13 §9): shipped under its CC BY 4.0 licence with its attribution (README there).
DEMO_FOOTAGE = Path(__file__).resolve().parent / "demo_footage" / "post-dev.mp4"
FOOTAGE_NAME = "footage"
# The demo's vacancy threshold, as data on its post zones (cameras.review.seed_demo_thresholds): with the long
# absence of each scene (`long_absence`) a new officer sees a vacancy open within minutes in office hours.
DEMO_VACANCY_MINUTES = 2.0
# Distinct hall scenes rendered (seconds each, the first time); more cameras reuse them.
DEMO_CLIPS = 6


def empty_hall(size: tuple[int, int] = (640, 360), windows: int = 4) -> npt.NDArray[np.uint8]:
    """The demo hall with nobody in it: floor, counters and window numbers (BGR); what the clip draws people on."""
    w, h = size
    img = np.full((h, w, 3), (200, 205, 210), np.uint8)
    cv2.rectangle(img, (0, int(h * 0.55)), (w, h), (150, 160, 170), -1)
    for k in range(windows):
        x0 = int(w * (0.05 + k * 0.235))
        cv2.rectangle(img, (x0, int(h * 0.18)), (x0 + int(w * 0.2), int(h * 0.45)), (120, 90, 60), -1)
        cv2.putText(img, f"A0{k + 1}", (x0 + 8, int(h * 0.16)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1)
    return img


def empty_post_jpeg(size: tuple[int, int] = (640, 360)) -> bytes:
    """The empty demo hall as a camera's JPEG: the demo zones' still of the empty post."""
    ok, data = cv2.imencode(".jpg", empty_hall(size), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data.tobytes())


def long_absence(seed: int, seconds: int, windows: int = 4) -> tuple[int, float, float]:
    """The window whose staff member leaves for long in a scene, and when (from, to in the clip's seconds).

    60 % of the clip: with the default 240-s clip that is 144 s, past the demo's 2-minute threshold, so a
    vacancy event opens and closes again when the person is back, on every loop.
    """
    return (seed - 1) % windows, 0.3 * seconds, 0.9 * seconds


def render_hall_clip(path: Path, *, seed: int, seconds: int = 60, size: tuple[int, int] = (640, 360),
                     fps: int = 10) -> Path:
    """Render a hall: a row of windows whose staff come and go (one of them for long), and a queue that grows
    while that window stands empty."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    windows = 4
    away = [(float(rng.uniform(0, seconds)), float(rng.uniform(6, 20))) for _ in range(windows)]
    gone, gone_from, gone_to = long_absence(seed, seconds, windows)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # One slice per picture. PyAV's default slice threading makes x264 cut every picture into a slice per
        # core; GStreamer's payloader (config-interval=-1) then repeats SPS/PPS before each IDR slice and
        # FFmpeg's parser splits the key frame into two half pictures: two "key frames" a second, each
        # decoded and published half-concealed.
        stream.codec_context.thread_type = "FRAME"
        # One key frame a second: analysis sees a new picture every second.
        stream.options = {"g": str(fps), "bf": "0", "preset": "veryfast", "crf": "28"}
        hall = empty_hall(size, windows)  # drawn once: a fifth of the rendering was redrawing it every picture
        for i in range(seconds * fps):
            t = i / fps
            img = hall.copy()
            for k in range(windows):
                x0 = int(w * (0.05 + k * 0.235))
                start, length = away[k]
                # The clip opens on empty posts (staff coming on duty), so a post zone's detector, which starts
                # from the first picture it sees, learns the counter without anyone at it.
                absent = (t - start) % seconds < length or t < 4
                if k == gone:  # the long absence, and otherwise at the post
                    absent = t < 4 or gone_from <= t < gone_to
                if not absent:
                    cx = x0 + int(w * 0.1) + int(4 * math.sin(t * 1.3 + k))
                    # The staff's white uniform shirts against the dark counter: what the post zones see.
                    cv2.circle(img, (cx, int(h * 0.27)), int(h * 0.04), (90, 120, 170), -1)
                    cv2.rectangle(img, (cx - 14, int(h * 0.31)), (cx + 14, int(h * 0.45)), (235, 235, 235), -1)
            queue = int(3 + 3 * math.sin(2 * math.pi * t / seconds + seed))
            if gone_from <= t < gone_to:  # nobody serves at that window: the queue builds up
                queue = min(8, queue + int((t - gone_from) / max(1.0, (gone_to - gone_from) / 5)))
            for q in range(queue):
                cx = int(w * 0.15) + q * int(w * 0.08) + int(3 * math.sin(t * 2 + q))
                cv2.circle(img, (cx, int(h * 0.68)), int(h * 0.035), (50, 50, 50), -1)
                cv2.rectangle(img, (cx - 10, int(h * 0.71)), (cx + 10, int(h * 0.86)), (90, 70, 50), -1)
            # A visitor crossing the hall: analysis sees one picture a second, and hall scenes are calm for
            # long stretches; without someone walking, the freeze detector called a demo camera frozen.
            span = w + 80
            vx = int((t * w / 8 + seed * 97) % span) - 40
            vy = int(h * 0.74)
            cv2.circle(img, (vx, vy), int(h * 0.04), (40, 120, 60), -1)
            cv2.rectangle(img, (vx - 13, vy + int(h * 0.04)), (vx + 13, vy + int(h * 0.2)), (40, 120, 60), -1)
            # A running clock: a live camera's picture always changes.
            cv2.putText(img, f"CAM {seed:02d}  {int(t) // 60:02d}:{int(t) % 60:02d}.{i % fps}", (10, h - 12),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(path)
    return path


def footage_still(path: Path | None, at_seconds: float = 0.0) -> bytes:
    """A JPEG of the footage at `at_seconds` (its first key frame by default: the post is empty then)."""
    if path is None or not path.exists():
        return b""
    with av.open(str(path)) as src:
        for frame in src.decode(video=0):
            if frame.time is not None and frame.time >= at_seconds:
                ok, data = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"), [cv2.IMWRITE_JPEG_QUALITY, 90])
                return bytes(data.tobytes()) if ok else b""
    return b""


def gstreamer_available() -> bool:
    if not SERVER_SCRIPT.exists() or not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@dataclass(frozen=True)
class DemoCamera:
    name: str
    rtsp_uri: str
    onvif_host: str
    onvif_port: int
    username: str = "admin"
    password: str = DEMO_PASSWORD
    footage: bool = False  # plays the real footage (a post seen from above and behind), not a drawn hall


class _ClipHandler(BaseHTTPRequestHandler):
    server: _ClipHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # the demo's requests are not news
        pass

    def do_GET(self) -> None:
        name = self.path.strip("/").split("?")[0].removesuffix(".ts")
        clip = self.server.clips.get(name)
        if clip is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        # When the reader goes away this connection's loop ends; nothing is kept.
        with contextlib.suppress(OSError, av.error.FFmpegError):
            stream_clip(clip, self.wfile, self.server.stop_event)


class _ClipHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], clips: dict[str, Path]) -> None:
        super().__init__(address, _ClipHandler)
        self.clips = clips
        self.stop_event = threading.Event()


def stream_clip(clip: Path, out_file: Any, stop: threading.Event, *, max_loops: int = 1_000_000) -> None:
    """Copy a clip's H.264 packets into MPEG-TS in real time, looping with ever-increasing timestamps."""
    with av.open(out_file, "w", format="mpegts") as out:
        offset = 0
        started = time.monotonic()
        out_stream: Any = None
        for _loop in range(max_loops):
            with av.open(str(clip)) as src:
                stream = src.streams.video[0]
                if out_stream is None:
                    out_stream = out.add_stream_from_template(stream)
                base = stream.time_base or 1
                last = 0
                for packet in src.demux(stream):
                    if stop.is_set():
                        return
                    if packet.dts is None:
                        continue
                    at = float((packet.pts or packet.dts) * base) + float(offset * base)
                    wait = started + at - time.monotonic()
                    if wait > 0 and stop.wait(min(wait, 1.0)):
                        return
                    last = max(last, int(packet.pts or packet.dts) + int(packet.duration or 0))
                    packet.pts = (packet.pts or packet.dts) + offset
                    packet.dts = packet.dts + offset
                    packet.stream = out_stream
                    out.mux(packet)
                offset += last


class HttpClipServer:
    """Serve clips as endless MPEG-TS over HTTP on loopback: the demo's cameras where GStreamer is missing."""

    def __init__(self, clips: dict[str, Path], host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _ClipHTTPServer((host, port), clips)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-http-clips", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.ts"

    def start(self) -> HttpClipServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop_event.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class DemoCameras:
    """Virtual cameras for `supervision serve --demo`; start() returns them, stop() ends what it started."""

    def __init__(self, var_dir: Path, *, rtsp_port: int = 0, clip_seconds: int = 60,
                 transport: str = "auto", footage: Path | None = None) -> None:
        self.clip_seconds = clip_seconds
        self.footage = footage  # the real footage camera's clip, or None for none
        self.dir = var_dir / "media" / "demo"
        self.rtsp_port = rtsp_port
        self.transport = transport
        self._proc: subprocess.Popen[str] | None = None
        self._http: HttpClipServer | None = None
        self._devices: list[VirtualOnvifDevice] = []

    def start(self, count: int = 4) -> list[DemoCamera]:
        # Cameras beyond DEMO_CLIPS share the rendered scenes (each still has a mount and a device of its own).
        clips = {f"hall{i}": render_hall_clip(self.dir / f"hall{k}-{CLIP_VERSION}.mp4", seed=k,
                                              seconds=self.clip_seconds)
                 for i in range(1, count + 1) for k in [(i - 1) % DEMO_CLIPS + 1]}
        if self.footage is not None:
            if self.footage.exists():
                clips[FOOTAGE_NAME] = self.footage
            else:
                logger.warning("the demo's real-footage camera is skipped: %s is missing", self.footage)
        use_rtsp = self.transport == "rtsp" or (self.transport == "auto" and gstreamer_available())
        if not use_rtsp:
            logger.info("demo cameras over HTTP (MPEG-TS): GStreamer's RTSP server is not used")
            return self._start_http(clips)
        # --exit-on-eof: the server ends with us even after a kill -9 (our end of its stdin closes then), so
        # a restarted demo never finds an orphaned server of the last run still serving.
        args = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--host", "127.0.0.1", "--port", str(self.rtsp_port),
                "--exit-on-eof"]
        for name, path in clips.items():
            args += ["--clip", f"{name}={path}", "--mount", f"{name}={name}"]
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._proc.stdout.readline()  # type: ignore[union-attr]
                                                             if self._proc else ""), daemon=True)
        reader.start()
        reader.join(60)
        if not line or not line[0].startswith("READY"):
            self.stop()
            logger.error("the demo RTSP server did not start")
            return []
        port = int(line[0].split()[1])
        cameras = []
        for i, name in enumerate(clips, start=1):
            uri = f"rtsp://127.0.0.1:{port}/{name}"
            cameras.append(self._device(i, name, uri))
        logger.info("demo cameras: %d virtual cameras on RTSP port %d", len(cameras), port)
        return cameras

    def _start_http(self, clips: dict[str, Path]) -> list[DemoCamera]:
        self._http = HttpClipServer(clips).start()
        cameras = []
        for i, name in enumerate(clips, start=1):
            cameras.append(self._device(i, name, self._http.url(name)))
        logger.info("demo cameras: %d virtual cameras over HTTP on port %d", len(cameras), self._http.port)
        return cameras

    def _device(self, i: int, name: str, uri: str) -> DemoCamera:
        """The ONVIF face of mount `name`: a drawn hall (640×360) or the real footage (768×432)."""
        footage = name == FOOTAGE_NAME
        width, height = (768, 432) if footage else (640, 360)
        spec = VirtualDeviceSpec(password=DEMO_PASSWORD, model="VirtualPostCam" if footage else "VirtualHallCam",
                                 serial=f"DEMO-{i:04d}", snapshot_jpeg=footage_still(self.footage) if footage else b"",
                                 profiles=[VirtualProfile("main", width, height, fps=10, gop=10, rtsp_uri=uri)])
        device = VirtualOnvifDevice(spec).start()
        self._devices.append(device)
        return DemoCamera(name, uri, device.host, device.port, footage=footage)

    def stop(self) -> None:
        for device in self._devices:
            device.stop()
        self._devices.clear()
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()  # the server we started, by its handle
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None


DEMO_CAMERAS_PER_HALL = 2


class DemoCameraService:
    """Starts the virtual cameras inside `serve --demo` and registers them; a ServiceFactory's service.

    Starting runs in a thread (rendering the clips the first time takes seconds), so the web answers at once;
    the ingest picks the cameras up on its next lease round.
    """

    def __init__(self, engine: Engine, var_dir: Path, stop_event: threading.Event, *, count: int = 6,
                 transport: str = "auto", clip_seconds: int = 60, footage: Path | None = DEMO_FOOTAGE) -> None:
        self.engine = engine
        self.stop_event = stop_event
        self.count = count
        self.demo = DemoCameras(var_dir, transport=transport, clip_seconds=clip_seconds, footage=footage)
        self.camera_ids: list[int] = []
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-cameras", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.join(timeout=60)
        self.demo.stop()

    def _run(self) -> None:
        try:
            cams = self.demo.start(self.count)
            if cams and not self.stop_event.is_set():
                self.camera_ids = register_demo_cameras(self.engine, cams)
        except Exception:
            logger.exception("the demo cameras did not start")
        finally:
            self.ready.set()


def demo_camera_halls(halls: Sequence[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Where the demo's cameras go, in order: (hall id, site id) per camera.

    `halls` are (hall id, site id, site kind) in site-path order. The city's first halls get two cameras
    each (the first six, as before), then every county's and park's first hall one, so each county account
    sees its own hall live; cameras beyond that go to the township halls.
    """
    city = [(h, site) for h, site, kind in halls if kind == "city"]
    firsts: dict[int, tuple[int, int]] = {}
    towns: dict[int, tuple[int, int]] = {}
    for h, site, kind in halls:
        if kind in ("county", "park"):
            firsts.setdefault(site, (h, site))
        elif kind == "township":
            towns.setdefault(site, (h, site))
    slots = [hall for hall in city[:3] for _ in range(DEMO_CAMERAS_PER_HALL)]
    return slots + list(firsts.values()) + list(towns.values()) or [(h, site) for h, site, _ in halls[:1]]


def register_demo_cameras(engine: Engine, cams: list[DemoCamera]) -> list[int]:
    """Register the virtual cameras in the demo organisation's halls, or point existing ones at them."""
    from sqlmodel import col, select

    from cameras.camera_reference import seed_demo_alerts
    from cameras.evidence_capture import seed_demo_evidence
    from cameras.models import Camera, CameraCreate
    from cameras.review import seed_demo_false_alarm, seed_demo_thresholds
    from cameras.service import probe_camera, register_camera
    from cameras.vacancy import seed_demo_events
    from cameras.zones import seed_demo_references, seed_demo_zones
    from supervision import crypto
    from supervision.access import SYSTEM
    from supervision.db import session_scope
    from supervision.models import Hall, Site
    from supervision.settings import get_settings

    ids: list[int] = []
    with session_scope(engine) as s:
        halls = [(int(h.id or 0), h.site_id, site.kind) for h, site in s.exec(
            select(Hall, Site).join(Site, col(Site.id) == col(Hall.site_id))
            .order_by(col(Site.path), col(Hall.id))).all()]
    slots = demo_camera_halls(halls)
    if not slots:
        logger.warning("no halls: seed the demo organisation first; the demo cameras stay unregistered")
        return ids
    drawn = 0
    for cam in cams:
        if cam.footage:  # the city's first hall: the officer who opens the demo first sees it
            (hall_id, site_id), name = slots[0], FOOTAGE_CAMERA
        else:
            hall_id, site_id = slots[min(drawn, len(slots) - 1)]
            drawn += 1
            name = f"演示摄像机 {drawn:02d}"
        # Each write in its own transaction, and the device asked with none open (register and probe
        # read, end their read, ask the device, then write).
        with session_scope(engine) as s:
            existing = s.exec(select(Camera).where(col(Camera.is_demo), col(Camera.name) == name)).first()
        if existing is None:
            with session_scope(engine, write=True) as s:
                row = register_camera(s, SYSTEM, CameraCreate(
                    site_id=site_id, hall_id=hall_id, name=name, host=cam.onvif_host, port=cam.onvif_port,
                    username=cam.username, password=cam.password, is_demo=True))
        else:
            with session_scope(engine, write=True) as s:
                found = s.get(Camera, existing.id)
                if found is None:
                    continue
                found.host, found.port = cam.onvif_host, cam.onvif_port
                found.username, found.password_enc = cam.username, crypto.encrypt(cam.password)
                s.add(found)
            with session_scope(engine, write=True) as s:
                row = probe_camera(s, SYSTEM, int(existing.id or 0))
        ids.append(int(row.id or 0))
        if cam.footage:
            still = footage_still(DEMO_FOOTAGE)
            with session_scope(engine, write=True) as s:
                seed_footage_zone(s, int(row.id or 0))
            with session_scope(engine, write=True) as s:
                seed_demo_references(s, int(row.id or 0), still, get_settings().media_dir)
            with session_scope(engine, write=True) as s:
                seed_demo_thresholds(s, int(row.id or 0), DEMO_VACANCY_MINUTES)
            continue
        with session_scope(engine, write=True) as s:
            seed_demo_zones(s, SYSTEM, int(row.id or 0))
        with session_scope(engine, write=True) as s:
            seed_demo_references(s, int(row.id or 0), empty_post_jpeg(), get_settings().media_dir)
        with session_scope(engine, write=True) as s:
            seed_demo_events(s, int(row.id or 0))
        # Evidence for those events, cut from the camera's own clip (files first, then short writes).
        clip = f"hall{(drawn - 1) % DEMO_CLIPS + 1}-{CLIP_VERSION}.mp4"  # the scene this camera plays
        seed_demo_evidence(engine, int(row.id or 0), get_settings().var_dir / "media" / "demo" / clip)
        with session_scope(engine, write=True) as s:
            seed_demo_alerts(s, int(row.id or 0), empty_post_jpeg(), get_settings().media_dir)
        with session_scope(engine, write=True) as s:
            seed_demo_false_alarm(s, int(row.id or 0))
        with session_scope(engine, write=True) as s:
            seed_demo_thresholds(s, int(row.id or 0), DEMO_VACANCY_MINUTES)
    logger.info("demo cameras registered: %s", ids)
    return ids


FOOTAGE_CAMERA = "实拍演示摄像机"


def footage_post_roi(path: Path = DEMO_FOOTAGE) -> list[tuple[float, float]]:
    """The post's region in the footage, from its labels (drawn by eye on the clip, normalized)."""
    import json

    labels = json.loads(path.with_name(path.stem + ".labels.json").read_text(encoding="utf-8"))
    return [(float(x), float(y)) for x, y in labels["post_roi_normalized"]]


def seed_footage_zone(session: Any, camera_id: int) -> int:
    """The real-footage camera's post zone (once): on a post of its hall that no other zone watches, if any."""
    from sqlmodel import col, select

    from cameras.models import Camera, Zone, ZoneCreate, ZoneKind
    from cameras.zones import create_zone
    from supervision.access import SYSTEM
    from supervision.models import Post, Window

    if session.exec(select(Zone.id).where(col(Zone.camera_id) == camera_id)).first() is not None:
        return 0
    camera = session.get(Camera, camera_id)
    if camera is None:
        return 0
    watched = {p for p in session.exec(select(Zone.post_id).where(col(Zone.post_id).is_not(None))).all()}
    posts = session.exec(select(Post).join(Window, col(Window.id) == col(Post.window_id)).where(
        col(Window.hall_id) == camera.hall_id).order_by(col(Window.id).desc(), col(Post.id))).all()
    # A post no drawn camera watches, else the hall's last one (two cameras on one post, as a real hall may have).
    post = next((p for p in posts if p.id not in watched), posts[0] if posts else None)
    if post is None:
        logger.warning("the real-footage camera gets no zone: its hall has no post")
        return 0
    create_zone(session, SYSTEM, camera_id, ZoneCreate(
        name=f"实拍岗位 · {post.name}"[:80], kind=ZoneKind.POST, post_id=post.id, polygon=footage_post_roi()))
    return 1


def demo_service_factory(engine: Engine, settings: Settings, stop_event: threading.Event) -> DemoCameraService:
    """The runtime's ServiceFactory for the demo's virtual cameras (`serve --demo`)."""
    from cameras.config import get_camera_settings

    cs = get_camera_settings()
    return DemoCameraService(engine, settings.var_dir, stop_event, count=cs.demo_cameras,
                             transport=cs.demo_transport, clip_seconds=cs.demo_clip_seconds)
