"""Zone pages: draw a camera's zones on its still (or type their points), edit and delete them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

import cameras
from cameras import ZoneCreate, ZoneKind, ZoneUpdate
from supervision import org
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput, NotFound, SupervisionError
from supervision.org import OrgKind
from supervision.settings import get_settings
from web.deps import SessionDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.templating import render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW)]
Drawer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.ZONES_MANAGE)]

OPTION_LIMIT = 3000
NUMBER_FIELDS = ("occupied_after_seconds", "vacant_after_seconds", "queue_alert_count")
DEFAULTS: dict[str, Any] = {"name": "", "kind": ZoneKind.POST.value, "post_id": None, "hall_id": None,
                            "polygon_text": "", "occupied_after_seconds": 2.0, "vacant_after_seconds": 2.0,
                            "queue_alert_count": 3}


def points_text(points: list[tuple[float, float]]) -> str:
    """The points as the form shows them: one `x, y` per line."""
    return "\n".join(f"{x:.4f}, {y:.4f}" for x, y in points)


def parse_points(text: str) -> list[tuple[float, float]]:
    """`x, y` per line (commas, spaces or semicolons between) into points; InvalidInput on what is not."""
    points: list[tuple[float, float]] = []
    for line in text.replace(";", "\n").splitlines():
        parts = [p for p in line.replace(",", " ").replace(",", " ").split() if p]
        if not parts:
            continue
        if len(parts) != 2:
            raise InvalidInput("polygon", "zone.error.bad_points")
        try:
            points.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise InvalidInput("polygon", "zone.error.bad_points") from None
    return points


def _options(session: Session, actor: Principal, site_id: int) -> dict[str, list[tuple[int, str]]]:
    """The camera site's posts and halls for the selects."""
    posts, _ = org.list_entities(session, actor, OrgKind.POST, limit=OPTION_LIMIT)
    halls, _ = org.list_entities(session, actor, OrgKind.HALL, limit=OPTION_LIMIT)
    return {"post": [(int(p.id), f"{p.code} {p.name}") for p in posts if p.site_id == site_id],
            "hall": [(int(h.id), h.name) for h in halls if h.site_id == site_id]}


def _page(request: Request, session: Session, actor: Principal, camera_id: int, *,
          values: dict[str, Any] | None = None, editing: int | None = None,
          problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    camera = cameras.get_camera(session, actor, camera_id)
    health = cameras.camera_status(session, actor, camera_id)
    rows = cameras.list_zones(session, actor, camera_id)
    if editing is not None and values is None:
        zone = next((z for z in rows if z.id == editing), None)
        if zone is None:
            raise NotFound("error.not_found_kind", kind="kind.zone", id=editing)
        values = {**zone.model_dump(), "kind": zone.kind.value, "polygon_text": points_text(zone.polygon)}
    width, height = (health.width, health.height) if health.width and health.height else (16, 9)
    shapes = [{"id": z.id, "kind": z.kind.value, "name": z.name, "points": z.polygon} for z in rows
              if z.id != editing]
    can_draw = actor.can(Permission.ZONES_MANAGE)
    return render(request, "cameras/zones.html", {
        "camera": camera, "zones": rows, "values": values or dict(DEFAULTS), "editing": editing,
        "problems": problems or [], "can_draw": can_draw, "kinds": [k.value for k in ZoneKind],
        "options": _options(session, actor, camera.site_id) if can_draw else {"post": [], "hall": []},
        "aspect": f"{width} / {height}", "shapes_json": json.dumps(shapes),
    }, status_code=status_code)


@router.get("/cameras/{camera_id}/zones")
def zones_page(request: Request, session: SessionDep, actor: Viewer, camera_id: int) -> Response:
    """The camera's zones on its still, with the presence at each post now; officers draw new ones."""
    return _page(request, session, actor, camera_id)


@router.get("/cameras/{camera_id}/zones/{zone_id}")
def zone_edit_page(request: Request, session: SessionDep, actor: Drawer, camera_id: int, zone_id: int) -> Response:
    return _page(request, session, actor, camera_id, editing=zone_id)


def _form_values(form: FormData) -> dict[str, Any]:
    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    values: dict[str, Any] = {"name": text("name"), "kind": text("kind") or ZoneKind.POST.value,
                              "polygon_text": text("polygon")}
    for name in ("post_id", "hall_id"):
        values[name] = text(name) or None
    for name in NUMBER_FIELDS:
        values[name] = text(name) or DEFAULTS[name]
    return values


def _data(values: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in values.items() if k != "polygon_text"}
    if data["kind"] != ZoneKind.POST.value:
        data["post_id"] = None
    if data["kind"] != ZoneKind.QUEUE.value:
        data["hall_id"] = None
    data["polygon"] = parse_points(values["polygon_text"])
    return data


def _problems(exc: SupervisionError, locale: str) -> list[dict[str, Any]]:
    return [p.as_dict(locale) for p in exc.problems] or [{"field": "name", "label": "",
                                                          "message": exc.message(locale)}]


def _save(request: Request, session: Session, actor: Principal, camera_id: int, form: FormData,
          zone_id: int | None) -> Response:
    values = _form_values(form)
    try:
        data = _data(values)
        try:
            if zone_id is None:
                shape: Any = ZoneCreate.model_validate(data)
            else:
                shape = ZoneUpdate.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput(problems=org.problems_from_validation(exc)) from None
        with all_or_nothing(session):
            if zone_id is None:
                cameras.create_zone(session, actor, camera_id, shape, ip=client_ip(request))
            else:
                cameras.update_zone(session, actor, camera_id, zone_id, shape, ip=client_ip(request))
    except InvalidInput as exc:
        return _page(request, session, actor, camera_id, values=values, editing=zone_id,
                     problems=_problems(exc, request_locale(request)), status_code=422)
    return RedirectResponse(f"/cameras/{camera_id}/zones?saved=1", status_code=303)


@router.post("/cameras/{camera_id}/zones")
async def zone_create(request: Request, session: SessionDep, actor: Drawer, camera_id: int) -> Response:
    """Save a drawn zone; a refused outline comes back on the form with the point named."""
    form = await request.form()
    return await anyio.to_thread.run_sync(lambda: _save(request, session, actor, camera_id, form, None))


@router.post("/cameras/{camera_id}/zones/{zone_id}")
async def zone_update(request: Request, session: SessionDep, actor: Drawer, camera_id: int,
                      zone_id: int) -> Response:
    form = await request.form()
    return await anyio.to_thread.run_sync(lambda: _save(request, session, actor, camera_id, form, zone_id))


@router.post("/cameras/{camera_id}/zones/{zone_id}/delete")
def zone_delete(request: Request, session: SessionDep, actor: Drawer, camera_id: int, zone_id: int) -> Response:
    cameras.delete_zone(session, actor, camera_id, zone_id, ip=client_ip(request))
    return RedirectResponse(f"/cameras/{camera_id}/zones?deleted=1", status_code=303)


@router.post("/cameras/{camera_id}/zones/{zone_id}/reference")
def zone_reference(request: Request, session: SessionDep, actor: Drawer, camera_id: int, zone_id: int) -> Response:
    """Take the post zone's empty-post still from the live picture (fetched before the write begins)."""
    jpeg = cameras.current_frame(request.app.state.engine, actor, camera_id, zone_id)
    cameras.set_reference(session, actor, camera_id, zone_id, jpeg=jpeg, media_dir=get_settings().media_dir,
                          ip=client_ip(request))
    return RedirectResponse(f"/cameras/{camera_id}/zones?reference=1", status_code=303)
