"""Every write of 多元共治. Each function takes the acting user and plain values, checks
permission and rules, changes rows and writes the event row in one transaction."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.errors import FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.common.images import accept_photos
from jiedao.common.masking import mask_personal_text
from jiedao.org import permissions
from jiedao.org.models import Community, Unit

from . import states
from .models import (
    Account,
    Action,
    ActionEvent,
    Activity,
    AgendaItem,
    Ballot,
    CouncilMember,
    Entry,
    Meeting,
    MeetingEvent,
    MeetingStatus,
    Membership,
    Milestone,
    Need,
    PointRule,
    Posting,
    Project,
    ProjectEvent,
    ProjectStatus,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    Question,
    Registration,
    Resource,
    Respondent,
    Response,
    ResultRating,
    Reward,
    Sector,
    SignUp,
    Support,
    Survey,
    TimeBankEntry,
    Volunteer,
    VoteRound,
)

STREET_WIDE = ("leader", "admin")
DEFAULT_THRESHOLD = 5
DEFAULT_RULES = {
    "attend": ("参加协商议事会", 5),
    "adopted": ("提案被采纳", 20),
    "survey": ("参与需求调查", 2),
}


def _now(at=None):
    return at or timezone.now()


def _actor(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def support_threshold():
    return int(getattr(settings, "PARTICIPATION_SUPPORT_THRESHOLD", DEFAULT_THRESHOLD))


def membership(user):
    """The resident's community membership, or None."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.participation
    except Membership.DoesNotExist:
        return None


