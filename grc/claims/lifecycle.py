"""The claim lifecycle: which action moves a claim from which status to which, and who may act.

received ──► assigned ──► in_progress ──► resolved ──► closed
   │            │  ▲           │   ▲          │
   │            │  └─rerouted──┘   └─reopened─┘
   │            └──► waiting_tenant (SLA clock paused) ──► back
   └──► resolved (first-contact resolution)     any open state ──► cancelled
"""

from __future__ import annotations

from grc.claims.models import ClaimStatus as S
from grc.db import StrEnum
from grc.people.models import Role


class Action(StrEnum):
    ASSIGN = "assign"
    START = "start"
    WAIT_TENANT = "wait_tenant"
    RESUME = "resume"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CANCEL = "cancel"
    CLOSE = "close"


# Target status of "resume" is the one the claim had before the pause; None stands for it.
TRANSITIONS: dict[Action, dict[S, S | None]] = {
    Action.ASSIGN: {S.RECEIVED: S.ASSIGNED, S.ASSIGNED: S.ASSIGNED, S.IN_PROGRESS: S.ASSIGNED},
    Action.START: {S.ASSIGNED: S.IN_PROGRESS},
    Action.WAIT_TENANT: {S.ASSIGNED: S.WAITING_TENANT, S.IN_PROGRESS: S.WAITING_TENANT},
    Action.RESUME: {S.WAITING_TENANT: None},
    Action.RESOLVE: {S.RECEIVED: S.RESOLVED, S.ASSIGNED: S.RESOLVED, S.IN_PROGRESS: S.RESOLVED},
    Action.REOPEN: {S.RESOLVED: S.IN_PROGRESS},
    Action.CLOSE: {S.RESOLVED: S.CLOSED},
    Action.CANCEL: {
        S.RECEIVED: S.CANCELLED,
        S.ASSIGNED: S.CANCELLED,
        S.IN_PROGRESS: S.CANCELLED,
        S.WAITING_TENANT: S.CANCELLED,
    },
}

# The call centre logs, resolves at once, reroutes and cancels duplicates; treatment units
# work their queue end to end; managers and administrators read but do not act on claims.
ACTIONS_BY_ROLE: dict[Role, frozenset[Action]] = {
    Role.AGENT: frozenset({Action.ASSIGN, Action.RESOLVE, Action.REOPEN, Action.CANCEL}),
    Role.UNIT: frozenset(Action),
    Role.MANAGER: frozenset(),
    Role.ADMIN: frozenset(),
}

# A contractor, through an open work order of the claim (its reply or one-click link), starts
# the work and says when it is done; nothing else.
CONTRACTOR_ACTIONS: frozenset[Action] = frozenset({Action.START, Action.RESOLVE})

# GRC itself, on what the tenant answered to the satisfaction survey ("pas fait"), reopens.
SYSTEM_ACTIONS: frozenset[Action] = frozenset({Action.REOPEN})

# A resolution by the call centre before any unit started work is first-contact resolution.
FIRST_CONTACT_STATUSES = frozenset({S.RECEIVED, S.ASSIGNED})


class TransitionRefused(Exception):
    """The lifecycle does not allow this action from the claim's current status."""

    def __init__(self, action: Action, status: S) -> None:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[action]))
        super().__init__(
            f"Action '{action}' is not possible on a claim that is '{status}' "
            f"(possible from: {allowed})."
        )
        self.action = action
        self.status = status


def target_status(action: Action, current: S, before_pause: S | None) -> S:
    try:
        target = TRANSITIONS[action][current]
    except KeyError:
        raise TransitionRefused(action, current) from None
    if target is None:
        if before_pause is None:
            raise TransitionRefused(action, current)
        return before_pause
    return target


def allowed_actions(status: S, role: Role) -> list[Action]:
    return [a for a in Action if status in TRANSITIONS[a] and a in ACTIONS_BY_ROLE[role]]
