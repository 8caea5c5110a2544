"""Cameras: ONVIF devices, discovery, stream ingest, live frames and video alerts.

The web layer and the CLI use only the names below.
"""

from cameras import messages as _messages  # noqa: F401  (registers the texts)
from cameras.config import CameraSettings, get_camera_settings
from cameras.demo import DemoCameraService, demo_service_factory
from cameras.discovery import discover
from cameras.frames import MJPEG_BOUNDARY, FrameStale, Snapshot, check_fresh, latest_jpeg, live_jpegs
from cameras.ingest import FRAMES, FrameRegistry
from cameras.models import (
    AlertKind,
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
    IngestLease,
    IngestWorker,
)
from cameras.onvif_client import OnvifDevice, describe_device, redact_uri
from cameras.service import (
    camera_status,
    delete_camera,
    device_error_fields,
    discover_cameras,
    get_camera,
    list_alerts,
    list_cameras,
    open_password,
    probe_camera,
    probe_device,
    record_live_view,
    register_camera,
    seal_password,
    site_and_hall_names,
    to_public,
    update_camera,
)
from cameras.staleness import mark_silent_cameras
from cameras.worker import IngestService, ingest_service_factory, run_worker

__all__ = [
    "FRAMES",
    "MJPEG_BOUNDARY",
    "AlertKind",
    "Camera",
    "CameraAlert",
    "CameraAlertPublic",
    "CameraCreate",
    "CameraHealth",
    "CameraHealthPublic",
    "CameraProfile",
    "CameraPublic",
    "CameraSettings",
    "CameraStatus",
    "CameraUpdate",
    "DemoCameraService",
    "DeviceInfo",
    "DiscoveredDevice",
    "FrameRegistry",
    "FrameStale",
    "IngestLease",
    "IngestService",
    "IngestWorker",
    "OnvifDevice",
    "Snapshot",
    "camera_status",
    "check_fresh",
    "delete_camera",
    "demo_service_factory",
    "describe_device",
    "device_error_fields",
    "discover",
    "discover_cameras",
    "get_camera",
    "get_camera_settings",
    "ingest_service_factory",
    "latest_jpeg",
    "list_alerts",
    "list_cameras",
    "live_jpegs",
    "mark_silent_cameras",
    "open_password",
    "probe_camera",
    "probe_device",
    "record_live_view",
    "redact_uri",
    "register_camera",
    "run_worker",
    "seal_password",
    "site_and_hall_names",
    "to_public",
    "update_camera",
]