def may_run(user, community):
    """Staff of the community's committee (居委会), street leaders and admins."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(*STREET_WIDE):
        return True
    unit = user.unit
    return (
        unit is not None
        and unit.kind == Unit.Kind.COMMUNITY
        and unit.community_id == getattr(community, "pk", community)
        and user.is_street_staff
    )


def _require_staff(user, community):
    if not may_run(user, community):
        raise NotAllowed(_("只有本社区居委会工作人员或街道领导可以执行此操作。"))


def _require_member(user, community=None):
    member = membership(user)
    if member is None or not user.has_role("resident"):
        raise NotAllowed(_("请先登记为本社区居民。"))
    if community is not None and member.community_id != getattr(community, "pk", community):
        raise NotAllowed(_("只有本社区居民可以参与。"))
    return member


def _notify(user=None, unit=None, message=""):
    from jiedao.cases.models import Notification

    if user is None and unit is None:
        return
    Notification.objects.create(user=user, unit=unit, kind="participation", message=message[:300])


def _text(errors, field, value, label, max_length, required=True):
    value = (value or "").strip()
    if required and not value:
        errors.add(field, _("请填写%(label)s。") % {"label": label})
    elif len(value) > max_length:
        errors.add(field, _("%(label)s不能超过%(n)s个字。") % {"label": label, "n": max_length})
    return value


# --- membership -----------------------------------------------------------------------------------


@transaction.atomic
def join_community(actor, user, community, *, person=None, party_member=False):
    """A resident joins (or moves to) a community; staff may register a resident too."""
    permissions.require(actor, "participation.join" if actor == user else "participation.deliberation")
    if actor != user and not may_run(actor, community):
        raise NotAllowed()
    if not user.has_role("resident"):
        raise ValidationFailed("user", _("只有居民账号可以登记为社区居民。"))
    member, _created = Membership.objects.update_or_create(
        user=user, defaults={"community": community, "person": person, "party_member": party_member}
    )
    _account_for(user, community)
    return member


# --- proposals ------------------------------------------------------------------------------------


def _proposal_event(proposal, action, actor, from_status, note="", at=None):
    return ProposalEvent.objects.create(
        proposal=proposal,
        action=action,
        from_status=from_status,
        to_status=proposal.status,
        actor=_actor(actor),
        note=(note or "")[:500],
        at=_now(at),
    )


def _move(proposal, action, actor, note=""):
    transition = states.apply(states.PROPOSAL, action, proposal.status)
    if transition.needs_note and not (note or "").strip():
        raise ValidationFailed("answer", _("请填写公开答复。"))
    before = proposal.status
    proposal.status = transition.target
    return before


def _audience(proposal):
    """The proposer and the supporters: informed at each step."""
    ids = set(proposal.supports.values_list("user_id", flat=True))
    if proposal.proposer_id:
        ids.add(proposal.proposer_id)
    return ids


def _inform(proposal, message):
    from jiedao.cases.models import Notification

    Notification.objects.bulk_create(
        [Notification(user_id=uid, kind="participation", message=message[:300]) for uid in sorted(_audience(proposal))]
    )


def _check_proposal(title, body, place, photo=None):
    errors = FieldErrors()
    title = _text(errors, "title", title, _("标题"), 100)
    body = _text(errors, "body", body, _("内容"), 2000)
    place = _text(errors, "place", place, _("地点"), 200, required=False)
    stored = accept_photos(errors, "photo", [photo]) if photo else []  # re-encoded, under a name of ours
    errors.raise_if_any()
    return title, body, place, (stored[0] if stored else None)


@transaction.atomic
def propose(user, *, title, body, place="", photo=None, at=None):
    """A resident proposes a topic for their community (议题征集)."""
    permissions.require(user, "participation.propose")
    member = _require_member(user)
    title, body, place, photo = _check_proposal(title, body, place, photo)
    now = _now(at)
    proposal = Proposal(
        community_id=member.community_id,
        title=title,
        body=body,
        place=place,
        proposer=user,
        threshold=support_threshold(),
        created_at=now,
    )
    if photo:
        proposal.photo = photo
    proposal.save()
    _proposal_event(proposal, "propose", user, "", at=now)
    return proposal


@transaction.atomic
def table_topic(user, community, *, title, body, place="", case=None, at=None):
    """Staff table an official topic (or a case pattern): it goes straight to the agenda pool."""
    permissions.require(user, "participation.deliberation")
    _require_staff(user, community)
    title, body, place, _photo = _check_proposal(title, body, place)
    now = _now(at)
    proposal = Proposal.objects.create(
        community=community,
        title=title,
        body=body,
        place=place,
        proposer=None,
        threshold=0,
        created_at=now,
        origin=Proposal.Origin.CASE if case is not None else Proposal.Origin.OFFICIAL,
        case=case,
        status=ProposalStatus.QUALIFIED,
        qualified_at=now,
    )
    _proposal_event(proposal, "table", user, "", note=case.number if case is not None else "", at=now)
    return proposal


def topic_from_case(user, number, *, title="", body=""):
    """Turn a case (a recurring complaint) into a topic of its community."""
    permissions.require(user, "participation.deliberation")
    from jiedao.cases.models import Case

    case = Case.objects.select_related("community").filter(number=number).first()
    if case is None:
        raise NotFound(_("工单 %(number)s 不存在。") % {"number": number})
    if case.community is None:
        raise ValidationFailed("case", _("该工单没有所属社区，不能转为议题。"))
    # The title is cut from the text: masked first, so that no part of a phone is left readable.
    return table_topic(
        user,
        case.community,
        title=title or mask_personal_text(case.description)[:60],
        case=case,
        body=body or case.description,
    )


def _locked_proposal(proposal_id):
    proposal = Proposal.objects.select_for_update().filter(pk=getattr(proposal_id, "pk", proposal_id)).first()
    if proposal is None:
        raise NotFound(_("议题不存在。"))
    return proposal


@transaction.atomic
def support(user, proposal_id, at=None):
    """One support per resident of the community; reaching the threshold qualifies the
    proposal for the agenda and tells the proposer."""
    permissions.require(user, "participation.support")
    proposal = _locked_proposal(proposal_id)
    _require_member(user, proposal.community_id)
    if proposal.proposer_id == user.pk:
        raise ValidationFailed("proposal", _("不能附议自己提出的议题。"))
    if proposal.status not in (ProposalStatus.OPEN, ProposalStatus.QUALIFIED):
        raise InvalidTransition(_("该议题已不再征集附议。"))
    now = _now(at)
    try:
        with transaction.atomic():
            Support.objects.create(proposal=proposal, user=user, at=now)
    except IntegrityError:
        raise ValidationFailed("proposal", _("您已经附议过这个议题。")) from None
    proposal.support_count = F("support_count") + 1
    proposal.save(update_fields=["support_count"])
    proposal.refresh_from_db(fields=["support_count"])
    _proposal_event(proposal, "support", user, proposal.status, at=now)
    if proposal.status == ProposalStatus.OPEN and proposal.support_count >= proposal.threshold:
        before = _move(proposal, "qualify", None)
        proposal.qualified_at = now
        proposal.save(update_fields=["status", "qualified_at"])
        _proposal_event(proposal, "qualify", None, before, at=now)
        _notify(
            user=proposal.proposer,
            message=_("您的议题“%(title)s”附议已达 %(n)s 人，可以提交议事会。")
            % {"title": proposal.title, "n": proposal.support_count},
        )
    return proposal


@transaction.atomic
def withdraw(user, proposal_id, reason=""):
    permissions.require(user, "participation.withdraw")
    proposal = _locked_proposal(proposal_id)
    if proposal.proposer_id != getattr(user, "pk", None):
        raise NotAllowed(_("只有提出人可以撤回议题。"))
    before = _move(proposal, "withdraw", user)
    proposal.save(update_fields=["status"])
    _proposal_event(proposal, "withdraw", user, before, note=reason)
    return proposal


# --- council --------------------------------------------------------------------------------------


@transaction.atomic
def add_council_member(user, community, *, name, origin, start, member_user=None):
    permissions.require(user, "participation.deliberation")
    _require_staff(user, community)
    errors = FieldErrors()
    name = _text(errors, "name", name, _("姓名"), 50)
    if origin not in CouncilMember.Origin.values:
        errors.add("origin", _("请选择产生方式（自荐或推选）。"))
    errors.raise_if_any()
    return CouncilMember.objects.create(community=community, name=name, origin=origin, start=start, user=member_user)


@transaction.atomic
def end_council_member(user, member_id, end):
    permissions.require(user, "participation.deliberation")
    member = CouncilMember.objects.select_for_update().get(pk=member_id)
    _require_staff(user, member.community_id)
    member.end = end
    member.save(update_fields=["end"])
    return member


# --- meetings -------------------------------------------------------------------------------------


def _meeting_event(meeting, action, actor, from_status, note="", at=None):
    MeetingEvent.objects.create(
        meeting=meeting,
        action=action,
        from_status=from_status,
        to_status=meeting.status,
        actor=_actor(actor),
        note=(note or "")[:500],
        at=_now(at),
    )


def _locked_meeting(meeting_id):
    meeting = Meeting.objects.select_for_update().filter(pk=getattr(meeting_id, "pk", meeting_id)).first()
    if meeting is None:
        raise NotFound(_("议事会不存在。"))
    return meeting


@transaction.atomic
def schedule_meeting(user, community, *, title, starts_at, place, seats, at=None):
    permissions.require(user, "participation.deliberation")
    _require_staff(user, community)
    errors = FieldErrors()
    title = _text(errors, "title", title, _("名称"), 100)
    place = _text(errors, "place", place, _("地点"), 200)
    if starts_at is None:
        errors.add("starts_at", _("请填写开始时间。"))
    if not isinstance(seats, int) or seats < 1 or seats > 1000:
        errors.add("seats", _("居民席位应为 1 到 1000。"))
    errors.raise_if_any()
    meeting = Meeting.objects.create(
        community=community, title=title, starts_at=starts_at, place=place, seats=seats, organiser=user
    )
    _meeting_event(meeting, "schedule", user, "", at=at)
    return meeting


@transaction.atomic
def add_to_agenda(user, meeting_id, proposal_id, at=None):
    permissions.require(user, "participation.deliberation")
    meeting = _locked_meeting(meeting_id)
    _require_staff(user, meeting.community_id)
    if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.OPEN):
        raise InvalidTransition(_("议事会已结束，不能再增加议程。"))
    proposal = _locked_proposal(proposal_id)
    if proposal.community_id != meeting.community_id:
        raise ValidationFailed("proposal", _("只能把本社区的议题列入议程。"))
    before = _move(proposal, "schedule", user)
    proposal.meeting = meeting
    proposal.save(update_fields=["status", "meeting"])
    # A topic sent for study may come back on the same (still open) meeting's agenda.
    AgendaItem.objects.get_or_create(
        meeting=meeting, proposal=proposal, defaults={"position": meeting.agenda.count() + 1}
    )
    _proposal_event(proposal, "schedule", user, before, note=meeting.title, at=at)
    _inform(
        proposal,
        _("议题“%(title)s”已列入%(meeting)s议程（%(when)s，%(place)s）。")
        % {
            "title": proposal.title,
            "meeting": meeting.title,
            "place": meeting.place,
            "when": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return proposal


@transaction.atomic
def register(user, meeting_id, at=None):
    """A resident of the community takes one of the meeting's seats."""
    permissions.require(user, "participation.meeting")
    meeting = _locked_meeting(meeting_id)
    _require_member(user, meeting.community_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise InvalidTransition(_("该议事会已停止报名。"))
    if Registration.objects.filter(meeting=meeting, user=user).exists():
        raise ValidationFailed("meeting", _("您已经报名了。"))
    taken = Registration.objects.filter(meeting=meeting, sector=Sector.RESIDENT).count()
    if taken >= meeting.seats:
        raise ValidationFailed("meeting", _("名额已满。"))
    return Registration.objects.create(
        meeting=meeting, user=user, name=str(user), sector=Sector.RESIDENT, registered_at=_now(at)
    )


@transaction.atomic
def add_participant(user, meeting_id, *, name, sector, organisation=""):
    """Staff add a participant: a committee member, property company, business or other."""
    permissions.require(user, "participation.deliberation")
    meeting = _locked_meeting(meeting_id)
    _require_staff(user, meeting.community_id)
    errors = FieldErrors()
    name = _text(errors, "name", name, _("姓名"), 50)
    if sector not in Sector.values:
        errors.add("sector", _("请选择参会身份。"))
    errors.raise_if_any()
    return Registration.objects.create(
        meeting=meeting, name=name, sector=sector, organisation=(organisation or "").strip()[:100]
    )


@transaction.atomic
def check_in(user, registration_id, at=None):
    """Attendance at the door; a resident who attends earns the attendance points."""
    permissions.require(user, "participation.deliberation")
    registration = Registration.objects.select_for_update().select_related("meeting").filter(pk=registration_id).first()
    if registration is None:
        raise NotFound()
    meeting = registration.meeting
    _require_staff(user, meeting.community_id)
    if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.OPEN):
        raise InvalidTransition(_("议事会已结束，不能再签到。"))
    if registration.attended_at is not None:
        return registration
    registration.attended_at = _now(at)
    registration.save(update_fields=["attended_at"])
    if registration.user_id:
        award(
            registration.user,
            "attend",
            _("参加%(meeting)s") % {"meeting": meeting.title},
            community=meeting.community_id,
            at=at,
        )
    return registration


