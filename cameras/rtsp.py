"""A lean RTSP 1.0 client for H.264 over RTP interleaved on the RTSP TCP connection (RFC 2326 §10.12, RFC 6184).

Why our own: FFmpeg's RTSP demuxer returns every access unit to Python through PyAV (25 wake-ups a second per
camera) and its TCP demux was most of the ingest's CPU (bench/cameras/RESULTS.md). Here the socket is drained
in large chunks on a timer, the `$`-framed packets are parsed from one buffer with memoryview, and only access
units holding an IDR slice are assembled (Annex-B, with SPS/PPS); every other packet is only counted.

The module has three layers, each usable alone:

- pure helpers: URL and SDP parsing, request building and response parsing, Basic/Digest authentication;
- `H264Receiver`: the interleaved-frame parser and the H.264 depacketiser (single NAL, STAP-A, FU-A), sans I/O;
- `RtspClient`: the handshake over a non-blocking socket driven by asyncio (OPTIONS, DESCRIBE, SETUP, PLAY),
  then `drain()` (non-blocking reads until the socket is empty), keep-alive and TEARDOWN.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

USER_AGENT = "supervision-ingest/1.0"
START_CODE = b"\x00\x00\x00\x01"
BUFFER_SIZE = 256 * 1024  # per connection; one interleaved frame is at most 64 KiB + 4
MAX_RESPONSE = 64 * 1024  # an RTSP response head + SDP larger than this is not a camera
RECV_BUFFER = 1024 * 1024  # SO_RCVBUF: the kernel holds what arrives between two drains

_RTP_HEAD = struct.Struct("!BBHI")


class RtspError(Exception):
    """The camera answered, but not in a way we can use; `code` is a message key for the operator."""

    code = "camera.stream.open_failed"


class RtspStatusError(RtspError):
    def __init__(self, method: str, status: int, reason: str) -> None:
        super().__init__(f"{method}: {status} {reason}")
        self.status = status


class RtspAuthError(RtspStatusError):
    pass


class RtspUnsupportedError(RtspError):
    """No H.264 video over TCP here (another codec, UDP only): the FFmpeg reader should take this camera."""


class RtspClosedError(RtspError):
    code = "camera.stream.no_packets"


class RtspGarbageError(RtspError):
    code = "camera.stream.bad_data"


# --- URL, requests, responses ------------------------------------------------------------------------


@dataclass(frozen=True)
class RtspUrl:
    url: str  # without credentials: what goes on the request line
    host: str
    port: int
    username: str
    password: str

    @classmethod
    def parse(cls, uri: str) -> RtspUrl:
        parts = urlsplit(uri)
        if parts.scheme.lower() not in ("rtsp", "rtspt"):
            raise RtspUnsupportedError(f"not an RTSP URL: {parts.scheme}")
        host = parts.hostname or ""
        if not host:
            raise RtspError("RTSP URL without a host")
        port = parts.port or 554
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        clean = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
        return cls(clean, host, port, unquote(parts.username or ""), unquote(parts.password or ""))


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with "\n"
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def build_request(method: str, url: str, cseq: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def parse_response(buf: bytes | bytearray, start: int, end: int) -> tuple[Response, int] | None:
    """Parse one response at buf[start:end]; return it and where it ends, or None when incomplete.

    Raises RtspGarbageError when the bytes there are not an RTSP response.
    """
    line_end = buf.find(b"\r\n", start, min(end, start + 256))
    if line_end < 0 and end - start >= 256:
        raise RtspGarbageError("no RTSP status line")
    if line_end >= 0 and re.match(rb"RTSP/\d\.\d \d{3}", bytes(buf[start:line_end])) is None:
        raise RtspGarbageError("not an RTSP status line")
    head_end = buf.find(b"\r\n\r\n", start, end)
    if head_end < 0:
        if end - start > MAX_RESPONSE:
            raise RtspGarbageError("RTSP response head too long")
        return None
    lines = bytes(buf[start:head_end]).decode("utf-8", "replace").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("RTSP/") or not status_line[1].isdigit():
        raise RtspGarbageError(f"not an RTSP response: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        headers[key] = f"{headers[key]}\n{value.strip()}" if key in headers else value.strip()
    try:
        length = int(headers.get("content-length", "0") or 0)
    except ValueError as exc:
        raise RtspGarbageError("bad Content-Length") from exc
    if length < 0 or length > MAX_RESPONSE:
        raise RtspGarbageError("Content-Length out of range")
    body_start = head_end + 4
    if end - body_start < length:
        return None
    reason = status_line[2] if len(status_line) > 2 else ""
    return Response(int(status_line[1]), reason, headers, bytes(buf[body_start:body_start + length])), \
        body_start + length


# --- SDP -------------------------------------------------------------------------------------------


@dataclass
class VideoTrack:
    control_url: str
    payload_type: int
    codec: str  # upper case encoding name from a=rtpmap, e.g. "H264"
    clock_rate: int
    parameter_sets: list[bytes] = field(default_factory=list)  # NAL units from sprop-parameter-sets
    session_url: str = ""  # the aggregate control URL for PLAY (session-level a=control), if any


def parse_sdp(text: str, base_url: str) -> VideoTrack:
    """The first video media of an SDP (RFC 4566) with its control URL (RFC 2326 C.1.1) and H.264 parameters."""
    session_control = ""
    media: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            media.append([line])
        elif media:
            media[-1].append(line)
        elif line.startswith("a=control:"):
            session_control = line[len("a=control:"):].strip()
    base = base_url
    if session_control and session_control != "*":
        base = _resolve(base_url, session_control)
    for block in media:
        m = block[0][2:].split()
        if len(m) < 4 or m[0] != "video":
            continue
        pts = [int(p) for p in m[3:] if p.isdigit()]
        rtpmap: dict[int, tuple[str, int]] = {}
        fmtp: dict[int, str] = {}
        control = ""
        for line in block[1:]:
            if line.startswith("a=rtpmap:"):
                map_pt, _, enc = line[len("a=rtpmap:"):].partition(" ")
                name, _, rest = enc.partition("/")
                with contextlib.suppress(ValueError):
                    rtpmap[int(map_pt)] = (name.strip().upper(), int(rest.split("/")[0] or 90000))
            elif line.startswith("a=fmtp:"):
                fmtp_pt, _, params = line[len("a=fmtp:"):].partition(" ")
                with contextlib.suppress(ValueError):
                    fmtp[int(fmtp_pt)] = params
            elif line.startswith("a=control:"):
                control = line[len("a=control:"):].strip()
        for pt in pts:
            codec, rate = rtpmap.get(pt, ("", 90000))
            if codec != "H264":
                continue
            sets: list[bytes] = []
            for param in fmtp.get(pt, "").split(";"):
                key, _, value = param.strip().partition("=")
                if key.lower() == "sprop-parameter-sets":
                    for b64 in value.split(","):
                        with contextlib.suppress(ValueError):
                            nal = base64.b64decode(b64.strip() + "=" * (-len(b64.strip()) % 4))
                            if nal:
                                sets.append(nal)
            url = base if not control or control == "*" else _resolve(base, control)
            return VideoTrack(url, pt, codec, rate, sets, base if session_control not in ("", "*") else "")
        codecs = ",".join(rtpmap.get(p, ("?", 0))[0] for p in pts)
        raise RtspUnsupportedError(f"video is not H.264 ({codecs})")
    raise RtspUnsupportedError("no video media in the SDP")


def _resolve(base: str, control: str) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", control):
        return control
    return urljoin(base if base.endswith("/") else base + "/", control)


# --- authentication ----------------------------------------------------------------------------------


class Authenticator:
    """Basic or Digest (RFC 2617, MD5, with or without qop=auth), chosen from the camera's 401."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.scheme = ""
        self.realm = ""
        self.nonce = ""
        self.opaque = ""
        self.qop = ""
        self.algorithm = "MD5"
        self._nc = 0

    def challenge(self, www_authenticate: str) -> bool:
        """Take the challenges of a 401 (one per line); return False if we cannot answer any."""
        if not self.username:
            return False
        offers = [c.strip() for c in www_authenticate.split("\n") if c.strip()]
        digest = next((c for c in offers if c.lower().startswith("digest")), None)
        if digest is not None:
            params = dict((k.lower(), v) for k, v in _auth_params(digest[6:]))
            algorithm = params.get("algorithm", "MD5")
            if algorithm.upper() not in ("MD5", "MD5-SESS"):
                digest = None
            else:
                stale_retry = self.scheme == "digest" and params.get("nonce") != self.nonce
                first = self.scheme != "digest"
                self.scheme = "digest"
                self.realm = params.get("realm", "")
                self.nonce = params.get("nonce", "")
                self.opaque = params.get("opaque", "")
                qops = [q.strip() for q in params.get("qop", "").split(",")]
                self.qop = "auth" if "auth" in qops else ""
                self.algorithm = algorithm
                self._nc = 0
                return first or stale_retry
        if any(c.lower().startswith("basic") for c in offers):
            first = self.scheme != "basic"
            self.scheme = "basic"
            return first
        return False

    def header(self, method: str, uri: str) -> str:
        if self.scheme == "basic":
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return f"Basic {token}"
        if self.scheme != "digest":
            return ""
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        cnonce = os.urandom(8).hex()
        if self.algorithm.upper() == "MD5-SESS":
            ha1 = _md5(f"{ha1}:{self.nonce}:{cnonce}")
        ha2 = _md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{self.realm}"', f'nonce="{self.nonce}"',
                 f'uri="{uri}"']
        if self.qop:
            self._nc += 1
            nc = f"{self._nc:08x}"
            response = _md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:{self.qop}:{ha2}")
            parts += [f'response="{response}"', f"qop={self.qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{self.nonce}:{ha2}")
            parts.append(f'response="{response}"')
        if self.opaque:
            parts.append(f'opaque="{self.opaque}"')
        if self.algorithm.upper() != "MD5":
            parts.append(f"algorithm={self.algorithm}")
        return "Digest " + ", ".join(parts)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _auth_params(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
            for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))', text)]


