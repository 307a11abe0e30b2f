"""The lifecycles of 多元共治 as data.

A proposal: 征集附议 (open) → 可以上会 (qualified, once enough residents support it, or
tabled by staff) → 已列入议程 (scheduled on a meeting's agenda) → 采纳 / 不予采纳 / 需进一步研究
(decided at the meeting, with a published answer) → 已办结 (completed, when its tracked
action is done). "Needs study" can go back on a later agenda. The proposer may withdraw
before it is scheduled.

A meeting: 报名中 (planned) → 进行中 (open) → 已结束 (closed, minutes required); or cancelled.

A project: 项目库 (library) → 候选投票 (candidate) → 入选 / 未入选 → 服务中 → 已完成.

``services`` apply these tables (``apply``) and write the event row in the same transaction."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from jiedao.common.errors import InvalidTransition

from .models import MeetingStatus as M
from .models import ProjectStatus as J
from .models import ProposalStatus as P

STAFF = "staff"  # staff of the community's committee, or street leaders and admins
PROPOSER = "proposer"
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple
    target: str
    who: str
    needs_note: bool = False


T = Transition
PROPOSAL = {
    t.action: t
    for t in [
        T("qualify", _("达到上会条件"), (P.OPEN,), P.QUALIFIED, SYSTEM),
        T("schedule", _("列入议程"), (P.QUALIFIED, P.STUDY), P.SCHEDULED, STAFF),
        T("unschedule", _("移出议程"), (P.SCHEDULED,), P.QUALIFIED, STAFF),
        T("adopt", _("采纳"), (P.SCHEDULED,), P.ADOPTED, STAFF, needs_note=True),
        T("reject", _("不予采纳"), (P.SCHEDULED,), P.REJECTED, STAFF, needs_note=True),
        T("study", _("需进一步研究"), (P.SCHEDULED,), P.STUDY, STAFF, needs_note=True),
        T("complete", _("办结"), (P.ADOPTED,), P.COMPLETED, SYSTEM),
        T("withdraw", _("撤回"), (P.OPEN, P.QUALIFIED), P.WITHDRAWN, PROPOSER),
    ]
}
DECISIONS = ("adopt", "reject", "study")

MEETING = {
    t.action: t
    for t in [
        T("start", _("开会"), (M.PLANNED,), M.OPEN, STAFF),
        T("close", _("结束并公开纪要"), (M.OPEN,), M.CLOSED, STAFF, needs_note=True),
        T("cancel", _("取消"), (M.PLANNED,), M.CANCELLED, STAFF, needs_note=True),
    ]
}

PROJECT = {
    t.action: t
    for t in [
        T("nominate", _("列入候选"), (J.LIBRARY, J.NOT_SELECTED), J.CANDIDATE, STAFF),
        T("select", _("入选"), (J.CANDIDATE,), J.SELECTED, SYSTEM),
        T("drop", _("未入选"), (J.CANDIDATE,), J.NOT_SELECTED, SYSTEM),
        T("deliver", _("开始服务"), (J.SELECTED,), J.DELIVERING, STAFF),
        T("finish", _("服务完成"), (J.DELIVERING,), J.DELIVERED, STAFF),
    ]
}

SYSTEM_ACTIONS = {
    "propose": _("提出议题"),
    "table": _("社区提出议题"),
    "support": _("附议"),
    "progress": _("进展"),
    "rate": _("居民评价"),
}


def apply(table, action, status):
    """The target state of ``action`` from ``status``, or InvalidTransition."""
    transition = table.get(action)
    if transition is None:
        raise InvalidTransition(_("未知操作“%(action)s”。") % {"action": action})
    if status not in transition.sources:
        raise InvalidTransition(_("当前状态下不能“%(label)s”。") % {"label": transition.label})
    return transition


def label(action):
    for table in (PROPOSAL, MEETING, PROJECT):
        if action in table:
            return str(table[action].label)
    return str(SYSTEM_ACTIONS.get(action, action))
