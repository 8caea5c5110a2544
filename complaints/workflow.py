"""The work order's state machine (DOMAIN.md, 12345 rules): pure, no I/O.

受理 received → 派单 dispatched → 签收 signed → 办理 handling → 答复 replied → 回访 called back → 办结 closed,
with 退单 send back (to returned), 改派 reassign, 延期 extension (request, approve, reject), 并单 merge,
重办 reopen after an unsatisfied callback, 催办 chase. Actions that do not move the order
(progress notes, extensions, chasing, outcomes and their revisions) still leave an event.
"""

from __future__ import annotations

from enum import StrEnum

from supervision.errors import Conflict


class State(StrEnum):
    RECEIVED = "received"  # 受理
    DISPATCHED = "dispatched"  # 派单
    SIGNED = "signed"  # 签收
    HANDLING = "handling"  # 办理
    RETURNED = "returned"  # 退单: back with the dispatcher, to be reassigned
    REPLIED = "replied"  # 答复
    CALLED_BACK = "called_back"  # 回访
    CLOSED = "closed"  # 办结
    MERGED = "merged"  # 并单: a duplicate folded into another order


class Action(StrEnum):
    RECEIVE = "receive"
    DISPATCH = "dispatch"
    SIGN = "sign"
    SEND_BACK = "send_back"
    REASSIGN = "reassign"
    PROGRESS = "progress"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    MERGE = "merge"
    REPLY = "reply"  # with the unit's finding (属实 / 部分属实 / 不属实) and its facts
    RETURN_FINDING = "return_finding"  # 退回: the supervisor sends the reply and finding back to the unit
    CONFIRM_FINDING = "confirm_finding"  # the supervisor confirms the finding: it becomes the outcome
    CALLBACK_TRY = "callback_try"  # a callback that reached nobody, recorded with its time and method
    CALLBACK = "callback"
    REOPEN = "reopen"
    CLOSE = "close"
    OUTCOME = "outcome"
    REVISE_OUTCOME = "revise_outcome"  # 改判: a new outcome replaces the recorded one, with a reason
    CANCEL = "cancel"  # 撤销: the order's cause fell away (a bad rating voided on appeal)
    CHASE = "chase"
    ESCALATE = "escalate"


S = State
_IN_UNIT = frozenset({S.SIGNED, S.HANDLING})
_BEFORE_REPLY = frozenset({S.RECEIVED, S.DISPATCHED, S.SIGNED, S.HANDLING, S.RETURNED})
_CHASEABLE = frozenset({S.RECEIVED, S.DISPATCHED, S.SIGNED, S.HANDLING, S.RETURNED})
OPEN_STATES = frozenset(set(State) - {S.CLOSED, S.MERGED})

# action → (states it may start from, state it leads to; None = stays where it is)
TRANSITIONS: dict[Action, tuple[frozenset[State], State | None]] = {
    Action.DISPATCH: (frozenset({S.RECEIVED}), S.DISPATCHED),
    Action.SIGN: (frozenset({S.DISPATCHED}), S.SIGNED),
    Action.SEND_BACK: (frozenset({S.DISPATCHED, S.SIGNED}), S.RETURNED),
    Action.REASSIGN: (frozenset({S.RETURNED, S.DISPATCHED, S.SIGNED}), S.DISPATCHED),
    Action.PROGRESS: (_IN_UNIT, S.HANDLING),
    Action.REQUEST_EXTENSION: (_IN_UNIT, None),
    Action.APPROVE_EXTENSION: (_IN_UNIT, None),
    Action.REJECT_EXTENSION: (_IN_UNIT, None),
    Action.MERGE: (_BEFORE_REPLY, S.MERGED),
    Action.REPLY: (_IN_UNIT, S.REPLIED),
    Action.RETURN_FINDING: (frozenset({S.REPLIED, S.CALLED_BACK}), S.HANDLING),
    Action.CALLBACK_TRY: (frozenset({S.REPLIED}), None),
    Action.CALLBACK: (frozenset({S.REPLIED}), S.CALLED_BACK),
    Action.REOPEN: (frozenset({S.CALLED_BACK}), S.HANDLING),
    # From received: a consultation answered on the spot (or a call that needs nothing) closes at once;
    # from replied: only when no callback is possible (anonymous, no number, unreachable after the set
    # number of recorded tries), with a reason; the service checks which.
    Action.CLOSE: (frozenset({S.RECEIVED, S.REPLIED, S.CALLED_BACK}), S.CLOSED),
    Action.OUTCOME: (frozenset({S.REPLIED, S.CALLED_BACK, S.CLOSED}), None),
    Action.CONFIRM_FINDING: (frozenset({S.REPLIED, S.CALLED_BACK, S.CLOSED}), None),
    Action.REVISE_OUTCOME: (frozenset({S.REPLIED, S.CALLED_BACK, S.CLOSED}), None),
    # Taken by the service that voids the cause (never by a user directly); an order already closed stays
    # closed and still records why its cause fell away.
    Action.CANCEL: (OPEN_STATES | {S.CLOSED}, S.CLOSED),
    # Chasing (催办, yellow card) and escalating (督办, red card) apply while someone still owes work.
    Action.CHASE: (_CHASEABLE, None),
    Action.ESCALATE: (_CHASEABLE, None),
}

# Actions the lead unit itself takes; the rest are the supervisors' (who may also act for a unit).
UNIT_ACTIONS = frozenset({Action.SIGN, Action.SEND_BACK, Action.PROGRESS, Action.REQUEST_EXTENSION, Action.REPLY})


def allowed(state: State | str, action: Action | str) -> bool:
    starts, _ = TRANSITIONS[Action(action)]
    return State(state) in starts


def next_state(state: State | str, action: Action | str) -> State:
    """The state after `action`, or Conflict when the action is not allowed from `state`."""
    current, act = State(state), Action(action)
    starts, target = TRANSITIONS[act]
    if current not in starts:
        raise Conflict(
            "complaints.error.transition", action=f"wo_action.{act.value}", state=f"wo_state.{current.value}"
        )
    return target if target is not None else current


def allowed_actions(state: State | str) -> list[Action]:
    current = State(state)
    return [a for a, (starts, _) in TRANSITIONS.items() if current in starts]


def is_open(state: State | str) -> bool:
    return State(state) in OPEN_STATES
