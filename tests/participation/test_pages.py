"""The pages: residents propose, support, register, vote and see their points in large
type; staff run meetings; decisions and progress are public; every string has English."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from jiedao.participation import services
from jiedao.participation.models import Meeting, Proposal, Registration
from jiedao.participation.views import PAGE

pytestmark = pytest.mark.django_db


def _adopted(people, street):
    proposal = services.table_topic(people.staff, community=people.dong, title="东门加装座椅", body="方便老人歇脚")
    meeting = services.schedule_meeting(
        people.staff, community=people.dong, title="十一月议事会", starts_at=timezone.now(), place="活动室", seats=10
    )
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    services.decide(
        people.staff,
        proposal_id=proposal.pk,
        decision="adopt",
        answer="同意安装4张座椅",
        owner_name="刘主任",
        due=timezone.localdate() + dt.timedelta(days=20),
    )
    services.report_progress(people.staff, action_id=proposal.action.pk, progress=60, note="已采购")
    return Proposal.objects.get(pk=proposal.pk)


def test_a_resident_without_a_community_chooses_it_first(street, login):
    client = login(street.users.resident)
    page = client.get(reverse("participation:home")).content.decode()
    assert 'id="join"' in page
    client.post(reverse("participation:home"), {"community": street.communities[1].code})
    assert street.users.resident.participation.community == street.communities[1]
    assert 'id="propose-link"' in client.get(reverse("participation:home")).content.decode()


def test_a_resident_proposes_sees_duplicates_and_neighbours_support(people, login):
    client = login(people.wang)
    response = client.post(reverse("participation:propose"), {"title": "东门加装休息座椅", "body": "老人没地方歇脚"})
    proposal = Proposal.objects.get()
    assert response.url == reverse("participation:proposal", args=[proposal.pk])
    similar = client.get(reverse("participation:similar"), {"title": "东门休息座椅"}).content.decode()
    assert "东门加装休息座椅" in similar
    refused = client.post(reverse("participation:propose"), {"title": "", "body": ""})
    assert refused.status_code == 422 and "请填写标题" in refused.content.decode()
    neighbour = login(people.li)
    page = neighbour.get(reverse("participation:proposal", args=[proposal.pk])).content.decode()
    assert 'id="support"' in page
    neighbour.post(reverse("participation:proposal", args=[proposal.pk]), {"op": "support"})
    page = neighbour.get(reverse("participation:proposal", args=[proposal.pk])).content.decode()
    assert 'id="support"' not in page and "我已附议" in page
    assert Proposal.objects.get().support_count == 1


def test_elderly_mode_hides_the_optional_parts(people, login):
    client = login(people.wang)
    client.post(reverse("web:elderly"), {"on": "1", "next": "/"})
    page = client.get(reverse("participation:propose")).content.decode()
    assert 'class="elderly"' in page
    assert 'class="field optional"><label for="id_place"' in page


def test_residents_register_for_a_meeting(people, login):
    meeting = services.schedule_meeting(
        people.staff,
        community=people.dong,
        title="议事会",
        starts_at=timezone.now() + dt.timedelta(days=2),
        place="活动室",
        seats=1,
    )
    client = login(people.wang)
    client.post(reverse("participation:meetings"), {"meeting": meeting.pk})
    assert Registration.objects.filter(meeting=meeting, user=people.wang).exists()
    other = login(people.li)
    other.post(reverse("participation:meetings"), {"meeting": meeting.pk}, follow=True)
    page = other.get(reverse("participation:meetings")).content.decode()
    assert not Registration.objects.filter(user=people.li).exists()
    assert "1 / 1" in page


def test_staff_run_a_meeting_on_its_sheet(people, street, login):
    proposal = services.table_topic(people.staff, community=people.dong, title="垃圾驿站选址", body="征求意见")
    services.register(
        people.wang,
        meeting_id=services.schedule_meeting(
            people.staff, community=people.dong, title="议事会", starts_at=timezone.now(), place="活动室", seats=5
        ).pk,
    )
    meeting = Meeting.objects.get()
    client = login(people.staff)
    url = reverse("participation:meeting", args=[meeting.pk])
    client.post(url, {"op": "agenda", "proposal": proposal.pk})
    client.post(url, {"op": "checkin", "registration": Registration.objects.get().pk})
    client.post(url, {"op": "start"})
    client.post(url, {"op": "decide", "proposal": proposal.pk, "decision": "reject", "answer": "场地不足，暂不设置"})
    client.post(url, {"op": "close", "minutes": ""})
    assert Meeting.objects.get().status == "open"  # minutes are required
    client.post(url, {"op": "close", "minutes": "讨论了垃圾驿站选址，因场地不足暂不设置。"})
    assert Meeting.objects.get().status == "closed"
    assert Proposal.objects.get().status == "rejected"
    # Another unit's staff do not see this meeting; a resident may not open the sheet.
    assert login(street.users.handler).get(url).status_code == 404
    assert login(people.wang).get(url).status_code == 403


def test_decisions_and_progress_are_public(people, street, client):
    proposal = _adopted(people, street)
    page = client.get(reverse("participation:decisions")).content.decode()
    assert proposal.title in page and "60%" in page
    detail = client.get(reverse("participation:proposal", args=[proposal.pk])).content.decode()
    assert "同意安装4张座椅" in detail and "data-progress>60%" in detail
    assert 'id="support"' not in detail and 'id="progress-form"' not in detail


def test_my_points_page_shows_balance_and_entries(people, login):
    services.earn(people.staff, user=people.wang, points=12, reason="楼道清扫")
    page = login(people.wang).get(reverse("participation:points")).content.decode()
    assert "data-balance>12<" in page and "楼道清扫" in page


def test_the_vote_page_takes_a_ballot(people, login):
    projects = [
        services.create_project(people.staff, community=people.dong, title=t, cost=c)
        for t, c in [("长者食堂", 50000), ("四点半课堂", 30000)]
    ]
    round_ = services.open_vote(
        people.staff,
        community=people.dong,
        year=2027,
        budget=60000,
        max_choices=2,
        project_ids=[p.pk for p in projects],
    )
    client = login(people.wang)
    assert 'class="form ballot"' in client.get(reverse("participation:vote")).content.decode()
    client.post(reverse("participation:vote"), {"project": [projects[0].pk, projects[1].pk]})
    assert not round_.ballots.exists()  # over the budget
    client.post(reverse("participation:vote"), {"project": [projects[1].pk]})
    assert round_.ballots.count() == 1
    assert "已经投过票" in client.get(reverse("participation:vote")).content.decode()


@pytest.mark.parametrize("name", ["desk", "projects_desk", "points_desk"])
def test_staff_desks_open_for_the_committee_and_leaders_only(people, street, login, name):
    assert login(people.staff).get(reverse(f"participation:{name}")).status_code == 200
    assert login(people.leader).get(reverse(f"participation:{name}")).status_code == 200
    other_unit = login(street.users.handler).get(reverse(f"participation:{name}"))
    if name == "desk":  # staff of other units follow the public decisions
        assert other_unit.url == reverse("participation:decisions")
    else:
        assert other_unit.status_code == 403
    assert login(people.wang).get(reverse(f"participation:{name}")).status_code == 403


def test_the_api_proposes_supports_and_reads_publicly(people, client, login):
    api = login(people.wang)
    response = api.post(
        "/api/v1/participation/proposals",
        {"title": "修路灯", "body": "3号楼前路灯不亮"},
        content_type="application/json",
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    other = login(people.li)
    assert other.post(f"/api/v1/participation/proposals/{pk}/support").json()["supports"] == 1
    again = other.post(f"/api/v1/participation/proposals/{pk}/support")
    assert again.status_code == 422
    client.logout()
    public = client.get("/api/v1/participation/proposals", {"community": people.dong.code}).json()
    assert [p["title"] for p in public] == ["修路灯"]
    today = timezone.localdate()
    measures = client.get(
        "/api/v1/participation/measures",
        {"start": (today - dt.timedelta(days=1)).isoformat(), "end": (today + dt.timedelta(days=1)).isoformat()},
    ).json()
    assert measures["proposals_count"] == 1 and measures["adoption_rate"] is None
    assert measures["participants_count"] == 2


def test_the_pages_speak_english_on_request(people, login):
    client = login(people.wang)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("participation:home")).content.decode()
    assert "Propose a topic" in page
    staff = login(people.staff)
    staff.post(reverse("set_language"), {"language": "en", "next": "/"})
    desk = staff.get(reverse("participation:desk")).content.decode()
    assert "Deliberation desk" in desk and "Adoption rate" in desk and "no data" in desk.lower()


@pytest.mark.parametrize("name", ["home", "decisions"])
def test_list_pages_run_a_fixed_number_of_queries(people, street, login, name):
    client = login(people.wang)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(f"participation:{name}")).status_code == 200
        return len(ctx.captured_queries)

    _adopted(people, street)
    services.propose(people.wang, title="修路灯", body="3号楼前路灯不亮")
    before = queries()
    for i in range(3):
        _adopted(people, street)
        proposal = services.propose(people.li, title=f"议题{i}", body="内容")
        services.support(people.wang, proposal_id=proposal.pk)
    assert queries() == before


def test_the_topic_list_pages_by_key(people, login):
    for i in range(PAGE + 3):
        services.propose(people.wang, title=f"第{i}号议题", body="内容")
    client = login(people.li)
    first = client.get(reverse("participation:home")).content.decode()
    shown = re.findall(r'data-proposal="(\d+)"', first)
    cursor = re.search(r'href="\?before=(\d+)"', first).group(1)
    second = client.get(reverse("participation:home"), {"before": cursor}).content.decode()
    rest = re.findall(r'data-proposal="(\d+)"', second)
    assert len(shown) == PAGE and len(rest) == 3 and not set(shown) & set(rest)
    assert 'href="?before=' not in second


def test_a_proposal_may_carry_a_photo_and_only_a_real_one(people, login):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    client = login(people.wang)
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    refused = client.post(reverse("participation:propose"), {"title": "座椅", "body": "加座椅", "photo": fake})
    assert refused.status_code == 422 and "不是图片" in refused.content.decode()
    photo = SimpleUploadedFile("seat.png", buffer.getvalue(), content_type="image/png")
    client.post(reverse("participation:propose"), {"title": "座椅", "body": "加座椅", "photo": photo})
    proposal = Proposal.objects.get()
    assert proposal.photo.name.endswith(".png")
    assert proposal.photo.url in client.get(reverse("participation:proposal", args=[proposal.pk])).content.decode()


@pytest.mark.parametrize(
    "model",
    [
        "proposal",
        "meeting",
        "councilmember",
        "project",
        "volunteer",
        "pointrule",
        "reward",
        "account",
        "posting",
        "membership",
    ],
)
def test_the_admin_lists_open(people, street, login, model):
    services.earn(people.staff, user=people.wang, points=5, reason="楼道清扫")
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    assert login(admin).get(f"/admin/participation/{model}/").status_code == 200
