"""Residents without an account: track and rate a case with its number and their phone."""

import json

import pytest

from jiedao.cases import services
from jiedao.cases.models import Rating

from .conftest import ApiClient, dispatched

PHONE = "13812345678"


@pytest.fixture
def waiting_for_rating(street):
    case = dispatched(
        street,
        category="010101",
        unit="ZHZF",
        reporter_name="张三丰",
        reporter_phone=PHONE,
        address="东湖小区3号楼2单元501",
    )
    services.respond(street.users.handler, number=case.number, note="内部备注：已电话联系张三丰")
    services.add_note(street.users.handler, number=case.number, note="内部：联系环卫车队")
    services.resolve(street.users.handler, number=case.number, result="垃圾已清运，并加装一个垃圾桶")
    return case


def test_track_a_case_with_number_and_phone(street, waiting_for_rating):
    case = waiting_for_rating
    response = ApiClient().get(f"/public/cases/{case.number}", {"phone": PHONE})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "rating" and body["status_label"] == "待回访" and body["can_rate"] is True
    assert body["unit"] == "综合执法队"
    assert (body["reporter_name"], body["reporter_phone"]) == ("张*丰", "138****5678")
    assert "501" not in body["address"]
    assert [step["action"] for step in body["timeline"]] == ["create", "dispatch", "respond", "resolve"]
    assert body["timeline"][-1]["note"] == "垃圾已清运，并加装一个垃圾桶"
    assert all(step["at"].endswith("+08:00") for step in body["timeline"])
    text = json.dumps(body, ensure_ascii=False)
    # No staff names and no internal notes.
    for hidden in ("handler", "dispatcher", "operator", "内部", "张三丰"):
        assert hidden not in text


@pytest.mark.parametrize("phone", ["", "13900000000", "not-a-phone"])
def test_a_wrong_phone_finds_nothing(street, waiting_for_rating, phone):
    response = ApiClient().get(f"/public/cases/{waiting_for_rating.number}", {"phone": phone})
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"]


def test_rate_as_the_reporter(street, waiting_for_rating):
    case = waiting_for_rating
    response = ApiClient().post(
        f"/public/cases/{case.number}/rate",
        {"phone": PHONE, "resolved": True, "satisfaction": "basic", "comment": "还行"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["can_rate"] is False
    rating = Rating.objects.get(case=case)
    assert (rating.resolved, rating.satisfaction, rating.source) == (True, "basic", "resident")
    assert response.json()["timeline"][-1]["note"] == "还行"


def test_an_unsatisfied_resident_reopens_the_case(street, waiting_for_rating):
    case = waiting_for_rating
    body = (
        ApiClient()
        .post(f"/public/cases/{case.number}/rate", {"phone": PHONE, "resolved": False, "satisfaction": "unsatisfied"})
        .json()
    )
    assert body["status"] == "in_progress"
    case.refresh_from_db()
    assert case.rework_count == 1


def test_rating_with_a_wrong_phone_or_twice_is_refused(street, waiting_for_rating):
    case = waiting_for_rating
    wrong = ApiClient().post(
        f"/public/cases/{case.number}/rate", {"phone": "13900000000", "resolved": True, "satisfaction": "satisfied"}
    )
    assert wrong.status_code == 404
    assert not Rating.objects.exists()
    rate = {"phone": PHONE, "resolved": True, "satisfaction": "satisfied"}
    assert ApiClient().post(f"/public/cases/{case.number}/rate", rate).status_code == 200
    again = ApiClient().post(f"/public/cases/{case.number}/rate", rate)
    assert again.status_code == 409
    assert Rating.objects.count() == 1


def test_rating_fields_are_checked(street, waiting_for_rating):
    response = ApiClient().post(
        f"/public/cases/{waiting_for_rating.number}/rate", {"phone": PHONE, "resolved": True, "satisfaction": "so-so"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["satisfaction"]
    assert not Rating.objects.exists()


def test_guessing_phones_is_refused_after_ten_failures_and_says_when_to_come_back(street, waiting_for_rating):
    client = ApiClient()
    statuses = [
        client.get(f"/public/cases/{waiting_for_rating.number}", {"phone": f"139000000{i:02d}"}).status_code
        for i in range(11)
    ]
    assert statuses == [404] * 10 + [429]
    refused = client.get(f"/public/cases/{waiting_for_rating.number}", {"phone": PHONE})
    assert refused.status_code == 429
    assert 3000 < int(refused["Retry-After"]) <= 3600
    message = refused.json()["errors"][0]["message"]
    assert "查询次数过多" in message and "分钟后再试" in message and "即使工单编号和手机号都正确" in message


def test_the_api_documentation_works_offline(client):
    """The machines are offline: Swagger UI must come from our own static files, not a CDN."""
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/cases" in schema["paths"]
