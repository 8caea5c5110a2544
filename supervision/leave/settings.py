"""Leave's configuration: when a request needs the second level of approval."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LeaveSettings(BaseSettings):
    """Read from `SUPERVISION_LEAVE_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_LEAVE_", env_file=".env", extra="ignore")

    second_level_days: float = Field(
        3, ge=0, description="A request of more working days than this needs a second approval above the manager")


def get_leave_settings() -> LeaveSettings:
    """The settings for the environment as it is now (cached per set of SUPERVISION_LEAVE_* values)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SUPERVISION_LEAVE_"))))


@lru_cache(maxsize=8)
def _settings_for(env: tuple[tuple[str, str], ...]) -> LeaveSettings:
    del env  # only the cache key
    return LeaveSettings()
