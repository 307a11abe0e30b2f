"""居民议事: proposals, supports and their threshold, meetings with seats, attendance and
minutes, decisions that become tracked actions, and residents' evaluation."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.cases.models import Case
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.messaging.models import Notification
from jiedao.participation import selectors, services
from jiedao.participation.models import Account, Proposal, ProposalEvent

pytestmark = pytest.mark.django_db


def _propose(people, title="小区东门加装休息座椅"):
    return services.propose(
        people.wang, title=title, body="老人买菜回来没地方歇脚，希望在东门加几张座椅。", place="东门"
    )


def _meeting(people, seats=2):
    return services.schedule_meeting(
        people.staff,
        community=people.dong,
        title="十一月协商议事会",
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="社区活动室",
        seats=seats,
    )


def _qualified(people):
    proposal = _propose(people)
    for neighbour in people.neighbours:
        services.support(neighbour, proposal_id=proposal.pk)
    return Proposal.objects.get(pk=proposal.pk)


def test_a_proposal_qualifies_for_the_agenda_when_enough_residents_support_it(people):
    proposal = _propose(people)
    services.support(people.neighbours[0], proposal_id=proposal.pk)
    services.support(people.neighbours[1], proposal_id=proposal.pk)
    assert Proposal.objects.get(pk=proposal.pk).status == "open"
    services.support(people.neighbours[2], proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.support_count) == ("qualified", 3)
    assert proposal.qualified_at is not None
    assert Notification.objects.filter(user=people.wang, message__contains="可以提交议事会").exists()
    steps = list(proposal.events.values_list("action", "from_status", "to_status"))
    assert ("qualify", "open", "qualified") in steps


def test_each_resident_supports_a_proposal_once_and_not_their_own(people):
    proposal = _propose(people)
    services.support(people.li, proposal_id=proposal.pk)
    with pytest.raises(ValidationFailed, match="已经附议"):
        services.support(people.li, proposal_id=proposal.pk)
    with pytest.raises(ValidationFailed, match="自己"):
        services.support(people.wang, proposal_id=proposal.pk)
    assert Proposal.objects.get(pk=proposal.pk).support_count == 1


def test_only_residents_of_the_community_propose_and_support(people, street):
    proposal = _propose(people)
    with pytest.raises(NotAllowed):
        services.support(people.west, proposal_id=proposal.pk)
    with pytest.raises(NotAllowed):
        services.propose(street.users.operator, title="x", body="y")


def test_a_proposal_needs_a_title_and_a_body(people):
    with pytest.raises(ValidationFailed) as caught:
        services.propose(people.wang, title=" ", body="")
    assert {e["field"] for e in caught.value.errors} == {"title", "body"}


def test_staff_table_official_topics_and_turn_a_case_into_one(people, street):
    topic = services.table_topic(people.staff, community=people.dong, title="垃圾分类驿站选址", body="征求居民意见")
    assert (topic.status, topic.origin) == ("qualified", "official")
    case = Case.objects.create(
        number="20261118-0001",
        channel="phone",
        description="3号楼门口夜间堆放垃圾",
        created_at=timezone.now(),
        community=people.dong,
    )
    from_case = services.topic_from_case(people.staff, number=case.number)
    assert from_case.origin == "case" and from_case.case == case and from_case.community == people.dong
    with pytest.raises(NotAllowed):
        services.table_topic(people.wang, community=people.dong, title="t", body="b")
    with pytest.raises(NotAllowed):  # 东湖's committee does not run 西园
        services.table_topic(people.staff, community=people.xi, title="t", body="b")


def test_registration_respects_the_seats_and_one_seat_per_person(people):
    meeting = _meeting(people, seats=2)
    services.register(people.wang, meeting_id=meeting.pk)
    with pytest.raises(ValidationFailed, match="已经报名"):
        services.register(people.wang, meeting_id=meeting.pk)
    services.register(people.li, meeting_id=meeting.pk)
    with pytest.raises(ValidationFailed, match="名额已满"):
        services.register(people.neighbours[0], meeting_id=meeting.pk)
    # Other participants (property company, businesses) do not take residents' seats.
    services.add_participant(
        people.staff, meeting_id=meeting.pk, name="张经理", sector="property", organisation="安居物业"
    )
    assert meeting.registrations.count() == 3


def test_a_meeting_cannot_close_without_minutes(people):
    meeting = _meeting(people)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    with pytest.raises(ValidationFailed, match="会议纪要"):
        services.meeting_step(people.staff, meeting_id=meeting.pk, action="close")
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="close", note="议定座椅由社区出资安装。")
    meeting.refresh_from_db()
    assert meeting.status == "closed" and meeting.minutes.startswith("议定")
    assert list(meeting.events.values_list("action", flat=True)) == ["schedule", "start", "close"]
    with pytest.raises(InvalidTransition):
        services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")


def test_the_full_loop_from_proposal_to_evaluated_result(people, street):
    proposal = _qualified(people)
    meeting = _meeting(people)
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    registration = services.register(people.li, meeting_id=meeting.pk)
    services.check_in(people.staff, registration_id=registration.pk)
    assert Account.objects.get(user=people.li).balance == 5  # the attendance rule
    with pytest.raises(InvalidTransition):  # decisions are taken in the meeting
        services.decide(
            people.staff,
            proposal_id=proposal.pk,
            decision="adopt",
            answer="同意",
            owner_name="刘主任",
            due="2026-12-31",
        )
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    with pytest.raises(ValidationFailed) as caught:
        services.decide(
            people.staff, proposal_id=proposal.pk, decision="adopt", answer="", owner_name="", due="not a date"
        )
    assert {e["field"] for e in caught.value.errors} == {"answer", "owner_name", "due"}
    services.decide(
        people.staff,
        proposal_id=proposal.pk,
        decision="adopt",
        answer="同意在东门安装4张座椅。",
        owner_unit=street.units.committee1,
        owner_name="刘主任",
        due=timezone.localdate() + dt.timedelta(days=30),
        milestones=[("采购座椅", timezone.localdate() + dt.timedelta(days=10))],
    )
    proposal.refresh_from_db()
    assert proposal.status == "adopted" and proposal.answer.startswith("同意")
    assert Account.objects.get(user=people.wang).balance == 20  # the adopted-proposal rule
    # The proposer and every supporter heard of the decision.
    for user in [people.wang, *people.neighbours]:
        assert Notification.objects.filter(user=user, message__contains="采纳").exists()
    action = proposal.action
    services.report_progress(people.staff, action_id=action.pk, progress=40, note="座椅已下单")
    with pytest.raises(ValidationFailed, match="不能回退"):
        services.report_progress(people.staff, action_id=action.pk, progress=20)
    with pytest.raises(ValidationFailed, match="完成情况"):
        services.report_progress(people.staff, action_id=action.pk, progress=100)
    with pytest.raises(InvalidTransition):  # not yet completed
        services.rate_result(people.li, proposal_id=proposal.pk, score=5)
    services.report_progress(people.staff, action_id=action.pk, progress=100, evidence="4张座椅已安装，附照片。")
    proposal.refresh_from_db()
    action.refresh_from_db()
    assert proposal.status == "completed" and action.on_time is True
    assert not action.milestones.filter(done_at__isnull=True).exists()
    services.rate_result(people.li, proposal_id=proposal.pk, score=5, comment="很方便")
    with pytest.raises(ValidationFailed, match="已经评价"):
        services.rate_result(people.li, proposal_id=proposal.pk, score=4)
    with pytest.raises(NotAllowed):
        services.rate_result(people.west, proposal_id=proposal.pk, score=1)
    steps = [e.action for e in ProposalEvent.objects.filter(proposal=proposal).exclude(action="support")]
    assert steps == ["propose", "qualify", "schedule", "adopt", "progress", "complete", "rate"]


def test_proposal_events_are_append_only(people):
    event = _propose(people).events.first()
    event.note = "changed"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_a_cancelled_meeting_returns_its_agenda_to_the_pool(people):
    proposal = _qualified(people)
    meeting = _meeting(people)
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    with pytest.raises(ValidationFailed):
        services.meeting_step(people.staff, meeting_id=meeting.pk, action="cancel")
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="cancel", note="场地临时不能使用")
    proposal.refresh_from_db()
    assert proposal.status == "qualified" and proposal.meeting is None


def test_an_open_proposal_cannot_go_on_the_agenda_and_the_proposer_may_withdraw(people):
    proposal = _propose(people)
    meeting = _meeting(people)
    with pytest.raises(InvalidTransition):
        services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    with pytest.raises(NotAllowed):
        services.withdraw(people.li, proposal_id=proposal.pk)
    services.withdraw(people.wang, proposal_id=proposal.pk, reason="已经解决")
    assert Proposal.objects.get(pk=proposal.pk).status == "withdrawn"


def test_duplicates_are_found_while_writing(people):
    first = _propose(people)
    _propose(people, title="修理3号楼的路灯")
    found = selectors.similar_proposals(people.dong, "东门加几张休息座椅")
    assert [p.pk for p in found][:1] == [first.pk]
    assert selectors.similar_proposals(people.xi, "东门加几张休息座椅") == []


def test_responsible_units_are_reminded_of_overdue_actions_once_a_day(people, street):
    proposal = _qualified(people)
    meeting = _meeting(people)
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    due = timezone.localdate() + dt.timedelta(days=3)
    services.decide(
        people.staff,
        proposal_id=proposal.pk,
        decision="adopt",
        answer="同意",
        owner_name="刘主任",
        due=due,
        owner_unit=street.units.committee1,
    )
    unit_messages = Notification.objects.filter(unit=street.units.committee1, message__contains="超过完成时限")
    assert services.remind_overdue_actions(timezone.now()) == 0
    # Noon, so that "five minutes later" is the same day in Shanghai whenever the test runs.
    later = (timezone.localtime() + dt.timedelta(days=5)).replace(hour=12, minute=0)
    assert services.remind_overdue_actions(later) == 1
    services.report_progress(people.staff, action_id=proposal.action.pk, progress=30, at=later + dt.timedelta(days=1))
    assert services.remind_overdue_actions(later + dt.timedelta(minutes=5)) == 0  # once a day
    assert services.remind_overdue_actions(later + dt.timedelta(days=1)) == 1
    assert unit_messages.count() == 2


def test_a_topic_sent_for_study_comes_back_on_a_later_agenda(people):
    proposal = _qualified(people)
    meeting = _meeting(people)
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    services.decide(people.staff, proposal_id=proposal.pk, decision="study", answer="需会同物业研究")
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)  # later in the same session
    services.decide(people.staff, proposal_id=proposal.pk, decision="reject", answer="物业不同意，暂不实施")
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and meeting.agenda.count() == 1
    steps = [e.action for e in proposal.events.exclude(action="support")]
    assert steps == ["propose", "qualify", "schedule", "study", "schedule", "reject"]
