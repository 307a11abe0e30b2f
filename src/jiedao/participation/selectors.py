"""Reads of 多元共治. Public reads (decisions and their progress) need no user; staff reads
are limited to the communities the user may run (``rules.may_run``). Proposals are public: what
their writers typed is kept, and the phones and identity numbers in it are masked wherever it is
shown. Selectors never import the services; the rules both need are in ``rules``."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, Prefetch, Q, Sum
from django.utils import timezone

from jiedao.common.masking import mask_personal_text
from jiedao.org.models import Community
from jiedao.org.selectors import street_records

from . import measures, rules
from .models import (
    DECIDED_STATUSES,
    Account,
    Action,
    Activity,
    Meeting,
    MeetingStatus,
    Need,
    Posting,
    Project,
    Proposal,
    ProposalStatus,
    Registration,
    Resource,
    Reward,
    SignUp,
    Support,
    Survey,
    TimeBankEntry,
    VoteRound,
)
from .states import PROPOSAL

PUBLIC_STATUSES = DECIDED_STATUSES


def runnable_communities(user):
    """The communities whose meetings, topics and desk the user runs."""
    if user is None or not user.is_authenticated:
        return Community.objects.none()
    if user.has_role(*rules.STREET_WIDE):
        return street_records(user, Community.objects.order_by("code"))
    unit = user.unit
    if unit is not None and unit.community_id and rules.on_committee(user, unit.community_id):
        return Community.objects.filter(pk=unit.community_id)
    return Community.objects.none()


def _before(qs, field, before):
    """Key pagination: rows after ``before`` (a row of the same query) in (-field, -id) order."""
    if before is None:
        return qs
    value = getattr(before, field)
    return qs.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": before.pk}))


def proposals(community=None, *, status=None, limit=50, before=None):
    """The newest proposals first; ``before`` (a proposal) continues a list from it."""
    qs = Proposal.objects.select_related("community").exclude(status=ProposalStatus.WITHDRAWN)
    if community is not None:
        qs = qs.filter(community=community)
    if status:
        qs = qs.filter(status__in=status if isinstance(status, (list, tuple)) else [status])
    return list(_before(qs, "created_at", before).order_by("-created_at", "-id")[:limit])


def supported_ids(user, proposal_list):
    if user is None or not user.is_authenticated:
        return set()
    return set(
        Support.objects.filter(user=user, proposal__in=[p.pk for p in proposal_list]).values_list(
            "proposal_id", flat=True
        )
    )


def _grams(text):
    text = "".join(ch for ch in (text or "") if ch.isalnum())
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def similar_proposals(community, text, *, exclude=None, limit=5, min_score=0.5):
    """Proposals of the community (not withdrawn, from the last year) that contain most of
    the character pairs of ``text`` (or of whose own pairs ``text`` contains most): shown
    while a resident writes, so that they support an existing proposal instead of
    repeating it."""
    grams = _grams(text)
    if len(grams) < 2 or community is None:
        return []
    since = timezone.now() - dt.timedelta(days=365)
    rows = (
        Proposal.objects.filter(community=community, created_at__gte=since)
        .exclude(status=ProposalStatus.WITHDRAWN)
        .only("id", "title", "body", "status", "support_count")
    )
    if exclude:
        rows = rows.exclude(pk=exclude)
    scored = []
    for proposal in rows[:1000]:
        # Compared as shown (numbers masked): digits typed as a guess must not match the hidden ones.
        other = _grams(mask_personal_text(proposal.title + proposal.body)[: len(proposal.title) + 200])
        shared = len(grams & other)
        score = shared / min(len(grams), len(other)) if other else 0
        if shared >= 2 and score >= min_score:
            scored.append((score, proposal))
    scored.sort(key=lambda pair: (-pair[0], -pair[1].pk))
    return [proposal for _score, proposal in scored[:limit]]


def proposal(pk):
    item = (
        Proposal.objects.select_related("community", "meeting", "proposer", "case")
        .filter(pk=pk)
        .exclude(status=ProposalStatus.WITHDRAWN)
        .first()
    )
    return item


def photo_public(name) -> bool:
    """Whether ``name`` is exactly the stored name of the photo of a proposal whose page anyone
    may open (every proposal but a withdrawn one, as ``proposal``)."""
    return bool(name) and Proposal.objects.filter(photo=name).exclude(status=ProposalStatus.WITHDRAWN).exists()


def timeline(proposal):
    """The proposal's public steps; phones and identity numbers in their notes masked."""
    return [
        {
            "at": e.at,
            "action": e.action,
            "label": PROPOSAL.label(e.action),
            "note": mask_personal_text(e.note),
            "to_status": e.to_status,
        }
        for e in proposal.events.exclude(action="support").order_by("at", "id")
    ]