@transaction.atomic
def meeting_step(user, meeting_id, action, note="", at=None):
    """Start, close (minutes required) or cancel a meeting."""
    permissions.require(user, "participation.deliberation")
    meeting = _locked_meeting(meeting_id)
    _require_staff(user, meeting.community_id)
    transition = states.apply(states.MEETING, action, meeting.status)
    note = (note or "").strip()
    if action == "close":
        note = note or meeting.minutes
        if not note:
            raise ValidationFailed("minutes", _("请填写会议纪要后再结束议事会。"))
        meeting.minutes = note
        meeting.closed_at = _now(at)
    elif transition.needs_note and not note:
        raise ValidationFailed("note", _("请说明原因。"))
    before = meeting.status
    meeting.status = transition.target
    meeting.save()
    _meeting_event(meeting, action, user, before, note=note[:500], at=at)
    if action == "cancel":
        for item in meeting.agenda.select_related("proposal"):
            proposal = Proposal.objects.select_for_update().get(pk=item.proposal_id)
            if proposal.status == ProposalStatus.SCHEDULED:
                was = _move(proposal, "unschedule", user)
                proposal.meeting = None
                proposal.save(update_fields=["status", "meeting"])
                _proposal_event(proposal, "unschedule", user, was, note=note, at=at)
    return meeting


@transaction.atomic
def save_minutes(user, meeting_id, minutes):
    permissions.require(user, "participation.deliberation")
    meeting = _locked_meeting(meeting_id)
    _require_staff(user, meeting.community_id)
    if meeting.status == MeetingStatus.CLOSED:
        raise InvalidTransition(_("议事会已结束，纪要不能再修改。"))
    meeting.minutes = (minutes or "").strip()
    meeting.save(update_fields=["minutes"])
    return meeting


def _parse_date(value, field, errors):
    try:
        return params.parse_date(value, field)
    except ValidationFailed as exc:
        for error in exc.errors:
            errors.add(field, error["message"])
        return None


