"""The participation API: decisions, progress, ratings, registrations, ballots and points,
with the same error bodies as the rest of the API."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.participation import services

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_staff_decide_and_report_progress_and_residents_rate(people, street, login):
    proposal = services.table_topic(people.staff, community=people.dong, title="垃圾驿站选址", body="征求意见")
    meeting = services.schedule_meeting(
        people.staff, community=people.dong, title="议事会", starts_at=timezone.now(), place="活动室", seats=5
    )
    resident = login(people.li)
    assert resident.post(f"/api/v1/participation/meetings/{meeting.pk}/registrations").status_code == 201
    assert resident.post(f"/api/v1/participation/meetings/{meeting.pk}/registrations").status_code == 422
    services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=proposal.pk)
    staff = login(people.staff)
    early = staff.post(
        f"/api/v1/participation/proposals/{proposal.pk}/decision",
        {"decision": "adopt", "answer": "同意"},
        content_type=JSON,
    )
    assert early.status_code == 409  # the meeting is not in session
    services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    due = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    body = {
        "decision": "adopt",
        "answer": "同意设在西门",
        "owner_name": "刘主任",
        "owner_unit": "JWH01",
        "due": due,
        "milestones": [["选址公示", due]],
    }
    decided = staff.post(f"/api/v1/participation/proposals/{proposal.pk}/decision", body, content_type=JSON)
    assert decided.status_code == 200
    assert decided.json()["status"] == "adopted" and decided.json()["action"]["owner"] == "刘主任"
    missing = staff.post(
        f"/api/v1/participation/proposals/{proposal.pk}/progress", {"progress": 100}, content_type=JSON
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "evidence"
    done = staff.post(
        f"/api/v1/participation/proposals/{proposal.pk}/progress",
        {"progress": 100, "evidence": "驿站已建成"},
        content_type=JSON,
    )
    assert done.json()["status"] == "completed" and done.json()["action"]["progress"] == 100
    resident = login(people.li)
    assert (
        resident.post(
            f"/api/v1/participation/proposals/{proposal.pk}/progress", {"progress": 100}, content_type=JSON
        ).status_code
        == 403
    )
    rated = resident.post(f"/api/v1/participation/proposals/{proposal.pk}/rating", {"score": 4}, content_type=JSON)
    assert rated.status_code == 201 and rated.json() == {"count": 1, "average": 4.0}
    assert (
        resident.post(
            f"/api/v1/participation/proposals/{proposal.pk}/rating", {"score": 9}, content_type=JSON
        ).status_code
        == 422
    )


def test_ballots_and_points_through_the_api(people, login):
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
    url = f"/api/v1/participation/votes/{round_.pk}/ballots"
    over = client.post(url, {"projects": [p.pk for p in projects]}, content_type=JSON)
    assert over.status_code == 422 and "超过总预算" in over.json()["errors"][0]["message"]
    assert client.post(url, {"projects": [projects[1].pk]}, content_type=JSON).json()["projects"] == [projects[1].pk]
    services.earn(people.staff, user=people.wang, points=30, reason="楼道清扫")
    gift = client.post(
        "/api/v1/participation/points/transfers", {"to": people.li.username, "points": 10}, content_type=JSON
    )
    assert gift.status_code == 201 and gift.json()["balance"] == 20
    too_much = client.post(
        "/api/v1/participation/points/transfers", {"to": people.li.username, "points": 99}, content_type=JSON
    )
    assert too_much.status_code == 422
    mine = login(people.li).get("/api/v1/participation/points/me").json()
    assert mine["balance"] == 10 and mine["entries"][0]["amount"] == 10


def test_a_transfer_sent_again_with_its_key_is_posted_once(people, login):
    services.earn(people.staff, user=people.wang, points=30, reason="楼道清扫")
    client = login(people.wang)
    for _attempt in range(2):  # the first answer was lost: the app sends it again
        gift = client.post(
            "/api/v1/participation/points/transfers",
            {"to": people.li.username, "points": 10},
            content_type=JSON,
            HTTP_IDEMPOTENCY_KEY="gift-1",
        )
        assert gift.status_code == 201 and gift.json()["balance"] == 20
    other = client.post(
        "/api/v1/participation/points/transfers",
        {"to": people.li.username, "points": 5},
        content_type=JSON,
        HTTP_IDEMPOTENCY_KEY="gift-2",
    )
    assert other.json()["balance"] == 15
    assert login(people.li).get("/api/v1/participation/points/me").json()["balance"] == 15


def test_writes_need_a_signed_in_resident(people, client):
    assert (
        client.post("/api/v1/participation/proposals", {"title": "t", "body": "b"}, content_type=JSON).status_code
        == 401
    )
    assert client.get("/api/v1/participation/points/me").status_code == 401