def public_proposal(proposal, action=None):
    """A proposal as anyone may read it (the API): what residents and staff wrote — title,
    body, place, answer, the action's report — with the phones and identity numbers in it
    masked (``mask_personal_text``; the pages use the ``mask_personal`` filter)."""
    return {
        "id": proposal.pk,
        "community": proposal.community.code,
        "title": mask_personal_text(proposal.title),
        "body": mask_personal_text(proposal.body),
        "place": mask_personal_text(proposal.place),
        "origin": proposal.origin,
        "status": proposal.status,
        "status_label": proposal.get_status_display(),
        "supports": proposal.support_count,
        "threshold": proposal.threshold,
        "created_at": proposal.created_at,
        "decided_at": proposal.decided_at,
        "answer": mask_personal_text(proposal.answer),
        "action": None
        if action is None
        else {
            "owner": action.owner_name,
            "due": action.due,
            "progress": action.progress,
            "status": action.status,
            "completed_at": action.completed_at,
            "evidence": mask_personal_text(action.evidence),
        },
    }


def action_of(proposal):
    try:
        return (
            Action.objects.select_related("owner_unit").prefetch_related("milestones", "events").get(proposal=proposal)
        )
    except Action.DoesNotExist:
        return None


def rating_summary(proposal):
    row = proposal.ratings.aggregate(n=Count("id"), avg=Avg("score"))
    return {"count": row["n"], "average": round(row["avg"], 1) if row["avg"] is not None else None}


def public_decisions(community=None, limit=50, before=None):
    """Decided proposals with their published answer and action progress (public page),
    the latest decisions first; ``before`` (a decided proposal) continues the list."""
    qs = Proposal.objects.filter(status__in=PUBLIC_STATUSES).select_related("community", "action")
    if community is not None:
        qs = qs.filter(community=community)
    return list(_before(qs, "decided_at", before).order_by("-decided_at", "-id")[:limit])


def page(rows, limit):
    """(the rows to show, the id to continue from or None): one row more than ``limit`` was asked for."""
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].pk
    return rows, None


@dataclass
class Summary:
    proposals: int
    adoption: float | None
    self_nominated: float | None
    participants: int
    on_time: float | None
    needs_matched: float | None
    volunteers: int
    hours: float
    issued: int
    redeemed: int


def summary(community=None, now=None, days=365):
    """The measures over the last ``days`` (the public page, the staff desk and the API)."""
    end = now or timezone.now()
    start = end - dt.timedelta(days=days)
    return Summary(
        proposals=measures.proposals_count(start, end, community),
        adoption=measures.adoption_rate(start, end, community),
        self_nominated=measures.self_nominated_share(start, end, community),
        participants=measures.participants_count(start, end, community),
        on_time=measures.actions_on_time_rate(start, end, community),
        needs_matched=measures.needs_matched_rate(start, end, community),
        volunteers=measures.volunteers_active(start, end, community),
        hours=measures.volunteer_hours(start, end, community),
        issued=measures.points_issued(start, end, community),
        redeemed=measures.points_redeemed(start, end, community),
    )


def monthly_proposals(community=None, now=None, months=12):
    """Proposals per month for the last ``months`` months (oldest first)."""
    now = timezone.localtime(now or timezone.now())
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for back in range(months - 1, -1, -1):
        year, month = first.year, first.month - back
        while month <= 0:
            month += 12
            year -= 1
        start = first.replace(year=year, month=month)
        end = (start + dt.timedelta(days=32)).replace(day=1)
        rows.append({"month": f"{year}-{month:02d}", "count": measures.proposals_count(start, end, community)})
    return rows


