"""Camera services: register, probe again, edit, list with health, alerts, and the audit of live views."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.config import get_camera_settings
from cameras.models import (
    Camera,
    CameraAlert,
    CameraAlertPublic,
    CameraCreate,
    CameraHealth,
    CameraHealthPublic,
    CameraProfile,
    CameraPublic,
    CameraStatus,
    CameraUpdate,
    DeviceInfo,
    DiscoveredDevice,
)
from cameras.onvif_client import describe_device, redact_uri, with_credentials
from supervision import audit, crypto
from supervision.access import Permission, Principal, check_site, site_path_clause
from supervision.db import utcnow
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.models import Hall, Post, Site, Window

logger = logging.getLogger(__name__)

SLOW_KEYFRAME_SECONDS = 1.0


def _h264(profiles: Sequence[CameraProfile]) -> list[CameraProfile]:
    return [p for p in profiles if p.codec == "H264" and p.rtsp_uri]


def choose_profiles(profiles: Sequence[CameraProfile]) -> tuple[str, str]:
    """Pick the main stream (largest H.264) and the analysis stream (smallest H.264, the substream)."""
    usable = sorted(_h264(profiles), key=lambda p: (p.width * p.height, p.fps))
    if not usable:
        return "", ""
    return usable[-1].token, usable[0].token


def _apply_device(camera: Camera, info: DeviceInfo) -> None:
    camera.manufacturer, camera.model = info.manufacturer[:120], info.model[:120]
    camera.firmware, camera.serial = info.firmware[:120], info.serial[:120]
    camera.set_profiles(info.profiles)
    camera.snapshot_uri = info.snapshot_uri[:500]
    camera.snapshot_basic_auth = info.snapshot_basic_auth
    camera.clock_offset_seconds = info.clock_offset_seconds
    camera.probed_at = utcnow()
    camera.probe_error = ""
    main, analysis = choose_profiles(info.profiles)
    if not camera.profile(camera.main_profile):
        camera.main_profile = main
    if not camera.profile(camera.analysis_profile):
        camera.analysis_profile = analysis


def _check_refs(session: Session, actor: Principal, camera: Camera) -> Site:
    site = check_site(session, actor, camera.site_id)
    problems: list[tuple[str, str]] = []
    if camera.hall_id is not None:
        hall = session.get(Hall, camera.hall_id)
        if hall is None or hall.site_id != camera.site_id:
            problems.append(("hall_id", "error.hall_other_site"))
    if camera.window_id is not None:
        window = session.get(Window, camera.window_id)
        if window is None or window.site_id != camera.site_id:
            problems.append(("window_id", "error.window_other_site"))
    if camera.post_id is not None:
        post = session.get(Post, camera.post_id)
        if post is None or post.site_id != camera.site_id:
            problems.append(("post_id", "error.post_other_site"))
    if problems:
        raise InvalidInput(problems[0][0], problems[0][1])
    return site


def _check_unique(session: Session, camera: Camera) -> None:
    other = session.exec(select(Camera).where(
        col(Camera.host) == camera.host, col(Camera.port) == camera.port,
        col(Camera.stream_uri_override) == camera.stream_uri_override,
        col(Camera.id) != (camera.id or -1))).first()
    if other is not None:
        raise Conflict("camera.error.duplicate", host=camera.host, port=camera.port, name=other.name)


# Schemes a plain stream may have: FFmpeg would also open files and other protocols (file:, concat:, ...).
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")


def _check_stream_uri(camera: Camera) -> None:
    uri = camera.stream_uri_override
    if not uri:
        return
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() not in STREAM_SCHEMES or not parts.hostname or uri != uri.strip():
        raise InvalidInput("stream_uri_override", "camera.error.stream_scheme")


def _check_tokens(camera: Camera) -> None:
    if not camera.profiles:
        return
    for field_name in ("main_profile", "analysis_profile"):
        token = getattr(camera, field_name)
        if token and camera.profile(token) is None:
            raise InvalidInput(field_name, "camera.error.unknown_profile")


def probe(camera: Camera, *, timeout: float | None = None) -> DeviceInfo:
    """Ask the device behind a camera row (no database access; raises DeviceError)."""
    return describe_device(camera.host, camera.port, camera.username, crypto.decrypt(camera.password_enc),
                           timeout=timeout or get_camera_settings().probe_timeout_seconds)


def _audit_view(camera: Camera) -> dict[str, object]:
    return {"name": camera.name, "host": camera.host, "port": camera.port, "username": camera.username,
            "site_id": camera.site_id, "hall_id": camera.hall_id, "main_profile": camera.main_profile,
            "analysis_profile": camera.analysis_profile, "enabled": camera.enabled,
            "stream_uri_override": redact_uri(camera.stream_uri_override)}


def _outside_transaction(session: Session, what: str) -> None:
    """Refuse to talk to a device while the caller's session has a transaction open.

    On SQLite a write session holds the one write lock from its first statement: a device that takes 10 s
    to answer would stall every writer of the service for as long.
    """
    if session.in_transaction():
        raise RuntimeError(f"{what} talks to the device: call it before the session's first statement")


def _end_reads(session: Session) -> None:
    """End the short read transaction of the checks, so none is open while the device answers."""
    session.commit()


def register_camera(session: Session, actor: Principal, data: CameraCreate, *, ip: str = "",
                    timeout: float | None = None) -> Camera:
    """Register a camera: ask it over ONVIF for its device information, profiles and URIs, then store it.

    Checks run in a short read, the device is asked with no transaction open, the row is written in a
    short transaction the caller commits.
    """
    actor.require(Permission.CAMERAS_MANAGE)
    values = data.model_dump(exclude={"password", "skip_probe"})
    camera = Camera(**values, password_enc=crypto.encrypt(data.password))
    _check_stream_uri(camera)
    if not data.skip_probe and not data.stream_uri_override:
        _outside_transaction(session, "register_camera")
        # Checked before asking the device too, so a wrong hall or a duplicate does not wait for it.
        _check_refs(session, actor, camera)
        _check_unique(session, camera)
        _end_reads(session)
        _apply_device(camera, probe(camera, timeout=timeout))
        if data.main_profile:
            camera.main_profile = data.main_profile
        if data.analysis_profile:
            camera.analysis_profile = data.analysis_profile
        _check_tokens(camera)
    # Again in the writing transaction: the world may have changed while the device answered.
    site = _check_refs(session, actor, camera)
    _check_unique(session, camera)
    session.add(camera)
    session.flush()
    session.add(CameraHealth(camera_id=int(camera.id or 0)))
    from cameras.zones import attach_zones

    attach_zones(session, camera)
    audit.record(session, actor, "camera.create", object_kind="camera", object_id=camera.id, site_id=site.id,
                 summary=camera.name, detail=_audit_view(camera), ip=ip)
    logger.info("camera %s registered at %s:%s by %s", camera.id, camera.host, camera.port, actor.audit_name)
    return camera


def get_camera(session: Session, actor: Principal, camera_id: int) -> Camera:
    """Return a camera of the actor's jurisdiction (others do not exist for them)."""
    actor.require(Permission.CAMERAS_VIEW)
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("error.not_found_kind", kind="kind.camera", id=camera_id)
    site = session.get(Site, camera.site_id)
    if site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.camera", id=camera_id)
    return camera


