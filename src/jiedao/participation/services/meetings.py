"""Meetings (协商议事会): the committee schedules a meeting with seats for residents, puts
qualified topics on its agenda, adds the other participants (社区两委, 物业, 驻区单位), checks
people in at the door (a resident who attends earns the attendance points), opens it, records
its minutes and closes it (minutes required) — or cancels it (a reason required), which takes
its agenda back to the pool. Residents of the community register for a seat, one each.

The meeting's moves go through ``states.MEETING``, the agenda's through ``states.PROPOSAL``;
both write their events in the same transaction."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors, InvalidTransition, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, User

from ..models import AgendaItem, Meeting, MeetingStatus, Proposal, ProposalStatus, Registration, Sector
from ..states import MEETING, PROPOSAL
from .base import now, require_member, require_staff, text
from .points import award
from .proposals import inform, locked_proposal

GATHERING = (MeetingStatus.PLANNED, MeetingStatus.OPEN)  # the door is open: agenda, check-in


def locked_meeting(meeting_id: int) -> Meeting:
    meeting = Meeting.objects.select_for_update().filter(pk=getattr(meeting_id, "pk", meeting_id)).first()
    if meeting is None:
        raise NotFound(_("议事会不存在。"))
    return meeting


@transaction.atomic
def schedule_meeting(
    user: User,
    *,
    community: Community,
    title: str,
    starts_at: dt.datetime,
    place: str,
    seats: int,
    at: dt.datetime | None = None,
) -> Meeting:
    permissions.require(user, "participation.deliberation")
    require_staff(user, community=community)
    errors = FieldErrors()
    title = text(errors, field="title", value=title, label=_("名称"), max_length=100)
    place = text(errors, field="place", value=place, label=_("地点"), max_length=200)
    if starts_at is None:
        errors.add("starts_at", _("请填写开始时间。"))
    if not isinstance(seats, int) or seats < 1 or seats > 1000:
        errors.add("seats", _("居民席位应为 1 到 1000。"))
    errors.raise_if_any()
    meeting = Meeting.objects.create(
        community=community, title=title, starts_at=starts_at, place=place, seats=seats, organiser=user
    )
    MEETING.record(meeting, "schedule", user, before="", at=now(at))
    return meeting


@transaction.atomic
def add_to_agenda(user: User, *, meeting_id: int, proposal_id: int, at: dt.datetime | None = None) -> Proposal:
    """A qualified topic (or one sent for study) goes on the agenda of a planned or open meeting
    of its community; the proposer and the supporters are told when and where."""
    permissions.require(user, "participation.deliberation")
    meeting = locked_meeting(meeting_id)
    if meeting.status not in GATHERING:
        raise InvalidTransition(_("议事会已结束，不能再增加议程。"))
    proposal = locked_proposal(proposal_id)
    transition = PROPOSAL.check(user, proposal, "schedule")
    require_staff(user, community=meeting.community_id)
    if proposal.community_id != meeting.community_id:
        raise ValidationFailed("proposal", _("只能把本社区的议题列入议程。"))
    proposal.meeting = meeting
    PROPOSAL.take(
        user, proposal, "schedule", note=meeting.title, at=now(at), save_fields=("meeting",), checked=transition
    )
    # A topic sent for study may come back on the same (still open) meeting's agenda.
    AgendaItem.objects.get_or_create(
        meeting=meeting, proposal=proposal, defaults={"position": meeting.agenda.count() + 1}
    )
    inform(
        proposal,
        message=_("议题“%(title)s”已列入%(meeting)s议程（%(when)s，%(place)s）。")
        % {
            "title": proposal.title,
            "meeting": meeting.title,
            "place": meeting.place,
            "when": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return proposal


@transaction.atomic
def register(user: User, *, meeting_id: int, at: dt.datetime | None = None) -> Registration:
    """A resident of the community takes one of the meeting's seats."""
    permissions.require(user, "participation.meeting")
    meeting = locked_meeting(meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise InvalidTransition(_("该议事会已停止报名。"))
    require_member(user, community=meeting.community_id)
    if Registration.objects.filter(meeting=meeting, user=user).exists():
        raise ValidationFailed("meeting", _("您已经报名了。"))
    taken = Registration.objects.filter(meeting=meeting, sector=Sector.RESIDENT).count()
    if taken >= meeting.seats:
        raise ValidationFailed("meeting", _("名额已满。"))
    return Registration.objects.create(
        meeting=meeting, user=user, name=str(user), sector=Sector.RESIDENT, registered_at=now(at)
    )


@transaction.atomic
def add_participant(user: User, *, meeting_id: int, name: str, sector: str, organisation: str = "") -> Registration:
    """Staff add a participant: a committee member, property company, business or other."""
    permissions.require(user, "participation.deliberation")
    meeting = locked_meeting(meeting_id)
    require_staff(user, community=meeting.community_id)
    errors = FieldErrors()
    name = text(errors, field="name", value=name, label=_("姓名"), max_length=50)
    if sector not in Sector.values:
        errors.add("sector", _("请选择参会身份。"))
    errors.raise_if_any()
    return Registration.objects.create(
        meeting=meeting, name=name, sector=sector, organisation=(organisation or "").strip()[:100]
    )


@transaction.atomic
def check_in(user: User, *, registration_id: int, at: dt.datetime | None = None) -> Registration:
    """Attendance at the door; a resident who attends earns the attendance points."""
    permissions.require(user, "participation.deliberation")
    registration = Registration.objects.select_for_update().select_related("meeting").filter(pk=registration_id).first()
    if registration is None:
        raise NotFound()
    meeting = registration.meeting
    if meeting.status not in GATHERING:
        raise InvalidTransition(_("议事会已结束，不能再签到。"))
    require_staff(user, community=meeting.community_id)
    if registration.attended_at is not None:
        return registration
    registration.attended_at = now(at)
    registration.save(update_fields=["attended_at"])
    if registration.user is not None:
        award(
            registration.user,
            code="attend",
            reason=_("参加%(meeting)s") % {"meeting": meeting.title},
            community=meeting.community_id,
            at=at,
        )
    return registration


@transaction.atomic
def meeting_step(user: User, *, meeting_id: int, action: str, note: str = "", at: dt.datetime | None = None) -> Meeting:
    """Start, close (the minutes typed here, or those saved before, are required) or cancel a
    meeting (a reason required: its agenda goes back to the pool)."""
    permissions.require(user, "participation.deliberation")
    meeting = locked_meeting(meeting_id)
    note = (note or "").strip()
    if action == "close":
        note = note or meeting.minutes
    transition = MEETING.check(user, meeting, action, note)
    moment = now(at)
    saved: tuple[str, ...] = ()
    if action == "close":
        meeting.minutes = note
        saved = ("minutes",)
    MEETING.take(user, meeting, action, note=note, at=moment, save_fields=saved, checked=transition)
    if action == "cancel":
        for item in meeting.agenda.order_by("position", "id"):
            proposal = locked_proposal(item.proposal_id)
            if proposal.status == ProposalStatus.SCHEDULED:
                proposal.meeting = None
                PROPOSAL.take(user, proposal, "unschedule", note=note, at=moment, save_fields=("meeting",))
    return meeting


@transaction.atomic
def save_minutes(user: User, *, meeting_id: int, minutes: str) -> Meeting:
    permissions.require(user, "participation.deliberation")
    meeting = locked_meeting(meeting_id)
    if meeting.status == MeetingStatus.CLOSED:
        raise InvalidTransition(_("议事会已结束，纪要不能再修改。"))
    require_staff(user, community=meeting.community_id)
    meeting.minutes = (minutes or "").strip()
    meeting.save(update_fields=["minutes"])
    return meeting