@transaction.atomic
def decide(user, proposal_id, decision, *, answer, owner_unit=None, owner_name="", due=None, milestones=(), at=None):
    """The meeting decides a scheduled proposal: adopt (it becomes a tracked action with an
    owner, a due date and milestones), reject or needs study; the answer is published and
    the proposer and supporters are informed."""
    permissions.require(user, "participation.deliberation")
    if decision not in states.DECISIONS:
        raise ValidationFailed("decision", _("请选择采纳、不予采纳或需进一步研究。"))
    proposal = _locked_proposal(proposal_id)
    _require_staff(user, proposal.community_id)
    meeting = proposal.meeting
    if meeting is None or meeting.status != MeetingStatus.OPEN:
        raise InvalidTransition(_("议题须在进行中的议事会上作出决定。"))
    answer = (answer or "").strip()
    errors = FieldErrors()
    if not answer:
        errors.add("answer", _("请填写公开答复。"))
    if decision == "adopt":
        owner_name = _text(errors, "owner_name", owner_name, _("责任人"), 50)
        due = _parse_date(due, "due", errors)
        plan = []
        for index, (title, when) in enumerate(milestones or ()):
            if (title or "").strip():
                plan.append(((title or "").strip()[:100], _parse_date(when, f"milestones.{index}", errors)))
    errors.raise_if_any()
    now = _now(at)
    before = _move(proposal, decision, user, note=answer)
    proposal.answer = answer
    proposal.decided_at = now
    proposal.save(update_fields=["status", "answer", "decided_at"])
    _proposal_event(proposal, decision, user, before, note=answer, at=now)
    if decision == "adopt":
        action = Action.objects.create(
            proposal=proposal, owner_unit=owner_unit, owner_name=owner_name, due=due, created_at=now
        )
        Milestone.objects.bulk_create([Milestone(action=action, title=t, due=d) for t, d in plan])
        ActionEvent.objects.create(
            action=action, kind="create", progress=0, actor=_actor(user), at=now, note=owner_name
        )
        if proposal.proposer_id:
            award(
                proposal.proposer,
                "adopted",
                _("议题“%(title)s”被采纳") % {"title": proposal.title},
                community=proposal.community_id,
                at=now,
            )
        if owner_unit is not None:
            _notify(
                unit=owner_unit,
                message=_("议事会采纳的事项“%(title)s”由你单位落实，完成时限 %(due)s。")
                % {"title": proposal.title, "due": due.isoformat()},
            )
    _inform(
        proposal,
        _("议题“%(title)s”议事会决定：%(decision)s。%(answer)s")
        % {"title": proposal.title, "decision": proposal.get_status_display(), "answer": answer},
    )
    return proposal


def _locked_action(action_id):
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
def report_progress(user, action_id, *, progress, note="", evidence="", milestone_ids=(), at=None):
    """Progress of an adopted action; 100 % needs completion evidence and completes the proposal."""
    permissions.require(user, "participation.deliberation")
    action = _locked_action(action_id)
    proposal = action.proposal
    _require_staff(user, proposal.community_id)
    if action.status == Action.Status.COMPLETED:
        raise InvalidTransition(_("该事项已完成。"))
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationFailed("progress", _("进度应为 0 到 100。"))
    if progress < action.progress:
        raise ValidationFailed("progress", _("进度不能回退（当前 %(n)s%%）。") % {"n": action.progress})
    evidence = (evidence or "").strip()
    if progress == 100 and not evidence:
        raise ValidationFailed("evidence", _("完成时请填写完成情况（完成证明）。"))
    now = _now(at)
    Milestone.objects.filter(action=action, pk__in=list(milestone_ids or ()), done_at__isnull=True).update(done_at=now)
    action.progress = progress
    if progress == 100:
        action.status = Action.Status.COMPLETED
        action.completed_at = now
        action.evidence = evidence[:2000]
        Milestone.objects.filter(action=action, done_at__isnull=True).update(done_at=now)
    action.save()
    ActionEvent.objects.create(
        action=action,
        kind="complete" if progress == 100 else "progress",
        progress=progress,
        actor=_actor(user),
        note=(note or evidence)[:500],
        at=now,
    )
    proposal = _locked_proposal(proposal.pk)
    if progress == 100:
        before = _move(proposal, "complete", user)
        proposal.save(update_fields=["status"])
        _proposal_event(proposal, "complete", user, before, note=evidence, at=now)
        _inform(
            proposal,
            _("议题“%(title)s”已办结：%(evidence)s 欢迎您评价。") % {"title": proposal.title, "evidence": evidence},
        )
    else:
        _proposal_event(proposal, "progress", user, proposal.status, note=f"{progress}% {note}".strip(), at=now)
        _inform(
            proposal,
            _("议题“%(title)s”落实进度 %(n)s%%。%(note)s") % {"title": proposal.title, "n": progress, "note": note},
        )
    return action


@transaction.atomic
def remind_overdue_actions(now=None):
    """Tell the responsible unit of every adopted action past its due date, once a day
    (an ``overdue`` event marks the day). Returns how many reminders were sent."""
    now = _now(now)
    today = timezone.localdate(now)
    day_start = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    reminded = ActionEvent.objects.filter(action=OuterRef("pk"), kind="overdue", at__gte=day_start)
    overdue = (
        Action.objects.select_for_update(of=("self",))
        .select_related("proposal", "owner_unit")
        .filter(status=Action.Status.ONGOING, due__lt=today)
        .exclude(Exists(reminded))
    )
    sent = 0
    for action in overdue:
        ActionEvent.objects.create(
            action=action, kind="overdue", progress=action.progress, at=now, note=action.due.isoformat()
        )
        if action.owner_unit is not None:
            _notify(
                unit=action.owner_unit,
                message=_("议事会采纳的事项“%(title)s”已超过完成时限 %(due)s，当前进度 %(n)s%%。")
                % {"title": action.proposal.title, "due": action.due.isoformat(), "n": action.progress},
            )
        sent += 1
    return sent


