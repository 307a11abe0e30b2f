"""The lifecycles of 多元共治 as tables of the one lifecycle engine (``common.lifecycle``).

A proposal: 征集附议 (open) → 可以上会 (qualified, once enough residents support it) → 已列入议程
(scheduled on a meeting's agenda) → 采纳 / 不予采纳 / 需进一步研究 (decided at the meeting, with a
published answer) → 已办结 (completed, when its tracked action is done). "Needs study" can go
back on a later agenda; cancelling the meeting takes its agenda back to the pool. The proposer
may withdraw before it is scheduled; residents of the community rate a completed one. A
proposal is born open (proposed by a resident) or qualified (tabled by the committee: official
topics and cases turned into topics skip the support stage).

A meeting: 报名中 (planned) → 进行中 (open) → 已结束 (closed, minutes required); or cancelled
(a reason required).

A tracked action (an adopted proposal's 落实事项): 推进中 (ongoing) → 已完成 (completed, with
evidence), progress reported on the way.

A project: 项目库 (library) → 候选投票 (candidate) → 入选 / 未入选 → 服务中 → 已完成.

Each row's ``who`` lists ``(role, scope)`` pairs: the committee staff (``STAFF``: a handler of
the community's committee, or a street leader or administrator anywhere); a resident of the
record's community (``member``); the proposer. The scopes' checks are in ``rules``. The roles
of a row must be those of the permission that its action needs (``PERMISSIONS``, rows of
``org.permissions``), or the table refuses to load.

Rows with nobody in ``who`` are **the system's moves**, taken by a rule, never by a person
asking for them: a proposal qualifies when its supports reach the threshold it was proposed
under; a proposal is completed when its tracked action is completed (recorded with the staff
member who reported the completion); closing a vote selects candidates in order of votes while
the budget lasts and drops the rest (recorded with the staff member who closed it). A person
asking for one of them is refused (403). ``ParticipationLifecycle.by_system`` applies them:
the state is checked as for any move (409), then the engine moves the record and writes its
event.

The order of the checks and their answers is the engine's: the role (403, before any look-up),
the action (422 on ``action``), the state (409), the scope (403), the note (422 on the field
the person fills in, ``notes``). Acts that are recorded without a row (``system_actions``:
making a proposal, a support, a progress report …) are written with ``record``."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from jiedao.common.errors import ValidationFailed
from jiedao.common.lifecycle import ANY, Context, Lifecycle, Transition
from jiedao.org import permissions
from jiedao.org.roles import ADMIN, HANDLER, LEADER, RESIDENT

from . import rules
from .models import Action, ActionEvent, MeetingEvent, ProjectEvent, ProposalEvent
from .models import MeetingStatus as M
from .models import ProjectStatus as J
from .models import ProposalStatus as P
from .rules import COMMITTEE, MEMBER, PROPOSER

A = Action.Status
STAFF = ((HANDLER, COMMITTEE), (LEADER, ANY), (ADMIN, ANY))
RESIDENTS = ((RESIDENT, MEMBER),)
SYSTEM = ()

DELIBERATION = "participation.deliberation"
PROJECTS = "participation.projects"


@dataclass
class ParticipationLifecycle(Lifecycle):
    """The engine with what 多元共治 adds: the permission each row's action needs
    (``permissions``, None for the system's rows), the field and message of each required note
    (``notes``), and the system's own moves (``by_system``)."""

    permissions: Mapping[str, str | None] = field(default_factory=dict)
    notes: Mapping[str, tuple] = field(default_factory=dict)

    def __post_init__(self):
        if set(self.permissions) != set(self.transitions):
            raise ImproperlyConfigured(f"{self.name}: every row names the permission it needs")
        if {a for a, t in self.transitions.items() if t.needs_note} != set(self.notes):
            raise ImproperlyConfigured(f"{self.name}: notes must name exactly the rows that need a note")
        self.permission_prefix = self.name
        self.permission_roles = self._roles_of_permission
        super().__post_init__()

    def _roles_of_permission(self, name: str) -> frozenset:
        needed = self.permissions[name.split(".", 1)[1]]
        return permissions.signed_in_roles(needed) if needed else frozenset()

    def check(self, user, record, action: str, note: str = "", context: Context = Context()) -> Transition:
        """The engine's checks; a missing note is answered on the field the person fills in."""
        try:
            return super().check(user, record, action, note, context)
        except ValidationFailed as exc:
            if action in self.notes and exc.errors[0]["field"] == self.note_field:
                raise ValidationFailed(*self.notes[action]) from None
            raise

    def by_system(self, actor, record, action: str, *, note: str = "", at=None, save_fields=(), event=None):
        """A move of the system's (a row with nobody in ``who``), taken by the service's rule:
        the state is checked (409); ``actor`` is the person whose act set it off, or None."""
        transition = self.get(action)
        if transition.who:
            raise ImproperlyConfigured(f"{self.name} {action}: a person's move, not the system's")
        self.check_state(record, transition)
        return self.take(
            actor,
            record,
            action,
            note=note,
            at=at or timezone.now(),
            save_fields=tuple(save_fields),
            event=event,
            checked=transition,
        )


T = Transition
PROPOSAL = ParticipationLifecycle(
    name="proposal",
    noun=_lazy("议题"),
    transitions={
        t.action: t
        for t in [
            T("qualify", _lazy("达到上会条件"), (P.OPEN,), P.QUALIFIED, SYSTEM, stamps=("qualified_at",)),
            T("schedule", _lazy("列入议程"), (P.QUALIFIED, P.STUDY), P.SCHEDULED, STAFF),
            T("unschedule", _lazy("移出议程"), (P.SCHEDULED,), P.QUALIFIED, STAFF),
            T("adopt", _lazy("采纳"), (P.SCHEDULED,), P.ADOPTED, STAFF, needs_note=True, stamps=("decided_at",)),
            T("reject", _lazy("不予采纳"), (P.SCHEDULED,), P.REJECTED, STAFF, needs_note=True, stamps=("decided_at",)),
            T("study", _lazy("需进一步研究"), (P.SCHEDULED,), P.STUDY, STAFF, needs_note=True, stamps=("decided_at",)),
            T("complete", _lazy("办结"), (P.ADOPTED,), P.COMPLETED, SYSTEM),
            T("withdraw", _lazy("撤回"), (P.OPEN, P.QUALIFIED), P.WITHDRAWN, ((RESIDENT, PROPOSER),)),
            T("rate", _lazy("居民评价"), (P.COMPLETED,), None, RESIDENTS),
        ]
    },
    permissions={
        "qualify": None,
        "schedule": DELIBERATION,
        "unschedule": DELIBERATION,
        "adopt": DELIBERATION,
        "reject": DELIBERATION,
        "study": DELIBERATION,
        "complete": None,
        "withdraw": "participation.withdraw",
        "rate": "participation.rate",
    },
    notes={
        "adopt": ("answer", _lazy("请填写公开答复。")),
        "reject": ("answer", _lazy("请填写公开答复。")),
        "study": ("answer", _lazy("请填写公开答复。")),
    },
    event_model=ProposalEvent,
    system_actions={
        "propose": _lazy("提出议题"),
        "table": _lazy("社区提出议题"),
        "support": _lazy("附议"),
        "progress": _lazy("进展"),
    },
    scopes=rules.SCOPES,
    number=lambda proposal: str(proposal.pk),
    note_field="answer",
)
DECISIONS = ("adopt", "reject", "study")

MEETING = ParticipationLifecycle(
    name="meeting",
    noun=_lazy("议事会"),
    transitions={
        t.action: t
        for t in [
            T("start", _lazy("开会"), (M.PLANNED,), M.OPEN, STAFF),
            T("close", _lazy("结束并公开纪要"), (M.OPEN,), M.CLOSED, STAFF, needs_note=True, stamps=("closed_at",)),
            T("cancel", _lazy("取消"), (M.PLANNED,), M.CANCELLED, STAFF, needs_note=True),
        ]
    },
    permissions={"start": DELIBERATION, "close": DELIBERATION, "cancel": DELIBERATION},
    notes={
        "close": ("minutes", _lazy("请填写会议纪要后再结束议事会。")),
        "cancel": ("note", _lazy("请说明原因。")),
    },
    event_model=MeetingEvent,
    system_actions={"schedule": _lazy("安排议事会")},
    scopes=rules.SCOPES,
    number=lambda meeting: f"“{meeting.title}”",
)

ACTION = ParticipationLifecycle(
    name="action",
    noun=_lazy("落实事项"),
    transitions={
        t.action: t
        for t in [
            T("progress", _lazy("进展"), (A.ONGOING,), None, STAFF),
            T("complete", _lazy("完成"), (A.ONGOING,), A.COMPLETED, STAFF, stamps=("completed_at",)),
        ]
    },
    permissions={"progress": DELIBERATION, "complete": DELIBERATION},
    event_model=ActionEvent,
    system_actions={"create": _lazy("落实安排"), "overdue": _lazy("逾期提醒")},
    scopes=rules.SCOPES,
    number=lambda action: str(action.proposal_id),
)

PROJECT = ParticipationLifecycle(
    name="project",
    noun=_lazy("民生项目"),
    transitions={
        t.action: t
        for t in [
            T("nominate", _lazy("列入候选"), (J.LIBRARY, J.NOT_SELECTED), J.CANDIDATE, STAFF),
            T("select", _lazy("入选"), (J.CANDIDATE,), J.SELECTED, SYSTEM),
            T("drop", _lazy("未入选"), (J.CANDIDATE,), J.NOT_SELECTED, SYSTEM),
            T("deliver", _lazy("开始服务"), (J.SELECTED,), J.DELIVERING, STAFF),
            T("finish", _lazy("服务完成"), (J.DELIVERING,), J.DELIVERED, STAFF, stamps=("delivered_at",)),
        ]
    },
    permissions={"nominate": PROJECTS, "select": None, "drop": None, "deliver": PROJECTS, "finish": PROJECTS},
    event_model=ProjectEvent,
    system_actions={"create": _lazy("加入项目库"), "serve": _lazy("登记服务人次")},
    scopes=rules.SCOPES,
    number=lambda project: f"“{project.title}”",
)

LIFECYCLES = (PROPOSAL, MEETING, ACTION, PROJECT)
