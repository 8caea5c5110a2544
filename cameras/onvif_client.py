"""The one class that talks ONVIF to a device; every library error is mapped here, once, into ours."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import email.utils
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import zeep.exceptions
from lxml import etree  # type: ignore[import-untyped]  # no stubs installed
from onvif import ONVIFCamera  # type: ignore[import-untyped]  # no stubs shipped
from onvif.exceptions import ONVIFAuthError, ONVIFTimeoutError  # type: ignore[import-untyped]

from cameras.models import CameraProfile, DeviceInfo
from supervision.errors import DeviceError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# WS-Security digests carry a "Created" time; cameras reject it when their clock differs too much
# (Hikvision: about 5 s, others: 5 min). Beyond this we sign with the camera's time (_CameraAtOffset).
CLOCK_TOLERANCE_SECONDS = 5.0

# Errors from the libraries under onvif-zeep-async, by what an admin should be told.
AUTH_ERRORS: tuple[type[BaseException], ...] = (ONVIFAuthError,)
TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (asyncio.TimeoutError, TimeoutError, ONVIFTimeoutError,
                                                     aiohttp.ServerTimeoutError, socket.timeout)
UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientConnectorError, ConnectionRefusedError,
                                                         socket.gaierror, OSError)
# zeep parses leniently: a truncated answer often surfaces as None where a value was expected.
MALFORMED_ERRORS: tuple[type[BaseException], ...] = (etree.XMLSyntaxError, zeep.exceptions.XMLSyntaxError,
                                                       zeep.exceptions.XMLParseError, TypeError,
                                                       AttributeError, KeyError, ValueError, IndexError)
NOT_ONVIF_ERRORS: tuple[type[BaseException], ...] = (zeep.exceptions.TransportError,
                                                       aiohttp.ClientResponseError, aiohttp.ContentTypeError,
                                                       aiohttp.ServerDisconnectedError)
AUTH_FAULT_CODES = ("notauthorized", "failedauthentication", "not authorized", "sender not authorized",
                    "invalidsecurity", "unauthorized")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from (onvif-zeep-async wraps causes in ONVIFError)."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def map_device_error(exc: BaseException, host: str, port: int, timeout: float) -> DeviceError:
    """Turn whatever the ONVIF stack raised into a DeviceError an admin understands."""
    where: dict[str, Any] = {"host": host, "port": port}
    chain = _chain(exc)
    for err in chain:
        if isinstance(err, DeviceError):
            return err
    for err in chain:
        if isinstance(err, AUTH_ERRORS):
            return DeviceError("camera.error.auth_failed")
        if (isinstance(err, zeep.exceptions.Fault) and err.code is None
                and str(err.message).startswith("Unknown")):
            # zeep's reading of an answer that is no SOAP at all (an HTML error page): not a camera's fault.
            return DeviceError("camera.error.not_onvif", **where)
        if isinstance(err, zeep.exceptions.Fault):
            text = " ".join(str(x) for x in (err.message, err.code, err.subcodes) if x).lower()
            if any(code in text for code in AUTH_FAULT_CODES):
                return DeviceError("camera.error.auth_failed")
            return DeviceError("camera.error.soap_fault", reason=(err.message or str(err.code) or "?")[:120])
        if isinstance(err, zeep.exceptions.TransportError) and err.status_code == 401:
            return DeviceError("camera.error.auth_failed")
        if isinstance(err, aiohttp.ClientResponseError) and err.status == 401:
            return DeviceError("camera.error.auth_failed")
    for err in chain:
        if isinstance(err, TIMEOUT_ERRORS):
            return DeviceError("camera.error.timeout", seconds=round(timeout, 1), **where)
        if isinstance(err, MALFORMED_ERRORS):
            return DeviceError("camera.error.malformed")
        if isinstance(err, NOT_ONVIF_ERRORS):
            return DeviceError("camera.error.not_onvif", **where)
    for err in chain:
        if isinstance(err, UNREACHABLE_ERRORS):
            return DeviceError("camera.error.unreachable", **where)
    text = str(exc)
    if "Unknown error" in text and ("Server disconnected" in text or "Cannot connect" in text):
        return DeviceError("camera.error.unreachable", **where)
    logger.warning("unclassified device error from %s:%s: %s", host, port, exc.__class__.__name__)
    return DeviceError("camera.error.device", reason=exc.__class__.__name__)


def redact_uri(uri: str) -> str:
    """A URI fit for logs and pages: credentials removed."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_credentials(uri: str, username: str, password: str) -> str:
    """Put credentials into an RTSP URI (the RTSP client answers Digest/Basic challenges with them)."""
    if not username:
        return uri
    from urllib.parse import quote

    parts = urlsplit(uri)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _utc_of(reply: Any) -> dt.datetime | None:
    utc = getattr(reply, "UTCDateTime", None)
    if utc is None or utc.Date is None or utc.Time is None:
        return None
    try:
        return dt.datetime(utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour, utc.Time.Minute,
                           utc.Time.Second, tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


# GetSystemDateAndTime with no security header: the request of a first contact (ONVIF device service).
_TIME_REQUEST = (b'<?xml version="1.0" encoding="UTF-8"?>'
                 b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
                 b'<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
                 b'</s:Body></s:Envelope>')


def looks_like_html(content_type: str, body: bytes) -> bool:
    """Whether an answer is a web page rather than SOAP (a router, NVR or camera web UI on that port)."""
    head = body[:512].lstrip().lower()
    if b"envelope" in body[:4096].lower():
        return False
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


def http_date_offset(date_header: str | None, sent: float, received: float) -> float | None:
    """The peer's clock offset from an HTTP Date header (whole seconds), against the middle of the exchange."""
    if not date_header:
        return None
    try:
        peer = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if peer.tzinfo is None:
        peer = peer.replace(tzinfo=dt.UTC)
    # Date is truncated to the second: +0.5 s is the expected value of what was cut off.
    return peer.timestamp() + 0.5 - (sent + received) / 2


class _CameraAtOffset(ONVIFCamera):  # type: ignore[misc]  # the library is untyped
    """ONVIFCamera that signs WS-Security with a clock offset we measured, instead of measuring it again.

    The library's own adjust_time reads GetSystemDateAndTime without login and, when refused, with a login
    signed by our clock, which a camera whose clock is off refuses too (the reason we measure it ourselves).
    """

    def __init__(self, *args: Any, offset: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_offset = dt.timedelta(seconds=offset)
        self.dt_diff = self.known_offset

    async def _adjust_time(self, devicemgmt: Any) -> Any:
        # update_xaddrs() clears dt_diff, then asks this hook (onvif-zeep-async 4.3) to measure it again.
        self.dt_diff = self.known_offset
        await devicemgmt.close()
        del self.services[devicemgmt.binding_key]
        return await self.create_devicemgmt_service()


class OnvifDevice:
    """All ONVIF I/O with one device: time check, device information, profiles, URIs, snapshot.

    Use as `async with OnvifDevice(...) as device: info = await device.describe()`.
    """

    def __init__(self, host: str, port: int, username: str, password: str, *, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.timeout = timeout
        self._camera: Any = None
        self.clock_offset = 0.0

    def __repr__(self) -> str:  # never the password
        return f"OnvifDevice({self.host}:{self.port}, user={self.username!r})"

    async def __aenter__(self) -> OnvifDevice:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._camera is not None:
            try:
                await self._camera.close()
            except Exception:  # closing a half-open client must not hide the real error
                logger.debug("closing the ONVIF client of %s failed", self.host, exc_info=True)
            self._camera = None

    def _new_camera(self, *, offset: float = 0.0) -> Any:
        # no_cache: the shared SQLite WSDL cache of the library is written from many threads otherwise.
        # The library signs with Zulu timestamps ("...Z"): some firmware (Hikvision) rejects "+00:00".
        if abs(offset) > CLOCK_TOLERANCE_SECONDS:
            return _CameraAtOffset(self.host, self.port, self.username or None, self._password or None,
                                   no_cache=True, offset=offset)
        return ONVIFCamera(self.host, self.port, self.username or None, self._password or None, no_cache=True)

    async def _call(self, what: str, coro: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(coro, timeout=self.timeout)
        except Exception as exc:
            err = map_device_error(exc, self.host, self.port, self.timeout)
            logger.info("ONVIF %s on %s:%s failed: %s (%s)", what, self.host, self.port, err.key,
                        exc.__class__.__name__)
            raise err from exc

    async def first_contact(self) -> float | None:
        """Ask for the time without login; return the clock offset the HTTP Date header gives, if any.

        Also tells a web page from a device service: a camera's (or router's) web UI answering on the ONVIF
        port is "not an ONVIF device", not a firmware fault.
        """
        url = f"http://{self.host}:{self.port}/onvif/device_service"
        headers = {"Content-Type": "application/soap+xml; charset=utf-8"}

        async def ask() -> tuple[int, str, bytes, str | None, float, float]:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                sent = time.time()
                async with http.post(url, data=_TIME_REQUEST, headers=headers, allow_redirects=False) as reply:
                    body = await reply.content.read(65536)
                    return (reply.status, reply.headers.get("Content-Type", ""), body, reply.headers.get("Date"),
                            sent, time.time())

        status, ctype, body, date, sent, received = await self._call("first contact", ask())
        # 401 is left to the login that follows (some firmware asks HTTP auth with an HTML error body).
        if status != 401 and looks_like_html(ctype, body):
            raise DeviceError("camera.error.not_onvif", host=self.host, port=self.port)
        return http_date_offset(date, sent, received)

    async def check_clock(self) -> float:
        """Return the camera clock's offset from ours in seconds (positive: camera ahead)."""
        hint = await self.first_contact()
        cam = self._new_camera()
        try:
            devicemgmt = await self._call("device service", cam.create_devicemgmt_service())
            try:
                reply = await self._call("GetSystemDateAndTime", devicemgmt.authless_GetSystemDateAndTime())
            except DeviceError as err:
                if err.key not in ("camera.error.auth_failed", "camera.error.soap_fault"):
                    raise
                # Quirk (ipycam, some Dahua firmware): GetSystemDateAndTime wants a login, against the standard.
                # A login is signed with a time, so sign it with the camera's as its HTTP Date header told it.
                reply = await self._time_with_login(hint)
        finally:
            try:
                await cam.close()
            except Exception:
                logger.debug("closing after the clock check failed", exc_info=True)
        cam_time = _utc_of(reply)
        if cam_time is None:
            return hint or 0.0
        return (cam_time - dt.datetime.now(dt.UTC)).total_seconds()

    async def _time_with_login(self, hint: float | None) -> Any:
        cam = self._new_camera(offset=hint or 0.0)
        try:
            devicemgmt = await self._call("device service", cam.create_devicemgmt_service())
            try:
                return await self._call("GetSystemDateAndTime", devicemgmt.GetSystemDateAndTime())
            except DeviceError as err:
                if err.key == "camera.error.auth_failed" and hint is None:
                    # Refused, and the camera told no time: its clock may be off as well as the password wrong.
                    raise DeviceError("camera.error.clock") from err
                raise
        finally:
            try:
                await cam.close()
            except Exception:
                logger.debug("closing after the clock check failed", exc_info=True)

    async def connect(self) -> None:
        """Check the clock, then open the device and media services, signing with the camera's time if off."""
        self.clock_offset = await self.check_clock()
        if abs(self.clock_offset) > CLOCK_TOLERANCE_SECONDS:
            logger.info("camera %s clock is %.0f s off; signing with its time", self.host, self.clock_offset)
        self._camera = self._new_camera(offset=self.clock_offset)
        await self._call("GetServices", self._camera.update_xaddrs())
        # The library tolerates a broken GetServices answer and keeps whatever it could read.
        if not all(str(x).startswith(("http://", "https://")) for x in self._camera.xaddrs.values()):
            raise DeviceError("camera.error.malformed")

    async def device_info(self) -> dict[str, str]:
        devicemgmt = await self._call("device service", self._camera.create_devicemgmt_service())
        info = await self._call("GetDeviceInformation", devicemgmt.GetDeviceInformation())
        return {
            "manufacturer": _text(getattr(info, "Manufacturer", "")),
            "model": _text(getattr(info, "Model", "")),
            "firmware": _text(getattr(info, "FirmwareVersion", "")),
            "serial": _text(getattr(info, "SerialNumber", "")),
            "hardware_id": _text(getattr(info, "HardwareId", "")),
        }

    async def profiles(self) -> list[CameraProfile]:
        media = await self._call("media service", self._camera.create_media_service())
        raw = await self._call("GetProfiles", media.GetProfiles())
        out: list[CameraProfile] = []
        for prof in raw or []:
            enc = getattr(prof, "VideoEncoderConfiguration", None)
            if enc is None:
                continue
            codec = _text(getattr(enc, "Encoding", "")).upper()
            res = getattr(enc, "Resolution", None)
            rate = getattr(enc, "RateControl", None)
            h264 = getattr(enc, "H264", None)
            uri = ""
            if codec in ("H264", "H265"):
                req = media.create_type("GetStreamUri")
                req.ProfileToken = prof.token
                req.StreamSetup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
                reply = await self._call("GetStreamUri", media.GetStreamUri(req))
                uri = redact_uri(_text(getattr(reply, "Uri", "")))
            out.append(CameraProfile(
                token=_text(prof.token), name=_text(getattr(prof, "Name", "")),
                width=int(getattr(res, "Width", 0) or 0), height=int(getattr(res, "Height", 0) or 0),
                codec=codec, fps=float(getattr(rate, "FrameRateLimit", 0) or 0),
                bitrate_kbps=int(getattr(rate, "BitrateLimit", 0) or 0),
                gop=int(getattr(h264, "GovLength", 0) or 0), rtsp_uri=uri,
            ))
        return out

    async def snapshot_uri(self, profile_token: str) -> str:
        uri = await self._call("GetSnapshotUri", self._camera.get_snapshot_uri(profile_token))
        return redact_uri(uri or "")

    async def snapshot(self, profile_token: str, *, basic_auth: bool) -> bytes | None:
        data: bytes | None = await self._call(
            "snapshot", self._camera.get_snapshot(profile_token, basic_auth=basic_auth, timeout=self.timeout))
        return data

    async def snapshot_needs_basic(self, profile_token: str) -> bool:
        """Find whether the snapshot URI takes Digest (the default) or only Basic."""
        try:
            if await self.snapshot(profile_token, basic_auth=False):
                return False
        except DeviceError as err:
            if err.key != "camera.error.auth_failed":
                return False
        # Quirk: some firmware answers Digest with 401 on its snapshot URI and only accepts Basic.
        try:
            return bool(await self.snapshot(profile_token, basic_auth=True))
        except DeviceError:
            return False

    async def describe(self) -> DeviceInfo:
        """Ask the device everything registration needs."""
        await self.connect()
        info = await self.device_info()
        profiles = await self.profiles()
        if not profiles:
            raise DeviceError("camera.error.no_profiles")
        if not any(p.codec == "H264" and p.rtsp_uri for p in profiles):
            raise DeviceError("camera.error.no_h264")
        first = profiles[0].token
        snap = ""
        basic = False
        try:
            snap = await self.snapshot_uri(first)
            if snap:
                basic = await self.snapshot_needs_basic(first)
        except DeviceError as err:
            # A camera without snapshots still streams; the wall then shows frames from the ingest.
            logger.info("camera %s gives no snapshot URI: %s", self.host, err.key)
        return DeviceInfo(**info, profiles=profiles, snapshot_uri=snap, snapshot_basic_auth=basic,
                          clock_offset_seconds=round(self.clock_offset, 1))


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code (a web worker thread or the CLI)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_wrap(factory))
    # Synchronous code called on a thread whose loop is running (Playwright's sync API keeps one in the
    # main thread of a test session; an embedding async program would too): asyncio.run refuses there.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="onvif") as pool:
        return pool.submit(asyncio.run, _wrap(factory)).result()


async def _wrap(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


def describe_device(
    host: str, port: int, username: str, password: str, *, timeout: float = 10.0
) -> DeviceInfo:
    """Probe a device synchronously: device information, profiles, stream and snapshot URIs."""

    async def go() -> DeviceInfo:
        async with OnvifDevice(host, port, username, password, timeout=timeout) as device:
            return await device.describe()

    try:
        return run_sync(go)
    except DeviceError:
        raise
    except Exception as exc:  # anything the mapping inside missed still reaches the admin as a DeviceError
        raise map_device_error(exc, host, port, timeout) from exc