# --- interleaved frames and H.264 depacketisation ------------------------------------------------------


class H264Receiver:
    """Parses `$`-framed interleaved packets and depacketises H.264 (RFC 6184) from one RTP channel.

    Every access unit (RTP marker bit) is reported to `on_unit(size, key, annexb)`; `annexb` is the Annex-B
    bytes (SPS, PPS, slices) of access units with an IDR slice and None for all others (never assembled),
    unless `collect_all` is set (a camera watched live or decoded in full): then every access unit from the
    next IDR on. RTSP responses that arrive between packets (keep-alive replies) go to `on_response`.
    Bytes that are neither are skipped up to the next plausible `$` frame and counted in `garbage_bytes`.
    """

    def __init__(self, channel: int, payload_type: int, parameter_sets: list[bytes],
                 on_unit: Callable[[int, bool, bytes | None], None],
                 on_response: Callable[[Response], None] | None = None) -> None:
        self.channel = channel
        self.payload_type = payload_type
        self.on_unit = on_unit
        self.on_response = on_response
        self.sps = b""
        self.pps: list[bytes] = []  # distinct PPS, newest last (cameras may use several, by pps_id)
        for nal in parameter_sets:
            self._param(nal)
        self.collect_all = False
        self._all_started = False
        # the access unit being received
        self._au_bytes = 0
        self._au_key = False
        self._au_ts: int | None = None
        self._parts: list[bytes] | None = None  # collecting this access unit's slices
        self._fu_keep = False  # the FU-A in progress is being collected
        self._next_seq: int | None = None
        self._broken = False  # a packet of the access unit being collected was lost
        # counters for health and tests
        self.packets = 0
        self.units = 0
        self.key_units = 0
        self.bytes = 0
        self.garbage_bytes = 0
        self.other_packets = 0
        self.lost_packets = 0

    def _param(self, nal: bytes) -> None:
        if not nal:
            return
        t = nal[0] & 0x1F
        if t == 7:
            if nal != self.sps:
                self.pps = []  # a new sequence (another resolution): its PPS follow it
            self.sps = nal
        elif t == 8:
            if nal in self.pps:
                if self.pps[-1] != nal:
                    self.pps.remove(nal)
                    self.pps.append(nal)
            else:
                self.pps = [*self.pps[-3:], nal]  # at most 4; a newer one with the same id wins (it comes last)

    def feed(self, buf: bytearray, start: int, end: int) -> int:
        """Consume whole frames from buf[start:end]; return the offset of the first unconsumed byte."""
        mv = memoryview(buf)
        try:
            pos = start
            channel = self.channel
            while end - pos >= 4:
                first = buf[pos]
                if first == 0x24:  # '$'
                    if end - pos < 6:
                        break
                    ch = buf[pos + 1]
                    if ch != channel and ch != channel + 1:
                        pos = self._skip(buf, pos, end)  # garbage that happens to contain '$'
                        continue
                    size = (buf[pos + 2] << 8) | buf[pos + 3]
                    if not self._plausible(ch, size, buf[pos + 4], buf[pos + 5]):
                        pos = self._skip(buf, pos, end)
                        continue
                    stop = pos + 4 + size
                    if stop > end:
                        break
                    if ch == channel:
                        self._rtp(buf, mv, pos + 4, stop)
                    else:
                        self.other_packets += 1  # RTCP
                    pos = stop
                elif first == 0x52:  # 'R': a response (to a keep-alive) or garbage
                    if end - pos < 5:
                        break
                    if not buf.startswith(b"RTSP/", pos, pos + 5):
                        pos = self._skip(buf, pos, end)
                        continue
                    try:
                        parsed = parse_response(buf, pos, end)
                    except RtspGarbageError:
                        pos = self._skip(buf, pos, end)
                        continue
                    if parsed is None:
                        break
                    response, pos = parsed
                    if self.on_response is not None:
                        self.on_response(response)
                else:
                    pos = self._skip(buf, pos, end)
            return pos
        finally:
            mv.release()

    def _plausible(self, ch: int, size: int, b0: int, b1: int) -> bool:
        """Does a `$` header look like a real packet? RTP version 2 and our payload type, or RTCP."""
        if b0 & 0xC0 != 0x80:
            return False
        if ch == self.channel:
            return size >= 12 and (b1 & 0x7F) == self.payload_type
        return 200 <= b1 <= 207 and size >= 8

    def _skip(self, buf: bytearray, pos: int, end: int) -> int:
        """buf[pos] starts no frame: the offset of the next candidate ('$' or "RTSP/"), always past pos."""
        nxt = buf.find(b"$", pos + 1, end)
        resp = buf.find(b"RTSP/", pos + 1, end if nxt < 0 else nxt)
        if resp >= 0:
            nxt = resp
        if nxt < 0:
            nxt = end
            tail = buf.find(b"R", max(pos + 1, end - 4), end)  # a response cut by the end of this read
            if tail >= 0 and b"RTSP/".startswith(bytes(buf[tail:end])):
                nxt = tail
        self.garbage_bytes += nxt - pos
        return nxt

    def _rtp(self, buf: bytearray, mv: memoryview, start: int, stop: int) -> None:
        b0, b1, seq, ts = _RTP_HEAD.unpack_from(buf, start)
        if (b1 & 0x7F) != self.payload_type:
            self.other_packets += 1
            return
        self.packets += 1
        p = start + 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10 and p + 4 <= stop:  # header extension
            p += 4 + 4 * ((buf[p + 2] << 8) | buf[p + 3])
        if b0 & 0x20:  # padding
            stop -= buf[stop - 1]
        if p >= stop:
            return
        if self._au_ts is not None and ts != self._au_ts:
            self._end_unit()  # a new timestamp without a marker on the previous packet
        self._au_ts = ts
        expected = self._next_seq
        self._next_seq = (seq + 1) & 0xFFFF
        if expected is not None and seq != expected:
            self.lost_packets += 1
            self._broken = True
            self._fu_keep = False
        self._au_bytes += stop - p
        nal0 = buf[p]
        t = nal0 & 0x1F
        if t == 28:  # FU-A
            if p + 2 > stop:
                return
            fu = buf[p + 1]
            ft = fu & 0x1F
            if fu & 0x80:  # start of a fragmented NAL
                self._fu_keep = self._want(ft)
                if self._fu_keep and self._parts is not None:
                    self._parts.append(START_CODE + bytes(((nal0 & 0xE0) | ft,)))
            if self._fu_keep and self._parts is not None:
                self._parts.append(bytes(mv[p + 2:stop]))
            if fu & 0x40:
                self._fu_keep = False
        elif t == 24:  # STAP-A
            q = p + 1
            while q + 2 < stop:
                size = (buf[q] << 8) | buf[q + 1]
                if size == 0 or q + 2 + size > stop:
                    break
                self._single(buf, mv, q + 2, q + 2 + size)
                q += 2 + size
        elif 0 < t < 24:
            self._single(buf, mv, p, stop)
        # 25–27 (STAP-B, MTAP) and 29 (FU-B) are for interleaved mode, which we never ask for: only counted.
        if b1 & 0x80:  # marker: the last packet of the access unit
            self._end_unit()

    def _single(self, buf: bytearray, mv: memoryview, start: int, stop: int) -> None:
        t = buf[start] & 0x1F
        if t == 7 or t == 8:
            self._param(bytes(mv[start:stop]))
        elif self._want(t) and self._parts is not None:
            self._parts.append(START_CODE + bytes(mv[start:stop]))

    def _want(self, t: int) -> bool:
        """Should a NAL of type t be kept? Starts collecting an access unit at its first IDR slice."""
        if t == 5:
            self._au_key = True
            if self._parts is None:
                self._parts = [START_CODE + self.sps, *(START_CODE + p for p in self.pps)] \
                    if self.sps and self.pps else []
                self._all_started = True
            return True
        if 1 <= t <= 4:
            if self.collect_all and self._all_started:
                if self._parts is None:
                    self._parts = []
                return True
            return False
        return False

    def _end_unit(self) -> None:
        if self._au_bytes == 0 and self._parts is None:
            return
        key = self._au_key
        parts, self._parts = self._parts, None
        data: bytes | None = None
        if parts and not self._broken:
            data = b"".join(parts)
        elif parts and self._broken:
            self._all_started = False  # references lost: wait for the next IDR before decoding all again
        size = self._au_bytes
        self.units += 1
        self.bytes += size
        if key:
            self.key_units += 1
        self._au_bytes = 0
        self._au_key = False
        self._broken = False
        self._fu_keep = False
        if not self.collect_all:
            self._all_started = False
        self.on_unit(size, key, data)


