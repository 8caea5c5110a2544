"""Cameras as JSON under /api/v1: register, list with status, get, probe, edit, latest frame, alerts."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

import cameras
from cameras import (
    CameraAlertPublic,
    CameraCreate,
    CameraHealthPublic,
    CameraPublic,
    CameraStatus,
    CameraUpdate,
    DiscoveredDevice,
)
from supervision.access import Permission, Principal
from supervision.errors import NotFound
from supervision.settings import get_settings
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["cameras"])

Viewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW)]
Manager = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.CAMERAS_MANAGE)]


@router.get("/cameras", response_model=Page[CameraPublic], summary="List cameras with their status")
def list_cameras(
    session: SessionDep, actor: Viewer,
    site_id: Annotated[int | None, Query(description="Only this site's subtree")] = None,
    hall_id: Annotated[int | None, Query(description="Only this hall")] = None,
    status: Annotated[CameraStatus | None, Query(description="online, offline, frozen or unknown")] = None,
) -> Page[CameraPublic]:
    """Cameras of the caller's jurisdiction with their health (status, fps, last frame, codec, reconnects)."""
    rows = cameras.list_cameras(session, actor, site_id=site_id, hall_id=hall_id, status=status)
    return Page[CameraPublic](data=rows, count=len(rows))


REGISTER_EXAMPLES: dict[str, Any] = {
    "onvif": {"summary": "An ONVIF camera (asked for its profiles and stream URIs)", "value": {
        "site_id": 1, "hall_id": 2, "name": "公共服务大厅 1 号机", "host": "192.168.10.21", "port": 80,
        "username": "admin", "password": "camera-password"}},
    "plain_rtsp": {"summary": "A plain RTSP stream (an encoder or NVR channel, no ONVIF)", "value": {
        "site_id": 1, "hall_id": 2, "name": "大厅编码器 通道 3", "host": "192.168.10.40", "port": 554,
        "stream_uri_override": "rtsp://viewer:secret@192.168.10.40:554/Streaming/Channels/302"}},
}


@router.post("/cameras", response_model=CameraPublic, status_code=201, summary="Register a camera")
def register_camera(request: Request, session: SessionDep, actor: Manager,
                    body: Annotated[CameraCreate, Body(openapi_examples=REGISTER_EXAMPLES)]) -> CameraPublic:
    """Ask the device over ONVIF (unless `skip_probe`) and store it; device errors come back as 502.

    A source without ONVIF (an RTSP encoder, an NVR channel) is registered with `stream_uri_override`
    (rtsp, rtsps, http or https): it is not asked over ONVIF and ingest reads that stream.
    """
    camera = cameras.register_camera(session, actor, body, ip=client_ip(request))
    return cameras.to_public(camera, None)


@router.get("/cameras/{camera_id}", response_model=CameraPublic, summary="Get a camera")
def get_camera(session: SessionDep, actor: Viewer, camera_id: int) -> CameraPublic:
    camera = cameras.get_camera(session, actor, camera_id)
    public = cameras.to_public(camera, None)
    public.health = cameras.camera_status(session, actor, camera_id)
    return public


@router.get("/cameras/{camera_id}/status", response_model=CameraHealthPublic, summary="A camera's health")
def camera_status(session: SessionDep, actor: Viewer, camera_id: int) -> CameraHealthPublic:
    return cameras.camera_status(session, actor, camera_id)


@router.patch("/cameras/{camera_id}", response_model=CameraPublic, summary="Update a camera")
def update_camera(request: Request, session: SessionDep, actor: Manager, camera_id: int,
                  body: Annotated[CameraUpdate, Body()]) -> CameraPublic:
    """Change the given fields (a new password is stored encrypted and never returned)."""
    camera = cameras.update_camera(session, actor, camera_id, body, ip=client_ip(request))
    return cameras.to_public(camera, None)


@router.delete("/cameras/{camera_id}", status_code=204, response_class=Response, summary="Delete a camera")
def delete_camera(request: Request, session: SessionDep, actor: Manager, camera_id: int) -> Response:
    cameras.delete_camera(session, actor, camera_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/cameras/{camera_id}/probe", response_model=CameraPublic, summary="Probe a camera again")
def probe_camera(request: Request, session: SessionDep, actor: Manager, camera_id: int) -> CameraPublic:
    """Ask the device again for its information, profiles, stream and snapshot URIs."""
    camera = cameras.probe_camera(session, actor, camera_id, ip=client_ip(request))
    return cameras.to_public(camera, None)


@router.get("/cameras/{camera_id}/snapshot.jpg", response_class=Response, summary="The latest frame",
            responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "No frame yet"},
                       503: {"description": "The camera is offline: its last frame is stale (the error says when "
                             "it was taken)"}})
