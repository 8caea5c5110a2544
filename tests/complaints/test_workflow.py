"""The state machine, pure: every allowed and every refused transition."""

from __future__ import annotations

import pytest

from complaints.workflow import Action, State, allowed_actions, is_open, next_state
from supervision.errors import Conflict

R, D, SG, H, RT, RP, CB, C, M = (State.RECEIVED, State.DISPATCHED, State.SIGNED, State.HANDLING, State.RETURNED,
                                 State.REPLIED, State.CALLED_BACK, State.CLOSED, State.MERGED)
ACTIVE = {R, D, SG, H, RT}

# Written out by hand from DOMAIN.md, independently of the table in complaints.workflow.
EXPECTED: dict[Action, dict[State, State]] = {
    Action.DISPATCH: {R: D},
    Action.SIGN: {D: SG},
    Action.SEND_BACK: {D: RT, SG: RT},
    Action.REASSIGN: {RT: D, D: D, SG: D},
    Action.PROGRESS: {SG: H, H: H},
    Action.REQUEST_EXTENSION: {SG: SG, H: H},
    Action.APPROVE_EXTENSION: {SG: SG, H: H},
    Action.REJECT_EXTENSION: {SG: SG, H: H},
    Action.MERGE: {R: M, D: M, SG: M, H: M, RT: M},
    Action.REPLY: {SG: RP, H: RP},
    Action.RETURN_FINDING: {RP: H, CB: H},  # the supervisor sends reply and finding back to the unit
    Action.CONFIRM_FINDING: {RP: RP, CB: CB, C: C},
    Action.CALLBACK_TRY: {RP: RP},  # a try that reached nobody: the order waits for the next
    Action.CALLBACK: {RP: CB},
    Action.REOPEN: {CB: H},
    Action.CLOSE: {R: C, RP: C, CB: C},
    Action.OUTCOME: {RP: RP, CB: CB, C: C},
    Action.REVISE_OUTCOME: {RP: RP, CB: CB, C: C},
    Action.CANCEL: {R: C, D: C, SG: C, H: C, RT: C, RP: C, CB: C, C: C},
    Action.CHASE: {s: s for s in ACTIVE},
    Action.ESCALATE: {s: s for s in ACTIVE},
}

PAIRS = [(state, action) for state in State for action in EXPECTED]


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s.value}-{a.value}" for s, a in PAIRS])
def test_every_transition_is_allowed_or_refused(state: State, action: Action) -> None:
    expected = EXPECTED[action].get(state)
    if expected is None:
        with pytest.raises(Conflict) as err:
            next_state(state, action)
        assert err.value.key == "complaints.error.transition"
        assert action.value in err.value.message("en") or err.value.params["action"].endswith(action.value)
    else:
        assert next_state(state, action) is expected


def test_closed_and_merged_orders_take_no_action() -> None:
    assert allowed_actions(C) == [Action.OUTCOME, Action.CONFIRM_FINDING, Action.REVISE_OUTCOME, Action.CANCEL]
    assert allowed_actions(M) == []
    assert not is_open(C) and not is_open(M) and is_open(RT)


def test_refusal_reads_in_both_languages() -> None:
    with pytest.raises(Conflict) as err:
        next_state(State.CLOSED, Action.REPLY)
    assert "已办结" in err.value.message("zh-CN") and "答复" in err.value.message("zh-CN")
    assert "Closed" in err.value.message("en")
