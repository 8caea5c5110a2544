"""Camera tables: devices, their health, video alerts, ingest leases and the workers holding them."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow
from supervision.shapes import UpdateModel


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class CameraStatus(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    FROZEN = "frozen"


class AlertKind(StrEnum):
    OFFLINE = "offline"
    FROZEN = "frozen"
    EVIDENCE_DISK_FULL = "evidence_disk_full"  # the evidence disk is below its free-space floor: no new clips
    TAMPER = "tamper"  # covered, blurred or turned away (the detail names which): cameras/tamper.py


class CameraProfile(BaseModel):
    """One ONVIF media profile as the device described it."""

    model_config = ConfigDict(frozen=True)

    token: str
    name: str = ""
    width: int = 0
    height: int = 0
    codec: str = ""
    fps: float = 0.0
    bitrate_kbps: int = 0
    gop: int = 0
    rtsp_uri: str = ""

    @property
    def resolution(self) -> str:
        return f"{self.width}×{self.height}" if self.width else ""


class DeviceInfo(BaseModel):
    """What a probe learnt about a device."""

    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""
    profiles: list[CameraProfile] = []
    snapshot_uri: str = ""
    snapshot_basic_auth: bool = False
    clock_offset_seconds: float = 0.0


# --- the camera ---------------------------------------------------------------------------------


class CameraBase(SQLModel):
    site_id: int = Field(foreign_key="site.id", index=True)
    hall_id: int | None = Field(default=None, foreign_key="hall.id", index=True)
    # The window / post the camera watches, so its alerts reach the risk register as incidents.
    window_id: int | None = Field(default=None, foreign_key="window.id")
    post_id: int | None = Field(default=None, foreign_key="post.id")
    name: str = Field(max_length=120)
    host: str = Field(max_length=253)
    port: int = Field(default=80, ge=1, le=65535)
    username: str = Field(default="", max_length=80)
    enabled: bool = True
    is_demo: bool = False


class Camera(CameraBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Fernet token from supervision.crypto; the clear password is never stored, shown or logged.
    password_enc: str = Field(default="", max_length=400)
    manufacturer: str = Field(default="", max_length=120)
    model: str = Field(default="", max_length=120)
    firmware: str = Field(default="", max_length=120)
    serial: str = Field(default="", max_length=120)
    profiles_json: str = Field(default="[]", sa_type=Text)
    main_profile: str = Field(default="", max_length=80)
    analysis_profile: str = Field(default="", max_length=80)
    # For sources without ONVIF (the demo's HTTP fallback, a plain RTSP encoder): read this URI instead.
    stream_uri_override: str = Field(default="", max_length=500)
    snapshot_uri: str = Field(default="", max_length=500)
    # Quirk: some firmware answers Digest with 401 on the snapshot URI and only accepts Basic.
    snapshot_basic_auth: bool = False
    clock_offset_seconds: float = 0.0
    probed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    probe_error: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())

    @property
    def profiles(self) -> list[CameraProfile]:
        return [CameraProfile.model_validate(p) for p in json.loads(self.profiles_json or "[]")]

    def set_profiles(self, profiles: list[CameraProfile]) -> None:
        self.profiles_json = json.dumps([p.model_dump() for p in profiles], ensure_ascii=False)

    def profile(self, token: str) -> CameraProfile | None:
        return next((p for p in self.profiles if p.token == token), None)


class CameraHealth(SQLModel, table=True):
    """The ingest's view of a camera, written by the worker holding its lease.

    Kept apart from `Camera` so a worker's frequent writes never race an admin's edit of the device.
    """

    __tablename__ = "camera_health"

    camera_id: int = Field(
        sa_column=Column(Integer, ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True)
    )
    status: CameraStatus = CameraStatus.UNKNOWN
    status_since: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_frame_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    fps: float = 0.0
    analysed_fps: float = 0.0
    bitrate_kbps: float = 0.0
    width: int = 0
    height: int = 0
    codec: str = Field(default="", max_length=20)
    keyframe_interval_s: float = 0.0
    reconnects: int = 0
    last_error: str = Field(default="", max_length=200)
    worker_id: str = Field(default="", max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CameraAlert(SQLModel, table=True):
    """A camera offline or frozen, from when it was noticed until it recovered."""

    __tablename__ = "camera_alert"
    __table_args__ = (Index("ix_camera_alert_open", "camera_id", "kind", "cleared_at"),)

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(
        sa_column=Column(Integer, ForeignKey("camera.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: AlertKind
    started_at: datetime = Field(sa_column=_ts())
    cleared_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    detail: str = Field(default="", max_length=200)


class IngestWorker(SQLModel, table=True):
    """A running ingest process: where it publishes frames and when it was last alive."""

    __tablename__ = "ingest_worker"

    id: str = Field(primary_key=True, max_length=80)
    host: str = Field(max_length=120)
    pid: int
    frame_url: str = Field(default="", max_length=200)
    capacity: int = 32
    camera_count: int = 0
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class IngestLease(SQLModel, table=True):
    """Which worker reads a camera, until when. A camera has at most one row, so at most one reader."""

    __tablename__ = "ingest_lease"

    camera_id: int = Field(
        sa_column=Column(Integer, ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True)
    )
    worker_id: str = Field(max_length=80, index=True)
    acquired_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())


# --- input and output shapes --------------------------------------------------------------------


STREAM_URI_DESCRIPTION = (
    "A plain stream for a source without ONVIF (an RTSP encoder, an NVR channel, an HTTP MPEG-TS feed): "
    "rtsp://, rtsps://, http:// or https:// only (anything else is refused: the reader never opens files or "
    "other protocols). When set, the device is not asked over ONVIF and ingest reads this URI; put the "
    "credentials in it (user:password@host), they are never shown back. Empty: ask the device over ONVIF.")


class CameraCreate(CameraBase):
    """A camera to register: an ONVIF device (host, port, user, password), or a plain stream."""

    password: str = Field(default="", max_length=120, description="Stored encrypted, never returned")
    main_profile: str = Field(default="", description="ONVIF profile token of the main stream (default: largest "
                              "H.264)")
    analysis_profile: str = Field(default="", description="ONVIF profile token ingest analyses (default: smallest "
                                  "H.264, the substream)")
    stream_uri_override: str = Field(default="", max_length=500, description=STREAM_URI_DESCRIPTION, schema_extra={
        "examples": ["rtsp://viewer:secret@192.168.10.40:554/Streaming/Channels/302"]})
    # Register without asking the device (it is not installed yet); "probe again" fills it in later.
    skip_probe: bool = Field(default=False, description="Register without asking the device (not installed "
                             "yet); \"probe\" asks it later")


class CameraUpdate(UpdateModel):
    columns_of = Camera

    site_id: int | None = None
    hall_id: int | None = None
    window_id: int | None = None
    post_id: int | None = None
    name: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    enabled: bool | None = None
    main_profile: str | None = None
    analysis_profile: str | None = None
    stream_uri_override: str | None = Field(default=None, max_length=500, description=STREAM_URI_DESCRIPTION)


class CameraHealthPublic(BaseModel):
    status: CameraStatus = CameraStatus.UNKNOWN
    status_since: datetime | None = None
    last_frame_at: datetime | None = None
    fps: float = 0.0
    analysed_fps: float = 0.0
    bitrate_kbps: float = 0.0
    width: int = 0
    height: int = 0
    codec: str = ""
    keyframe_interval_s: float = 0.0
    reconnects: int = 0
    last_error: str = ""
    worker_id: str = ""
    # Analysis sees one frame per key frame: slower than 1/s when the camera's GOP is long.
    slow_keyframes: bool = False


class CameraPublic(CameraBase):
    id: int
    has_password: bool
    manufacturer: str
    model: str
    firmware: str
    serial: str
    profiles: list[CameraProfile]
    main_profile: str
    analysis_profile: str
    stream_uri_override: str = Field(description="The plain stream (rtsp, rtsps, http, https) read instead of "
                                     "asking ONVIF, credentials removed; empty for an ONVIF camera")
    snapshot_uri: str
    clock_offset_seconds: float
    probed_at: datetime | None
    probe_error: str
    health: CameraHealthPublic


class CameraAlertPublic(BaseModel):
    id: int
    camera_id: int
    camera_name: str
    site_id: int
    kind: AlertKind
    started_at: datetime
    cleared_at: datetime | None
    detail: str


class DiscoveredDevice(BaseModel):
    """A device that answered a WS-Discovery probe."""

    address: str
    host: str
    port: int
    xaddrs: list[str]
    scopes: list[str] = []
    name: str = ""
    hardware: str = ""
    registered_camera_id: int | None = None


def profiles_from_json(data: Any) -> list[CameraProfile]:
    return [CameraProfile.model_validate(p) for p in (data or [])]


# --- zones and presence -------------------------------------------------------------------------


class ZoneKind(StrEnum):
    POST = "post"
    QUEUE = "queue"
    ENTRANCE = "entrance"


class PresenceState(StrEnum):
    OCCUPIED = "occupied"
    VACANT = "vacant"
    UNKNOWN = "unknown"


Point = tuple[float, float]


class ZoneBase(SQLModel):
    name: str = Field(max_length=80, min_length=1)
    kind: ZoneKind = ZoneKind.POST
    # A post zone watches one post (and so its window); a queue zone is served by one hall's windows.
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    hall_id: int | None = Field(default=None, foreign_key="hall.id")
    # Hysteresis: seconds the detector must agree before the state flips (a passer-by, a person turning away).
    occupied_after_seconds: float = Field(default=2.0, ge=0, le=600)
    vacant_after_seconds: float = Field(default=2.0, ge=0, le=3600)
    # A queue zone: this many people waiting while a window it serves is vacant is an alert (issue 13 §4).
    queue_alert_count: int = Field(default=3, ge=1, le=200)


class Zone(ZoneBase, table=True):
    """A polygon on a camera's picture, in coordinates from 0 to 1 so it survives a change of resolution.

    `device_key` names the device (host, port, stream); a zone outlives its camera row and is attached again
    when the same device is registered anew.
    """

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("camera.id", ondelete="SET NULL"), index=True, nullable=True))
    site_id: int = Field(foreign_key="site.id", index=True)
    device_key: str = Field(default="", max_length=800, index=True)
    polygon_json: str = Field(default="[]", sa_type=Text)
    # The reference still of the empty post: the zone's crop of a frame, stored content-addressed under the
    # media dir (zones/<sha256>.png); the detector's background starts from it (issue 13 §3/§5).
    reference_sha256: str | None = Field(default=None, max_length=64)
    reference_taken_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())

    @property
    def polygon(self) -> list[Point]:
        return [(float(x), float(y)) for x, y in json.loads(self.polygon_json or "[]")]


class ZonePresence(SQLModel, table=True):
    """One span of a zone's presence state; the span without an end is the state now.

    Written only on a change (a few rows per post and day); vacancy events (issue 13 §3) read the real start
    of a vacant span from here.
    """

    __tablename__ = "zone_presence"
    __table_args__ = (Index("ix_zone_presence_open", "zone_id", "ended_at"),)

    id: int | None = Field(default=None, primary_key=True)
    zone_id: int = Field(sa_column=Column(Integer, ForeignKey("zone.id", ondelete="CASCADE"), nullable=False,
                                          index=True))
    state: PresenceState
    started_at: datetime = Field(sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ZoneCreate(ZoneBase):
    """A zone to draw: at least 3 points, each (x, y) from 0 to 1 of the picture's width and height."""

    polygon: list[tuple[float, float]] = Field(
        min_length=3, max_length=64, description="Points (x, y) from 0 (left/top) to 1 (right/bottom) of the "
        "picture; not self-intersecting", schema_extra={"examples": [[[0.4, 0.1], [0.7, 0.1], [0.7, 0.9],
                                                                     [0.4, 0.9]]]})


