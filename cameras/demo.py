"""The demo's virtual cameras: a synthetic hall scene served over RTSP, with a minimal ONVIF answer each.

`DemoCameras(var_dir).start(n)` renders a looping hall clip per camera (once, cached under var/media/demo),
serves all of them with tools/rtsp_server.py (GStreamer, system python3) and starts a VirtualOnvifDevice
per camera, so `register_camera` and the ingest read them exactly as they read real cameras. The clips
loop inside the server, so memory stays flat for hours.
"""

from __future__ import annotations

import logging
import math
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from cameras.virtual import VirtualDeviceSpec, VirtualOnvifDevice, VirtualProfile

logger = logging.getLogger(__name__)

SERVER_SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
DEMO_PASSWORD = "demo-cam-2026"


def render_hall_clip(path: Path, *, seed: int, seconds: int = 60, size: tuple[int, int] = (640, 360),
                     fps: int = 10) -> Path:
    """Render a hall: a row of windows whose staff come and go, and a queue that grows and shrinks."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    windows = 4
    away = [(float(rng.uniform(0, seconds)), float(rng.uniform(6, 20))) for _ in range(windows)]
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # One key frame a second: analysis sees a new picture every second.
        stream.options = {"g": str(fps), "bf": "0", "preset": "veryfast", "crf": "28"}
        for i in range(seconds * fps):
            t = i / fps
            img = np.full((h, w, 3), (200, 205, 210), np.uint8)
            cv2.rectangle(img, (0, int(h * 0.55)), (w, h), (150, 160, 170), -1)
            for k in range(windows):
                x0 = int(w * (0.05 + k * 0.235))
                cv2.rectangle(img, (x0, int(h * 0.18)), (x0 + int(w * 0.2), int(h * 0.45)), (120, 90, 60), -1)
                cv2.putText(img, f"A0{k + 1}", (x0 + 8, int(h * 0.16)), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                            (40, 40, 40), 1)
                start, length = away[k]
                absent = (t - start) % seconds < length
                if not absent:
                    cx = x0 + int(w * 0.1) + int(4 * math.sin(t * 1.3 + k))
                    cv2.circle(img, (cx, int(h * 0.27)), int(h * 0.04), (60, 80, 200), -1)
                    cv2.rectangle(img, (cx - 14, int(h * 0.31)), (cx + 14, int(h * 0.45)), (60, 80, 200), -1)
            queue = int(3 + 3 * math.sin(2 * math.pi * t / seconds + seed))
            for q in range(queue):
                cx = int(w * 0.15) + q * int(w * 0.08) + int(3 * math.sin(t * 2 + q))
                cv2.circle(img, (cx, int(h * 0.68)), int(h * 0.035), (50, 50, 50), -1)
                cv2.rectangle(img, (cx - 10, int(h * 0.71)), (cx + 10, int(h * 0.86)), (90, 70, 50), -1)
            # A running clock: a live camera's picture always changes, so the freeze detector stays quiet.
            cv2.putText(img, f"CAM {seed:02d}  {int(t) // 60:02d}:{int(t) % 60:02d}.{i % fps}", (10, h - 12),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(path)
    return path


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


class DemoCameras:
    """Virtual cameras for `supervision serve --demo`; start() returns them, stop() ends what it started."""

    def __init__(self, var_dir: Path, *, rtsp_port: int = 0, clip_seconds: int = 60) -> None:
        self.clip_seconds = clip_seconds
        self.dir = var_dir / "media" / "demo"
        self.rtsp_port = rtsp_port
        self._proc: subprocess.Popen[str] | None = None
        self._devices: list[VirtualOnvifDevice] = []

    def start(self, count: int = 4) -> list[DemoCamera]:
        if not gstreamer_available():
            logger.warning("GStreamer's RTSP server is not installed: the demo has no live cameras")
            return []
        clips = {f"hall{i}": render_hall_clip(self.dir / f"hall{i}.mp4", seed=i, seconds=self.clip_seconds)
                 for i in range(1, count + 1)}
        args = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--host", "127.0.0.1", "--port", str(self.rtsp_port)]
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
            spec = VirtualDeviceSpec(password=DEMO_PASSWORD, model="VirtualHallCam", serial=f"DEMO-{i:04d}",
                                     profiles=[VirtualProfile("main", 640, 360, fps=10, gop=10, rtsp_uri=uri)])
            device = VirtualOnvifDevice(spec).start()
            self._devices.append(device)
            cameras.append(DemoCamera(name, uri, device.host, device.port))
        logger.info("demo cameras: %d virtual cameras on RTSP port %d", len(cameras), port)
        return cameras

    def stop(self) -> None:
        for device in self._devices:
            device.stop()
        self._devices.clear()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()  # the server we started, by its handle
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
