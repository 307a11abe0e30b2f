"""The lifecycle of a rectification task (整改指令) as a table of the one engine
(``common.lifecycle``): issued → in progress (the responsible unit signs for it) → submitted
(with its evidence) → closed when a reviewer accepts it, or back in progress when sent back
with a reason. Its roles are the permission table's ``evaluation.rectification.<action>`` rows
(checked at import); a handler acts only on their own unit's tasks (``rules``). Every step is a
``RectificationEvent``; so are the issue of the task and what the worker records on it when its
warning escalates or recovers. ``services.act_on_rectification`` moves a task only through
``take``."""

from django.utils.translation import gettext_lazy as _

from jiedao.common.lifecycle import ANY, Lifecycle, Transition
from jiedao.org.permissions import signed_in_roles

from . import rules
from .models import Rectification, RectificationEvent
from .rules import RESPONSIBLE_UNIT

S = Rectification.Status
ISSUED, IN_PROGRESS, SUBMITTED, CLOSED = S.ISSUED, S.IN_PROGRESS, S.SUBMITTED, S.CLOSED
UNIT = (("handler", RESPONSIBLE_UNIT), ("admin", ANY))
REVIEWERS = (("evaluator", ANY), ("leader", ANY), ("admin", ANY))

T = Transition
RECTIFICATIONS = Lifecycle(
    name="evaluation.rectification",
    noun=_("整改指令"),
    transitions={
        t.action: t
        for t in [
            T("accept", _("签收"), (ISSUED,), IN_PROGRESS, UNIT),
            # The note of a submission is its evidence: what was done and with what result.
            T("submit", _("提交整改佐证"), (IN_PROGRESS,), SUBMITTED, UNIT, needs_note=True, note_field="evidence"),
            T("approve", _("验收销号"), (SUBMITTED,), CLOSED, REVIEWERS, stamps=("closed_at",)),
            T("reject", _("退回重改"), (SUBMITTED,), IN_PROGRESS, REVIEWERS, needs_note=True),
        ]
    },
    system_actions={
        "issue": _("下达"),
        "escalate": _("预警升级为红色"),
        "recover": _("预警已解除"),
    },
    event_model=RectificationEvent,
    permission_prefix="evaluation.rectification",
    permission_roles=signed_in_roles,
    scopes={RESPONSIBLE_UNIT: rules.responsible_unit},
)
