"""The 多元共治 API under /api/v1/participation/: proposals (public to read), supports,
decisions and action progress, meeting registration, the yearly project vote, my points
and transfers, and the measures. Thin: services write, selectors read."""

import datetime as dt

from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status

from jiedao.common import idempotency, params
from jiedao.common.errors import NotFound
from jiedao.common.masking import mask_personal_text
from jiedao.common.schemas import ErrorsOut
from jiedao.common.throttle import Limit, api_limits
from jiedao.org.models import Community, Unit, User
from jiedao.org.permissions import permission

from . import measures as m
from . import rules, selectors, services
from .models import Proposal

router = Router(tags=["participation"])
ERRORS = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut, 422: ErrorsOut}


class ActionOut(Schema):
    owner: str
    due: dt.date
    progress: int
    status: str
    completed_at: dt.datetime | None
    evidence: str


class ProposalOut(Schema):
    id: int
    community: str
    title: str
    body: str
    place: str
    origin: str
    status: str
    status_label: str
    supports: int
    threshold: int
    created_at: dt.datetime
    decided_at: dt.datetime | None
    answer: str
    action: ActionOut | None = None


def _out(p, with_action=True):
    action = selectors.action_of(p) if with_action and p.decided else None
    return selectors.public_proposal(p, action)


def _community(code):
    if not code:
        return None
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise NotFound("community")
    return community


@router.get(
    "/participation/proposals",
    auth=None,
    response={200: list[ProposalOut], **ERRORS},
    throttle=api_limits(Limit("PUBLIC_PAGE_RATE")),
    summary="Proposals of a community (public)",
)
def list_proposals(request, community: str = "", status: str = "", limit: int = Query(50, ge=1, le=200)):
    items = selectors.proposals(_community(community), status=status or None, limit=limit)
    return [_out(p, with_action=False) for p in items]


@router.get(
    "/participation/proposals/{pk}",
    auth=None,
    response={200: ProposalOut, **ERRORS},
    throttle=api_limits(Limit("PUBLIC_PAGE_RATE")),
    summary="One proposal with its decision and progress (public)",
)
def get_proposal(request, pk: int):
    item = selectors.proposal(pk)
    if item is None:
        raise NotFound()
    return _out(item)


class ProposalIn(Schema):
    title: str = Field(max_length=100)
    body: str = Field(max_length=2000)
    place: str = Field("", max_length=200)


@router.post("/participation/proposals", response={201: ProposalOut, **ERRORS}, summary="Propose a topic")
@permission("participation.propose")
def create_proposal(request, payload: ProposalIn):
    proposal = services.propose(request.user, title=payload.title, body=payload.body, place=payload.place)
    return Status(201, _out(proposal))


class SimilarOut(Schema):
    id: int
    title: str
    status: str
    supports: int


@router.get(
    "/participation/similar",
    response={200: list[SimilarOut], **ERRORS},
    summary="Proposals of my community like this text (duplicates)",
)
def similar(request, q: str = ""):
    member = rules.membership(request.user)
    found = selectors.similar_proposals(member.community if member else None, q)
    return [
        {"id": p.pk, "title": mask_personal_text(p.title), "status": p.status, "supports": p.support_count}
        for p in found
    ]


@router.post(
    "/participation/proposals/{pk}/support",
    response={200: ProposalOut, **ERRORS},
    summary="Support a proposal (once per resident)",
)
@permission("participation.support")
def support(request, pk: int):
    return _out(services.support(request.user, proposal_id=pk))


class DecisionIn(Schema):
    decision: str = Field(description="adopt, reject or study")
    answer: str
    owner_name: str = ""
    owner_unit: str = ""
    due: dt.date | None = None
    milestones: list[tuple[str, dt.date]] = []


@router.post(
    "/participation/proposals/{pk}/decision",
    response={200: ProposalOut, **ERRORS},
    summary="Record the meeting's decision",
)
@permission("participation.deliberation")
def decide(request, pk: int, payload: DecisionIn):
    unit = Unit.objects.filter(code=payload.owner_unit).first() if payload.owner_unit else None
    services.decide(
        request.user,
        proposal_id=pk,
        decision=payload.decision,
        answer=payload.answer,
        owner_name=payload.owner_name,
        owner_unit=unit,
        due=payload.due,
        milestones=payload.milestones,
    )
    return _out(Proposal.objects.select_related("community").get(pk=pk))


class ProgressIn(Schema):
    progress: int = Field(ge=0, le=100)
    note: str = ""
    evidence: str = ""


