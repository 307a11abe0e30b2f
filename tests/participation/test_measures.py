"""The measures of interfaces.md: definitions, periods and community scope, None when there is no data."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.participation import measures, services
from jiedao.participation.models import CouncilMember, Proposal

pytestmark = pytest.mark.django_db


def _decided(people, decision, title):
    proposal = services.table_topic(people.staff, community=people.dong, title=title, body="内容")
    meeting = services.schedule_meeting(
        people.staff, community=people.dong, title="议事会", starts_at=timezone.now(), place="活动室", seats=10
    )
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    extra = {"owner_name": "刘主任", "due": timezone.localdate() + dt.timedelta(days=5)} if decision == "adopt" else {}
    services.decide(people.staff, proposal_id=proposal.pk, decision=decision, answer="答复", **extra)
    return Proposal.objects.get(pk=proposal.pk)


def test_rates_are_none_without_data(people):
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    assert measures.adoption_rate(start, now) is None
    assert measures.self_nominated_share(start, now) is None
    assert measures.actions_on_time_rate(start, now) is None
    assert measures.needs_matched_rate(start, now) is None
    assert measures.proposals_count(start, now) == 0
    assert measures.participants_count(start, now) == 0
    assert measures.points_issued(start, now) == measures.points_redeemed(start, now) == 0


def test_adoption_rate_and_on_time_actions(people):
    adopted = _decided(people, "adopt", "加装座椅")
    _decided(people, "reject", "拆除围墙")
    _decided(people, "study", "增设车位")
    now = timezone.now()
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    assert measures.adoption_rate(start, end, people.dong) == pytest.approx(1 / 3)
    assert measures.adoption_rate(start, end, people.xi) is None
    assert measures.proposals_count(start, end) == 3
    later = now + dt.timedelta(days=10)
    window = (now - dt.timedelta(days=1), now + dt.timedelta(days=20))
    assert measures.actions_on_time_rate(*window) == 0.0  # due in the window, not completed
    services.report_progress(people.staff, action_id=adopted.action.pk, progress=100, evidence="已安装", at=later)
    assert measures.actions_on_time_rate(*window) == 0.0  # completed after its due date
    assert measures.adoption_rate(start, end, people.dong) == pytest.approx(1 / 3)  # completion keeps it adopted


def test_self_nominated_share_counts_members_serving_at_the_end(people):
    today = timezone.localdate()
    for name, origin, end in [
        ("甲", "self", None),
        ("乙", "appointed", None),
        ("丙", "self", None),
        ("丁", "self", today - dt.timedelta(days=40)),
    ]:
        CouncilMember.objects.create(
            community=people.dong, name=name, origin=origin, start=today - dt.timedelta(days=400), end=end
        )
    now = timezone.now()
    assert measures.self_nominated_share(now - dt.timedelta(days=30), now, people.dong) == pytest.approx(2 / 3)
    long_ago = now - dt.timedelta(days=60)
    assert measures.self_nominated_share(long_ago - dt.timedelta(days=30), long_ago) == pytest.approx(3 / 4)


def test_participants_are_distinct_residents_who_took_part(people):
    proposal = services.propose(people.wang, title="修路灯", body="3号楼前路灯不亮")
    services.support(people.li, proposal_id=proposal.pk)
    services.support(people.neighbours[0], proposal_id=proposal.pk)
    meeting = services.schedule_meeting(
        people.staff, community=people.dong, title="议事会", starts_at=timezone.now(), place="活动室", seats=10
    )
    registration = services.register(people.li, meeting_id=meeting.pk)
    services.register(people.neighbours[1], meeting_id=meeting.pk)  # registered but never came
    services.check_in(people.staff, registration_id=registration.pk)
    now = timezone.now()
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    assert measures.participants_count(start, end, people.dong) == 3
    assert measures.participants_count(start, end, people.xi) == 0
    assert measures.points_issued(start, end, people.dong) == 5  # the attendance rule