@transaction.atomic
def rate_result(user, proposal_id, *, score, comment="", at=None):
    """A resident of the community evaluates the result of a completed proposal, once."""
    permissions.require(user, "participation.rate")
    proposal = _locked_proposal(proposal_id)
    _require_member(user, proposal.community_id)
    if proposal.status != ProposalStatus.COMPLETED:
        raise InvalidTransition(_("议题办结后才能评价。"))
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed("score", _("请打 1 到 5 分。"))
    if ResultRating.objects.filter(proposal=proposal, user=user).exists():
        raise ValidationFailed("score", _("您已经评价过了。"))
    now = _now(at)
    rating = ResultRating.objects.create(
        proposal=proposal, user=user, score=score, comment=(comment or "").strip()[:300], at=now
    )
    _proposal_event(proposal, "rate", user, proposal.status, note=f"{score}/5 {rating.comment}".strip(), at=now)
    return rating


# --- surveys, needs, projects and the yearly vote ----------------------------------------------------


@transaction.atomic
def create_survey(user, community, *, title, questions, anonymous=True):
    """``questions``: a list of (text, [choices]) — no choices means a free-text answer."""
    permissions.require(user, "participation.projects")
    _require_staff(user, community)
    errors = FieldErrors()
    title = _text(errors, "title", title, _("名称"), 100)
    questions = [
        (str(text).strip(), [str(c).strip() for c in (choices or []) if str(c).strip()])
        for text, choices in questions
        if str(text).strip()
    ]
    if not questions:
        errors.add("questions", _("请至少填写一个问题。"))
    errors.raise_if_any()
    survey = Survey.objects.create(community=community, title=title, anonymous=anonymous)
    Question.objects.bulk_create(
        [
            Question(survey=survey, text=text[:200], choices=choices, position=i)
            for i, (text, choices) in enumerate(questions)
        ]
    )
    return survey


@transaction.atomic
def answer_survey(user, survey_id, answers, at=None):
    """One answer per resident; for an anonymous survey the answers do not name the resident."""
    permissions.require(user, "participation.survey")
    survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
    if survey is None:
        raise NotFound()
    _require_member(user, survey.community_id)
    if not survey.is_open:
        raise InvalidTransition(_("调查已结束。"))
    errors = FieldErrors()
    clean = {}
    for question in survey.questions.all():
        value = str(answers.get(str(question.pk), answers.get(question.pk, "")) or "").strip()
        if question.choices and value and value not in question.choices:
            errors.add(f"q{question.pk}", _("请从选项中选择。"))
        clean[str(question.pk)] = value[:500]
    if not any(clean.values()):
        errors.add("answers", _("请至少回答一个问题。"))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            Respondent.objects.create(survey=survey, user=user)
    except IntegrityError:
        raise ValidationFailed("survey", _("您已经填写过这份调查。")) from None
    Response.objects.create(survey=survey, user=None if survey.anonymous else user, answers=clean, at=_now(at))
    award(user, "survey", _("参与%(title)s") % {"title": survey.title}, community=survey.community_id, at=at)
    return survey


@transaction.atomic
def close_survey(user, survey_id):
    permissions.require(user, "participation.projects")
    survey = Survey.objects.select_for_update().get(pk=survey_id)
    _require_staff(user, survey.community_id)
    survey.is_open = False
    survey.save(update_fields=["is_open"])
    return survey


@transaction.atomic
def add_need(user, community, *, title, demand=1, survey=None, at=None):
    permissions.require(user, "participation.projects")
    _require_staff(user, community)
    errors = FieldErrors()
    title = _text(errors, "title", title, _("需求"), 100)
    if not isinstance(demand, int) or demand < 1:
        errors.add("demand", _("提出人数应为正整数。"))
    errors.raise_if_any()
    return Need.objects.create(community=community, title=title, demand=demand, survey=survey, created_at=_now(at))


@transaction.atomic
def add_resource(user, community, *, name, provider=""):
    permissions.require(user, "participation.projects")
    _require_staff(user, community)
    errors = FieldErrors()
    name = _text(errors, "name", name, _("资源"), 100)
    errors.raise_if_any()
    return Resource.objects.create(community=community, name=name, provider=(provider or "").strip()[:100])


def _project_event(project, action, actor, before, note="", at=None):
    ProjectEvent.objects.create(
        project=project,
        action=action,
        from_status=before,
        to_status=project.status,
        actor=_actor(actor),
        note=(note or "")[:500],
        at=_now(at),
    )


@transaction.atomic
def create_project(user, community, *, title, cost, description="", need_ids=(), resource_ids=(), at=None):
    """A project of the library, matching needs of the community with its resources."""
    permissions.require(user, "participation.projects")
    _require_staff(user, community)
    errors = FieldErrors()
    title = _text(errors, "title", title, _("项目"), 100)
    if not isinstance(cost, int) or cost < 1:
        errors.add("cost", _("预算应为正整数（元）。"))
    needs = list(Need.objects.filter(pk__in=list(need_ids), community=community))
    if len(needs) != len(set(need_ids)):
        errors.add("needs", _("只能对应本社区的需求。"))
    resources = list(Resource.objects.filter(pk__in=list(resource_ids), community=community))
    if len(resources) != len(set(resource_ids)):
        errors.add("resources", _("只能使用本社区的资源。"))
    errors.raise_if_any()
    project = Project.objects.create(
        community=community, title=title, cost=cost, description=(description or "").strip(), created_at=_now(at)
    )
    project.needs.set(needs)
    project.resources.set(resources)
    _project_event(project, "create", user, "", at=at)
    return project


