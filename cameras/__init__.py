"""Cameras: ONVIF devices, discovery, stream ingest, live frames and video alerts.

The web layer and the CLI use only the names below.
"""

from cameras import messages as _messages  # noqa: F401  (registers the texts)
from cameras.config import CameraSettings, get_camera_settings
from cameras.discovery import discover
from cameras.frames import MJPEG_BOUNDARY, Snapshot, latest_jpeg, live_jpegs
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
from cameras.onvif_client import OnvifDevice, describe_device
from cameras.service import (
    camera_status,
    delete_camera,
    get_camera,
    list_alerts,
    list_cameras,
    probe_camera,
    record_live_view,
    register_camera,
    to_public,
    update_camera,
)
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
    "DeviceInfo",
    "DiscoveredDevice",
    "FrameRegistry",
    "IngestLease",
    "IngestService",
    "IngestWorker",
    "OnvifDevice",
    "Snapshot",
    "camera_status",
    "delete_camera",
    "describe_device",
    "discover",
    "get_camera",
    "get_camera_settings",
    "ingest_service_factory",
    "latest_jpeg",
    "list_alerts",
    "list_cameras",
    "live_jpegs",
    "probe_camera",
    "record_live_view",
    "register_camera",
    "run_worker",
    "to_public",
    "update_camera",
]
