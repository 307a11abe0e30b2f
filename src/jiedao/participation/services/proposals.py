"""Proposals (议题): a resident proposes a topic for their community; the committee tables
official topics and turns cases into topics; residents of the community support a proposal
(once each, never their own) until it qualifies for the agenda; the proposer may withdraw it;
residents rate a completed one (once each).

Every move goes through the proposal's lifecycle (``states.PROPOSAL``), which writes the event
in the same transaction; reaching the support threshold is the system's move ``qualify`` and
tells the proposer. The proposer and the supporters are told at each later step (``inform``)."""

import datetime as dt

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from jiedao.cases.models import Case
from jiedao.common.errors import FieldErrors, InvalidTransition, NotFound, ValidationFailed
from jiedao.common.images import accept_photos
from jiedao.common.masking import mask_personal_text
from jiedao.messaging.services import notify
from jiedao.org import permissions
from jiedao.org.models import Community, User

from .. import rules
from ..models import Proposal, ProposalStatus, ResultRating, Support
from ..states import PROPOSAL
from .base import now, require_member, require_staff, text

SUPPORTABLE = (ProposalStatus.OPEN, ProposalStatus.QUALIFIED)


def audience(proposal: Proposal) -> set:
    """The proposer and the supporters: informed at each step."""
    ids = set(proposal.supports.values_list("user_id", flat=True))
    if proposal.proposer_id:
        ids.add(proposal.proposer_id)
    return ids


def inform(proposal: Proposal, *, message: str) -> None:
    notify(kind="participation", message=message, users=sorted(audience(proposal)))


def locked_proposal(proposal_id: int) -> Proposal:
    proposal = Proposal.objects.select_for_update().filter(pk=getattr(proposal_id, "pk", proposal_id)).first()
    if proposal is None:
        raise NotFound(_("议题不存在。"))
    return proposal


def _check_proposal(title, body, place, photo=None):
    errors = FieldErrors()
    title = text(errors, field="title", value=title, label=_("标题"), max_length=100)
    body = text(errors, field="body", value=body, label=_("内容"), max_length=2000)
    place = text(errors, field="place", value=place, label=_("地点"), max_length=200, required=False)
    stored = accept_photos(errors, "photo", [photo]) if photo else []  # re-encoded, under a name of ours
    errors.raise_if_any()
    return title, body, place, (stored[0] if stored else None)


@transaction.atomic
def propose(
    user: User,
    *,
    title: str,
    body: str,
    place: str = "",
    photo: UploadedFile | None = None,
    at: dt.datetime | None = None,
) -> Proposal:
    """A resident proposes a topic for their community (议题征集)."""
    permissions.require(user, "participation.propose")
    member = require_member(user)
    title, body, place, photo = _check_proposal(title, body, place, photo)
    moment = now(at)
    proposal = Proposal(
        community_id=member.community_id,
        title=title,
        body=body,
        place=place,
        proposer=user,
        threshold=rules.support_threshold(),
        created_at=moment,
    )
    if photo:
        proposal.photo = photo
    proposal.save()
    PROPOSAL.record(proposal, "propose", user, before="", at=moment)
    return proposal


@transaction.atomic
def table_topic(
    user: User,
    *,
    community: Community,
    title: str,
    body: str,
    place: str = "",
    case: Case | None = None,
    at: dt.datetime | None = None,
) -> Proposal:
    """Staff table an official topic (or a case pattern): it is born qualified, ready for the agenda."""
    permissions.require(user, "participation.deliberation")
    require_staff(user, community=community)
    title, body, place, _photo = _check_proposal(title, body, place)
    moment = now(at)
    proposal = Proposal.objects.create(
        community=community,
        title=title,
        body=body,
        place=place,
        proposer=None,
        threshold=0,
        created_at=moment,
        origin=Proposal.Origin.CASE if case is not None else Proposal.Origin.OFFICIAL,
        case=case,
        status=ProposalStatus.QUALIFIED,
        qualified_at=moment,
    )
    PROPOSAL.record(proposal, "table", user, before="", note=case.number if case is not None else "", at=moment)
    return proposal


def topic_from_case(user: User, *, number: str, title: str = "", body: str = "") -> Proposal:
    """Turn a case (a recurring complaint) into a topic of its community."""
    permissions.require(user, "participation.deliberation")
    case = Case.objects.select_related("community").filter(number=number).first()
    if case is None:
        raise NotFound(_("工单 %(number)s 不存在。") % {"number": number})
    if case.community is None:
        raise ValidationFailed("case", _("该工单没有所属社区，不能转为议题。"))
    # The title is cut from the text: masked first, so that no part of a phone is left readable.
    return table_topic(
        user,
        community=case.community,
        title=title or mask_personal_text(case.description)[:60],
        case=case,
        body=body or case.description,
    )


@transaction.atomic
def support(user: User, *, proposal_id: int, at: dt.datetime | None = None) -> Proposal:
    """One support per resident of the community, not for one's own proposal, while it is open
    or qualified; reaching the threshold qualifies the proposal for the agenda (the system's
    move) and tells the proposer."""
    permissions.require(user, "participation.support")
    proposal = locked_proposal(proposal_id)
    if proposal.status not in SUPPORTABLE:
        raise InvalidTransition(_("该议题已不再征集附议。"))
    require_member(user, community=proposal.community_id)
    if proposal.proposer_id == user.pk:
        raise ValidationFailed("proposal", _("不能附议自己提出的议题。"))
    moment = now(at)
    try:
        with transaction.atomic():
            Support.objects.create(proposal=proposal, user=user, at=moment)
    except IntegrityError:
        raise ValidationFailed("proposal", _("您已经附议过这个议题。")) from None
    proposal.support_count = F("support_count") + 1
    proposal.save(update_fields=["support_count"])
    proposal.refresh_from_db(fields=["support_count"])
    PROPOSAL.record(proposal, "support", user, at=moment)
    if proposal.status == ProposalStatus.OPEN and proposal.support_count >= proposal.threshold:
        PROPOSAL.by_system(None, proposal, "qualify", at=moment)
        notify(
            kind="participation",
            user=proposal.proposer,
            message=_("您的议题“%(title)s”附议已达 %(n)s 人，可以提交议事会。")
            % {"title": proposal.title, "n": proposal.support_count},
        )
    return proposal


@transaction.atomic
def withdraw(user: User, *, proposal_id: int, reason: str = "", at: dt.datetime | None = None) -> Proposal:
    """The proposer withdraws their proposal before it is scheduled."""
    permissions.require(user, "participation.withdraw")
    proposal = locked_proposal(proposal_id)
    PROPOSAL.take(user, proposal, "withdraw", note=(reason or "").strip(), at=now(at))
    return proposal


@transaction.atomic
def rate_result(
    user: User, *, proposal_id: int, score: int, comment: str = "", at: dt.datetime | None = None
) -> ResultRating:
    """A resident of the community evaluates the result of a completed proposal, once."""
    permissions.require(user, "participation.rate")
    proposal = locked_proposal(proposal_id)
    transition = PROPOSAL.check(user, proposal, "rate")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed("score", _("请打 1 到 5 分。"))
    if ResultRating.objects.filter(proposal=proposal, user=user).exists():
        raise ValidationFailed("score", _("您已经评价过了。"))
    moment = now(at)
    rating = ResultRating.objects.create(
        proposal=proposal, user=user, score=score, comment=(comment or "").strip()[:300], at=moment
    )
    PROPOSAL.take(user, proposal, "rate", note=f"{score}/5 {rating.comment}".strip(), at=moment, checked=transition)
    return rating