# --- the client ----------------------------------------------------------------------------------------


@dataclass
class Session:
    track: VideoTrack
    session_id: str
    timeout: float  # seconds, from the SETUP reply (default 60)
    keepalive_method: str  # GET_PARAMETER when the camera lists it in Public, else OPTIONS


class RtspClient:
    """One RTSP session over a non-blocking TCP socket; the handshake awaits, streaming is drained by polls."""

    def __init__(self, uri: str, *, recv_buffer: int = RECV_BUFFER) -> None:
        self.url = RtspUrl.parse(uri)
        self.auth = Authenticator(self.url.username, self.url.password)
        self.sock: socket.socket | None = None
        self.session: Session | None = None
        self.receiver: H264Receiver | None = None
        self._cseq = 0
        self._buf = bytearray(BUFFER_SIZE)
        self._filled = 0
        self._recv_buffer = recv_buffer
        self._public = ""
        self.keepalive_failed = False
        self.bytes_in = 0

    # -- handshake --

    async def open(self, on_unit: Callable[[int, bool, bytes | None], None]) -> Session:
        """Connect and play; the caller bounds it with a timeout. Returns the session; data via drain()."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.url.host, self.url.port, type=socket.SOCK_STREAM)
        if not infos:
            raise RtspError(f"cannot resolve {self.url.host}")
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        self.sock = sock
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._recv_buffer)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, address)
        with contextlib.suppress(RtspStatusError):
            options = await self.request("OPTIONS", self.url.url)
            self._public = options.header("public").upper()
        described = await self.request("DESCRIBE", self.url.url, {"Accept": "application/sdp"})
        base = described.header("content-base") or described.header("content-location") or self.url.url
        track = parse_sdp(described.body.decode("utf-8", "replace"), base)
        try:
            setup = await self.request("SETUP", track.control_url,
                                       {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        except RtspStatusError as exc:
            if exc.status == 461:
                raise RtspUnsupportedError("the camera refuses RTP over TCP") from exc
            raise
        transport = setup.header("transport")
        channel = 0
        match = re.search(r"interleaved=(\d+)", transport)
        if match:
            channel = int(match.group(1))
        elif "TCP" not in transport.upper():
            raise RtspUnsupportedError(f"the camera answered another transport: {transport[:80]}")
        raw_session = setup.header("session")
        session_id = raw_session.split(";")[0].strip()
        timeout = 60.0
        match = re.search(r"timeout\s*=\s*(\d+)", raw_session)
        if match:
            timeout = max(5.0, float(match.group(1)))
        keepalive = "GET_PARAMETER" if "GET_PARAMETER" in self._public else "OPTIONS"
        self.session = Session(track, session_id, timeout, keepalive)
        self.receiver = H264Receiver(channel, track.payload_type, track.parameter_sets, on_unit,
                                     self._on_stream_response)
        await self.request("PLAY", track.session_url or base, {"Range": "npt=0.000-"})
        return self.session

    def _headers(self, method: str, url: str, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.session is not None and self.session.session_id:
            headers["Session"] = self.session.session_id
        authorization = self.auth.header(method, url)
        if authorization:
            headers["Authorization"] = authorization
        return headers

    async def request(self, method: str, url: str, extra: dict[str, str] | None = None) -> Response:
        """Send a request and await its response (before PLAY: nothing else arrives on the connection)."""
        for _ in range(3):
            response = await self._exchange(method, url, self._headers(method, url, extra))
            if response.status == 401:
                if self.auth.challenge(response.header("www-authenticate")):
                    continue
                raise RtspAuthError(method, response.status, response.reason)
            if response.status >= 300:
                raise RtspStatusError(method, response.status, response.reason)
            return response
        raise RtspAuthError(method, 401, "Unauthorized")

    async def _exchange(self, method: str, url: str, headers: dict[str, str]) -> Response:
        assert self.sock is not None
        loop = asyncio.get_running_loop()
        self._cseq += 1
        await loop.sock_sendall(self.sock, build_request(method, url, self._cseq, headers))
        while True:
            if self._filled and self._buf[0] == 0x24:  # an interleaved packet before the reply
                frame_end = 4 + ((self._buf[2] << 8) | self._buf[3]) if self._filled >= 4 else 1 << 20
                if frame_end <= self._filled:
                    self._consume(frame_end)
                    continue
            elif self._filled:
                parsed = parse_response(self._buf, 0, self._filled)
                if parsed is not None:
                    response, end = parsed
                    self._consume(end)
                    if response.header("cseq") not in ("", str(self._cseq)):
                        continue  # a late reply to an earlier request
                    return response
            if self._filled >= len(self._buf):
                raise RtspGarbageError("RTSP response too long")
            n = await loop.sock_recv_into(self.sock, memoryview(self._buf)[self._filled:])
            if n == 0:
                raise RtspClosedError(f"connection closed during {method}")
            self._filled += n

    def _consume(self, end: int) -> None:
        rest = self._filled - end
        if rest:
            self._buf[:rest] = self._buf[end:self._filled]
        self._filled = rest

    # -- streaming --

    def drain(self, limit: int = 4 * BUFFER_SIZE) -> int:
        """Read what the socket holds (non-blocking), parse it; return bytes read (0: nothing waiting).

        Raises RtspClosedError when the camera closed the connection.
        """
        sock, receiver = self.sock, self.receiver
        assert sock is not None and receiver is not None
        total = 0
        buf = self._buf
        size = len(buf)
        if self._filled:  # left over from the handshake (packets right after the PLAY reply)
            self._consume(receiver.feed(buf, 0, self._filled))
        while total < limit:
            view = memoryview(buf)
            try:
                n = sock.recv_into(view[self._filled:])
            except (BlockingIOError, InterruptedError):
                break
            finally:
                view.release()
            if n == 0:
                raise RtspClosedError("the camera closed the connection")
            total += n
            self._filled += n
            end = receiver.feed(buf, 0, self._filled)
            if end == 0 and self._filled >= size:
                raise RtspGarbageError("no frame boundary in a full buffer")
            self._consume(end)
        self.bytes_in += total
        return total

    def receive_once(self) -> int:
        """One blocking read (the socket's own timeout applies) and parse; for a thread per camera."""
        sock, receiver = self.sock, self.receiver
        assert sock is not None and receiver is not None
        if self._filled:
            self._consume(receiver.feed(self._buf, 0, self._filled))
        view = memoryview(self._buf)
        try:
            n = sock.recv_into(view[self._filled:])
        finally:
            view.release()
        if n == 0:
            raise RtspClosedError("the camera closed the connection")
        self._filled += n
        end = receiver.feed(self._buf, 0, self._filled)
        if end == 0 and self._filled >= len(self._buf):
            raise RtspGarbageError("no frame boundary in a full buffer")
        self._consume(end)
        self.bytes_in += n
        return n

    def _on_stream_response(self, response: Response) -> None:
        if response.status == 401 and self.auth.challenge(response.header("www-authenticate")):
            self.send_keepalive()  # a new Digest nonce: answer it once
        elif response.status in (454, 401, 403):
            self.keepalive_failed = True  # session gone or credentials refused: reconnect

    def send_keepalive(self) -> None:
        """Send GET_PARAMETER/OPTIONS with the session; non-blocking, a full socket buffer skips a round."""
        if self.sock is None or self.session is None:
            return
        self._cseq += 1
        url = self.url.url
        data = build_request(self.session.keepalive_method, url, self._cseq,
                             self._headers(self.session.keepalive_method, url, None))
        with contextlib.suppress(BlockingIOError, InterruptedError):
            self.sock.send(data)

    def close(self, teardown: bool = True) -> None:
        """TEARDOWN (best effort, never waits) and close the socket."""
        sock, self.sock = self.sock, None
        if sock is None:
            return
        if teardown and self.session is not None:
            self._cseq += 1
            with contextlib.suppress(OSError):
                sock.send(build_request("TEARDOWN", self.url.url, self._cseq,
                                        self._headers("TEARDOWN", self.url.url, None)))
        with contextlib.suppress(OSError):
            sock.close()