def upcoming_meetings(community):
    if community is None:
        return []
    return list(
        Meeting.objects.filter(community=community, status__in=(MeetingStatus.PLANNED, MeetingStatus.OPEN))
        .annotate(taken=Count("registrations", filter=Q(registrations__sector="resident")))
        .order_by("starts_at")
    )


def registered_meeting_ids(user):
    if user is None or not user.is_authenticated:
        return set()
    return set(Registration.objects.filter(user=user).values_list("meeting_id", flat=True))


def meetings_for(user, limit=50):
    return list(
        Meeting.objects.filter(community__in=runnable_communities(user))
        .select_related("community")
        .order_by("-starts_at")[:limit]
    )


def meeting_for(user, pk):
    meeting = Meeting.objects.select_related("community").filter(pk=pk).first()
    if meeting is None or not rules.may_run(user, meeting.community):
        return None
    return meeting


def meeting_sheet(meeting):
    agenda = [item.proposal for item in meeting.agenda.select_related("proposal").order_by("position", "id")]
    actions = {a.proposal_id: a for a in Action.objects.filter(proposal__in=[p.pk for p in agenda])}
    for item in agenda:
        item.tracked = actions.get(item.pk)
    return {
        "agenda": agenda,
        "registrations": list(meeting.registrations.order_by("sector", "registered_at", "id")),
        "qualified": list(
            Proposal.objects.filter(
                community=meeting.community_id, status__in=(ProposalStatus.QUALIFIED, ProposalStatus.STUDY)
            ).order_by("-support_count", "created_at")
        ),
        "attended": meeting.registrations.filter(attended_at__isnull=False).count(),
    }


def open_actions(user):
    return list(
        Action.objects.filter(proposal__community__in=runnable_communities(user), status=Action.Status.ONGOING)
        .select_related("proposal", "owner_unit")
        .order_by("due")
    )


def account_of(user):
    return Account.objects.filter(user=user).first()


def my_points(user, limit=50):
    account = account_of(user)
    member = rules.membership(user)
    entries = []
    if account is not None:
        entries = list(account.entries.select_related("posting").order_by("-posting__at", "-id")[:limit])
    return {
        "account": account,
        "balance": account.balance if account else 0,
        "entries": entries,
        "rewards": list(Reward.objects.filter(community=member.community_id)) if member else [],
        "bank": time_bank_balance(user),
        "bank_entries": list(TimeBankEntry.objects.filter(user=user)[:20]),
    }


def time_bank_balance(user) -> Decimal:
    """The hours in the resident's time bank: deposits less draws."""
    return TimeBankEntry.objects.filter(user=user).aggregate(s=Sum("hours"))["s"] or Decimal("0")


def open_vote(community):
    if community is None:
        return None
    return VoteRound.objects.filter(community=community, is_open=True).prefetch_related("candidates").first()


def has_voted(user, round_):
    return round_ is not None and round_.ballots.filter(user=user).exists()


def activities(community, upcoming_only=False):
    if community is None:
        return []
    qs = Activity.objects.filter(community=community).annotate(taken=Count("signups"))
    if upcoming_only:
        qs = qs.filter(starts_at__gte=timezone.now() - dt.timedelta(hours=12))
    return list(qs.order_by("-starts_at")[:30])


def signed_activity_ids(user):
    if user is None or not user.is_authenticated:
        return set()
    return set(SignUp.objects.filter(volunteer__user=user).values_list("activity_id", flat=True))


def staff_activities(user, limit=20):
    return list(
        Activity.objects.filter(community__in=runnable_communities(user))
        .prefetch_related(Prefetch("signups", queryset=SignUp.objects.select_related("volunteer")))
        .order_by("-starts_at")[:limit]
    )


def open_surveys(community):
    if community is None:
        return []
    return list(Survey.objects.filter(community=community, is_open=True).prefetch_related("questions"))


def project_board(community):
    return {
        "needs": list(Need.objects.filter(community=community).prefetch_related("projects")),
        "resources": list(Resource.objects.filter(community=community)),
        "projects": list(Project.objects.filter(community=community).prefetch_related("needs", "resources")),
        "rounds": list(VoteRound.objects.filter(community=community).order_by("-year")),
    }


def recent_postings(user, limit=30):
    return list(Posting.objects.filter(community__in=runnable_communities(user)).order_by("-at", "-id")[:limit])
