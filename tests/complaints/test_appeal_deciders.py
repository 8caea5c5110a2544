"""Who decides appeals on ratings (issue 14 §5): the managers of the jurisdiction unless the setting says
officers or both (SUPERVISION_RATING_APPEAL_DECIDERS)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlmodel import Session

import complaints
from complaints.models import Rating
from supervision.errors import Forbidden
from tests.complaints.conftest import MONDAY

# setting → (may the manager decide, may the officer decide): written out, not computed.
EXPECTED = {
    None: (True, False),  # the default: managers
    "managers": (True, False),
    "officers": (False, True),
    "both": (True, True),
}


def _appealed(s: Session, w: SimpleNamespace, case_no: str) -> int:
    rating, _ = complaints.push_rating(s, w.pad, {"case_no": case_no, "window_id": w.window, "staff_id": w.staff,
                                                  "level": 1, "reason": "乱评"}, now=MONDAY)
    complaints.appeal_rating(s, w.p["staff"], rating.id or 0, "当天并未办理该业务")
    return rating.id or 0


@pytest.mark.parametrize("setting", list(EXPECTED))
def test_the_setting_says_who_decides_rating_appeals(
    s: Session, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, setting: str | None
) -> None:
    if setting is None:
        monkeypatch.delenv("SUPERVISION_RATING_APPEAL_DECIDERS", raising=False)
    else:
        monkeypatch.setenv("SUPERVISION_RATING_APPEAL_DECIDERS", setting)
    manager_may, officer_may = EXPECTED[setting]
    waiting = 0
    for n, (role, may) in enumerate((("manager", manager_may), ("officer", officer_may))):
        who = world.p[role]
        rid = _appealed(s, world, f"BJ-9{n}")
        waiting += 1
        assert complaints.decides_appeals(who) is may
        assert complaints.pending_appeals(s, who) == (waiting if may else 0)
        if may:
            # The decider reads the jurisdiction's ratings (the manager has no complaints:read).
            rows, _ = complaints.list_ratings(s, who, {"appeal_pending": True})
            assert rid in [r.id for r in rows]
            complaints.decide_appeal(s, who, rid, "granted", "经调取录像核实为误评")
            waiting -= 1
            assert s.get(Rating, rid).void  # type: ignore[union-attr]
        else:
            with pytest.raises(Forbidden):
                complaints.decide_appeal(s, who, rid, "granted", "核实")
            assert not s.get(Rating, rid).void  # type: ignore[union-attr]
    # Supervisors and window staff never decide, whatever the setting.
    rid = _appealed(s, world, "BJ-99")
    for role in ("supervisor", "staff"):
        assert not complaints.decides_appeals(world.p[role])
        with pytest.raises(Forbidden):
            complaints.decide_appeal(s, world.p[role], rid, "granted", "核实")
