"""The proposals, meetings, tracked actions and projects of 多元共治 answer like every other
lifecycle, in the engine's one order: a role the permission table refuses (403, whatever it
names), an action the table does not know (422 on ``action``), a state that does not allow it
(409), a person who may not act on this record (403), a missing note (422 on the field typed
in). The system's moves are nobody's to ask for. Their tables name the roles of the permission
table, and their events are written by the one event writer."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.org import permissions
from jiedao.participation import services
from jiedao.participation.models import ActionEvent, Project
from jiedao.participation.states import ACTION, LIFECYCLES, MEETING, PROJECT, PROPOSAL

pytestmark = pytest.mark.django_db


def _meeting(people):
    return services.schedule_meeting(
        people.staff,
        community=people.dong,
        title="议事会",
        starts_at=timezone.now() + dt.timedelta(days=1),
        place="活动室",
        seats=5,
    )


def test_a_role_the_table_refuses_hears_so_before_anything_is_looked_up(people, street):
    with pytest.raises(NotAllowed):
        services.meeting_step(people.wang, meeting_id=999999, action="fly")
    with pytest.raises(NotAllowed):
        services.withdraw(street.users.operator, proposal_id=999999)


def test_an_unknown_step_is_bad_input_on_action(people):
    meeting = _meeting(people)
    with pytest.raises(ValidationFailed) as caught:
        services.meeting_step(people.staff, meeting_id=meeting.pk, action="fly")
    assert caught.value.errors[0]["field"] == "action"


def test_the_state_is_answered_before_the_person(people, street):
    other_unit = street.users.handler  # a handler, but not of 东湖's committee
    meeting = _meeting(people)
    with pytest.raises(NotAllowed):
        services.meeting_step(other_unit, meeting_id=meeting.pk, action="start")
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    with pytest.raises(InvalidTransition):  # already open: the state speaks first
        services.meeting_step(other_unit, meeting_id=meeting.pk, action="start")
    proposal = services.propose(people.wang, title="修路灯", body="3号楼前路灯不亮")
    with pytest.raises(NotAllowed):
        services.withdraw(people.li, proposal_id=proposal.pk)
    services.withdraw(people.wang, proposal_id=proposal.pk)
    with pytest.raises(InvalidTransition):
        services.withdraw(people.li, proposal_id=proposal.pk)


def test_a_missing_note_is_answered_on_the_field_typed_in(people):
    meeting = _meeting(people)
    with pytest.raises(ValidationFailed) as cancel:
        services.meeting_step(people.staff, meeting_id=meeting.pk, action="cancel", note=" ")
    assert cancel.value.errors == [{"field": "note", "message": "请说明原因。"}]
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    with pytest.raises(ValidationFailed) as close:
        services.meeting_step(people.staff, meeting_id=meeting.pk, action="close")
    assert close.value.errors[0]["field"] == "minutes"


def test_the_systems_moves_are_nobodys_to_ask_for(people):
    project = services.create_project(people.staff, community=people.dong, title="长者食堂", cost=50000)
    other = services.create_project(people.staff, community=people.dong, title="四点半课堂", cost=30000)
    services.open_vote(
        people.staff,
        community=people.dong,
        year=2027,
        budget=60000,
        max_choices=2,
        project_ids=[project.pk, other.pk],
    )
    with pytest.raises(NotAllowed):
        services.project_step(people.leader, project_id=project.pk, action="select")
    assert Project.objects.get(pk=project.pk).status == "candidate"


def test_a_vote_for_a_year_outside_the_supported_ones_is_refused_by_name(people):
    projects = [
        services.create_project(people.staff, community=people.dong, title=t, cost=c)
        for t, c in [("长者食堂", 50000), ("四点半课堂", 30000)]
    ]
    with pytest.raises(ValidationFailed) as caught:
        services.open_vote(
            people.staff,
            community=people.dong,
            year=0,
            budget=60000,
            max_choices=2,
            project_ids=[p.pk for p in projects],
        )
    assert [e["field"] for e in caught.value.errors] == ["year"]
    assert "年份超出支持的范围" in caught.value.errors[0]["message"]


def test_the_tables_name_the_roles_of_the_permission_table():
    for lifecycle in LIFECYCLES:
        for transition in lifecycle.transitions.values():
            needed = lifecycle.permissions[transition.action]
            assert transition.roles == (permissions.signed_in_roles(needed) if needed else frozenset())
    assert {t.action for t in PROPOSAL.transitions.values() if not t.who} == {"qualify", "complete"}
    assert {t.action for t in PROJECT.transitions.values() if not t.who} == {"select", "drop"}
    assert all(t.who for t in MEETING.transitions.values()) and all(t.who for t in ACTION.transitions.values())


def test_a_tracked_action_keeps_its_history(people, street):
    topic = services.table_topic(people.staff, community=people.dong, title="垃圾驿站选址", body="征求意见")
    meeting = _meeting(people)
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=topic.pk)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    due = timezone.localdate() + dt.timedelta(days=10)
    services.decide(people.staff, proposal_id=topic.pk, decision="adopt", answer="同意", owner_name="刘主任", due=due)
    action = topic.action
    services.report_progress(people.staff, action_id=action.pk, progress=40, note="已选址")
    services.report_progress(people.staff, action_id=action.pk, progress=100, evidence="驿站已建成")
    history = list(ActionEvent.objects.filter(item=action).values_list("action", "progress", "actor", "note"))
    staff = people.staff.pk
    assert history == [
        ("create", 0, staff, "刘主任"),
        ("progress", 40, staff, "已选址"),
        ("complete", 100, staff, "驿站已建成"),
    ]
    with pytest.raises(InvalidTransition):
        services.report_progress(people.staff, action_id=action.pk, progress=100, evidence="再报一次")
    event = ActionEvent.objects.filter(item=action).first()
    with pytest.raises(RuntimeError):
        event.save()