def probe_camera(session: Session, actor: Principal, camera_id: int, *, ip: str = "",
                 timeout: float | None = None) -> Camera:
    """Ask the device again ("probe again") and store what it says now.

    The row is read in a short read, the device asked with no transaction open, the answer written in a
    short transaction the caller commits.
    """
    actor.require(Permission.CAMERAS_MANAGE)
    _outside_transaction(session, "probe_camera")
    row = get_camera(session, actor, camera_id)
    # Copied out before the read ends: a session that expires on commit would reload (and so lock) to read them.
    device = Camera(host=row.host, port=row.port, username=row.username, password_enc=row.password_enc,
                    site_id=row.site_id, name=row.name)
    _end_reads(session)
    info = probe(device, timeout=timeout)
    # Read again for the write: an edit or a delete while the device answered is not undone.
    camera = get_camera(session, actor, camera_id)
    _apply_device(camera, info)
    camera.updated_at = utcnow()
    session.add(camera)
    audit.record(session, actor, "camera.probe", object_kind="camera", object_id=camera.id,
                 site_id=camera.site_id, summary=camera.name,
                 detail={"profiles": [p.token for p in info.profiles], "firmware": info.firmware}, ip=ip)
    return camera


def update_camera(session: Session, actor: Principal, camera_id: int, data: CameraUpdate, *,
                  ip: str = "") -> Camera:
    actor.require(Permission.CAMERAS_MANAGE)
    camera = get_camera(session, actor, camera_id)
    changes = data.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    for key, value in changes.items():
        setattr(camera, key, value)
    if password is not None:
        camera.password_enc = crypto.encrypt(password)
    _check_stream_uri(camera)
    _check_refs(session, actor, camera)
    _check_unique(session, camera)
    _check_tokens(camera)
    camera.updated_at = utcnow()
    session.add(camera)
    from cameras.zones import rekey_zones

    rekey_zones(session, camera)
    detail = {k: v for k, v in changes.items()}
    if password is not None:
        detail["password"] = "(changed)"
    audit.record(session, actor, "camera.update", object_kind="camera", object_id=camera.id,
                 site_id=camera.site_id, summary=camera.name, detail=detail, ip=ip)
    return camera


