"""The register's configuration: review intervals, the re-grading signal, reminders and evidence limits."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RiskSettings(BaseSettings):
    """Read from `SUPERVISION_RISK_*` environment variables and `.env`; defaults follow DOMAIN.md."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_RISK_", env_file=".env", extra="ignore")

    review_days_level1: int = Field(90, ge=1, description="Days between reviews of a 一级 (high) point")
    review_days_level2: int = Field(180, ge=1, description="Days between reviews of a 二级 (medium) point")
    review_days_level3: int = Field(360, ge=1, description="Days between reviews of a 三级 (low) point")
    signal_window_days: int = Field(90, ge=1, description="Incidents of this many past days count as the signal")
    signal_threshold: int = Field(3, ge=1, description="Incidents in the window that prompt a re-grading")
    reminder_lead_days: int = Field(14, ge=0, description="Remind this many days before a review or check falls due")
    evidence_max_mb: int = Field(20, ge=1, description="Largest evidence file accepted for a check")
    evidence_types: str = Field(
        "application/pdf image/jpeg image/png "
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document "
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        description="Space-separated content types accepted as evidence",
    )
    import_max_rows: int = Field(5000, ge=1, description="Largest register workbook accepted, in rows")

    def review_days(self, level: int) -> int:
        return {1: self.review_days_level1, 2: self.review_days_level2}.get(level, self.review_days_level3)


def get_risk_settings() -> RiskSettings:
    """Return the settings for the environment as it is now (cached per set of SUPERVISION_RISK_* values).

    Reading `.env` costs milliseconds, too much for every register query; keying the cache on the
    variables lets a test (or an operator's restart) change them.
    """
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SUPERVISION_RISK_"))))


@lru_cache(maxsize=8)
def _settings_for(env: tuple[tuple[str, str], ...]) -> RiskSettings:
    del env  # only the cache key
    return RiskSettings()
