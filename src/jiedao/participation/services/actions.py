"""Decisions and their tracked actions (落实事项): a meeting in session decides each topic on its
agenda — adopt, reject or needs study — with a public answer; an adopted topic becomes an action
with a person and a unit responsible (the unit is told), a due date and milestones, and earns
the proposer the adopted-proposal points. The committee reports progress (never backwards); 100 %
needs completion evidence, completes the action and — the system's move — the proposal. The
proposer and the supporters are told at each step. Responsible units are reminded of overdue
actions once a day (an ``overdue`` event marks the day).

Moves go through ``states.PROPOSAL`` and ``states.ACTION``, which write their events in the same
transaction."""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.errors import FieldErrors, InvalidTransition, NotFound, ValidationFailed
from jiedao.messaging.services import notify
from jiedao.org import permissions
from jiedao.org.models import Unit, User

from ..models import Action, ActionEvent, MeetingStatus, Milestone, Proposal
from ..states import ACTION, DECISIONS, PROPOSAL
from .base import now, text
from .points import award
from .proposals import inform, locked_proposal


def _parse_date(value, field, errors):
    try:
        return params.parse_date(value, field)
    except ValidationFailed as exc:
        for error in exc.errors:
            errors.add(field, error["message"])
        return None


@transaction.atomic
def decide(
    user: User,
    *,
    proposal_id: int,
    decision: str,
    answer: str,
    owner_unit: Unit | None = None,
    owner_name: str = "",
    due: dt.date | str | None = None,
    milestones: Iterable[tuple[str, dt.date | str]] = (),
    at: dt.datetime | None = None,
) -> Proposal:
    """The meeting decides a scheduled proposal: adopt (it becomes a tracked action with an
    owner, a due date and milestones), reject or needs study; the answer is published and
    the proposer and supporters are informed."""
    permissions.require(user, "participation.deliberation")
    if decision not in DECISIONS:
        raise ValidationFailed("decision", _("请选择采纳、不予采纳或需进一步研究。"))
    proposal = locked_proposal(proposal_id)
    meeting = proposal.meeting
    if meeting is None or meeting.status != MeetingStatus.OPEN:
        raise InvalidTransition(_("议题须在进行中的议事会上作出决定。"))
    answer = (answer or "").strip()
    errors = FieldErrors()
    try:
        PROPOSAL.check(user, proposal, decision, answer)
    except ValidationFailed as exc:  # the answer is missing: said together with the other fields
        for error in exc.errors:
            errors.add(error["field"], error["message"])
    plan = []
    deadline = None
    if decision == "adopt":
        owner_name = text(errors, field="owner_name", value=owner_name, label=_("责任人"), max_length=50)
        deadline = _parse_date(due, "due", errors)
        for index, (title, when) in enumerate(milestones or ()):
            if (title or "").strip():
                plan.append(((title or "").strip()[:100], _parse_date(when, f"milestones.{index}", errors)))
    errors.raise_if_any()
    moment = now(at)
    proposal.answer = answer
    PROPOSAL.take(
        user, proposal, decision, note=answer, at=moment, save_fields=("answer",), checked=PROPOSAL.get(decision)
    )
    if decision == "adopt":
        assert deadline is not None  # a missing or mistyped date was a field error above
        action = Action.objects.create(
            proposal=proposal, owner_unit=owner_unit, owner_name=owner_name, due=deadline, created_at=moment
        )
        Milestone.objects.bulk_create([Milestone(action=action, title=t, due=d) for t, d in plan])
        ACTION.record(action, "create", user, note=owner_name, at=moment, progress=0)
        if proposal.proposer is not None:
            award(
                proposal.proposer,
                code="adopted",
                reason=_("议题“%(title)s”被采纳") % {"title": proposal.title},
                community=proposal.community_id,
                at=moment,
            )
        if owner_unit is not None:
            notify(
                kind="participation",
                unit=owner_unit,
                message=_("议事会采纳的事项“%(title)s”由你单位落实，完成时限 %(due)s。")
                % {"title": proposal.title, "due": action.due.isoformat()},
            )
    inform(
        proposal,
        message=_("议题“%(title)s”议事会决定：%(decision)s。%(answer)s")
        % {"title": proposal.title, "decision": proposal.get_status_display(), "answer": answer},
    )
    return proposal


