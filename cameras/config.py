"""Camera settings, read from `SUPERVISION_CAMERA_*` environment variables (and `.env`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CameraSettings(BaseSettings):
    """How ingest reads cameras and when it calls one offline or frozen."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_CAMERA_", env_file=".env", extra="ignore")

    probe_timeout_seconds: float = Field(10.0, description="Per ONVIF request during registration and probes")
    offline_after_seconds: float = Field(7.0, description="No packet for this long: the camera is offline")
    frozen_after_seconds: float = Field(10.0, description="Key frames unchanged for this long: frozen")
    recover_after_seconds: float = Field(2.0, description="Healthy this long before an alert clears")
    lease_seconds: float = Field(15.0, description="A worker's hold on a camera; others take over after it")
    max_cameras_per_process: int = Field(32, description="Readers (threads) one worker process runs")
    worker_processes: int = Field(0, description="Processes `supervision worker` starts; 0 = one per CPU")
    decode: str = Field("keyframes", description="keyframes (analysis at the GOP rate) or all (baseline)")
    open_timeout_seconds: float = Field(10.0, description="Opening an RTSP stream")
    read_timeout_seconds: float = Field(5.0, description="Waiting for the next packet before reconnecting")
    backoff_min_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    connect_stagger_seconds: float = Field(0.05, description="Delay between starting two readers")
    rtsp_transport: str = Field("tcp", description="tcp or udp")
    ingest_engine: str = Field(
        "ffmpeg", pattern="^(native|ffmpeg)$",
        description="native (cameras/rtsp.py: H.264 over RTSP/TCP, one loop per process; other codecs fall back "
        "to FFmpeg) or ffmpeg (PyAV, a thread per camera)")
    frame_host: str = Field("127.0.0.1", description="Where a worker serves its latest frames")
    frame_port: int = Field(0, description="0 = any free port (registered in the database)")
    frame_advertise_host: str = Field(
        "", description="Host the web should use for this worker; default frame_host")
    jpeg_quality: int = Field(80, ge=30, le=95)
    live_fps: float = Field(8.0, description="Frame rate of the MJPEG live view of the one camera watched")
    health_flush_seconds: float = Field(2.0, description="How often a worker writes health figures")
    demo: bool = Field(False, description="Run the demo's virtual cameras inside `serve` (set by --demo)")
    demo_cameras: int = Field(
        19, ge=1, le=64,
        description="How many virtual cameras the demo runs: 6 in the city's halls, then one per county and park "
        "hall (13), then township halls")
    demo_clip_seconds: int = Field(
        240, ge=5, le=600,
        description="Length of each demo camera's looping clip; one window's staff is away for 60 % of it, past the "
        "demo's 2-minute vacancy threshold at the default")
    demo_transport: str = Field("auto", description="auto (RTSP when GStreamer is installed), rtsp or http")
    discovery_timeout_seconds: float = Field(3.0, description="How long \"Find cameras\" waits for answers")
    wall_refresh_seconds: float = Field(4.0, description="How often the live wall reloads its stills")
    live_view_max_seconds: float = Field(3600.0, description="A live view ends after this long")


@lru_cache
def get_camera_settings() -> CameraSettings:
    return CameraSettings()