class ZoneUpdate(UpdateModel):
    columns_of = Zone

    name: str | None = Field(default=None, max_length=80, min_length=1)
    kind: ZoneKind | None = None
    post_id: int | None = None
    window_id: int | None = None
    hall_id: int | None = None
    occupied_after_seconds: float | None = Field(default=None, ge=0, le=600)
    vacant_after_seconds: float | None = Field(default=None, ge=0, le=3600)
    queue_alert_count: int | None = Field(default=None, ge=1, le=200)
    polygon: list[tuple[float, float]] | None = Field(default=None, min_length=3, max_length=64)


class ZonePresencePublic(BaseModel):
    state: PresenceState = PresenceState.UNKNOWN
    since: datetime | None = None


class ZonePublic(ZoneBase):
    id: int
    camera_id: int | None
    site_id: int
    polygon: list[tuple[float, float]]
    presence: ZonePresencePublic
    reference_sha256: str | None = None
    reference_taken_at: datetime | None = None
    updated_at: datetime


# --- video events (issue 13 §3) ---------------------------------------------------------------------------------


class VideoEventKind(StrEnum):
    POST_VACANT = "post_vacant"  # nobody at the post for longer than the threshold in office hours
    TAMPER = "tamper"  # the camera covered, blurred or turned away (cameras/tamper.py)
    QUEUE_VACANT = "queue_vacant"  # people queueing while a window the queue zone serves is vacant (cameras/queue.py)


