"""Camera pages: the live wall, one camera's live view (audited), health, registration, discovery, alerts."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

import cameras
from cameras import CameraCreate, CameraPublic, CameraStatus, CameraUpdate, DeviceInfo
from cameras.models import (
    VideoEventKind,
    VideoEventReview,
    VideoEventStatus,
    WindowClosureCreate,
    ZoneThresholdChange,
)
from supervision import org
from supervision.access import Permission, Principal
from supervision.errors import Conflict, DeviceError, FieldProblem, InvalidInput, SupervisionError
from supervision.models import Role
from supervision.org import OrgKind
from supervision.settings import Settings, get_settings
from web.deps import SessionDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.labels import Ref
from web.routes.home import HomePanel, register_panel
from web.sources import SourceResolver, source_name
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW)]
Reviewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.LEDGER_WRITE)]
Manager = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.CAMERAS_MANAGE)]
Drawer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.ZONES_MANAGE)]

WALL_PAGE_SIZE = 48
OPTION_LIMIT = 3000
STATUS_BADGE = {"online": "ok", "offline": "bad", "frozen": "warn", "unknown": ""}
FORM_FIELDS = ("site_id", "hall_id", "name", "host", "port", "username")

add_nav_item(NavItem("/cameras/wall", "camera.nav", "/cameras", Permission.CAMERAS_VIEW), before="/calendar")


# --- helpers ----------------------------------------------------------------------------------------


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _options(session: Session, actor: Principal) -> dict[str, list[tuple[int, str, int]]]:
    """Sites and halls of the actor's jurisdiction for the selects: (id, label, site id)."""
    sites, _ = org.list_entities(session, actor, OrgKind.SITE, limit=OPTION_LIMIT)
    halls, _ = org.list_entities(session, actor, OrgKind.HALL, limit=OPTION_LIMIT)
    site_names = {s.id: s.name for s in sites}
    return {
        "site": [(int(s.id), "\u3000" * s.depth + s.name, int(s.id)) for s in sites],
        "hall": [(int(h.id), f"{site_names.get(h.site_id, '')} · {h.name}", int(h.site_id)) for h in halls],
    }


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _form_str(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _scope(session: Session, actor: Principal, site_id: int | None, hall_id: int | None) -> dict[str, Any]:
    """The wall's or list's scope, checked against the jurisdiction (a foreign id is not found)."""
    site = org.get_entity(session, actor, OrgKind.SITE, site_id) if site_id is not None else None
    hall = org.get_entity(session, actor, OrgKind.HALL, hall_id) if hall_id is not None else None
    return {"site": site, "hall": hall}


def _device_problems(exc: DeviceError, locale: str) -> list[dict[str, Any]]:
    message = exc.message(locale)
    return [FieldProblem(name, exc.key, exc.params).as_dict(locale) | {"message": message}
            for name in cameras.device_error_fields(exc.key)]


def _problems(exc: SupervisionError, locale: str) -> list[dict[str, Any]]:
    if isinstance(exc, DeviceError):
        return _device_problems(exc, locale)
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    field = "host" if isinstance(exc, Conflict) else "name"
    return [{"field": field, "label": "", "message": exc.message(locale)}]


def _form_status(exc: SupervisionError) -> int:
    """A form shown again with its problems: 422, or 409 for a duplicate (never a gateway error)."""
    return 409 if isinstance(exc, Conflict) else 422


def _counts(rows: list[CameraPublic]) -> dict[str, int]:
    out = {s.value: 0 for s in CameraStatus}
    for row in rows:
        out[row.health.status.value] += 1
    return out


# --- the live wall -----------------------------------------------------------------------------------


@router.get("/cameras/wall")
def wall(
    request: Request, session: SessionDep, actor: Viewer,
    site_id: Annotated[int | None, Query()] = None, hall_id: Annotated[int | None, Query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Stills of every camera of a hall, a site or the whole jurisdiction, refreshed every few seconds."""
    scope = _scope(session, actor, site_id, hall_id)
    rows = cameras.list_cameras(session, actor, site_id=site_id, hall_id=hall_id)
    sites, halls = cameras.site_and_hall_names(session, rows)
    page = rows[offset:offset + WALL_PAGE_SIZE]
    return render(request, "cameras/wall.html", {
        "rows": page, "count": len(rows), "offset": offset, "limit": WALL_PAGE_SIZE, "counts": _counts(rows),
        "site_names": sites, "hall_names": halls, "options": _options(session, actor),
        "site_id": site_id, "hall_id": hall_id, "badge": STATUS_BADGE,
        "refresh_seconds": cameras.get_camera_settings().wall_refresh_seconds, **scope,
    })


@router.get("/cameras/{camera_id}/live")
def live_page(request: Request, session: SessionDep, actor: Viewer, camera_id: int) -> Response:
    """One camera's live view (MJPEG); who watches from when to when goes to the audit log."""
    camera = cameras.get_camera(session, actor, camera_id)
    public = cameras.to_public(camera, None)
    health = cameras.camera_status(session, actor, camera_id)
    sites, halls = cameras.site_and_hall_names(session, [public])
    return render(request, "cameras/live.html", {
        "camera": public, "health": health, "site_names": sites, "hall_names": halls, "badge": STATUS_BADGE,
    })


def _frames(engine: Engine, camera_id: int, stop: threading.Event, max_seconds: float
            ) -> Generator[bytes, None, None]:
    boundary = cameras.MJPEG_BOUNDARY.encode()
    for jpeg in cameras.live_jpegs(engine, camera_id, stop=stop, max_seconds=max_seconds):
        yield (b"--" + boundary + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
               + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")


class _AuditedStream(StreamingResponse):
    """A streaming response that runs `on_close` however it ends: finished, failed or the viewer gone."""

    def __init__(self, content: AsyncIterator[bytes], on_close: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.on_close = on_close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: a disconnect cancels the response, and the record must still be written.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.on_close)


@router.get("/cameras/{camera_id}/live.mjpeg")
def live_stream(request: Request, session: SessionDep, actor: Viewer, camera_id: int) -> Response:
    """The MJPEG stream of the live view; its start and end are written to the audit log when it closes."""
    camera = cameras.get_camera(session, actor, camera_id)
    site_id, ip, engine = camera.site_id, client_ip(request), _engine(request)
    max_seconds = cameras.get_camera_settings().live_view_max_seconds
    started = datetime.now(UTC)
    stop = threading.Event()
    parts = _frames(engine, camera_id, stop, max_seconds)
    pulling = threading.Lock()

    def next_part() -> bytes | None:
        with pulling:
            return None if stop.is_set() else next(parts, None)

    async def body() -> AsyncIterator[bytes]:
        while True:
            part = await anyio.to_thread.run_sync(next_part)
            if part is None:
                return
            yield part

    def close() -> None:
        stop.set()
        ended = datetime.now(UTC)
        with pulling:  # a pull in flight ends within a second once stop is set
            parts.close()  # leaves the reader's "watched" state: back to key frames only
        cameras.record_live_view(engine, actor, camera_id, started_at=started, ended_at=ended, site_id=site_id,
                                 ip=ip)

    return _AuditedStream(body(), close,
                          media_type=f"multipart/x-mixed-replace; boundary={cameras.MJPEG_BOUNDARY}",
                          headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- health list, one camera, alerts -----------------------------------------------------------------


@router.get("/cameras")
def camera_list(
    request: Request, session: SessionDep, actor: Viewer,
    site_id: Annotated[int | None, Query()] = None, hall_id: Annotated[int | None, Query()] = None,
    status: Annotated[CameraStatus | None, Query()] = None,
) -> Response:
    """Every camera with its health: status, frame rates, last frame, resolution, codec, bitrate, reconnects."""
    scope = _scope(session, actor, site_id, hall_id)
    rows = cameras.list_cameras(session, actor, site_id=site_id, hall_id=hall_id, status=status)
    sites, halls = cameras.site_and_hall_names(session, rows)
    return render(request, "cameras/list.html", {
        "rows": rows, "site_names": sites, "hall_names": halls, "options": _options(session, actor),
        "site_id": site_id, "hall_id": hall_id, "status": status.value if status else "",
        "statuses": [s.value for s in CameraStatus], "badge": STATUS_BADGE,
        "can_manage": actor.can(Permission.CAMERAS_MANAGE), **scope,
    })


@router.get("/cameras/video-events")
def video_events_page(
    request: Request, session: SessionDep, actor: Viewer,
    open_only: Annotated[bool, Query(alias="open")] = False,
    camera_id: Annotated[str, Query(alias="camera")] = "",
    site_id: Annotated[str, Query(alias="site")] = "",
    kind: str = "", status: str = "",
) -> Response:
    """The officer's queue: video events of the jurisdiction, newest first, with the start still as a thumbnail;
    filtered by camera, centre, kind and status."""
    if open_only and not status:
        status = "open"
    flt = cameras.VideoEventFilter(camera_id=_int(camera_id), site_id=_int(site_id), kind=kind or None,
                                   status=status or None)
    rows, thumbs, cams = cameras.video_event_queue(session, actor, flt, limit=300)
    return render(request, "cameras/video_events.html", {
        "events": rows, "open_only": open_only, "thumbs": thumbs, "filter": flt, "camera_options": cams,
        "site_options": _options(session, actor)["site"], "kinds": [k.value for k in VideoEventKind],
        "statuses": [s.value for s in VideoEventStatus]})


@router.get("/cameras/video-events/{event_id}/thumbnail.jpg")
def video_event_thumbnail(session: SessionDep, actor: Viewer, event_id: int) -> Response:
    """The event's start still for the queue (a view of the event, as the page is; downloads go through the API)."""
    path = cameras.evidence_thumbnail(session, actor, event_id)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/cameras/video-events/{event_id}")
def video_event_page(request: Request, session: SessionDep, actor: Viewer, event_id: int) -> Response:
    """One video event: where, who, when, how long; an officer confirms or dismisses it with a reason."""
    return _event_page(request, session, actor, event_id)


def _event_page(request: Request, session: Session, actor: Principal, event_id: int, *,
                values: dict[str, str] | None = None, problems: list[dict[str, Any]] | None = None,
                status_code: int = 200) -> Response:
    event = cameras.video_event_public(session, actor, event_id)
    return render(request, "cameras/video_event.html", {
        "evidence": cameras.list_video_evidence(session, actor, event_id),
        "legal_hold": cameras.video_event_held(session, event_id),
        "can_export": actor.can(Permission.LEDGER_WRITE),
        "event": event, "can_review": actor.can(Permission.LEDGER_WRITE) and event.review_outcome is None
        and event.ended_at is not None, "values": values or {}, "problems": problems or [],
        **_review_context(session, actor, event_id)},
        status_code=status_code)


@router.post("/cameras/video-events/{event_id}/review")
async def video_event_review(request: Request, session: SessionDep, actor: Reviewer, event_id: int) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("outcome", "reason")}

    def save() -> Response:
        try:
            try:
                data = VideoEventReview.model_validate(values)
            except ValidationError as exc:
                raise InvalidInput(problems=org.problems_from_validation(exc)) from None
            with all_or_nothing(session):
                cameras.review_video_event(session, actor, event_id, data, ip=client_ip(request))
        except InvalidInput as exc:
            problems = [p.as_dict(request_locale(request)) for p in exc.problems] or [
                {"field": "reason", "label": "", "message": exc.message(request_locale(request))}]
            return _event_page(request, session, actor, event_id, values=values, problems=problems, status_code=422)
        return RedirectResponse(f"/cameras/video-events/{event_id}?reviewed=1", status_code=303)

    return await anyio.to_thread.run_sync(save)


def _video_sources(session: Session, reader: Principal, ids: Sequence[str], locale: str) -> dict[str, Ref]:
    """A ledger point from a confirmed video event leads to the event's page, for whoever may open it."""
    return {ident: Ref(source_name("video", ident, locale), f"/cameras/video-events/{ident}")
            for ident in cameras.video_events_readable(session, reader, ids)}


SOURCE_RESOLVERS: dict[str, SourceResolver] = {"video": _video_sources}


@router.get("/cameras/alerts")
def alerts_page(
    request: Request, session: SessionDep, actor: Viewer,
    all_alerts: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    """Video alerts (offline, frozen): the open ones, or the latest including cleared."""
    rows = cameras.list_alerts(session, actor, open_only=not all_alerts, limit=300)
    return render(request, "cameras/alerts.html", {"alerts": rows, "all_alerts": all_alerts})


@router.get("/cameras/new")
def new_camera_form(
    request: Request, session: SessionDep, actor: Manager,
    host: Annotated[str, Query(max_length=253)] = "", port: Annotated[int, Query(ge=1, le=65535)] = 80,
    name: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    """The register form (pre-filled from "Find cameras")."""
    values = {"host": host, "port": port, "name": name, "username": "", "site_id": actor.site_id, "hall_id": None}
    return _register_page(request, session, actor, values)


def _register_page(request: Request, session: Session, actor: Principal, values: dict[str, Any], *,
                   info: DeviceInfo | None = None, problems: list[dict[str, Any]] | None = None,
                   sealed: str = "", status_code: int = 200) -> Response:
    return render(request, "cameras/register.html", {
        "values": values, "info": info, "problems": problems or [], "options": _options(session, actor),
        "sealed": sealed,
    }, status_code=status_code)


@router.post("/cameras/new")
async def register_submit(request: Request, session: SessionDep, actor: Manager) -> Response:
    """Step 1 (action=probe): ask the device and show what it says. Step 2 (action=save): register it."""
    form = await request.form()
    return await anyio.to_thread.run_sync(lambda: _register(request, session, actor, form))


def _register(request: Request, session: Session, actor: Principal, form: FormData) -> Response:
    locale = request_locale(request)
    values: dict[str, Any] = {k: _form_str(form, k) for k in FORM_FIELDS}
    values["site_id"], values["hall_id"] = _int(values["site_id"]), _int(values["hall_id"])
    values["port"] = _int(values["port"]) or 0
    password = _form_str(form, "password") or cameras.open_password(_form_str(form, "password_sealed"))
    sealed = cameras.seal_password(password)
    values["main_profile"] = _form_str(form, "main_profile")
    values["analysis_profile"] = _form_str(form, "analysis_profile")
    # A plain stream (no ONVIF); shown back without its credentials if the form comes back.
    stream_uri = _form_str(form, "stream_uri_override")
    values["stream_uri_override"] = cameras.redact_uri(stream_uri)
    action = _form_str(form, "action") or "save"
    info: DeviceInfo | None = None
    try:
        if action == "probe":
            info = cameras.probe_device(actor, values["host"], values["port"], values["username"], password)
            return _register_page(request, session, actor, values, info=info, sealed=sealed)
        try:
            data = CameraCreate.model_validate({**values, "password": password, "stream_uri_override": stream_uri})
        except ValidationError as exc:
            raise InvalidInput(problems=org.problems_from_validation(exc)) from None
        # Not in a savepoint: registration ends its checks' transaction before it asks the device (no
        # transaction may be open then) and refuses before it writes anything.
        camera = cameras.register_camera(session, actor, data, ip=client_ip(request))
    except (InvalidInput, DeviceError, Conflict) as exc:
        return _register_page(request, session, actor, values, info=info, sealed=sealed,
                              problems=_problems(exc, locale), status_code=_form_status(exc))
    return RedirectResponse(f"/cameras/{camera.id}?saved=1", status_code=303)


@router.get("/cameras/discover")
def discover_form(request: Request, actor: Manager) -> Response:
    """"Find cameras": where to look (the local network by multicast, or one address)."""
    return render(request, "cameras/discover.html", {"devices": None, "target": "multicast", "problems": []})


@router.post("/cameras/discover")
async def discover_submit(request: Request, session: SessionDep, actor: Manager) -> Response:
    """Run a WS-Discovery probe and list what answered; unregistered devices get a register button."""
    form = await request.form()
    target = _form_str(form, "target")
    if not target:
        # An explicit choice is required: a probe is network traffic, never sent by accident.
        problems = [FieldProblem("target", "error.required").as_dict(request_locale(request))]
        return render(request, "cameras/discover.html", {"devices": None, "target": "", "problems": problems},
                      status_code=422)
    try:
        devices = await anyio.to_thread.run_sync(
            lambda: cameras.discover_cameras(session, actor, target=target))
    except InvalidInput as exc:
        return render(request, "cameras/discover.html", {
            "devices": None, "target": target, "problems": _problems(exc, request_locale(request))},
            status_code=422)
    return render(request, "cameras/discover.html", {"devices": devices, "target": target, "problems": []})


@router.get("/cameras/{camera_id}")
def camera_detail(request: Request, session: SessionDep, actor: Viewer, camera_id: int) -> Response:
    """A camera: device information, profiles, health; the admin edits it and asks the device again."""
    return _detail_page(request, session, actor, camera_id)


def _detail_page(request: Request, session: Session, actor: Principal, camera_id: int, *,
                 problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    camera = cameras.get_camera(session, actor, camera_id)
    public = cameras.to_public(camera, None)
    public.health = cameras.camera_status(session, actor, camera_id)
    sites, halls = cameras.site_and_hall_names(session, [public])
    can_manage = actor.can(Permission.CAMERAS_MANAGE)
    return render(request, "cameras/detail.html", {
        "camera": public, "health": public.health, "site_names": sites, "hall_names": halls,
        "badge": STATUS_BADGE, "can_manage": can_manage, "problems": problems or [],
        "options": _options(session, actor) if can_manage else {"site": [], "hall": []},
        "tamper_reference": cameras.camera_reference_public(session, actor, camera_id),
        "queues": cameras.queue_states(session, actor, camera_id),
        "can_draw": actor.can(Permission.ZONES_MANAGE),
    }, status_code=status_code)


@router.post("/cameras/{camera_id}")
async def camera_update(request: Request, session: SessionDep, actor: Manager, camera_id: int) -> Response:
    """Change the name, hall, chosen profiles, credentials or whether ingest reads the camera."""
    form = await request.form()
    # Only what the form sent is changed (a form without the profile selects leaves the profiles alone).
    changes: dict[str, Any] = {k: _form_str(form, k) for k in ("name", "main_profile", "analysis_profile",
                                                             "username") if k in form}
    if "hall_id" in form:
        changes["hall_id"] = _int(_form_str(form, "hall_id"))
    if "enabled_shown" in form:  # an unticked checkbox sends nothing: the hidden field says it was there
        changes["enabled"] = form.get("enabled") in ("on", "true", "1")
    if _form_str(form, "password"):
        changes["password"] = _form_str(form, "password")

    def apply() -> Response:
        try:
            if "name" in changes and not changes["name"]:
                raise InvalidInput("name", "error.required")
            try:
                data = CameraUpdate.model_validate(changes)
            except ValidationError as exc:
                raise InvalidInput(problems=org.problems_from_validation(exc)) from None
            with all_or_nothing(session):
                cameras.update_camera(session, actor, camera_id, data, ip=client_ip(request))
        except (InvalidInput, Conflict) as exc:
            return _detail_page(request, session, actor, camera_id,
                                problems=_problems(exc, request_locale(request)), status_code=_form_status(exc))
        return RedirectResponse(f"/cameras/{camera_id}?saved=1", status_code=303)

    return await anyio.to_thread.run_sync(apply)


@router.post("/cameras/{camera_id}/probe")
def camera_probe(request: Request, session: SessionDep, actor: Manager, camera_id: int) -> Response:
    """"Probe again": ask the device for its information, profiles and URIs now."""
    try:
        # Like registration: no transaction may be open while the device answers, and nothing is written
        # before it has.
        cameras.probe_camera(session, actor, camera_id, ip=client_ip(request))
    except DeviceError as exc:
        return _detail_page(request, session, actor, camera_id,
                            problems=_problems(exc, request_locale(request)), status_code=_form_status(exc))
    return RedirectResponse(f"/cameras/{camera_id}?probed=1", status_code=303)


@router.post("/cameras/{camera_id}/delete")
def camera_delete(request: Request, session: SessionDep, actor: Manager, camera_id: int) -> Response:
    cameras.delete_camera(session, actor, camera_id, ip=client_ip(request))
    return RedirectResponse("/cameras?deleted=1", status_code=303)


# --- the officer's home page ---------------------------------------------------------------------------


def _home_panel(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    if not principal.can(Permission.CAMERAS_VIEW):
        return {"alerts": [], "counts": {}, "tiles": [], "total": 0}
    rows = cameras.list_cameras(session, principal)
    alerts = cameras.list_alerts(session, principal, open_only=True, limit=10)
    # A few tiles, the troubled ones first, so the home page shows what needs a look.
    order = {"offline": 0, "frozen": 1, "unknown": 2, "online": 3}
    tiles = sorted(rows, key=lambda c: order.get(c.health.status.value, 9))[:6]
    return {"alerts": alerts, "counts": _counts(rows), "tiles": tiles, "total": len(rows),
            "badge": STATUS_BADGE, "refresh_seconds": cameras.get_camera_settings().wall_refresh_seconds}


register_panel(HomePanel("camera_alerts", "cameras/_home_panel.html", frozenset({Role.OFFICER, Role.ADMIN}),
                         _home_panel, order=5, wide=True))


@router.post("/cameras/{camera_id}/tamper-reference")
def tamper_reference(request: Request, session: SessionDep, actor: Drawer, camera_id: int) -> Response:
    """Take the camera's reference still for the tamper checks from the live picture (fetched before the write)."""
    jpeg = cameras.camera_frame(_engine(request), actor, camera_id)
    cameras.set_camera_reference(session, actor, camera_id, jpeg=jpeg, media_dir=get_settings().media_dir,
                                 ip=client_ip(request))
    return RedirectResponse(f"/cameras/{camera_id}?tamper_reference=1", status_code=303)
# --- review: the timeline and keyboard on the event page, false alarms per zone, windows closed (issue 13 §7, §3) --

ZonesManager = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.ZONES_MANAGE)]
Closer = Annotated[Principal, needs(Permission.WINDOWS_CLOSE)]

add_nav_item(NavItem("/windows/closures", "window_closure.nav", "/windows", Permission.WINDOWS_CLOSE),
             before="/calendar")


def _review_context(session: Session, actor: Principal, event_id: int) -> dict[str, Any]:
    """What the event page's timeline include and keyboard need: the day's chart and the queue's neighbours."""
    previous, following = cameras.review_neighbours(session, actor, event_id)
    return {"timeline": cameras.event_timeline(session, actor, event_id), "queue_previous": previous,
            "queue_next": following}


@router.get("/cameras/zones/false-alarms")
def false_alarms_page(request: Request, session: SessionDep, actor: Viewer) -> Response:
    """Per post zone: events, confirmed, dismissed, the false-alarm rate and the threshold, to tune it."""
    return _false_alarms(request, session, actor)


def _false_alarms(request: Request, session: Session, actor: Principal, *, problems: list[dict[str, Any]] | None
                  = None, status_code: int = 200) -> Response:
    return render(request, "cameras/false_alarms.html", {
        "rows": cameras.false_alarms(session, actor), "can_tune": actor.can(Permission.ZONES_MANAGE),
        "problems": problems or [], "saved": request.query_params.get("saved")}, status_code=status_code)


@router.post("/cameras/zones/{zone_id}/threshold")
async def zone_threshold_submit(request: Request, session: SessionDep, actor: ZonesManager, zone_id: int
                                ) -> Response:
    form = await request.form()
    values = {"minutes": _form_str(form, "minutes") or None, "reason": _form_str(form, "reason")}

    def save() -> Response:
        try:
            try:
                change = ZoneThresholdChange.model_validate(values)
            except ValidationError as exc:
                raise InvalidInput(problems=org.problems_from_validation(exc)) from None
            with all_or_nothing(session):
                cameras.set_zone_threshold(session, actor, zone_id, change, ip=client_ip(request))
        except InvalidInput as exc:
            return _false_alarms(request, session, actor, problems=_problems(exc, request_locale(request)),
                                 status_code=422)
        return RedirectResponse(f"/cameras/zones/false-alarms?saved={zone_id}", status_code=303)

    return await anyio.to_thread.run_sync(save)


def _closures_page(request: Request, session: Session, actor: Principal, *, values: dict[str, str] | None = None,
                   problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    windows, _ = org.list_entities(session, actor, OrgKind.WINDOW, limit=OPTION_LIMIT)
    return render(request, "cameras/window_closures.html", {
        "closures": cameras.list_closures(session, actor), "windows": windows, "values": values or {},
        "problems": problems or [], "now_utc": datetime.now(UTC)}, status_code=status_code)


@router.get("/windows/closures")
def window_closures_page(request: Request, session: SessionDep, actor: Closer) -> Response:
    """Windows closed for a while (窗口暂停服务): their posts are not watched then; close one, reopen early."""
    return _closures_page(request, session, actor)


@router.post("/windows/closures")
async def window_closure_submit(request: Request, session: SessionDep, actor: Closer) -> Response:
    form = await request.form()
    values = {k: _form_str(form, k) for k in ("window_id", "starts_at", "ends_at", "reason")}

    def save() -> Response:
        try:
            data = _closure_form(values)
            with all_or_nothing(session):
                cameras.close_window(session, actor, data, ip=client_ip(request))
        except InvalidInput as exc:
            return _closures_page(request, session, actor, values=values,
                                  problems=_problems(exc, request_locale(request)), status_code=422)
        return RedirectResponse("/windows/closures", status_code=303)

    return await anyio.to_thread.run_sync(save)


def _closure_form(values: dict[str, str]) -> WindowClosureCreate:
    """The form's local date-times (datetime-local inputs) as aware datetimes in the service's zone."""
    tz = get_settings().tz
    parsed: dict[str, Any] = {"window_id": values["window_id"], "reason": values["reason"]}
    for name in ("starts_at", "ends_at"):
        try:
            parsed[name] = datetime.fromisoformat(values[name]).replace(tzinfo=tz) if values[name] else None
        except ValueError:
            raise InvalidInput(name, "error.invalid_value", detail=values[name][:40]) from None
    try:
        return WindowClosureCreate.model_validate(parsed)
    except ValidationError as exc:
        raise InvalidInput(problems=org.problems_from_validation(exc)) from None


@router.post("/windows/closures/{closure_id}/end")
def window_closure_end(request: Request, session: SessionDep, actor: Closer, closure_id: int) -> Response:
    with all_or_nothing(session):
        cameras.end_closure(session, actor, closure_id, ip=client_ip(request))
    return RedirectResponse("/windows/closures", status_code=303)
