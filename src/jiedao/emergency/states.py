"""The emergency lifecycle as data, in the documents' four stages:

监测预警 (reported) → 快速响应 (dispatched, arrived) → 协同处置 (engaged) → 恢复重建
(recovered, closed); a false report is cancelled before anyone is engaged.

Each transition names the roles that may take it and the timestamp it sets on the
emergency. ``services.transition`` applies it and writes the event; nothing else
decides transitions."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Status as S

COMMAND = ("leader", "dispatcher", "admin")
FIELD = (*COMMAND, "handler", "grid")


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple
    target: str
    roles: tuple
    stamp: str = ""  # the emergency's time field set by this action
    needs_note: bool = False


T = Transition
TRANSITIONS = {
    t.action: t
    for t in [
        T("dispatch", _("调度响应"), (S.REPORTED,), S.DISPATCHED, COMMAND, "dispatched_at"),
        T("arrive", _("先期到场"), (S.DISPATCHED,), S.ARRIVED, FIELD, "arrived_at"),
        T("engage", _("协同处置"), (S.ARRIVED,), S.ENGAGED, COMMAND, "engaged_at"),
        T("recover", _("处置完毕"), (S.ENGAGED,), S.RECOVERED, COMMAND, "recovered_at", needs_note=True),
        T("close", _("恢复重建完成"), (S.RECOVERED,), S.CLOSED, COMMAND, "closed_at", needs_note=True),
        T("cancel", _("撤销（误报）"), (S.REPORTED, S.DISPATCHED), S.CANCELLED, COMMAND, "closed_at", needs_note=True),
    ]
}

SYSTEM_ACTIONS = {
    "report": _("报告"),
    "note": _("进展"),
    "calloff": _("调用协议物资"),
    "supply": _("物资出库"),
    "check": _("关怀核查"),
}

# The documents' four stages, with the states that belong to each.
STAGES = (
    ("monitor", _("监测预警"), (S.REPORTED,)),
    ("respond", _("快速响应"), (S.DISPATCHED, S.ARRIVED)),
    ("coordinate", _("协同处置"), (S.ENGAGED,)),
    ("recover", _("恢复重建"), (S.RECOVERED, S.CLOSED)),
)


def stage_of(status):
    for code, _label, states in STAGES:
        if status in states:
            return code
    return ""


def action_label(action):
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(SYSTEM_ACTIONS.get(action, action))


def available(status):
    return [t for t in TRANSITIONS.values() if status in t.sources]
