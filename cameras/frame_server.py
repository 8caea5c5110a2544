"""The worker's tiny HTTP server: the latest JPEG and a live MJPEG stream of each camera it reads."""

from __future__ import annotations

import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cameras.config import CameraSettings
from cameras.ingest import FrameRegistry
from supervision import crypto

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Supervision-Frames"
BOUNDARY = "frame"
MAX_LIVE_SECONDS = 3600


def frames_token() -> str:
    """A token derived from the installation key: only our web servers may fetch frames from workers."""
    return crypto.keyed_hash("ingest-frames")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("frames: " + format, *args)

    def _plain(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.headers.get(TOKEN_HEADER) != self.server.token:
            self._plain(403, "forbidden")
            return
        m = re.fullmatch(r"/frames/(\d+)\.(jpg|mjpeg)", self.path)
        if self.path == "/health":
            self._plain(200, "ok")
            return
        if m is None:
            self._plain(404, "not found")
            return
        cid = int(m.group(1))
        registry = self.server.registry
        if m.group(2) == "jpg":
            got = registry.jpeg(cid)
            if got is None:
                self._plain(404, "no frame")
                return
            seq, at, jpeg = got
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.send_header("X-Frame-Seq", str(seq))
            self.send_header("X-Frame-At", at.isoformat())
            self.end_headers()
            self.wfile.write(jpeg)
            return
        self._mjpeg(cid)

    def _mjpeg(self, cid: int) -> None:
        registry = self.server.registry
        if not registry.has(cid):
            self._plain(404, "no frame")
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        seq = 0
        ends = time.monotonic() + MAX_LIVE_SECONDS
        with registry.watch(cid):
            while time.monotonic() < ends and not self.server.stopping.is_set():
                if not registry.wait_newer(cid, seq, 1.0):
                    if not registry.has(cid):
                        break
                    continue
                got = registry.jpeg(cid)
                if got is None:
                    break
                seq, _at, jpeg = got
                try:
                    self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                     f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                    self.wfile.flush()
                except OSError:
                    break  # the viewer left


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    registry: FrameRegistry
    token: str
    stopping: threading.Event


class FrameServer:
    """Serve a registry's frames on the configured host/port (0 = any free port)."""

    def __init__(self, registry: FrameRegistry, settings: CameraSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        server = _Server((self.settings.frame_host, self.settings.frame_port), _Handler)
        server.registry = self.registry
        server.token = frames_token()
        server.stopping = threading.Event()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="frame-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        if self._server is None:
            return ""
        host = self.settings.frame_advertise_host or self.settings.frame_host
        return f"http://{host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stopping.set()
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
