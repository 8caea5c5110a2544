"""Review API (issue 13 §7, §3): false alarms per post zone and its vacancy threshold; windows closed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

import cameras
from cameras.models import WindowClosureCreate, WindowClosurePublic, ZoneFalseAlarms, ZoneThresholdChange
from supervision.access import Permission, Principal
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["video review"])

Viewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW)]
Tuner = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.ZONES_MANAGE)]
Closer = Annotated[Principal, needs(Permission.WINDOWS_CLOSE)]


@router.get("/zones/false-alarms", response_model=Page[ZoneFalseAlarms],
            summary="False alarms per post zone, beside its vacancy threshold")
def zone_false_alarms(session: SessionDep, actor: Viewer) -> Page[ZoneFalseAlarms]:
    """Per post zone of the caller's jurisdiction: video events, confirmed, dismissed (false alarms), not yet
    reviewed, the false-alarm rate (dismissed / reviewed) and the vacancy threshold in force (the zone's own or
    the setting's), most false alarms first."""
    rows = cameras.false_alarms(session, actor)
    return Page[ZoneFalseAlarms](data=rows, count=len(rows))


@router.put("/zones/{zone_id}/threshold", response_model=ZoneFalseAlarms,
            summary="Set a post zone's own vacancy threshold (null: back to the default)")
def zone_threshold(request: Request, session: SessionDep, actor: Tuner, zone_id: int,
                   data: ZoneThresholdChange) -> ZoneFalseAlarms:
    """Minutes a post stays empty in office hours before a vacancy event opens, for this zone; audited."""
    cameras.set_zone_threshold(session, actor, zone_id, data, ip=client_ip(request))
    session.flush()
    [row] = cameras.false_alarms(session, actor, zone_id=zone_id)
    return row


@router.get("/window-closures", response_model=Page[WindowClosurePublic], summary="Windows closed (窗口暂停服务)")
def window_closures(
    session: SessionDep, actor: Closer,
    current: Annotated[bool, Query(description="Only closures not over yet")] = False,
) -> Page[WindowClosurePublic]:
    rows = cameras.list_closures(session, actor, current_only=current)
    return Page[WindowClosurePublic](data=rows, count=len(rows))


@router.post("/window-closures", response_model=WindowClosurePublic, status_code=201,
             summary="Close a window for a span of time")
def close_window(request: Request, session: SessionDep, actor: Closer,
                 data: WindowClosureCreate) -> WindowClosurePublic:
    """Its post is not watched for vacancy from `starts_at` to `ends_at` (with a time zone); audited."""
    row = cameras.close_window(session, actor, data, ip=client_ip(request))
    session.flush()
    [public] = cameras.list_closures(session, actor, closure_id=row.id)
    return public


@router.post("/window-closures/{closure_id}/end", response_model=WindowClosurePublic,
             summary="Reopen a closed window now")
def end_closure(request: Request, session: SessionDep, actor: Closer, closure_id: int) -> WindowClosurePublic:
    cameras.end_closure(session, actor, closure_id, ip=client_ip(request))
    session.flush()
    [public] = cameras.list_closures(session, actor, closure_id=closure_id)
    return public
