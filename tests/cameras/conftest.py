"""Camera test helpers: the GStreamer RTSP server as a real peer, H.264 clips made with ffmpeg, fast settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cameras.config import CameraSettings

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    # Until pyproject.toml lists it: camera tests that need more than 10 s (select with -m slow / not slow).
    config.addinivalue_line("markers", "slow: takes more than 10 s (camera tests against real servers)")
SERVER_SCRIPT = ROOT / "tools" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def gstreamer_missing() -> str:
    """Why the GStreamer RTSP server cannot run here, or '' when it can."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    if not os.path.exists(SYSTEM_PYTHON):
        return "no system python3 at /usr/bin/python3"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); "
         "from gi.repository import GstRtspServer"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        return ("GStreamer RTSP server missing (apt-get install gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp "
                "python3-gi gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)")
    return ""


def fast_settings(**overrides: float | int | str) -> CameraSettings:
    values: dict[str, float | int | str] = dict(
        offline_after_seconds=3.0, frozen_after_seconds=3.0, recover_after_seconds=1.0, lease_seconds=4.0,
        open_timeout_seconds=3.0, read_timeout_seconds=2.0, backoff_min_seconds=0.2, backoff_max_seconds=1.0,
        connect_stagger_seconds=0.0, health_flush_seconds=0.5)
    values.update(overrides)
    return CameraSettings(**values)  # type: ignore[arg-type]


def make_clip(path: Path, *, source: str, size: str, seconds: float = 4, fps: int = 25, gop: int = 25) -> Path:
    if not path.exists():
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{source}=size={size}:rate={fps}",
             "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-bf", "0",
             "-pix_fmt", "yuv420p", str(path)], check=True, timeout=120)
    return path


class RtspServer:
    """tools/rtsp_server.py in a child process we started; stopped by its PID."""

    def __init__(self, clips: dict[str, Path], mounts: dict[str, str], extra_args: tuple[str, ...] = ()) -> None:
        args = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--host", "127.0.0.1", "--port", "0"]
        for name, path in clips.items():
            args += ["--clip", f"{name}={path}"]
        for mount, clip in mounts.items():
            args += ["--mount", f"{mount}={clip}"]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self._lock = threading.Lock()
        line = self._readline(30)
        if not line.startswith("READY"):
            self.close()
            raise RuntimeError(f"RTSP server did not start: {line!r}")
        self.port = int(line.split()[1])

    def _readline(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline() if self.proc.stdout
                                                               else ""), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0].strip() if result else ""

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def command(self, text: str) -> None:
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()
            reply = self._readline(10)
        assert reply.startswith("OK"), reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    why = gstreamer_missing()
    if why:
        pytest.skip(why)
    d = tmp_path_factory.mktemp("clips")
    return {
        "main": make_clip(d / "main.mp4", source="testsrc2", size="640x360"),
        "still": make_clip(d / "still.mp4", source="smptebars", size="640x360", seconds=2),
        "big": make_clip(d / "big.mp4", source="testsrc2", size="960x540", seconds=2),
    }


@pytest.fixture
def rtsp(clips: dict[str, Path]) -> Iterator[RtspServer]:
    server = RtspServer(clips, {f"cam{i}": "main" for i in range(1, 5)})
    try:
        yield server
    finally:
        server.close()


def wait_for(predicate: object, timeout: float, step: float = 0.1) -> bool:
    """Poll a condition, bounded."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step)
    return bool(predicate())  # type: ignore[operator]