def delete_camera(session: Session, actor: Principal, camera_id: int, *, ip: str = "") -> None:
    actor.require(Permission.CAMERAS_MANAGE)
    camera = get_camera(session, actor, camera_id)
    audit.record(session, actor, "camera.delete", object_kind="camera", object_id=camera.id,
                 site_id=camera.site_id, summary=camera.name, detail=_audit_view(camera), ip=ip)
    for table in (CameraHealth, CameraAlert):
        for row in session.exec(select(table).where(col(table.camera_id) == camera_id)).all():
            session.delete(row)
    from cameras.models import IngestLease

    lease = session.get(IngestLease, camera_id)
    if lease is not None:
        session.delete(lease)
    from cameras.zones import detach_zones

    # Zones outlive the camera row: registering the same device again gives them back (cameras.zones).
    detach_zones(session, camera_id)
    session.delete(camera)


def health_public(health: CameraHealth | None) -> CameraHealthPublic:
    if health is None:
        return CameraHealthPublic()
    from cameras.staleness import apply_staleness

    out = CameraHealthPublic.model_validate(health, from_attributes=True)
    out.slow_keyframes = health.keyframe_interval_s > SLOW_KEYFRAME_SECONDS + 0.05
    # A row its worker stopped writing is offline now, not when the scheduler next looks.
    return apply_staleness(out, health)


def to_public(camera: Camera, health: CameraHealth | None) -> CameraPublic:
    data = camera.model_dump(exclude={"password_enc", "profiles_json", "created_at", "updated_at"})
    data["stream_uri_override"] = redact_uri(camera.stream_uri_override)
    return CameraPublic(**data, has_password=bool(camera.password_enc), profiles=camera.profiles,
                        health=health_public(health))


def list_cameras(session: Session, actor: Principal, *, site_id: int | None = None,
                 hall_id: int | None = None, status: CameraStatus | None = None) -> list[CameraPublic]:
    """Cameras of the actor's jurisdiction (optionally one site's subtree or one hall), with health."""
    actor.require(Permission.CAMERAS_VIEW)
    prefix = actor.site_path
    if site_id is not None:
        prefix = check_site(session, actor, site_id).path
    stmt = (select(Camera, CameraHealth).join(Site, col(Site.id) == col(Camera.site_id))
            .join(CameraHealth, col(CameraHealth.camera_id) == col(Camera.id), isouter=True)
            .where(col(Site.path).startswith(prefix, autoescape=True)))
    if hall_id is not None:
        stmt = stmt.where(col(Camera.hall_id) == hall_id)
    rows = session.exec(stmt.order_by(col(Camera.site_id), col(Camera.hall_id), col(Camera.name))).all()
    cameras = [to_public(cam, health) for cam, health in rows]
    # Filtered after staleness is applied: a silent worker's "online" row is offline.
    return cameras if status is None else [c for c in cameras if c.health.status == status]


def camera_status(session: Session, actor: Principal, camera_id: int) -> CameraHealthPublic:
    camera = get_camera(session, actor, camera_id)
    return health_public(session.get(CameraHealth, camera.id))


def list_alerts(session: Session, actor: Principal, *, open_only: bool = True, since: datetime | None = None,
                limit: int = 100) -> list[CameraAlertPublic]:
    """Video alerts (offline / frozen) of the actor's jurisdiction, newest first."""
    actor.require(Permission.CAMERAS_VIEW)
    stmt = (select(CameraAlert, Camera).join(Camera, col(Camera.id) == col(CameraAlert.camera_id))
            .join(Site, col(Site.id) == col(CameraAlert.site_id))
            .where(col(Site.path).startswith(actor.site_path, autoescape=True)))
    if open_only:
        stmt = stmt.where(col(CameraAlert.cleared_at).is_(None))
    if since is not None:
        stmt = stmt.where(col(CameraAlert.started_at) >= since)
    rows = session.exec(stmt.order_by(col(CameraAlert.started_at).desc()).limit(limit)).all()
    return [CameraAlertPublic(id=int(a.id or 0), camera_id=a.camera_id, camera_name=c.name, site_id=a.site_id,
                              kind=a.kind, started_at=a.started_at, cleared_at=a.cleared_at, detail=a.detail)
            for a, c in rows]


def record_live_view(engine: Engine | None, actor: Principal, camera_id: int, *, started_at: datetime,
                     ended_at: datetime, site_id: int | None = None, ip: str = "") -> None:
    """Write who watched which camera from when to when (call when the live view closes)."""
    audit.record_now(engine, actor, "camera.live_view", object_kind="camera", object_id=camera_id,
                     site_id=site_id, ip=ip,
                     detail={"from": started_at.isoformat(), "to": ended_at.isoformat(),
                             "seconds": round((ended_at - started_at).total_seconds(), 1)})


