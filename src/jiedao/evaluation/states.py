"""The lifecycle of a rectification task (整改指令) as data: (state, action) → next state,
who may do it and what it requires. ``services.act_on_rectification`` applies it."""

from django.utils.translation import gettext_lazy as _

ISSUED, IN_PROGRESS, SUBMITTED, CLOSED = "issued", "in_progress", "submitted", "closed"
UNIT = "unit"  # a handler of the responsible unit
REVIEWERS = ("leader", "evaluator", "admin")

TRANSITIONS = {
    (ISSUED, "accept"): (IN_PROGRESS, UNIT, None),
    (IN_PROGRESS, "submit"): (SUBMITTED, UNIT, "evidence"),
    (SUBMITTED, "approve"): (CLOSED, REVIEWERS, None),
    (SUBMITTED, "reject"): (IN_PROGRESS, REVIEWERS, "note"),
}

ACTION_LABELS = {
    "issue": _("下达"),
    "accept": _("签收"),
    "submit": _("提交整改佐证"),
    "approve": _("验收销号"),
    "reject": _("退回重改"),
    "escalate": _("预警升级为红色"),
    "recover": _("指标已恢复"),
}


def action_label(action):
    return ACTION_LABELS.get(action, action)


def actions_from(status):
    return [action for (state, action) in TRANSITIONS if state == status]
