"""Random steps by random people, through the real services, on one proposal and two meetings
of 东湖社区: whatever the order, a step goes through exactly when the rules allow it, the proposal
and the meetings only move along their tables, and their logs chain from state to state
(tests/lifecycle_checks.py). Participation's own rules are checked after every step: one
support per resident, never the proposer's own nor a neighbour community's, and an open proposal
qualifies as soon as its supports reach the threshold."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jiedao.common.errors import DomainError
from jiedao.participation import services
from jiedao.participation.models import Action, Meeting, Proposal, ProposalStatus, Support
from jiedao.participation.states import MEETING, PROPOSAL
from tests.lifecycle_checks import check_log, check_step

pytestmark = pytest.mark.django_db

P = ProposalStatus
PEOPLE = ("wang", "li", "neighbour0", "neighbour1", "neighbour2", "west", "staff", "leader", "handler", "operator")
RESIDENTS_OF_DONG = {"wang", "li", "neighbour0", "neighbour1", "neighbour2"}
RUN_MEETINGS = {"staff", "leader"}  # the committee of 东湖 and a street leader
ACTIONS = (
    "support",
    "withdraw",
    "schedule",
    "start",
    "close",
    "cancel",
    "adopt",
    "reject",
    "study",
    "progress",
    "complete",
    "rate",
)
# Most steps are taken by someone the action is meant for, so that runs get far along the
# lifecycle; the others by anyone at all.
MEANT_FOR = {
    "support": ("li", "neighbour0", "neighbour1", "neighbour2"),
    "withdraw": ("wang",),
    "rate": ("wang", "li", "neighbour0"),
}
NEXT = "next"  # the step the proposal needs to go on, by someone it is meant for
STEPS = st.lists(
    st.sampled_from((*ACTIONS, *[NEXT] * 8)).flatmap(
        lambda action: st.tuples(
            st.just(action),
            st.one_of(st.sampled_from(MEANT_FOR.get(action, ("staff", "leader"))), st.sampled_from(PEOPLE)),
            st.integers(0, 1),
        )
    ),
    min_size=1,
    max_size=30,
)


class _Rollback(Exception):
    pass


def _cast(people, street):
    return {
        "wang": people.wang,
        "li": people.li,
        **{f"neighbour{i}": n for i, n in enumerate(people.neighbours)},
        "west": people.west,
        "staff": people.staff,
        "leader": people.leader,
        "handler": street.users.handler,  # a handler, but of another unit: not this committee's
        "operator": street.users.operator,
    }


def _log(record):
    return list(record.events.order_by("at", "id").values_list("action", "from_status", "to_status"))


def _take(action, user, proposal, meeting):
    """The step through the service a page or the API would call."""
    due = timezone.localdate() + dt.timedelta(days=30)
    if action == "support":
        services.support(user, proposal_id=proposal.pk)
    elif action == "withdraw":
        services.withdraw(user, proposal_id=proposal.pk, reason="已经解决")
    elif action == "schedule":
        services.add_to_agenda(user, meeting_id=meeting.pk, proposal_id=proposal.pk)
    elif action in ("start", "close", "cancel"):
        services.meeting_step(user, meeting_id=meeting.pk, action=action, note="议定事项已公开")
    elif action in ("adopt", "reject", "study"):
        services.decide(user, proposal_id=proposal.pk, decision=action, answer="答复", owner_name="刘主任", due=due)
    elif action in ("progress", "complete"):
        tracked = Action.objects.filter(proposal=proposal).first()
        services.report_progress(
            user,
            action_id=tracked.pk if tracked else None,
            progress=100 if action == "complete" else 50,
            note="推进中",
            evidence="已完成",
        )
    else:
        services.rate_result(user, proposal_id=proposal.pk, score=4)


def _allowed(action, who, proposal, meeting, supporters, raters):
    """Whether the rules let ``who`` take ``action`` now (the oracle the services must agree with)."""
    tracked = Action.objects.filter(proposal=proposal).first()
    if action == "support":
        return (
            proposal.status in (P.OPEN, P.QUALIFIED)
            and who in RESIDENTS_OF_DONG
            and who != "wang"
            and who not in supporters
        )
    if action == "withdraw":
        return who == "wang" and proposal.status in (P.OPEN, P.QUALIFIED)
    if action == "schedule":
        return (
            who in RUN_MEETINGS and meeting.status in ("planned", "open") and proposal.status in (P.QUALIFIED, P.STUDY)
        )
    if action == "start":
        return who in RUN_MEETINGS and meeting.status == "planned"
    if action == "close":
        return who in RUN_MEETINGS and meeting.status == "open"
    if action == "cancel":
        return who in RUN_MEETINGS and meeting.status == "planned"
    if action in ("adopt", "reject", "study"):
        return (
            who in RUN_MEETINGS
            and proposal.status == P.SCHEDULED
            and proposal.meeting is not None
            and proposal.meeting.status == "open"
        )
    if action in ("progress", "complete"):
        return who in RUN_MEETINGS and tracked is not None and tracked.status == Action.Status.ONGOING
    return proposal.status == P.COMPLETED and who in RESIDENTS_OF_DONG and who not in raters


def _next(proposal, meetings, supporters, which):
    """The step that takes the proposal further: (action, who, meeting index)."""
    status = proposal.status
    if status == P.OPEN:
        who = next((n for n in ("li", "neighbour0", "neighbour1", "neighbour2") if n not in supporters), "li")
        return "support", who, which
    if status in (P.QUALIFIED, P.STUDY):
        usable = [i for i, m in enumerate(meetings) if m.status in ("planned", "open")]
        return "schedule", "staff", usable[which % len(usable)] if usable else which
    if status == P.SCHEDULED:
        index = next(i for i, m in enumerate(meetings) if m.pk == proposal.meeting_id)
        if meetings[index].status == "planned":
            return "start", "staff", index
        return ("adopt", "adopt", "reject", "study")[which * 2 + len(supporters) % 2], "staff", index
    if status == P.ADOPTED:
        return ("progress", "complete")[which], "staff", which
    return "rate", ("wang", "li", "neighbour0")[which], which


def _proposal_action(action, went_through, proposal_before, meeting_id_of_proposal, meeting):
    """The action the proposal's log shows for a step, or None when the step leaves the proposal alone."""
    if not went_through:
        return None
    if action in ("support", "withdraw", "schedule", "adopt", "reject", "study", "complete", "progress", "rate"):
        return action
    if action == "cancel" and proposal_before == P.SCHEDULED and meeting_id_of_proposal == meeting.pk:
        return "unschedule"
    return None


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_random_steps_keep_to_the_tables_and_the_rules(people, street, steps):
    cast = _cast(people, street)
    try:
        with transaction.atomic():
            proposal = services.propose(people.wang, title="东门加装座椅", body="老人没地方歇脚")
            meetings = [
                services.schedule_meeting(
                    people.staff,
                    community=people.dong,
                    title=f"第{n + 1}次议事会",
                    starts_at=timezone.now() + dt.timedelta(days=n + 1),
                    place="活动室",
                    seats=10,
                )
                for n in range(2)
            ]
            supporters, raters = set(), set()
            for action, who, which in steps:
                proposal = Proposal.objects.select_related("meeting").get(pk=proposal.pk)
                if action == NEXT:
                    current = list(Meeting.objects.filter(pk__in=[m.pk for m in meetings]).order_by("pk"))
                    action, who, which = _next(proposal, current, supporters, which)
                meeting = Meeting.objects.get(pk=meetings[which].pk)
                allowed = _allowed(action, who, proposal, meeting, supporters, raters)
                before, meeting_before = proposal.status, meeting.status
                on_agenda_of = proposal.meeting_id
                log_before, meeting_log_before = _log(proposal), _log(meeting)
                try:
                    _take(action, cast[who], proposal, meeting)
                except DomainError:
                    went_through = False
                else:
                    went_through = True
                assert went_through == allowed, f"{who} {action}: went through {went_through}, rules say {allowed}"
                proposal.refresh_from_db()
                meeting.refresh_from_db()
                if went_through and action == "support":
                    supporters.add(who)
                if went_through and action == "rate":
                    raters.add(who)

                logged = _proposal_action(action, went_through, before, on_agenda_of, meeting)
                check_step(
                    PROPOSAL,
                    logged or action,
                    went_through=logged is not None,
                    before=before,
                    after=proposal.status,
                    events_before=log_before,
                    events_after=_log(proposal),
                )
                if action in MEETING.transitions:
                    check_step(
                        MEETING,
                        action,
                        went_through=went_through,
                        before=meeting_before,
                        after=meeting.status,
                        events_before=meeting_log_before,
                        events_after=_log(meeting),
                    )

                # One support per resident, counted on the proposal; the threshold qualifies.
                assert Support.objects.filter(proposal=proposal).count() == proposal.support_count == len(supporters)
                if proposal.status == P.OPEN:
                    assert proposal.support_count < proposal.threshold
                if before == P.OPEN and proposal.support_count >= proposal.threshold and proposal.status != P.WITHDRAWN:
                    assert proposal.qualified_at is not None
            event(f"the proposal ends {proposal.status}")  # --hypothesis-show-statistics shows how far runs get
            check_log(PROPOSAL, proposal.status, _log(proposal))
            for meeting in Meeting.objects.filter(pk__in=[m.pk for m in meetings]):
                check_log(MEETING, meeting.status, _log(meeting))
            raise _Rollback
    except _Rollback:
        pass
