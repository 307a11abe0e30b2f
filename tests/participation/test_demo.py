"""The demo's 多元共治: a year of proposals, meetings, decisions, votes, activities and
points, the same every run, with books that balance and measures that have data."""

import datetime as dt
import io

import pytest
from django.db import transaction
from django.db.models import Sum

from jiedao.participation import measures
from jiedao.participation.demo import build_participation
from jiedao.participation.models import (
    Account,
    Action,
    Ballot,
    Entry,
    Meeting,
    Proposal,
    ProposalEvent,
    ResultRating,
    SignUp,
)
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db


def _users(street):
    u = street.users
    return {"resident": u.resident, "leader": u.leader, "admin": u.admin}


def test_build_participation_on_the_test_street(street):
    out = io.StringIO()
    counts = build_participation(street.street, street.communities, _users(street), WEDNESDAY, out=out)
    assert "多元共治" in out.getvalue()
    assert Proposal.objects.count() == counts["proposals"] > 30
    assert Meeting.objects.filter(status="closed").count() == counts["meetings"] >= 2 * 5
    assert not Meeting.objects.filter(status="closed", minutes="").exists()
    decided = Proposal.objects.filter(decided_at__isnull=False)
    assert {"adopted", "rejected", "completed"} <= set(decided.values_list("status", flat=True))
    assert Action.objects.filter(status="completed").exists() and ResultRating.objects.exists()
    assert Ballot.objects.count() == counts["ballots"] > 0
    assert SignUp.objects.filter(verified_at__isnull=False).exists()
    # Books balance and no resident is below zero.
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0
    assert not Account.objects.filter(kind="resident", balance__lt=0).exists()
    # Every proposal has its history, and the measures have data for the year.
    assert not Proposal.objects.exclude(pk__in=ProposalEvent.objects.values("proposal")).exists()
    end = WEDNESDAY
    start = end - dt.timedelta(days=365)
    rate = measures.adoption_rate(start, end)
    assert rate is not None and 0 < rate < 1
    assert measures.self_nominated_share(start, end) is not None
    assert measures.participants_count(start, end) > 20
    assert measures.actions_on_time_rate(start, end) is not None
    assert measures.points_issued(start, end) > measures.points_redeemed(start, end) > 0
    assert measures.volunteer_hours(start, end) > 0
    assert build_participation(street.street, street.communities, _users(street), WEDNESDAY) == {"skipped": True}


def test_the_demo_is_the_same_every_run(street):
    def signature():
        return list(
            # Ordered by every value compared: two topics may share a title, a time and a community.
            Proposal.objects.order_by("created_at", "title", "community__code", "status", "support_count").values_list(
                "title", "status", "support_count", "created_at", "community__code"
            )
        )

    savepoint = transaction.savepoint()
    build_participation(street.street, street.communities, _users(street), WEDNESDAY)
    first = signature()
    transaction.savepoint_rollback(savepoint)
    assert not Proposal.objects.exists()
    build_participation(street.street, street.communities, _users(street), WEDNESDAY)
    assert signature() == first and len(first) > 30
