"""The measures of 多元共治, for pages, the API and the evaluation app's indicator library.

Every function takes ``start`` and ``end`` (aware datetimes, the half-open period
[start, end)) and a community (``jiedao.org.models.Community``) or None for the whole
street. Rates are fractions 0..1, or None when the denominator is zero (no data)."""

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from .models import (
    DECIDED_STATUSES,
    Account,
    Action,
    Ballot,
    CouncilMember,
    Entry,
    Need,
    Project,
    ProjectStatus,
    Proposal,
    ProposalStatus,
    Registration,
    SignUp,
    Support,
)


def _in(qs, field, start, end):
    return qs.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def _community(qs, community, path="community"):
    if community is None:
        return qs
    return qs.filter(**{path: community})


def _rate(part, whole):
    return None if not whole else part / whole


def proposals_count(start, end, community=None) -> int:
    """议题/提案数: proposals put forward in the period (by residents, tabled by staff or
    turned from cases), whatever became of them."""
    return _community(_in(Proposal.objects.all(), "created_at", start, end), community).count()


def adoption_rate(start, end, community=None) -> float | None:
    """提案采纳率: of the proposals decided in the period (decision time in the period:
    adopted, rejected or needs study), the share adopted (including those adopted and
    since completed)."""
    decided = _community(_in(Proposal.objects.filter(status__in=DECIDED_STATUSES), "decided_at", start, end), community)
    total = decided.count()
    adopted = decided.filter(status__in=(ProposalStatus.ADOPTED, ProposalStatus.COMPLETED)).count()
    return _rate(adopted, total)


def self_nominated_share(start, end, community=None) -> float | None:
    """自荐议事员占比: of the council members serving at ``end`` (term started on or before
    the local date of ``end`` and not ended before it), the share who nominated themselves."""
    day = timezone.localdate(end)
    serving = _community(
        CouncilMember.objects.filter(start__lte=day).filter(Q(end__isnull=True) | Q(end__gte=day)), community
    )
    total = serving.count()
    return _rate(serving.filter(origin=CouncilMember.Origin.SELF).count(), total)


def participant_ids(start, end, community=None) -> set:
    """The residents (user ids) who proposed, supported, attended a meeting or cast a
    project ballot in the period."""
    ids = set(
        _community(
            _in(Proposal.objects.filter(proposer__isnull=False), "created_at", start, end), community
        ).values_list("proposer_id", flat=True)
    )
    ids |= set(
        _community(_in(Support.objects.all(), "at", start, end), community, "proposal__community").values_list(
            "user_id", flat=True
        )
    )
    ids |= set(
        _community(
            _in(Registration.objects.filter(user__isnull=False), "attended_at", start, end),
            community,
            "meeting__community",
        ).values_list("user_id", flat=True)
    )
    ids |= set(
        _community(_in(Ballot.objects.all(), "at", start, end), community, "round__community").values_list(
            "user_id", flat=True
        )
    )
    return ids


def participants_count(start, end, community=None) -> int:
    """参与人数: distinct residents who proposed, supported, attended a meeting (signed in
    at the door) or voted on projects in the period."""
    return len(participant_ids(start, end, community))


def _local_day(moment):
    return timezone.localdate(moment)


def actions_on_time_rate(start, end, community=None) -> float | None:
    """按期落实率: of the adopted actions due in the period (due date, local, within
    [start, end)), the share completed on or before their due date."""
    first, last = _local_day(start), _local_day(end)
    if timezone.localtime(end).time() != dt.time(0, 0):
        last = last + dt.timedelta(days=1)
    due = _community(Action.objects.filter(due__gte=first, due__lt=last), community, "proposal__community")
    rows = list(due.values_list("due", "completed_at"))
    on_time = sum(1 for day, done in rows if done is not None and _local_day(done) <= day)
    return _rate(on_time, len(rows))


def needs_matched_rate(start, end, community=None) -> float | None:
    """需求匹配率: of the residents' needs listed in the period, the share addressed by at
    least one project of the library that was not voted out."""
    needs = _community(_in(Need.objects.all(), "created_at", start, end), community)
    total = needs.count()
    live = Project.objects.filter(needs=OuterRef("pk")).exclude(status=ProjectStatus.NOT_SELECTED)
    return _rate(needs.filter(Exists(live)).count(), total)


def services_use(start, end, community=None) -> int:
    """服务人次: residents served by projects delivered (finished) in the period."""
    qs = _community(_in(Project.objects.filter(status=ProjectStatus.DELIVERED), "delivered_at", start, end), community)
    return int(qs.aggregate(s=Sum("served"))["s"] or 0)


def _verified(start, end, community):
    return _community(
        _in(SignUp.objects.filter(verified_at__isnull=False), "activity__starts_at", start, end),
        community,
        "activity__community",
    )


def volunteers_active(start, end, community=None) -> int:
    """活跃志愿者: distinct volunteers with verified hours for an activity held in the period."""
    return _verified(start, end, community).values("volunteer_id").distinct().count()


def volunteer_hours(start, end, community=None) -> float:
    """志愿服务时长: hours verified by organisers, for activities held in the period."""
    total = _verified(start, end, community).aggregate(s=Sum("hours"))["s"] or Decimal("0")
    return float(total)


def _ledger(kind, start, end, community):
    qs = _in(Entry.objects.filter(account__kind=kind), "posting__at", start, end)
    return _community(qs, community, "account__community")


def points_issued(start, end, community=None) -> int:
    """积分发放: points that left the communities' issuing accounts in the period."""
    return int(-(_ledger(Account.Kind.ISSUING, start, end, community).aggregate(s=Sum("amount"))["s"] or 0))


def points_redeemed(start, end, community=None) -> int:
    """积分兑换: points spent by residents (into the redeemed accounts) in the period."""
    return int(_ledger(Account.Kind.REDEEMED, start, end, community).aggregate(s=Sum("amount"))["s"] or 0)
