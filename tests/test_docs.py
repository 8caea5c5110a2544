"""The README documents every setting and every command (a setting nobody can find does not exist)."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from cameras.config import CameraSettings
from complaints.settings import ComplaintsSettings
from risk.settings import RiskSettings
from supervision.settings import Settings
from web.cli import app as cli_app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f"SUPERVISION_{name.upper()}" for name in Settings.model_fields
               if f"SUPERVISION_{name.upper()}" not in README]
    for name in CameraSettings.model_fields:
        full = f"SUPERVISION_CAMERA_{name.upper()}"
        if full not in README and name.upper() not in README:
            missing.append(full)
    for prefix, group in (("RISK", RiskSettings), ("COMPLAINTS", ComplaintsSettings)):
        for name in group.model_fields:
            full = f"SUPERVISION_{prefix}_{name.upper()}"
            if full not in README and f"`{name.upper()}`" not in README and name.upper()[-6:] not in README:
                missing.append(full)
    assert missing == []


def test_every_command_is_documented() -> None:
    group = get_command(cli_app)
    names: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names.extend(f"supervision {name} {s}" for s in sub) if sub else names.append(f"supervision {name}")
    assert [n for n in names if n not in README] == []
