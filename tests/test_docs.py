"""The README documents every setting and every command (a setting nobody can find does not exist)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from cameras.config import CameraSettings
from cameras.evidence import EvidenceSettings
from cameras.vacancy import VacancySettings
from complaints.settings import ComplaintsSettings
from risk.settings import RiskSettings
from supervision.awards.settings import AwardsSettings
from supervision.duty.settings import DutySettings
from supervision.leave.settings import LeaveSettings
from supervision.scoring.appeals import AppealSettings
from supervision.settings import Settings
from web.cli import app as cli_app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def documented_variables(readme: str) -> set[str]:
    """Every variable named in the first cell of a README table row, short forms written out.

    A row may name several related variables: the first in full, the next ones by their differing tail
    (`SUPERVISION_CAMERA_OPEN_TIMEOUT_SECONDS` / `READ_TIMEOUT_SECONDS`), which replaces as many words at the
    end of the first one's name as it has.
    """
    found: set[str] = set()
    for line in readme.splitlines():
        if not line.startswith("| `"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1])
        if not names or not names[0].startswith("SUPERVISION_"):
            continue
        first = names[0].split("_")
        for name in names:
            if name.startswith("SUPERVISION_"):
                found.add(name)
            else:
                words = name.split("_")
                found.add("_".join(first[: max(2, len(first) - len(words))] + words))
    return found


DOCUMENTED = documented_variables(README)


def test_the_short_forms_of_a_row_are_read_as_the_readme_means_them() -> None:
    row = "| `SUPERVISION_CAMERA_OPEN_TIMEOUT_SECONDS` / `READ_TIMEOUT_SECONDS` | `10` / `5` | RTSP `TCP` |"
    assert documented_variables(row) == {"SUPERVISION_CAMERA_OPEN_TIMEOUT_SECONDS",
                                         "SUPERVISION_CAMERA_READ_TIMEOUT_SECONDS"}
    # Mentioned in prose or in another column, a name documents nothing.
    assert documented_variables("The `SUPERVISION_CAMERA_DEMO` flag.\n| x | `SUPERVISION_RISK_X` |") == set()


def test_every_setting_is_documented() -> None:
    groups = (("SUPERVISION_", Settings), ("SUPERVISION_CAMERA_", CameraSettings),
              ("SUPERVISION_CAMERAS_", VacancySettings), ("SUPERVISION_EVIDENCE_", EvidenceSettings),
              ("SUPERVISION_RISK_", RiskSettings), ("SUPERVISION_COMPLAINTS_", ComplaintsSettings),
              ("SUPERVISION_LEAVE_", LeaveSettings), ("SUPERVISION_DUTY_", DutySettings),
              ("SUPERVISION_SCORING_", AppealSettings), ("SUPERVISION_AWARDS_", AwardsSettings))
    missing = [prefix + name.upper() for prefix, group in groups for name in group.model_fields
               if prefix + name.upper() not in DOCUMENTED]
    assert missing == []


def test_every_command_is_documented() -> None:
    group = get_command(cli_app)
    names: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names.extend(f"supervision {name} {s}" for s in sub) if sub else names.append(f"supervision {name}")
    assert [n for n in names if n not in README] == []
