"""The log format of every process we start (the CLI's commands and the ingest worker's children)."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Set our format and level on the root logger, replacing whatever an imported library set up.

    Call it after the imports: onvif-zeep-async calls `logging.basicConfig` when imported, and a plain
    `basicConfig` of ours after it changed nothing, so worker logs lost their timestamps.
    """
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
