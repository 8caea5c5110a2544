"""Configuration of the complaints loop: time limits, cards, points and the public form's limits."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ComplaintsSettings(BaseSettings):
    """Read from `SUPERVISION_COMPLAINTS_*` environment variables and `.env`; defaults follow DOMAIN.md."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_COMPLAINTS_", env_file=".env", extra="ignore")

    # Time limits in working days by request type (Sichuan 12345 rules, 2025).
    limit_consult: int = Field(3, ge=1, le=60, description="Working days to answer a consultation (咨询)")
    limit_help: int = Field(7, ge=1, le=60, description="Working days for a request for help (求助)")
    limit_suggestion: int = Field(7, ge=1, le=60, description="Working days for a suggestion (意见建议)")
    limit_complaint: int = Field(15, ge=1, le=60, description="Working days for a complaint or report (投诉举报)")
    limit_praise: int = Field(7, ge=1, le=60, description="Working days to pass on praise (表扬)")
    extension_max_workdays: int = Field(15, ge=1, le=60, description="Longest extension one request may ask for")
    send_back_workdays: int = Field(1, ge=0, le=10, description="Working days after dispatch a unit may send back")
    yellow_card_workdays: int = Field(
        1, ge=0, le=10, description="Yellow card when this many working days or fewer are left"
    )
    red_card_workdays_late: int = Field(
        0, ge=0, le=10, description="Red card when the order is this many working days past due"
    )
    callback_tries: int = Field(
        3, ge=1, le=10, description="Recorded callback tries after which an unreachable caller's order may close"
    )
    rating_answer_workdays: int = Field(1, ge=0, le=10, description="A bad rating is answered within this")
    rating_fix_workdays: int = Field(15, ge=1, le=60, description="A bad rating is put right within this")
    # Unused since the scoring rule set in force decides the points (supervision.scoring, /scoring/rules);
    # kept so that an existing .env still loads.
    points_upheld: float = Field(-5.0, description="Unused: the scoring rule set decides")
    points_partly_upheld: float = Field(-2.0, description="Unused: the scoring rule set decides")
    points_bad_rating: float = Field(-2.0, description="Unused: the scoring rule set decides")
    points_praise: float = Field(1.0, description="Unused: the scoring rule set decides")
    # The public citizen form: per-address and overall limits on submissions (a table, see ratelimit.py).
    public_per_address: int = Field(5, ge=1, description="Public submissions per address in the window")
    public_window_minutes: int = Field(10, ge=1, description="The per-address window")
    public_per_hour: int = Field(600, ge=1, description="Public submissions per hour from all addresses")
    track_per_address: int = Field(30, ge=1, description="Progress look-ups per address in the window")
    photo_types: str = Field(
        "image/jpeg image/png image/webp",
        description="Space-separated content types accepted as visit photos",
    )
    import_max_rows: int = Field(20000, ge=1, description="Largest call log accepted in one import")
    # Who decides appeals on ratings (申诉复核): the bureau's rule. Named without the COMPLAINTS_ prefix too.
    rating_appeal_deciders: Literal["managers", "officers", "both"] = Field(
        "managers",
        validation_alias=AliasChoices(
            "SUPERVISION_RATING_APPEAL_DECIDERS", "SUPERVISION_COMPLAINTS_RATING_APPEAL_DECIDERS"
        ),
        description="Who decides rating appeals in their jurisdiction: managers, officers or both",
    )

    def time_limit(self, request_type: str) -> int:
        return {
            "consult": self.limit_consult,
            "help": self.limit_help,
            "suggestion": self.limit_suggestion,
            "complaint": self.limit_complaint,
            "praise": self.limit_praise,
        }[request_type]


def get_complaints_settings() -> ComplaintsSettings:
    """Return the settings as the environment has them now.

    Built once per distinct set of `SUPERVISION_COMPLAINTS_*` variables: reading them is cheap, building
    the settings (and reading `.env`) is not, and intake calls this on every order.
    """
    env = tuple(sorted((k, v) for k, v in os.environ.items()
                       if k.upper().startswith(_PREFIX) or k.upper() in _UNPREFIXED))
    return _settings_for(env)


_PREFIX = "SUPERVISION_COMPLAINTS_"
_UNPREFIXED = frozenset({"SUPERVISION_RATING_APPEAL_DECIDERS"})


@lru_cache(maxsize=8)
def _settings_for(env: tuple[tuple[str, str], ...]) -> ComplaintsSettings:
    return ComplaintsSettings()
