"""The awards' and appraisal's configuration: which facts bar a candidate, the weights, the grades."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AwardsSettings(BaseSettings):
    """Read from `SUPERVISION_AWARDS_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_AWARDS_", env_file=".env", extra="ignore")

    bar_video: bool = Field(True, description="A confirmed off-post video event in the quarter bars a candidate")
    bar_complaint: bool = Field(
        True, description="An upheld (or partly upheld) complaint in the quarter bars a candidate")
    bar_bad_rating: bool = Field(True, description="A bad rating in the quarter bars a candidate")
    weight_window: float = Field(30, ge=0, description="Weight (%) of the window's monthly scores of the quarter")
    weight_staff: float = Field(30, ge=0, description="Weight (%) of the staff's monthly scores of the quarter")
    weight_leader: float = Field(20, ge=0, description="Weight (%) of the duty leaders' vote")
    weight_citizen: float = Field(20, ge=0, description="Weight (%) of the citizens' vote")
    excellent_quota: float = Field(
        20, ge=0, le=100, description="The most people (%) of a jurisdiction graded 优秀 in a year (rounded down)")
    competent_min: float = Field(85, description="Yearly average score from which a person is 称职 (and may be 优秀)")
    basic_min: float = Field(70, description="Yearly average score from which a person is 基本称职; below it 不称职")
    absent_days_max: float = Field(
        5, ge=0, description="More days absent without leave in the year than this: at most 基本称职")


def get_awards_settings() -> AwardsSettings:
    """The settings for the environment as it is now (cached per set of SUPERVISION_AWARDS_* values)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SUPERVISION_AWARDS_"))))


@lru_cache(maxsize=8)
def _settings_for(env: tuple[tuple[str, str], ...]) -> AwardsSettings:
    del env  # only the cache key
    return AwardsSettings()