def _locked_action(action_id) -> Action:
    action = (
        Action.objects.select_for_update(of=("self",))
        .select_related("proposal")
        .filter(pk=getattr(action_id, "pk", action_id))
        .first()
    )
    if action is None:
        raise NotFound()
    return action


@transaction.atomic
def report_progress(
    user: User,
    *,
    action_id: int,
    progress: int,
    note: str = "",
    evidence: str = "",
    milestone_ids: Iterable[int] = (),
    at: dt.datetime | None = None,
) -> Action:
    """Progress of an adopted action; 100 % needs completion evidence and completes the action
    and the proposal."""
    permissions.require(user, "participation.deliberation")
    action = _locked_action(action_id)
    ACTION.check(user, action, "progress")
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationFailed("progress", _("进度应为 0 到 100。"))
    if progress < action.progress:
        raise ValidationFailed("progress", _("进度不能回退（当前 %(n)s%%）。") % {"n": action.progress})
    evidence = (evidence or "").strip()
    if progress == 100 and not evidence:
        raise ValidationFailed("evidence", _("完成时请填写完成情况（完成证明）。"))
    moment = now(at)
    Milestone.objects.filter(action=action, pk__in=list(milestone_ids or ()), done_at__isnull=True).update(
        done_at=moment
    )
    action.progress = progress
    step = "progress"
    saved: tuple[str, ...] = ("progress",)
    if progress == 100:
        step, saved = "complete", ("progress", "evidence")
        action.evidence = evidence[:2000]
        Milestone.objects.filter(action=action, done_at__isnull=True).update(done_at=moment)
    ACTION.take(user, action, step, note=note or evidence, at=moment, save_fields=saved, event={"progress": progress})
    proposal = locked_proposal(action.proposal_id)
    if progress == 100:
        PROPOSAL.by_system(user, proposal, "complete", note=evidence, at=moment)
        inform(
            proposal,
            message=_("议题“%(title)s”已办结：%(evidence)s 欢迎您评价。")
            % {"title": proposal.title, "evidence": evidence},
        )
    else:
        PROPOSAL.record(proposal, "progress", user, note=f"{progress}% {note}".strip(), at=moment)
        inform(
            proposal,
            message=_("议题“%(title)s”落实进度 %(n)s%%。%(note)s")
            % {"title": proposal.title, "n": progress, "note": note},
        )
    return action


@transaction.atomic
def remind_overdue_actions(now: dt.datetime | None = None) -> int:
    """Tell the responsible unit of every adopted action past its due date, once a day
    (an ``overdue`` event marks the day). Returns how many reminders were sent."""
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    day_start = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    reminded = ActionEvent.objects.filter(item=OuterRef("pk"), action="overdue", at__gte=day_start)
    overdue = (
        Action.objects.select_for_update(of=("self",))
        .select_related("proposal", "owner_unit")
        .filter(status=Action.Status.ONGOING, due__lt=today)
        .exclude(Exists(reminded))
    )
    sent = 0
    for action in overdue:
        ACTION.record(action, "overdue", None, note=action.due.isoformat(), at=moment, progress=action.progress)
        if action.owner_unit is not None:
            notify(
                kind="participation",
                unit=action.owner_unit,
                message=_("议事会采纳的事项“%(title)s”已超过完成时限 %(due)s，当前进度 %(n)s%%。")
                % {"title": action.proposal.title, "due": action.due.isoformat(), "n": action.progress},
            )
        sent += 1
    return sent