class VideoEventStatus(StrEnum):
    OPEN = "open"  # still going on
    PENDING_REVIEW = "pending_review"  # ended; waiting for an officer to confirm or dismiss it
    CLOSED = "closed"  # reviewed


class ReviewOutcome(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class VideoEvent(SQLModel, table=True):
    """Something a camera saw that an officer should review: no ledger entry until an officer confirms it.

    `started_at` is the real start (the start of the vacancy, or of the watched office hours if later), not
    when the threshold was passed.
    """

    __tablename__ = "video_event"
    __table_args__ = (Index("ix_video_event_zone_open", "zone_id", "ended_at"),
                      Index("ix_video_event_site_started", "site_id", "started_at"))

    id: int | None = Field(default=None, primary_key=True)
    kind: VideoEventKind = VideoEventKind.POST_VACANT
    status: VideoEventStatus = VideoEventStatus.OPEN
    site_id: int = Field(foreign_key="site.id")
    camera_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("camera.id", ondelete="SET NULL"), nullable=True))
    zone_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("zone.id", ondelete="SET NULL"), nullable=True))
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    started_at: datetime = Field(sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # The officer's review: confirmed (a ledger entry by the rule set in force) or dismissed (a false alarm),
    # with the reason either way.
    review_outcome: ReviewOutcome | None = None
    review_reason: str = Field(default="", max_length=400)
    reviewed_by: str = Field(default="", max_length=80)
    reviewed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    # Legal hold (issue 13 §6): the evidence is never purged (confirmed, or a work order / notice refers to it).
    legal_hold: bool = False


class VideoEventReview(SQLModel):
    """An officer's decision on a video event: confirm (it counts) or dismiss (a false alarm), with the reason."""

    outcome: ReviewOutcome
    reason: str = Field(min_length=1, max_length=400)


class VideoEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: VideoEventKind
    status: VideoEventStatus
    site_id: int
    camera_id: int | None
    zone_id: int | None
    post_id: int | None
    staff_id: int | None
    started_at: datetime
    ended_at: datetime | None
    minutes: float
    camera_name: str = ""
    post_name: str = ""
    staff_name: str = ""
    review_outcome: ReviewOutcome | None = None
    review_reason: str = ""
    reviewed_at: datetime | None = None
    ledger_entry_id: int | None = None


# --- evidence (issue 13 §6) -------------------------------------------------------------------------------------


class EvidenceKind(StrEnum):
    STILL = "still"  # a JPEG: the start, middle or end of the event
    CLIP = "clip"  # an MP4 remuxed from the camera's own H.264 packets (no re-encoding)


class EvidenceItem(SQLModel, table=True):
    """One evidence file of a video event, in an append-only log chained by HMAC like the audit log.

    The file lives under the evidence dir named by its sha256; `purged_at` (outside the chain) marks a file removed
    by retention, whose row stays so the chain and the record of what existed stay whole.
    """

    __tablename__ = "evidence_item"
    __table_args__ = (Index("ix_evidence_item_event", "event_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    event_id: int = Field(index=False)
    camera_id: int | None = None
    kind: str = Field(max_length=10)
    label: str = Field(default="", max_length=10)  # start / middle / end for stills, "clip" for the clip
    sha256: str = Field(max_length=64, index=True)
    size: int
    captured_at: datetime = Field(sa_column=_ts())  # the moment the file shows (a clip: its first frame)
    duration_s: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    prev_hash: str = Field(max_length=64)
    chain_hash: str = Field(max_length=64)
    key_id: str = Field(default="", max_length=40)
    purged_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class EvidenceItemPublic(BaseModel):
    id: int
    seq: int
    event_id: int
    kind: str
    label: str
    sha256: str
    size: int
    captured_at: datetime
    duration_s: float
    created_at: datetime
    purged: bool
    altered: bool = False
    url: str = ""
# --- tamper reference, queue counts (issue 13 §4, §5) ------------------------------------------------------------


class CameraReference(SQLModel, table=True):
    """The camera's still of its scene as it should be, which the tamper checks compare with.

    The whole picture (grey PNG), stored content-addressed under the media dir like a zone's still; an officer
    takes it again on the camera page after the camera was moved on purpose.
    """

    __tablename__ = "camera_reference"

    camera_id: int = Field(
        sa_column=Column(Integer, ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True)
    )
    sha256: str = Field(max_length=64)
    width: int = 0
    height: int = 0
    taken_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    taken_by: str = Field(default="", max_length=80)


class CameraReferencePublic(BaseModel):
    camera_id: int
    sha256: str | None = None
    width: int = 0
    height: int = 0
    taken_at: datetime | None = None
    taken_by: str = ""
    tamper: str | None = Field(default=None, description="The open tamper alert's finding now (covered, blurred, "
                               "turned_away), or none")


class ZoneCount(SQLModel, table=True):
    """The people counted in a queue zone now, written by the ingest worker when the count changes.

    Kept apart from `Zone` (like `CameraHealth` from `Camera`), so a worker's writes never race an admin's edit.
    """

    __tablename__ = "zone_count"

    zone_id: int = Field(sa_column=Column(Integer, ForeignKey("zone.id", ondelete="CASCADE"), primary_key=True))
    count: int = 0
    counted_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class QueueStatePublic(BaseModel):
    """A queue zone now: the people counted, the alert threshold, the windows it serves that stand vacant."""

    zone_id: int
    camera_id: int | None
    name: str
    count: int | None = Field(description="People counted now; null when no worker counted lately")
    counted_at: datetime | None
    queue_alert_count: int
    vacant_windows: list[str]
    alert_open: bool
# --- review: per-zone thresholds and false alarms; windows closed (issue 13 §7, §3) ------------------------------


class ZoneVacancyThreshold(SQLModel, table=True):
    """An officer's own vacancy threshold for one post zone (tuned from its false alarms); audited.

    A table of its own rather than a column of `zone`, so the zone's drawing and its tuning change apart.
    """

    __tablename__ = "zone_vacancy_threshold"

    zone_id: int = Field(sa_column=Column(Integer, ForeignKey("zone.id", ondelete="CASCADE"), primary_key=True))
    minutes: float = Field(gt=0, le=480)
    updated_by: str = Field(default="", max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ZoneThresholdChange(SQLModel):
    """A post zone's vacancy threshold in minutes; empty (null) returns it to the setting's default."""

    minutes: float | None = Field(default=None, gt=0, le=480)
    reason: str = Field(default="", max_length=200)


class ZoneFalseAlarms(BaseModel):
    """A post zone's video events by outcome, so its threshold can be tuned."""

    zone_id: int
    zone_name: str
    camera_id: int | None
    camera_name: str
    post_name: str
    events: int
    confirmed: int
    dismissed: int
    pending: int
    # dismissed / reviewed; None before any review
    false_alarm_rate: float | None
    threshold_minutes: float
    threshold_override: bool


class WindowClosure(SQLModel, table=True):
    """A window out of service (窗口暂停服务) from `starts_at` to `ends_at`, with the reason: no vacancy events then."""

    __tablename__ = "window_closure"
    __table_args__ = (Index("ix_window_closure_window_span", "window_id", "starts_at", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    window_id: int = Field(foreign_key="window.id")
    site_id: int = Field(foreign_key="site.id", index=True)
    starts_at: datetime = Field(sa_column=_ts())
    ends_at: datetime = Field(sa_column=_ts())
    reason: str = Field(max_length=200)
    created_by: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class WindowClosureCreate(SQLModel):
    """A window closed for a span of time (from before to); the reason is shown to officers."""

    window_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=200)


class WindowClosurePublic(BaseModel):
    id: int
    window_id: int
    window_name: str
    site_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    active: bool
