"""Each action of the pages is one form: refused, the page comes back with what was typed and a
message that names the field in Chinese; an action the page does not have is not found."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from jiedao.participation import services
from jiedao.participation.models import Meeting, Proposal

pytestmark = pytest.mark.django_db


def _meeting_in_session(people):
    topic = services.table_topic(people.staff, community=people.dong, title="垃圾驿站选址", body="征求意见")
    meeting = services.schedule_meeting(
        people.staff, community=people.dong, title="议事会", starts_at=timezone.now(), place="活动室", seats=5
    )
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=topic.pk)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    return topic, meeting


def test_a_refused_meeting_keeps_what_was_typed_and_names_the_fields(people, login):
    client = login(people.staff)
    response = client.post(
        reverse("participation:desk"),
        {"op": "meeting", "community": people.dong.code, "title": "十一月议事会", "seats": "很多", "place": ""},
    )
    page = response.content.decode()
    assert response.status_code == 422 and not Meeting.objects.exists()
    assert "居民席位应为 1 到 1000。" in page and "请填写地点。" in page
    assert 'value="十一月议事会"' in page and 'value="很多"' in page


def test_a_start_time_that_is_not_a_time_is_refused_by_name(people, login):
    response = login(people.staff).post(
        reverse("participation:points_desk"),
        {"op": "activity", "title": "楼道清扫", "starts_at": "明天上午", "capacity": "10", "points_per_hour": "5"},
    )
    page = response.content.decode()
    assert response.status_code == 422 and "开始时间格式应为日期和时间" in page
    assert 'value="明天上午"' in page and 'value="楼道清扫"' in page


def test_a_decision_without_an_answer_keeps_the_arrangements_typed_for_that_topic(people, login):
    topic, meeting = _meeting_in_session(people)
    response = login(people.staff).post(
        reverse("participation:meeting", args=[meeting.pk]),
        {"op": "decide", "proposal": topic.pk, "decision": "adopt", "answer": "", "owner_name": "刘主任", "due": ""},
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "请填写公开答复。" in page and "完成时限格式应为 YYYY-MM-DD" in page
    assert 'value="刘主任"' in page
    assert Proposal.objects.get(pk=topic.pk).status == "scheduled"


def test_a_transfer_to_an_unknown_account_keeps_the_points_typed(people, login):
    services.earn(people.staff, user=people.wang, points=30, reason="楼道清扫")
    response = login(people.wang).post(
        reverse("participation:points"), {"to": "nobody", "points": "12", "reason": "谢谢帮忙"}
    )
    page = response.content.decode()
    assert response.status_code == 422 and "没有这个居民账号。" in page
    assert 'value="12"' in page and 'value="谢谢帮忙"' in page


def test_hours_that_are_not_a_number_are_refused_on_their_row(people, login):
    activity = services.create_activity(people.staff, community=people.dong, title="楼道清扫", starts_at=timezone.now())
    signup = services.sign_up(people.wang, activity_id=activity.pk)
    services.check_in_volunteer(people.staff, signup_id=signup.pk)
    response = login(people.staff).post(
        reverse("participation:points_desk"), {"op": "verify", "signup": signup.pk, "hours": "两个半", "bank": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 422 and "时长应为数字。" in page
    assert 'value="两个半"' in page and '<option value="1" selected>' in page


def test_a_survey_answer_not_offered_is_refused_and_the_written_answer_kept(people, login):
    survey = services.create_survey(
        people.staff,
        community=people.dong,
        title="2027年民生需求调查",
        questions=[("您最需要的服务", ["老年助餐", "儿童托管"]), ("其他建议", [])],
    )
    choice, free = survey.questions.all()
    response = login(people.li).post(
        reverse("participation:survey", args=[survey.pk]), {f"q{choice.pk}": "不在选项里", f"q{free.pk}": "多办活动"}
    )
    page = response.content.decode()
    assert response.status_code == 422 and "请从选项中选择。" in page
    assert ">多办活动</textarea>" in page
    assert not survey.respondents.exists()


def test_completing_without_evidence_comes_back_to_the_proposal_with_the_note_kept(people, login):
    topic, _meeting = _meeting_in_session(people)
    due = timezone.localdate() + dt.timedelta(days=20)
    services.decide(people.staff, proposal_id=topic.pk, decision="adopt", answer="同意", owner_name="刘主任", due=due)
    action = Proposal.objects.get(pk=topic.pk).action
    response = login(people.staff).post(
        reverse("participation:action_progress", args=[action.pk]), {"progress": "100", "note": "座椅已安装"}
    )
    page = response.content.decode()
    assert response.status_code == 422 and "完成时请填写完成情况（完成证明）。" in page
    assert 'id="progress-form"' in page and 'value="座椅已安装"' in page and 'value="100"' in page
    action.refresh_from_db()
    assert action.progress == 0 and action.status == "ongoing"


def test_refused_by_the_state_the_page_says_so_with_its_answer(people, login):
    _topic, meeting = _meeting_in_session(people)
    response = login(people.staff).post(
        reverse("participation:meeting", args=[meeting.pk]), {"op": "cancel", "note": "下雨"}
    )
    assert response.status_code == 409 and "不能“取消”" in response.content.decode()
    assert Meeting.objects.get(pk=meeting.pk).status == "open"


@pytest.mark.parametrize("page", ["desk", "projects_desk", "points_desk"])
def test_an_action_a_desk_does_not_have_is_not_found(people, login, page):
    assert login(people.staff).post(reverse(f"participation:{page}"), {"op": "fly"}).status_code == 404


def test_the_projects_desk_keeps_a_refused_project_and_a_refused_count_of_residents_served(people, login):
    need = services.add_need(people.staff, community=people.dong, title="老年助餐", demand=30)
    client = login(people.staff)
    response = client.post(
        reverse("participation:projects_desk"),
        {"op": "project", "title": "长者食堂", "cost": "六万", "need": [need.pk]},
    )
    page = response.content.decode()
    assert response.status_code == 422 and "预算应为正整数（元）。" in page
    assert 'value="长者食堂"' in page and f'value="{need.pk}" checked' in page
    projects = [
        services.create_project(people.staff, community=people.dong, title=t, cost=c)
        for t, c in [("长者食堂", 50000), ("四点半课堂", 30000)]
    ]
    round_ = services.open_vote(
        people.staff,
        community=people.dong,
        year=2027,
        budget=90000,
        max_choices=2,
        project_ids=[p.pk for p in projects],
    )
    services.cast_ballot(people.wang, round_id=round_.pk, project_ids=[projects[0].pk])
    services.close_vote(people.staff, round_id=round_.pk)
    services.project_step(people.staff, project_id=projects[0].pk, action="deliver")
    response = client.post(
        reverse("participation:projects_desk"), {"op": "serve", "project": projects[0].pk, "served": "0"}
    )
    page = response.content.decode()
    assert response.status_code == 422 and "服务人次应为正整数。" in page and 'value="0"' in page