@router.post(
    "/participation/proposals/{pk}/progress",
    response={200: ProposalOut, **ERRORS},
    summary="Report progress of an adopted proposal's action",
)
@permission("participation.deliberation")
def progress(request, pk: int, payload: ProgressIn):
    item = get_object_or_404(Proposal, pk=pk)
    action = selectors.action_of(item)
    if action is None:
        raise NotFound()
    services.report_progress(
        request.user, action_id=action.pk, progress=payload.progress, note=payload.note, evidence=payload.evidence
    )
    return _out(Proposal.objects.select_related("community").get(pk=pk))


class RatingIn(Schema):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=300)


class ParticipationRatingOut(Schema):
    count: int
    average: float | None


@router.post(
    "/participation/proposals/{pk}/rating",
    response={201: ParticipationRatingOut, **ERRORS},
    summary="Evaluate the result of a completed proposal",
)
@permission("participation.rate")
def rate(request, pk: int, payload: RatingIn):
    rating = services.rate_result(request.user, proposal_id=pk, score=payload.score, comment=payload.comment)
    return Status(201, selectors.rating_summary(rating.proposal))


class RegistrationOut(Schema):
    meeting: int
    registered_at: dt.datetime


@router.post(
    "/participation/meetings/{pk}/registrations",
    response={201: RegistrationOut, **ERRORS},
    summary="Register for a meeting (one seat per resident)",
)
@permission("participation.meeting")
def register(request, pk: int):
    registration = services.register(request.user, meeting_id=pk)
    return Status(201, {"meeting": pk, "registered_at": registration.registered_at})


class BallotIn(Schema):
    projects: list[int]


class BallotOut(Schema):
    round: int
    projects: list[int]


@router.post(
    "/participation/votes/{pk}/ballots",
    response={201: BallotOut, **ERRORS},
    summary="Cast a ballot in the yearly project vote",
)
@permission("participation.vote")
def ballot(request, pk: int, payload: BallotIn):
    cast = services.cast_ballot(request.user, round_id=pk, project_ids=payload.projects)
    return Status(201, {"round": pk, "projects": sorted(cast.projects.values_list("pk", flat=True))})


class EntryOut(Schema):
    at: dt.datetime
    reason: str
    amount: int


class PointsOut(Schema):
    balance: int
    time_bank_hours: float
    entries: list[EntryOut]


@router.get("/participation/points/me", response={200: PointsOut, **ERRORS}, summary="My points and time bank")
def my_points(request):
    data = selectors.my_points(request.user)
    return {
        "balance": data["balance"],
        "time_bank_hours": float(data["bank"]),
        "entries": [{"at": e.posting.at, "reason": e.posting.reason, "amount": e.amount} for e in data["entries"]],
    }


class TransferIn(Schema):
    to: str = Field(description="the other resident's username")
    points: int = Field(ge=1)
    reason: str = Field("", max_length=200)


@router.post(
    "/participation/points/transfers",
    response={201: PointsOut, **ERRORS},
    summary="Give points to a resident of my community",
)
@permission("participation.points")
def transfer(request, payload: TransferIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """With an ``Idempotency-Key`` header, the same transfer sent again (after a lost answer)
    is not posted twice."""
    key = idempotency.clean_key(idempotency_key)
    target = User.objects.filter(username=payload.to).first()
    if target is None:
        raise NotFound()
    gift = {"to_user": target, "points": payload.points, "reason": payload.reason, "idempotency_key": key}
    try:
        services.transfer(request.user, **gift)
    except IntegrityError:
        if not key:
            raise
        # The same key arrived twice at the same moment: the other request posted it.
        services.transfer(request.user, **gift)
    return Status(201, my_points(request))


class ParticipationMeasuresOut(Schema):
    proposals_count: int
    adoption_rate: float | None
    self_nominated_share: float | None
    participants_count: int
    actions_on_time_rate: float | None
    needs_matched_rate: float | None
    volunteers_active: int
    volunteer_hours: float
    points_issued: int
    points_redeemed: int


@router.get(
    "/participation/measures",
    auth=None,
    response={200: ParticipationMeasuresOut, **ERRORS},
    throttle=api_limits(Limit("PUBLIC_PAGE_RATE")),
    summary="The measures for a period (public)",
)
def measures(request, start: dt.date, end: dt.date, community: str = ""):
    """``start`` and ``end`` are local dates; the period is [start, end)."""
    start, end = params.date_range(start, end)
    tz = timezone.get_current_timezone()
    begin = dt.datetime.combine(start, dt.time(), tz)
    finish = dt.datetime.combine(end, dt.time(), tz)
    where = _community(community)
    return {name: getattr(m, name)(begin, finish, where) for name in ParticipationMeasuresOut.model_fields}
