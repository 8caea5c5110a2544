"""The roster's configuration: the gap between duties, the weight of heavy days and the solver's limits."""

from __future__ import annotations

import os
from datetime import time
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DutySettings(BaseSettings):
    """Read from `SUPERVISION_DUTY_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_DUTY_", env_file=".env", extra="ignore")

    min_gap_days: int = Field(3, ge=1, le=60, description="Nobody is on duty twice within this many working days")
    heavy_day_weight: int = Field(
        2, ge=1, le=10, description="Weight of a working day just before or after a long holiday (an ordinary day: 1)")
    long_holiday_days: int = Field(3, ge=2, le=30, description="Days off in a row that make a long holiday")
    solver_time_limit_seconds: float = Field(20.0, gt=0, le=600, description="Longest a roster generation may solve")
    solver_workers: int = Field(1, ge=1, le=16, description="CP-SAT search workers (1 gives the same roster every run)")
    day_start: str = Field("08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                           description="When a day's duty begins (local time, HH:MM), in the calendar feeds")
    day_end: str = Field("17:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                         description="When a day's duty ends (local time, HH:MM), in the calendar feeds")
    max_period_days: int = Field(400, ge=1, le=800, description="Longest period generated at once, in calendar days")

    def day_start_time(self) -> time:
        return time.fromisoformat(self.day_start)

    def day_end_time(self) -> time:
        return time.fromisoformat(self.day_end)


def get_duty_settings() -> DutySettings:
    """Return the settings for the environment as it is now (cached per set of SUPERVISION_DUTY_* values)."""
    return _cached(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SUPERVISION_DUTY_"))))


@lru_cache(maxsize=8)
def _cached(_key: tuple[tuple[str, str], ...]) -> DutySettings:
    return DutySettings()
