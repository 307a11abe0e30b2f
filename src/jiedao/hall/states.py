"""The application lifecycle as data: which action moves an application from which
state to which, and who may take it. ``services`` applies it.

前台综合受理 (the window accepts for any item) → 后台分类审批 (the responsible unit
approves) → 统一窗口出件 (the window issues the result). Actor scopes:

- ``any``: every user with the role.
- ``own_unit``: the user's unit is the unit approving the application.
- ``applicant``: the signed-in resident who applied, or anyone holding the rating link.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Status as S

ANY, OWN_UNIT, APPLICANT = "any", "own_unit", "applicant"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple
    target: object  # None keeps the state
    actors: tuple
    needs_note: bool = False


T = Transition
WINDOW = (("operator", ANY), ("admin", ANY))
TRANSITIONS = {
    t.action: t
    for t in [
        T("accept", _("受理"), (S.SUBMITTED,), S.ACCEPTED, WINDOW),
        T("refuse", _("不予受理"), (S.SUBMITTED,), S.REFUSED, WINDOW, needs_note=True),
        T("supply", _("补正材料"), (S.ACCEPTED,), None, (*WINDOW, ("resident", APPLICANT))),
        T(
            "approve",
            _("审批通过"),
            (S.ACCEPTED,),
            S.APPROVED,
            (("handler", OWN_UNIT), ("leader", ANY), ("admin", ANY)),
        ),
        T(
            "reject",
            _("不予批准"),
            (S.ACCEPTED,),
            S.REJECTED,
            (("handler", OWN_UNIT), ("leader", ANY), ("admin", ANY)),
            needs_note=True,
        ),
        T("issue", _("出件"), (S.APPROVED,), S.ISSUED, WINDOW),
        T(
            "rate",
            _("好差评"),
            (S.ISSUED, S.REJECTED),
            None,
            (("operator", ANY), ("resident", APPLICANT), (None, APPLICANT)),
        ),
    ]
}

# Recorded by the system, never taken by a person.
SYSTEM_ACTIONS = {
    "create": _("网上申请"),
    "window_accept": _("窗口受理"),
    "remind": _("补正提醒"),
    "complete": _("一件事全部办结"),
    "rectify": _("差评整改"),
    "callback": _("整改回访"),
    "appeal": _("差评申诉"),
    "review": _("申诉复核"),
}


def action_label(action: str) -> str:
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(SYSTEM_ACTIONS.get(action, action))


def can_take(transition: Transition, status: str) -> bool:
    return status in transition.sources


def next_status(transition: Transition, status: str) -> str:
    return status if transition.target is None else transition.target