@transaction.atomic
def open_vote(user, community, *, year, budget, project_ids, min_choices=1, max_choices=3, at=None):
    """The yearly vote: candidates from the library, a total budget, min/max choices per voter."""
    permissions.require(user, "participation.projects")
    _require_staff(user, community)
    errors = FieldErrors()
    projects = list(Project.objects.select_for_update().filter(pk__in=list(project_ids), community=community))
    if len(projects) < 2 or len(projects) != len(set(project_ids)):
        errors.add("projects", _("请选择至少两个本社区的项目作为候选。"))
    if not isinstance(budget, int) or budget < 1:
        errors.add("budget", _("总预算应为正整数（元）。"))
    if not (isinstance(min_choices, int) and isinstance(max_choices, int) and 1 <= min_choices <= max_choices):
        errors.add("max_choices", _("每人至少选的数目不能大于至多选的数目。"))
    elif projects and max_choices > len(projects):
        errors.add("max_choices", _("每人至多选的数目不能超过候选项目数。"))
    if VoteRound.objects.filter(community=community, year=year).exists():
        errors.add("year", _("该社区本年度已经组织过投票。"))
    errors.raise_if_any()
    round_ = VoteRound.objects.create(
        community=community, year=year, budget=budget, min_choices=min_choices, max_choices=max_choices
    )
    round_.candidates.set(projects)
    for project in projects:
        before = project.status
        project.status = states.apply(states.PROJECT, "nominate", project.status).target
        project.votes = 0
        project.save(update_fields=["status", "votes"])
        _project_event(project, "nominate", user, before, note=str(year), at=at)
    return round_


@transaction.atomic
def cast_ballot(user, round_id, project_ids, at=None):
    """One ballot per resident: between min and max candidates, costing at most the budget."""
    permissions.require(user, "participation.vote")
    round_ = VoteRound.objects.select_for_update().filter(pk=round_id).first()
    if round_ is None:
        raise NotFound()
    _require_member(user, round_.community_id)
    if not round_.is_open:
        raise InvalidTransition(_("投票已结束。"))
    chosen = {int(p) for p in project_ids}
    candidates = {p.pk: p for p in round_.candidates.all()}
    if not chosen <= set(candidates):
        raise ValidationFailed("projects", _("只能选择候选项目。"))
    if not round_.min_choices <= len(chosen) <= round_.max_choices:
        raise ValidationFailed(
            "projects", _("请选择 %(min)s 到 %(max)s 个项目。") % {"min": round_.min_choices, "max": round_.max_choices}
        )
    total = sum(candidates[p].cost for p in chosen)
    if total > round_.budget:
        raise ValidationFailed(
            "projects",
            _("所选项目合计 %(total)s 元，超过总预算 %(budget)s 元。") % {"total": total, "budget": round_.budget},
        )
    try:
        with transaction.atomic():
            ballot = Ballot.objects.create(round=round_, user=user, at=_now(at))
    except IntegrityError:
        raise ValidationFailed("projects", _("您已经投过票了。")) from None
    ballot.projects.set(chosen)
    Project.objects.filter(pk__in=chosen).update(votes=F("votes") + 1)
    return ballot


@transaction.atomic
def close_vote(user, round_id, at=None):
    """Candidates are taken in order of votes while the budget lasts; the rest are not selected."""
    permissions.require(user, "participation.projects")
    round_ = VoteRound.objects.select_for_update().get(pk=round_id)
    _require_staff(user, round_.community_id)
    if not round_.is_open:
        raise InvalidTransition(_("投票已结束。"))
    left = round_.budget
    for project in round_.candidates.select_for_update().order_by("-votes", "cost", "pk"):
        action = "select" if project.votes > 0 and project.cost <= left else "drop"
        if action == "select":
            left -= project.cost
        before = project.status
        project.status = states.apply(states.PROJECT, action, project.status).target
        project.save(update_fields=["status"])
        _project_event(project, action, user, before, note=_("%(n)s 票") % {"n": project.votes}, at=at)
    round_.is_open = False
    round_.closed_at = _now(at)
    round_.save(update_fields=["is_open", "closed_at"])
    return round_


@transaction.atomic
def project_step(user, project_id, action, *, served=0, note="", at=None):
    """Delivery: start, record how many residents were served, finish."""
    permissions.require(user, "participation.projects")
    project = Project.objects.select_for_update().get(pk=project_id)
    _require_staff(user, project.community_id)
    if action == "serve":
        if project.status != ProjectStatus.DELIVERING:
            raise InvalidTransition(_("项目开始服务后才能登记服务人次。"))
        if not isinstance(served, int) or served < 1:
            raise ValidationFailed("served", _("服务人次应为正整数。"))
        project.served += served
        project.save(update_fields=["served"])
        _project_event(project, "serve", user, project.status, note=str(served), at=at)
        return project
    transition = states.apply(states.PROJECT, action, project.status)
    if transition.who != states.STAFF:
        raise InvalidTransition(_("该步骤由投票结果决定。"))
    before = project.status
    project.status = transition.target
    if action == "finish":
        project.delivered_at = _now(at)
    project.save()
    _project_event(project, action, user, before, note=note, at=at)
    return project


# --- volunteers and activities ---------------------------------------------------------------------


@transaction.atomic
def register_volunteer(actor, community, *, name="", kind=Volunteer.Kind.RESIDENT, user=None, organisation=""):
    """A resident signs up as a volunteer (or a party member reports — 双报到); staff may
    also register an enterprise's team."""
    if user is not None and actor == user:
        permissions.require(actor, "participation.volunteer")
        _require_member(user, community)
    else:
        permissions.require(actor, "participation.volunteering")
        _require_staff(actor, community)
    if kind not in Volunteer.Kind.values:
        raise ValidationFailed("kind", _("请选择志愿者类型。"))
    name = (name or (str(user) if user else "")).strip()
    if not name:
        raise ValidationFailed("name", _("请填写姓名或队名。"))
    if user is not None and Volunteer.objects.filter(user=user).exists():
        raise ValidationFailed("user", _("已经登记为志愿者。"))
    return Volunteer.objects.create(
        community=community, user=user, name=name[:100], kind=kind, organisation=(organisation or "").strip()[:100]
    )


