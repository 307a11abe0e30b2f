"""The case lifecycle as data: which action moves a case from which state to which,
and who may take it. ``services`` applies it; nothing else decides transitions.

Each actor entry is ``(role, scope)``. Scopes:

- ``any``: every user with the role (street-wide roles).
- ``own_unit``: the user's unit is the unit holding the case.
- ``summoned_unit``: the user's unit was summoned by an open whistle on the case.
- ``own_report``: the user reported the case.
- ``own_grid``: the case lies in one of the user's grids (or has no grid).
- ``public``: anyone who proves to be the reporter (case number + phone).

Which roles may take an action at all is also a row of the permission table
(``org/permissions.py``, ``case.<action>``; the public rating is ``public.rate_case``),
which pages, the API and the permission matrix test read: the roles named here must be
the roles named there, and this module refuses to load otherwise.
"""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from jiedao.org import permissions

from .models import Status as S

ANY, OWN_UNIT, SUMMONED, OWN_REPORT, OWN_GRID, PUBLIC = (
    "any",
    "own_unit",
    "summoned_unit",
    "own_report",
    "own_grid",
    "public",
)


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple
    # The next state; None keeps the state. A tuple lists the possible outcomes,
    # chosen by the service from the action's input (e.g. a rating reopens or closes).
    target: object
    actors: tuple
    needs_note: bool = False


T = Transition
TRANSITIONS = {
    t.action: t
    for t in [
        T("classify", _("分类"), (S.NEW, S.RETURNED), None, (("operator", ANY), ("dispatcher", ANY), ("admin", ANY))),
        T(
            "dispatch",
            _("派单"),
            (S.NEW, S.RETURNED),
            S.DISPATCHED,
            (("dispatcher", ANY), ("leader", ANY), ("admin", ANY)),
        ),
        T("return", _("退单"), (S.DISPATCHED,), S.RETURNED, (("handler", OWN_UNIT),), needs_note=True),
        T("respond", _("响应"), (S.DISPATCHED,), S.IN_PROGRESS, (("handler", OWN_UNIT),)),
        T(
            "note",
            _("办理进展"),
            (S.IN_PROGRESS,),
            None,
            (("handler", OWN_UNIT), ("handler", SUMMONED)),
            needs_note=True,
        ),
        T(
            "request_extension",
            _("申请延期"),
            (S.DISPATCHED, S.IN_PROGRESS),
            None,
            (("handler", OWN_UNIT),),
            needs_note=True,
        ),
        T("approve_extension", _("批准延期"), (S.DISPATCHED, S.IN_PROGRESS), None, (("leader", ANY), ("admin", ANY))),
        T(
            "refuse_extension",
            _("驳回延期"),
            (S.DISPATCHED, S.IN_PROGRESS),
            None,
            (("leader", ANY), ("admin", ANY)),
            needs_note=True,
        ),
        T(
            "whistle",
            _("吹哨"),
            (S.DISPATCHED, S.IN_PROGRESS),
            None,
            (("dispatcher", ANY), ("leader", ANY)),
            needs_note=True,
        ),
        T("report", _("报到"), (S.DISPATCHED, S.IN_PROGRESS), None, (("handler", SUMMONED),), needs_note=True),
        T(
            "resolve",
            _("办结反馈"),
            (S.IN_PROGRESS,),
            (S.VERIFYING, S.RATING),
            (("handler", OWN_UNIT),),
            needs_note=True,
        ),
        T("verify_pass", _("核查通过"), (S.VERIFYING,), S.RATING, (("grid", OWN_GRID), ("dispatcher", ANY))),
        T(
            "verify_fail",
            _("核查不通过"),
            (S.VERIFYING,),
            S.IN_PROGRESS,
            (("grid", OWN_GRID), ("dispatcher", ANY)),
            needs_note=True,
        ),
        T(
            "rate",
            _("回访评价"),
            (S.RATING,),
            (S.CLOSED, S.IN_PROGRESS),
            (("resident", OWN_REPORT), ("operator", ANY), ("dispatcher", ANY), (None, PUBLIC)),
        ),
        T("close", _("结案"), (S.RATING,), S.CLOSED, (("dispatcher", ANY), ("leader", ANY)), needs_note=True),
        T(
            "merge",
            _("并案"),
            (S.NEW, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS),
            S.MERGED,
            (("dispatcher", ANY), ("leader", ANY)),
        ),
        T(
            "supervise",
            _("督办"),
            (S.DISPATCHED, S.IN_PROGRESS, S.VERIFYING, S.RATING),
            None,
            (("leader", ANY), ("dispatcher", ANY)),
            needs_note=True,
        ),
    ]
}

for _t in TRANSITIONS.values():
    if {role for role, _scope in _t.actors if role} != permissions.roles_of(f"case.{_t.action}"):
        raise ImproperlyConfigured(f"cases.states {_t.action}: the roles differ from org.permissions case.{_t.action}")

# Recorded by the system, never taken by a person: intake, deadline sweeps, anonymisation.
SYSTEM_ACTIONS = {
    "create": _("受理"),
    "sla": _("时限预警"),
    "inform": _("告知诉求人"),
    "absorb": _("并入重复工单"),
    "anonymise": _("诉求人信息匿名化"),
}


def action_label(action: str) -> str:
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(SYSTEM_ACTIONS.get(action, action))


def can_take(transition: Transition, status: str) -> bool:
    return status in transition.sources


def next_status(transition: Transition, status: str, outcome=None) -> str:
    """The state after the action; ``outcome`` picks among several possible targets."""
    if transition.target is None:
        return status
    if isinstance(transition.target, tuple):
        if outcome not in transition.target:
            raise ValueError(f"{transition.action}: outcome {outcome!r} is not one of {transition.target}")
        return outcome
    return transition.target