def snapshot(request: Request, session: SessionDep, actor: Viewer, camera_id: int) -> Response:
    """The camera's latest frame as JPEG, whichever process reads the camera; 503 when it is offline."""
    health = cameras.camera_status(session, actor, camera_id)
    shot = cameras.latest_jpeg(request.app.state.engine, camera_id)
    if shot is None:
        raise NotFound("camera.error.no_frame")
    age = cameras.check_fresh(shot, offline=health.status == CameraStatus.OFFLINE,
                              keyframe_interval_s=health.keyframe_interval_s,
                              offline_after_seconds=cameras.get_camera_settings().offline_after_seconds)
    headers = {"Cache-Control": "private, max-age=2", "X-Frame-Seq": str(shot.seq), "X-Frame-Age": f"{age:.1f}"}
    if shot.at is not None:
        headers["X-Frame-At"] = shot.at.isoformat()
    return Response(shot.jpeg, media_type="image/jpeg", headers=headers)


@router.get("/camera-alerts", response_model=Page[CameraAlertPublic], summary="Video alerts")
def list_alerts(
    session: SessionDep, actor: Viewer,
    open_only: Annotated[bool, Query(description="Only alerts not cleared yet")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[CameraAlertPublic]:
    """Offline, frozen and tamper alerts (covered, blurred, turned away) of the caller's jurisdiction, newest first."""
    rows = cameras.list_alerts(session, actor, open_only=open_only, limit=limit)
    return Page[CameraAlertPublic](data=rows, count=len(rows))


@router.post("/camera-discovery", response_model=Page[DiscoveredDevice], summary="Find cameras (WS-Discovery)")
async def discover(session: SessionDep, actor: Manager,
                   target: Annotated[str, Body(embed=True, description="'multicast' or one IP address")]
                   ) -> Page[DiscoveredDevice]:
    """Send a WS-Discovery probe and list the ONVIF devices that answered (registered ones are marked)."""
    devices = await anyio.to_thread.run_sync(lambda: cameras.discover_cameras(session, actor, target=target))
    return Page[DiscoveredDevice](data=devices, count=len(devices))


# --- tamper reference, queues, MQTT (issue 13 §4, §5, §8) ------------------------------------------------------

Drawer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.ZONES_MANAGE)]


@router.get("/cameras/{camera_id}/tamper-reference", response_model=cameras.CameraReferencePublic,
            summary="The camera's reference still for the tamper checks")
def tamper_reference(session: SessionDep, actor: Viewer, camera_id: int) -> cameras.CameraReferencePublic:
    """When it was taken and by whom (no sha256 yet: only "covered" is judged), and the open tamper finding."""
    return cameras.camera_reference_public(session, actor, camera_id)


@router.post("/cameras/{camera_id}/tamper-reference", response_model=cameras.CameraReferencePublic,
             summary="Take the camera's reference still again from its live picture")
def take_tamper_reference(request: Request, session: SessionDep, actor: Drawer,
                          camera_id: int) -> cameras.CameraReferencePublic:
    """Take it while the camera shows its scene as it should (after it was moved on purpose): blurred and turned
    away are judged against it from the worker's next lease round. Audited. 404 when the camera has no frame;
    503 when its frame is stale."""
    jpeg = cameras.camera_frame(request.app.state.engine, actor, camera_id)  # no transaction open
    cameras.set_camera_reference(session, actor, camera_id, jpeg=jpeg, media_dir=get_settings().media_dir,
                                 ip=client_ip(request))
    session.flush()
    return cameras.camera_reference_public(session, actor, camera_id)


@router.get("/cameras/{camera_id}/queues", response_model=Page[cameras.QueueStatePublic],
            summary="The camera's queue zones now")
def queues(session: SessionDep, actor: Viewer, camera_id: int) -> Page[cameras.QueueStatePublic]:
    """People counted in each queue zone, its alert count (set per zone: PATCH the zone's `queue_alert_count`), the
    windows it serves that stand vacant, and whether a queue-while-vacant event is open."""
    rows = cameras.queue_states(session, actor, camera_id)
    return Page[cameras.QueueStatePublic](data=rows, count=len(rows))


@router.get("/mqtt/status", response_model=cameras.MqttStatus, summary="Publishing of video events on MQTT")
def mqtt_status(actor: Manager) -> cameras.MqttStatus:
    """This web process's publisher (each ingest worker process has its own): on or off (SUPERVISION_MQTT_URL),
    connected, and the messages published, failed (broker down) and dropped (queue full)."""
    return cameras.mqtt_status()
