"""Cameras: ONVIF devices, discovery, stream ingest, live frames and video alerts.

The web layer and the CLI use only the names below.
"""

from cameras import evidence_messages as _evidence_messages  # noqa: F401  (registers the texts)
from cameras import messages as _messages  # noqa: F401  (registers the texts)
from cameras.camera_reference import camera_frame, camera_reference_public, set_camera_reference
from cameras.closures import close_window, end_closure, list_closures
from cameras.config import CameraSettings, get_camera_settings
from cameras.demo import DemoCameraService, demo_service_factory
from cameras.discovery import discover
from cameras.evidence import EVIDENCE_PURGE_JOB
from cameras.evidence import QueueFilter as VideoEventFilter
from cameras.evidence import export_bundle as export_evidence
from cameras.evidence import hold_event as hold_video_evidence
from cameras.evidence import is_held as video_event_held
from cameras.evidence import list_evidence as list_video_evidence
from cameras.evidence import open_file as open_evidence_file
from cameras.evidence import purge_expired as purge_expired_evidence
from cameras.evidence import review_queue as video_event_queue
from cameras.evidence import thumbnail_file as evidence_thumbnail
from cameras.evidence import thumbnails as evidence_thumbnails
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
    CameraReferencePublic,
    CameraStatus,
    CameraUpdate,
    DeviceInfo,
    DiscoveredDevice,
    EvidenceItemPublic,
    IngestLease,
    IngestWorker,
    PresenceState,
    QueueStatePublic,
    Zone,
    ZoneCreate,
    ZoneKind,
    ZonePresence,
    ZonePresencePublic,
    ZonePublic,
    ZoneUpdate,
)
from cameras.mqtt import MqttStatus
from cameras.mqtt import status as mqtt_status
from cameras.onvif_client import OnvifDevice, describe_device, redact_uri
from cameras.queue import QUEUE_JOB, evaluate_queue_alerts, queue_states
from cameras.review import (
    CONCERN_READERS,
    EventTimeline,
    event_timeline,
    false_alarms,
    review_neighbours,
    set_zone_threshold,
)
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
from cameras.staleness import SILENCE_JOB, mark_silent_cameras
from cameras.vacancy import VACANCY_JOB, evaluate_vacancies
from cameras.vacancy import event_public as video_event_public
from cameras.vacancy import events_readable as video_events_readable
from cameras.vacancy import list_events as list_video_events
from cameras.vacancy import review_event as review_video_event
from cameras.worker import IngestService, ingest_service_factory, run_worker
from cameras.zones import (
    PostZone,
    create_zone,
    current_frame,
    delete_zone,
    get_zone,
    list_post_zones,
    list_zones,
    presence_timeline,
    set_reference,
    update_zone,
    zone_public,
)
from supervision.scheduler import JobSpec

# What the scheduler runs for the cameras (web/composition.py lists it with the others).
JOBS: tuple[JobSpec, ...] = (SILENCE_JOB, VACANCY_JOB, QUEUE_JOB, EVIDENCE_PURGE_JOB)

__all__ = [
    "CONCERN_READERS",
    "FRAMES",
    "JOBS",
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
    "CameraReferencePublic",
    "CameraSettings",
    "CameraStatus",
    "CameraUpdate",
    "DemoCameraService",
    "DeviceInfo",
    "DiscoveredDevice",
    "EventTimeline",
    "EvidenceItemPublic",
    "FrameRegistry",
    "FrameStale",
    "IngestLease",
    "IngestService",
    "IngestWorker",
    "MqttStatus",
    "OnvifDevice",
    "PostZone",
    "PresenceState",
    "QueueStatePublic",
    "Snapshot",
    "VideoEventFilter",
    "Zone",
    "ZoneCreate",
    "ZoneKind",
    "ZonePresence",
    "ZonePresencePublic",
    "ZonePublic",
    "ZoneUpdate",
    "camera_frame",
    "camera_reference_public",
    "camera_status",
    "check_fresh",
    "close_window",
    "create_zone",
    "current_frame",
    "delete_camera",
    "delete_zone",
    "demo_service_factory",
    "describe_device",
    "device_error_fields",
    "discover",
    "discover_cameras",
    "end_closure",
    "evaluate_queue_alerts",
    "evaluate_vacancies",
    "event_timeline",
    "evidence_thumbnail",
    "evidence_thumbnails",
    "export_evidence",
    "false_alarms",
    "get_camera",
    "get_camera_settings",
    "get_zone",
    "hold_video_evidence",
    "ingest_service_factory",
    "latest_jpeg",
    "list_alerts",
    "list_cameras",
    "list_closures",
    "list_post_zones",
    "list_video_events",
    "list_video_evidence",
    "list_zones",
    "live_jpegs",
    "mark_silent_cameras",
    "mqtt_status",
    "open_evidence_file",
    "open_password",
    "presence_timeline",
    "probe_camera",
    "probe_device",
    "purge_expired_evidence",
    "queue_states",
    "record_live_view",
    "redact_uri",
    "register_camera",
    "review_neighbours",
    "review_video_event",
    "run_worker",
    "seal_password",
    "set_camera_reference",
    "set_reference",
    "set_zone_threshold",
    "site_and_hall_names",
    "to_public",
    "update_camera",
    "update_zone",
    "video_event_held",
    "video_event_public",
    "video_event_queue",
    "video_events_readable",
    "zone_public",
]