def stream_uri(camera: Camera, *, analysis: bool = True) -> str:
    """The URI ingest opens, with the camera's credentials (never log or show it)."""
    if camera.stream_uri_override:
        return camera.stream_uri_override
    token = camera.analysis_profile if analysis else camera.main_profile
    prof = camera.profile(token) or camera.profile(camera.main_profile)
    if prof is None or not prof.rtsp_uri:
        return ""
    return with_credentials(prof.rtsp_uri, camera.username, crypto.decrypt(camera.password_enc))


# --- registration helpers for forms ---------------------------------------------------------------

# Which form fields a device error is about, so the admin sees it next to what to change.
DEVICE_ERROR_FIELDS: dict[str, tuple[str, ...]] = {
    "camera.error.auth_failed": ("username", "password"),
    "camera.error.unreachable": ("host", "port"),
    "camera.error.timeout": ("host", "port"),
    "camera.error.not_onvif": ("port",),
    "camera.error.malformed": ("host",),
    "camera.error.soap_fault": ("host",),
    "camera.error.clock": ("host",),
    "camera.error.no_h264": ("main_profile",),
    "camera.error.no_profiles": ("main_profile",),
    "camera.error.device": ("host",),
}


def device_error_fields(key: str) -> tuple[str, ...]:
    """The form fields a device error key points at (the host when unsure)."""
    return DEVICE_ERROR_FIELDS.get(key, ("host",))


def probe_device(actor: Principal, host: str, port: int, username: str, password: str, *,
                 timeout: float | None = None) -> DeviceInfo:
    """Ask a device that is not registered yet (the register form's first step); raises DeviceError."""
    actor.require(Permission.CAMERAS_MANAGE)
    problems = []
    if not host.strip():
        problems.append(("host", "error.required"))
    if not 1 <= port <= 65535:
        problems.append(("port", "error.invalid_value"))
    if problems:
        raise InvalidInput(problems[0][0], problems[0][1])
    info = describe_device(host.strip(), port, username, password,
                           timeout=timeout or get_camera_settings().probe_timeout_seconds)
    return info.model_copy(update={"profiles": [p.model_copy(update={"rtsp_uri": redact_uri(p.rtsp_uri)})
                                                for p in info.profiles]})


def seal_password(password: str) -> str:
    """Encrypt a password typed into the register form so the form can carry it between steps."""
    return crypto.encrypt(password) if password else ""


def open_password(sealed: str) -> str:
    """The password a form carried sealed; '' when it is missing or was not sealed by us."""
    if not sealed:
        return ""
    try:
        return crypto.decrypt(sealed)
    except ValueError:
        return ""


def discover_cameras(session: Session, actor: Principal, *, target: str = "",
                     timeout: float | None = None) -> list[DiscoveredDevice]:
    """WS-Discovery ("Find cameras"): multicast on the local network, or one address; marks registered ones."""
    from cameras.discovery import MULTICAST, discover

    actor.require(Permission.CAMERAS_MANAGE)
    _outside_transaction(session, "discover_cameras")  # it reads the registered cameras after the probe
    where = target.strip()
    if where and where != "multicast":
        import ipaddress

        try:
            ipaddress.ip_address(where)
        except ValueError:
            raise InvalidInput("target", "camera.error.bad_target") from None
    devices = discover(timeout=timeout or get_camera_settings().discovery_timeout_seconds,
                       target=MULTICAST if where in ("", "multicast") else where)
    if devices:
        # Marked registered only where the caller may see the camera: a county never learns of a city camera.
        rows = session.exec(select(Camera.id, Camera.host, Camera.port)
                            .join(Site, col(Site.id) == col(Camera.site_id))
                            .where(col(Camera.host).in_([d.host for d in devices]), site_path_clause(actor))
                            .order_by(col(Camera.id))).all()
        known: dict[tuple[str, int], int] = {}
        for cid, host, port in rows:
            known.setdefault((host, port), int(cid or 0))  # the first registered of one address
        for device in devices:
            device.registered_camera_id = known.get((device.host, device.port))
    return devices


def site_and_hall_names(session: Session, cameras: Sequence[CameraPublic]) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the sites and halls of listed cameras, for display."""
    site_ids = {c.site_id for c in cameras}
    hall_ids = {c.hall_id for c in cameras if c.hall_id is not None}
    sites = {int(s.id or 0): s.name for s in session.exec(select(Site).where(col(Site.id).in_(site_ids)))}
    halls = {int(h.id or 0): h.name for h in session.exec(select(Hall).where(col(Hall.id).in_(hall_ids)))}
    return sites, halls