@transaction.atomic
def create_activity(user, community, *, title, starts_at, place="", capacity=20, points_per_hour=10):
    permissions.require(user, "participation.volunteering")
    _require_staff(user, community)
    errors = FieldErrors()
    title = _text(errors, "title", title, _("活动"), 100)
    if starts_at is None:
        errors.add("starts_at", _("请填写开始时间。"))
    if not isinstance(capacity, int) or capacity < 1:
        errors.add("capacity", _("名额应为正整数。"))
    if not isinstance(points_per_hour, int) or points_per_hour < 0:
        errors.add("points_per_hour", _("每小时积分不能为负数。"))
    errors.raise_if_any()
    return Activity.objects.create(
        community=community,
        title=title,
        starts_at=starts_at,
        place=(place or "").strip()[:200],
        capacity=capacity,
        points_per_hour=points_per_hour,
        organiser=user,
    )


@transaction.atomic
def sign_up(user, activity_id, volunteer=None, at=None):
    """A volunteer signs up (a resident signs themselves; staff may sign up a team)."""
    own = volunteer is None or volunteer.user_id == getattr(user, "pk", None)
    permissions.require(user, "participation.volunteer" if own else "participation.volunteering")
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFound()
    if volunteer is None:
        volunteer = Volunteer.objects.filter(user=user).first()
        if volunteer is None:
            volunteer = register_volunteer(user, activity.community, user=user)
    elif volunteer.user_id != getattr(user, "pk", None):
        _require_staff(user, activity.community_id)
    if activity.signups.count() >= activity.capacity:
        raise ValidationFailed("activity", _("名额已满。"))
    try:
        with transaction.atomic():
            return SignUp.objects.create(activity=activity, volunteer=volunteer, signed_at=_now(at))
    except IntegrityError:
        raise ValidationFailed("activity", _("已经报名了。")) from None


@transaction.atomic
def check_in_volunteer(user, signup_id, at=None):
    permissions.require(user, "participation.volunteering")
    signup = SignUp.objects.select_for_update(of=("self",)).select_related("activity").get(pk=signup_id)
    _require_staff(user, signup.activity.community_id)
    if signup.checked_in_at is None:
        signup.checked_in_at = _now(at)
        signup.save(update_fields=["checked_in_at"])
    return signup


@transaction.atomic
def verify_hours(user, signup_id, hours, *, bank=False, at=None):
    """The organiser verifies the hours of a checked-in volunteer. They earn points
    (hours × the activity's points per hour), or with ``bank`` the hours are deposited in
    the time bank instead."""
    permissions.require(user, "participation.volunteering")
    signup = (
        SignUp.objects.select_for_update(of=("self",))
        .select_related("activity", "volunteer")
        .filter(pk=signup_id)
        .first()
    )
    if signup is None:
        raise NotFound()
    activity = signup.activity
    _require_staff(user, activity.community_id)
    if signup.checked_in_at is None:
        raise InvalidTransition(_("志愿者签到后才能核定时长。"))
    if signup.verified_at is not None:
        raise InvalidTransition(_("时长已经核定过了。"))
    try:
        hours = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("hours", _("时长应为数字。")) from None
    if not Decimal("0") < hours <= Decimal("24"):
        raise ValidationFailed("hours", _("时长应在 0 到 24 小时之间。"))
    now = _now(at)
    signup.hours = hours
    signup.verified_at = now
    signup.verified_by = user
    signup.save(update_fields=["hours", "verified_at", "verified_by"])
    person = signup.volunteer.user
    if person is not None:
        if bank:
            TimeBankEntry.objects.create(
                user=person,
                hours=hours,
                signup=signup,
                actor=user,
                at=now,
                note=_("存入：%(title)s") % {"title": activity.title},
            )
        else:
            points = int(hours * activity.points_per_hour)
            if points > 0:
                earn(
                    None,
                    person,
                    points,
                    _("志愿服务：%(title)s %(h)s 小时") % {"title": activity.title, "h": hours},
                    community=activity.community_id,
                    at=now,
                    _system=True,
                )
    return signup


def time_bank_balance(user):
    from django.db.models import Sum

    return TimeBankEntry.objects.filter(user=user).aggregate(s=Sum("hours"))["s"] or Decimal("0")


@transaction.atomic
def draw_time(actor, user, hours, note, at=None):
    """Draw hours from the time bank as a service received (记录在社区服务台)."""
    permissions.require(actor, "participation.volunteering")
    member = Membership.objects.select_for_update().filter(user=user).first()
    if member is None:
        raise ValidationFailed("user", _("该居民尚未登记社区。"))
    _require_staff(actor, member.community_id)
    try:
        hours = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("hours", _("时长应为数字。")) from None
    if hours <= 0:
        raise ValidationFailed("hours", _("时长应大于 0。"))
    if not (note or "").strip():
        raise ValidationFailed("note", _("请填写所提供的服务。"))
    if time_bank_balance(user) < hours:
        raise ValidationFailed("hours", _("时间银行余额不足。"))
    return TimeBankEntry.objects.create(
        user=user, hours=-hours, note=note.strip()[:200], actor=_actor(actor), at=_now(at)
    )


# --- the points ledger (double entry) ---------------------------------------------------------------


def _system_account(community, kind):
    account, _created = Account.objects.get_or_create(
        community_id=getattr(community, "pk", community), kind=kind, user=None
    )
    return account


def _account_for(user, community=None):
    account = Account.objects.filter(user=user).first()
    if account is None:
        if community is None:
            member = membership(user)
            if member is None:
                raise ValidationFailed("user", _("该居民尚未登记社区，没有积分账户。"))
            community = member.community_id
        account = Account.objects.create(
            user=user, community_id=getattr(community, "pk", community), kind=Account.Kind.RESIDENT
        )
    return account


