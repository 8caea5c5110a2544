"""A minimal ONVIF device (Profile S subset) for the demo's virtual cameras and for fault-injecting tests.

It answers the calls registration makes — GetSystemDateAndTime, GetServices, GetDeviceInformation,
GetProfiles, GetStreamUri, GetSnapshotUri — checks WS-Security UsernameToken digests against its own
clock like a real camera, and serves a JPEG snapshot. Flags switch on the faults real devices show.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

logger = logging.getLogger(__name__)

_ENV = ('<?xml version="1.0" encoding="UTF-8"?>'
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
        'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error">'
        '<env:Body>{body}</env:Body></env:Envelope>')


@dataclass
class VirtualProfile:
    token: str
    width: int
    height: int
    codec: str = "H264"
    fps: int = 25
    bitrate_kbps: int = 2048
    gop: int = 25
    rtsp_uri: str = ""


@dataclass
class VirtualDeviceSpec:
    """What the device reports, and which faults it shows."""

    username: str = "admin"
    password: str = "admin123"
    manufacturer: str = "Supervision"
    model: str = "VirtualCam"
    firmware: str = "1.0"
    serial: str = "VC-0001"
    profiles: list[VirtualProfile] = field(default_factory=list)
    snapshot_jpeg: bytes = b""
    clock_offset_seconds: float = 0.0
    # faults
    soap_fault: bool = False            # every authenticated call answers a Receiver fault
    malformed_xml: bool = False         # answers are cut off mid-element
    not_onvif: bool = False             # an ordinary web server: HTML 404 for the SOAP endpoint
    time_needs_auth: bool = False       # quirk (ipycam): GetSystemDateAndTime is refused without auth
    reject_offset_timestamps: bool = True  # quirk (Hikvision): "Created" must end in Z, not +00:00
    snapshot_basic_only: bool = False   # quirk: the snapshot URI takes Basic only, Digest gets 401
    date_header: bool = True            # HTTP answers carry a Date header from the device's own clock
    html_page: bool = False             # a web UI on the ONVIF port: 200 with an HTML page for any POST
    requests: list[str] = field(default_factory=list)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _tag(xml: str, name: str) -> str:
    m = re.search(rf"<(?:[\w.-]+:)?{name}\b[^>]*>(.*?)</(?:[\w.-]+:)?{name}>", xml, re.S)
    return m.group(1).strip() if m else ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        logger.debug("virtual onvif: " + format, *args)

    def send_response(self, code: int, message: str | None = None) -> None:
        # As a device's web server does: Date from the device's own clock (or none at all).
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())
        if self.server.spec.date_header:
            self.send_header("Date", self.date_time_string(self.server.now().timestamp()))

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        spec = self.server.spec
        if not self.path.startswith("/snapshot.jpg"):
            self._send(404, b"not found", "text/plain")
            return
        auth = self.headers.get("Authorization", "")
        expected_basic = "Basic " + _b64(f"{spec.username}:{spec.password}".encode())
        ok = auth == expected_basic
        if auth.startswith("Digest ") and not spec.snapshot_basic_only:
            # A fake: it checks the user name, not the digest arithmetic (aiohttp's middleware is trusted).
            ok = f'username="{spec.username}"' in auth
        if not ok:
            challenge = ('Basic realm="virtual"' if spec.snapshot_basic_only
                         else 'Digest realm="virtual", nonce="abc123", qop="auth", algorithm=MD5')
            self._send(401, b"unauthorized", "text/plain", {"WWW-Authenticate": challenge})
            return
        self._send(200, spec.snapshot_jpeg or b"\xff\xd8\xff\xd9", "image/jpeg")

    def do_POST(self) -> None:
        spec = self.server.spec
        length = int(self.headers.get("Content-Length", "0") or 0)
        xml = self.rfile.read(length).decode("utf-8", "replace")
        if spec.not_onvif:
            self._send(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        if spec.html_page:
            self._send(200, b"<!DOCTYPE html><html><head><title>Router</title></head><body>Login</body></html>",
                       "text/html; charset=utf-8")
            return
        body = _tag(xml, "Body")
        m = re.search(r"<(?:[\w.-]+:)?(\w+)\b", body)
        action = m.group(1) if m else ""
        spec.requests.append(action)
        authless = action == "GetSystemDateAndTime" and not spec.time_needs_auth
        if not authless and not self._authenticated(xml):
            self._fault("env:Sender", "ter:NotAuthorized", "Sender not Authorized", status=400)
            return
        if spec.soap_fault and action != "GetSystemDateAndTime":
            self._fault("env:Receiver", "ter:ActionNotSupported", "Internal device failure")
            return
        render: Callable[[str], str] | None = getattr(self, f"_r_{action}", None)
        if render is None:
            self._fault("env:Receiver", "ter:ActionNotSupported", f"{action} not supported")
            return
        out = _ENV.format(body=render(xml))
        if spec.malformed_xml and action != "GetSystemDateAndTime":
            out = out[: len(out) // 2]
        self._send(200, out.encode(), "application/soap+xml; charset=utf-8")

    def _fault(self, code: str, subcode: str, reason: str, status: int = 500) -> None:
        body = (f"<env:Fault><env:Code><env:Value>{code}</env:Value><env:Subcode><env:Value>{subcode}"
                f"</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">{escape(reason)}"
                "</env:Text></env:Reason></env:Fault>")
        self._send(status, _ENV.format(body=body).encode(), "application/soap+xml; charset=utf-8")

    def _authenticated(self, xml: str) -> bool:
        spec = self.server.spec
        user, password = _tag(xml, "Username"), _tag(xml, "Password")
        nonce, created = _tag(xml, "Nonce"), _tag(xml, "Created")
        if user != spec.username or not created:
            return False
        if spec.reject_offset_timestamps and not created.endswith("Z"):
            return False
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return False
        if abs((when - self.server.now()).total_seconds()) > 300:
            return False  # real cameras refuse digests created too far from their own clock
        digest = hashlib.sha1(base64.b64decode(nonce) + created.encode() + spec.password.encode()).digest()
        expected = _b64(digest)
        return password == expected

    def _base(self) -> str:
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        return f"http://{host}:{port}"

    def _r_GetSystemDateAndTime(self, _xml: str) -> str:  # noqa: N802 - named after the ONVIF action
        t = self.server.now()
        return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
                "<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
                "<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
                f"<tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
                f"<tt:Second>{t.second}</tt:Second></tt:Time>"
                f"<tt:Date><tt:Year>{t.year}</tt:Year><tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day>"
                "</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")

    def _r_GetServices(self, _xml: str) -> str:  # noqa: N802 - named after the ONVIF action
        base = self._base()
        services = [("http://www.onvif.org/ver10/device/wsdl", "/onvif/device_service"),
                    ("http://www.onvif.org/ver10/media/wsdl", "/onvif/media_service")]
        items = "".join(f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}{path}</tds:XAddr>"
                        "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
                        for ns, path in services)
        return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"

    def _r_GetDeviceInformation(self, _xml: str) -> str:  # noqa: N802 - named after the ONVIF action
        s = self.server.spec
        return ("<tds:GetDeviceInformationResponse>"
                f"<tds:Manufacturer>{escape(s.manufacturer)}</tds:Manufacturer>"
                f"<tds:Model>{escape(s.model)}</tds:Model><tds:FirmwareVersion>{escape(s.firmware)}"
                f"</tds:FirmwareVersion><tds:SerialNumber>{escape(s.serial)}</tds:SerialNumber>"
                "<tds:HardwareId>VC</tds:HardwareId></tds:GetDeviceInformationResponse>")

    def _r_GetProfiles(self, _xml: str) -> str:  # noqa: N802 - named after the ONVIF action
        items = []
        for p in self.server.spec.profiles:
            h264 = (f"<tt:H264><tt:GovLength>{p.gop}</tt:GovLength>"
                    "<tt:H264Profile>Main</tt:H264Profile></tt:H264>"
                    if p.codec == "H264" else "")
            items.append(
                f'<trt:Profiles token="{p.token}" fixed="true"><tt:Name>{p.token}</tt:Name>'
                f'<tt:VideoSourceConfiguration token="vsc"><tt:Name>vsc</tt:Name><tt:UseCount>1</tt:UseCount>'
                f'<tt:SourceToken>vs</tt:SourceToken>'
                f'<tt:Bounds x="0" y="0" width="{p.width}" height="{p.height}"/>'
                f'</tt:VideoSourceConfiguration>'
                f'<tt:VideoEncoderConfiguration token="vec_{p.token}"><tt:Name>vec</tt:Name><tt:UseCount>1'
                f'</tt:UseCount><tt:Encoding>{p.codec}</tt:Encoding><tt:Resolution><tt:Width>{p.width}'
                f'</tt:Width><tt:Height>{p.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>'
                f'<tt:RateControl><tt:FrameRateLimit>{p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1'
                f'</tt:EncodingInterval><tt:BitrateLimit>{p.bitrate_kbps}</tt:BitrateLimit></tt:RateControl>'
                f'{h264}<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>'
                f'<tt:IPv4Address>0.0.0.0</tt:IPv4Address>'
                f'</tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart>'
                f'</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>'
                f'</trt:Profiles>')
        return f"<trt:GetProfilesResponse>{''.join(items)}</trt:GetProfilesResponse>"

    def _media_uri(self, element: str, uri: str) -> str:
        return (f"<trt:{element}Response><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri>"
                "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false"
                "</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
                f"</trt:{element}Response>")

    def _r_GetStreamUri(self, xml: str) -> str:  # noqa: N802 - named after the ONVIF action
        token = _tag(xml, "ProfileToken")
        prof = next((p for p in self.server.spec.profiles if p.token == token), None)
        return self._media_uri("GetStreamUri", prof.rtsp_uri if prof else "")

    def _r_GetSnapshotUri(self, _xml: str) -> str:  # noqa: N802 - named after the ONVIF action
        return self._media_uri("GetSnapshotUri", f"{self._base()}/snapshot.jpg")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    spec: VirtualDeviceSpec

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.spec.clock_offset_seconds)


class VirtualOnvifDevice:
    """Serve a VirtualDeviceSpec over HTTP on host:port (port 0: any free port) in a daemon thread."""

    def __init__(self, spec: VirtualDeviceSpec, host: str = "127.0.0.1", port: int = 0) -> None:
        self.spec = spec
        self._server = _Server((host, port), _Handler)
        self._server.spec = spec
        self._thread = threading.Thread(target=self._server.serve_forever, name="virtual-onvif", daemon=True)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> VirtualOnvifDevice:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> VirtualOnvifDevice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
