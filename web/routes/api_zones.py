"""Zones as JSON under /api/v1: draw, list, edit and delete a camera's zones; a post's zones; presence spans."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

import cameras as zones
from cameras import PresenceState, ZoneCreate, ZonePublic, ZoneUpdate
from cameras.models import VideoEventPublic, VideoEventReview
from cameras.vacancy import event_public, list_events, review_event
from supervision.access import Permission, Principal
from supervision.settings import get_settings
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["zones"])

Viewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW)]
Drawer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.ZONES_MANAGE)]
Reviewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.LEDGER_WRITE)]

ZONE_EXAMPLES: dict[str, Any] = {
    "post": {"summary": "A post zone over a window's counter", "value": {
        "name": "1 号窗口岗位", "kind": "post", "post_id": 1,
        "polygon": [[0.44, 0.05], [0.74, 0.05], [0.74, 0.95], [0.44, 0.95]]}},
    "queue": {"summary": "A queue zone over the waiting area, served by the hall's windows", "value": {
        "name": "等候区", "kind": "queue", "hall_id": 1, "queue_alert_count": 5,
        "polygon": [[0.05, 0.5], [0.4, 0.5], [0.4, 0.95], [0.05, 0.95]]}},
}


class PostZonePublic(BaseModel):
    camera_name: str
    zone: ZonePublic


class PresenceSpan(BaseModel):
    state: PresenceState
    started_at: datetime
    ended_at: datetime | None


@router.get("/cameras/{camera_id}/zones", response_model=Page[ZonePublic], summary="A camera's zones")
def list_zones(session: SessionDep, actor: Viewer, camera_id: int) -> Page[ZonePublic]:
    """The zones drawn on the camera's picture, each with its presence state now (post zones)."""
    rows = zones.list_zones(session, actor, camera_id)
    return Page[ZonePublic](data=rows, count=len(rows))


@router.post("/cameras/{camera_id}/zones", response_model=ZonePublic, status_code=201, summary="Draw a zone")
def create_zone(request: Request, session: SessionDep, actor: Drawer, camera_id: int,
                body: Annotated[ZoneCreate, Body(openapi_examples=ZONE_EXAMPLES)]) -> ZonePublic:
    """A polygon in coordinates from 0 to 1 of the picture (so it survives a change of resolution).

    A point outside the picture, or edges that cross, are refused with the point named.
    """
    zone = zones.create_zone(session, actor, camera_id, body, ip=client_ip(request))
    return zones.zone_public(zone, None)


@router.get("/cameras/{camera_id}/zones/{zone_id}", response_model=ZonePublic, summary="Get a zone")
def get_zone(session: SessionDep, actor: Viewer, camera_id: int, zone_id: int) -> ZonePublic:
    found = {z.id: z for z in zones.list_zones(session, actor, camera_id)}
    zones.get_zone(session, actor, camera_id, zone_id)  # NotFound when it is not this camera's
    return found[zone_id]


@router.patch("/cameras/{camera_id}/zones/{zone_id}", response_model=ZonePublic, summary="Edit a zone")
def update_zone(request: Request, session: SessionDep, actor: Drawer, camera_id: int, zone_id: int,
                body: Annotated[ZoneUpdate, Body()]) -> ZonePublic:
    """Change the given fields (the outline, the link, the hysteresis seconds)."""
    zone = zones.update_zone(session, actor, camera_id, zone_id, body, ip=client_ip(request))
    return zones.zone_public(zone, None)


@router.delete("/cameras/{camera_id}/zones/{zone_id}", status_code=204, response_class=Response,
               summary="Delete a zone")
def delete_zone(request: Request, session: SessionDep, actor: Drawer, camera_id: int, zone_id: int) -> Response:
    zones.delete_zone(session, actor, camera_id, zone_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/cameras/{camera_id}/zones/{zone_id}/presence", response_model=Page[PresenceSpan],
            summary="A zone's presence spans")
def presence(session: SessionDep, actor: Viewer, camera_id: int, zone_id: int,
             since: Annotated[datetime | None, Query(description="Only spans that ended after this")] = None,
             limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Page[PresenceSpan]:
    """When the post was occupied or vacant, newest first; the span without an end is the state now."""
    rows = zones.presence_timeline(session, actor, camera_id, zone_id, since=since, limit=limit)
    data = [PresenceSpan(state=r.state, started_at=r.started_at, ended_at=r.ended_at) for r in rows]
    return Page[PresenceSpan](data=data, count=len(data))


@router.get("/posts/{post_id}/zones", response_model=Page[PostZonePublic], summary="The zones watching a post")
def post_zones(session: SessionDep, actor: Viewer, post_id: int) -> Page[PostZonePublic]:
    rows = zones.list_post_zones(session, actor, post_id)
    data = [PostZonePublic(camera_name=r.camera_name, zone=r.zone) for r in rows]
    return Page[PostZonePublic](data=data, count=len(data))


@router.get("/video-events", response_model=Page[VideoEventPublic], summary="Video events (posts left vacant)")
def video_events(
    session: SessionDep, actor: Viewer,
    open_only: Annotated[bool, Query(description="Only events still going on")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[VideoEventPublic]:
    """Vacancy events of the caller's jurisdiction, newest first; none reaches a score before an officer's review."""
    rows = list_events(session, actor, open_only=open_only, limit=limit)
    return Page[VideoEventPublic](data=rows, count=len(rows))


@router.post("/cameras/{camera_id}/zones/{zone_id}/reference", response_model=ZonePublic,
             summary="Take the post zone's empty-post still from the camera's live picture")
def take_reference(request: Request, session: SessionDep, actor: Drawer, camera_id: int, zone_id: int) -> ZonePublic:
    """Take it while nobody is at the post: the zone's crop of the live frame is stored (sha256 recorded) and the
    detector starts from it, so a person already at the post when analysis starts is not learnt as the background.
    404 when the camera has no frame; 503 when its frame is stale."""
    jpeg = zones.current_frame(request.app.state.engine, actor, camera_id, zone_id)  # no transaction open
    zone = zones.set_reference(session, actor, camera_id, zone_id, jpeg=jpeg, media_dir=get_settings().media_dir,
                               ip=client_ip(request))
    return zones.zone_public(zone, None)


@router.get("/video-events/{event_id}", response_model=VideoEventPublic, summary="One video event")
def video_event(session: SessionDep, actor: Viewer, event_id: int) -> VideoEventPublic:
    return event_public(session, actor, event_id)


@router.post("/video-events/{event_id}/review", response_model=VideoEventPublic,
             summary="Confirm or dismiss a video event, with the reason")
def video_event_review(request: Request, session: SessionDep, actor: Reviewer, event_id: int,
                       data: VideoEventReview) -> VideoEventPublic:
    """Confirmed: a ledger entry for the post's staff member by the rule set in force that day (DOMAIN.md: off post
    more than 15 minutes), source `video:<id>`. Dismissed: kept as a false alarm with its reason. 409 when the event
    is still going on or was reviewed already."""
    review_event(session, actor, event_id, data, ip=client_ip(request))
    session.flush()
    return event_public(session, actor, event_id)