def _post(community, kind, reason, moves, actor=None, reward=None, at=None):
    """Write one posting: ``moves`` is [(account, amount)], summing to zero. Locks the
    accounts (in id order, so concurrent postings cannot deadlock), refuses a posting that
    would take any account but the issuing one below zero, then writes the entries."""
    if not moves or sum(amount for _account, amount in moves) != 0:
        raise ValueError("a posting's entries must sum to zero")
    if any(amount == 0 for _account, amount in moves):
        raise ValidationFailed("points", _("积分应大于 0。"))
    ids = sorted({account.pk for account, _amount in moves})
    locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    change = {}
    for account, amount in moves:
        change[account.pk] = change.get(account.pk, 0) + amount
    for pk, delta in change.items():
        account = locked[pk]
        if account.kind != Account.Kind.ISSUING and account.balance + delta < 0:
            raise ValidationFailed("points", _("积分余额不足（现有 %(n)s 分）。") % {"n": account.balance})
    posting = Posting.objects.create(
        community_id=getattr(community, "pk", community),
        kind=kind,
        reason=(reason or "")[:200],
        actor=_actor(actor),
        reward=reward,
        at=_now(at),
    )
    Entry.objects.bulk_create(
        [Entry(posting=posting, account_id=account.pk, amount=amount) for account, amount in moves]
    )
    for pk, delta in change.items():
        Account.objects.filter(pk=pk).update(balance=F("balance") + delta)
    return posting


def _points(points):
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationFailed("points", _("积分应为正整数。"))
    return points


@transaction.atomic
def earn(actor, user, points, reason, *, community=None, at=None, _system=False):
    """Points earned: from the community's issuing account to the resident's."""
    if not _system:
        permissions.require(actor, "participation.volunteering")
    points = _points(points)
    account = _account_for(user, community)
    if not _system:
        _require_staff(actor, account.community_id)
    if not (reason or "").strip():
        raise ValidationFailed("reason", _("请填写积分事由。"))
    issuing = _system_account(account.community_id, Account.Kind.ISSUING)
    return _post(
        account.community_id, Posting.Kind.EARN, reason, [(issuing, -points), (account, points)], actor=actor, at=at
    )


def award(user, code, reason, *, community=None, at=None):
    """Points for a configured act (积分规则); nothing if the act is not configured."""
    rule = PointRule.objects.filter(code=code).first()
    if rule is None or rule.points <= 0:
        return None
    if community is None and membership(user) is None:
        return None
    return earn(None, user, rule.points, f"{rule.label}：{reason}"[:200], community=community, at=at, _system=True)


@transaction.atomic
def spend(actor, user, points, reason, *, reward=None, at=None):
    """Points spent: from the resident's account to the community's redeemed account."""
    points = _points(points)
    account = _account_for(user)
    if actor != user:
        _require_staff(actor, account.community_id)
    redeemed = _system_account(account.community_id, Account.Kind.REDEEMED)
    return _post(
        account.community_id,
        Posting.Kind.SPEND,
        reason,
        [(account, -points), (redeemed, points)],
        actor=actor,
        reward=reward,
        at=at,
    )


@transaction.atomic
def transfer(actor, to_user, points, reason="", at=None, idempotency_key=None):
    """A resident gives points to another resident of the same community. Sent again with
    the same ``idempotency_key``, the first transfer is returned and nothing is posted."""
    permissions.require(actor, "participation.points")
    from jiedao.common import idempotency

    done = idempotency.previous(actor, "points-transfer", idempotency_key)
    if done is not None:
        return Posting.objects.get(pk=done)
    posting = _transfer(actor, to_user, points, reason, at)
    idempotency.remember(actor, "points-transfer", idempotency_key, posting.pk)
    return posting


def _transfer(actor, to_user, points, reason, at):
    points = _points(points)
    source = _account_for(actor)
    target = _account_for(to_user)
    if source.pk == target.pk:
        raise ValidationFailed("to_user", _("不能转给自己。"))
    if source.community_id != target.community_id:
        raise ValidationFailed("to_user", _("只能转给本社区居民。"))
    return _post(
        source.community_id,
        Posting.Kind.TRANSFER,
        reason or _("积分转赠"),
        [(source, -points), (target, points)],
        actor=actor,
        at=at,
    )


@transaction.atomic
def redeem(actor, user, reward_id, quantity=1, at=None):
    """Exchange at the community desk: staff hand over the reward, stock goes down, points are spent."""
    permissions.require(actor, "participation.volunteering")
    reward = Reward.objects.select_for_update().filter(pk=reward_id).first()
    if reward is None:
        raise NotFound(_("兑换物品不存在。"))
    _require_staff(actor, reward.community_id)
    account = _account_for(user)
    if account.community_id != reward.community_id:
        raise ValidationFailed("reward", _("只能兑换本社区的物品。"))
    if not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed("quantity", _("数量应为正整数。"))
    if reward.stock < quantity:
        raise ValidationFailed(
            "reward", _("“%(name)s”库存不足（剩 %(n)s）。") % {"name": reward.name, "n": reward.stock}
        )
    posting = spend(
        actor,
        user,
        reward.cost * quantity,
        _("兑换 %(name)s × %(q)s") % {"name": reward.name, "q": quantity},
        reward=reward,
        at=at,
    )
    reward.stock = F("stock") - quantity
    reward.save(update_fields=["stock"])
    return posting


@transaction.atomic
def add_reward(user, community, *, name, cost, stock):
    permissions.require(user, "participation.volunteering")
    _require_staff(user, community)
    errors = FieldErrors()
    name = _text(errors, "name", name, _("名称"), 100)
    if not isinstance(cost, int) or cost < 1:
        errors.add("cost", _("所需积分应为正整数。"))
    if not isinstance(stock, int) or stock < 0:
        errors.add("stock", _("库存不能为负数。"))
    errors.raise_if_any()
    return Reward.objects.create(community=community, name=name, cost=cost, stock=stock)


def ensure_point_rules():
    """The default configurable acts, created once (staff change them in the admin)."""
    for code, (label, points) in DEFAULT_RULES.items():
        PointRule.objects.get_or_create(code=code, defaults={"label": label, "points": points})


def community_by_code(code):
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise NotFound(_("社区不存在。"))
    return community
