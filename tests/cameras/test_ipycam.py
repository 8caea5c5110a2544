"""ipycam, a third-party ONVIF camera, registered and discovered inside a private network namespace.

ipycam binds 0.0.0.0 and multicasts WS-Discovery Hello, so it runs only inside `unshare -n` with its own
loopback (plus a multicast route on it), together with the code that talks to it (tests/cameras/
ipycam_netns.py). Nothing reaches the machine's real interfaces.

ipycam's quirks, as found (ipycam 1.3.0):
- GetSystemDateAndTime is refused without authentication: the client retries it with credentials, signed
  with the camera's time as its HTTP Date header tells it (the test sets ipycam's clock 10 min and an hour off).
- Its snapshot URI takes HTTP Basic only (detected: `snapshot_basic_auth`).
- The ProbeMatch's scopes carry the camera name unescaped ("name/Hall East" splits into two scopes on
  the space); discovery reads leniently and keeps the first word. Profiles do not report a GOP.
- Without go2rtc it serves RTSP natively (`streaming_mode == "native_rtsp"`), which the ingest reads.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _why_not() -> str:
    try:
        import ipycam  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "ipycam is not installed (pip install --no-deps ipycam, see the Makefile)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare/ip (util-linux, iproute2) are missing"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        return "cannot create a network namespace here (unshare -n needs CAP_SYS_ADMIN)"
    return ""


def test_ipycam_registers_over_onvif_is_discovered_and_streams() -> None:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    script = ("ip link set lo up && ip route add 224.0.0.0/4 dev lo && "
              f"exec {sys.executable} -m tests.cameras.ipycam_netns")
    done = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["started"] and out["wrong_password"] == "camera.error.auth_failed"
    # Its clock 10 min or an hour off: found from its HTTP Date header, the login signed with its time.
    for offset, measured in out["clock"].items():
        assert isinstance(measured, float) and abs(measured - int(offset)) < 3, out["clock"]
    # With its clock off, a wrong password is still a wrong password.
    assert out["clock_wrong_password"] == "camera.error.auth_failed"
    cam = out["camera"]
    assert cam["manufacturer"] == "PythonCam" and cam["model"] == "VirtualCam-1"
    assert {p["token"] for p in cam["profiles"]} == {"Profile_Main", "Profile_Sub"}
    assert all(p["codec"] == "H264" and p["rtsp_uri"].startswith("rtsp://") for p in cam["profiles"])
    assert cam["main"] and cam["analysis"]
    assert cam["snapshot_basic_auth"] is True
    found = [d for d in out["discovered"] if d["port"] == 18080]
    assert len(found) == 1 and found[0]["host"] == "127.0.0.1"
    assert found[0]["registered_camera_id"] is not None  # "Find cameras" marks it as registered
    assert out["frame"] == [640, 360], out["reader_error"]
