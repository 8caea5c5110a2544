"""Cameras: ONVIF devices, discovery, stream ingest and video alerts."""

from cameras import messages as _messages  # noqa: F401  (registers the texts)
