"""Read-only roles do not write: the tester's district user filed a hall application and
booked an appointment, and the evaluator registered a case. Each attack, as it was made,
is now refused with 403 and leaves nothing behind; the evaluator keeps the writes that are
its job (scores, rectification tasks and their acceptance)."""

import datetime as dt
import json

import pytest
from django.test import Client

from jiedao.cases.models import Case
from jiedao.evaluation import services as evaluation_services
from jiedao.evaluation.models import EvidenceScore, Rectification
from jiedao.hall import selectors as hall_selectors
from jiedao.hall.models import Application, Appointment
from jiedao.org import services as org_services
from tests.factories import PASSWORD, make_user
from tests.hall.conftest import hall  # noqa: F401  (the hall's catalogue, as a fixture)

ITEM = "11010500100001"
CASE = {"description": "小区门口井盖丢失，很危险", "reporter_phone": "13812345678", "address": "东湖小区南门"}


@pytest.fixture
def district(street):
    user = make_user("district", "district")
    user.district = street.district
    user.save()
    return user


@pytest.fixture
def evaluator(street):
    return make_user("evaluator", "evaluator")


def api(user):
    """A client speaking JSON to /api/v1 with the user's real token."""
    plain, _token = org_services.create_token(user.username, password=PASSWORD)
    client = Client()

    def post(path, body):
        return client.post(
            "/api/v1" + path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
        )

    return post


def messages_of(response):
    return [e["message"] for e in response.json()["errors"]]


def test_a_district_user_cannot_file_a_hall_application(hall, district, login):  # noqa: F811
    response = api(district)("/hall/applications", {"item_code": ITEM, "name": "区里的人", "phone": "13800000001"})
    assert response.status_code == 403
    assert messages_of(response) == ["您的角色不能执行此操作。"]
    page = login(district).post(f"/hall/items/{ITEM}/apply/", {"name": "区里的人", "phone": "13800000001"})
    assert page.status_code == 403
    assert Application.objects.count() == 0


def test_a_district_user_cannot_book_an_appointment(hall, district, login):  # noqa: F811
    slot = hall_selectors.free_slots()[0][0]
    response = api(district)("/hall/appointments", {"item_code": ITEM, "starts_at": slot.isoformat()})
    assert response.status_code == 403
    assert messages_of(response) == ["您没有权限预约办事。"]
    page = login(district).post(f"/hall/items/{ITEM}/book/", {"starts_at": slot.isoformat()})
    assert page.status_code == 403
    assert "您没有权限预约办事。" in page.content.decode()
    assert Appointment.objects.count() == 0
    # The item's page offers them no booking form nor online application, and says who books.
    item_page = login(district).get(f"/hall/items/{ITEM}/").content.decode()
    assert f"/hall/items/{ITEM}/book/" not in item_page and f"/hall/items/{ITEM}/apply/" not in item_page
    assert "预约和网上申请由居民用本人账号办理。" in item_page
    assert (
        f"/hall/items/{ITEM}/book/" in login(hall["street"].users.resident).get(f"/hall/items/{ITEM}/").content.decode()
    )


def test_the_refusal_names_the_action_in_the_users_language(hall, district):  # noqa: F811
    slot = hall_selectors.free_slots()[0][0]
    client = Client()
    client.force_login(district)
    client.post("/i18n/setlang/", {"language": "en"})
    page = client.post(f"/hall/items/{ITEM}/book/", {"starts_at": slot.isoformat()})
    assert page.status_code == 403 and "You may not book an appointment." in page.content.decode()


def test_the_refusal_comes_before_the_body_is_read_or_the_item_looked_up(hall, district):  # noqa: F811
    post = api(district)
    assert post("/hall/appointments", {}).status_code == 403
    assert post("/hall/appointments", {"item_code": "NOPE", "starts_at": "x"}).status_code == 403
    assert post("/hall/applications/BJ000/actions/accept", {}).status_code == 403


def test_a_resident_still_books_and_applies(hall, street):  # noqa: F811
    slot = hall_selectors.free_slots()[0][0]
    assert (
        api(street.users.resident)("/hall/appointments", {"item_code": ITEM, "starts_at": slot.isoformat()}).status_code
        == 201
    )
    materials = {str(m.pk): "provided" for m in hall["elderly"].materials.all()}
    assert (
        api(street.users.resident)(
            "/hall/applications", {"item_code": ITEM, "name": "王大妈", "materials": materials}
        ).status_code
        == 201
    )


@pytest.mark.parametrize("channel", [None, "api", "phone", "portal"])
def test_an_evaluator_cannot_register_a_case(street, evaluator, channel):
    body = CASE if channel is None else {**CASE, "channel": channel}
    response = api(evaluator)("/cases", body)
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_an_evaluator_and_a_district_user_cannot_report_on_the_portal(street, evaluator, district, login):
    for user in (evaluator, district):
        response = login(user).post(
            "/portal/", {"description": CASE["description"], "reporter_phone": CASE["reporter_phone"]}
        )
        assert response.status_code == 403
    assert Case.objects.count() == 0


def test_a_handler_registers_no_case_through_the_api(street):
    assert api(street.users.handler)("/cases", CASE).status_code == 403
    assert api(street.users.operator)("/cases", CASE).status_code == 201


def test_a_leader_steers_but_files_nothing_for_themselves(hall, street):  # noqa: F811
    post = api(street.users.leader)
    slot = hall_selectors.free_slots()[0][0]
    assert post("/hall/appointments", {"item_code": ITEM, "starts_at": slot.isoformat()}).status_code == 403
    assert post("/hall/applications", {"item_code": ITEM, "name": "领导"}).status_code == 403
    case = post("/cases", {**CASE, "channel": "phone"}).json()
    assert post(f"/cases/{case['number']}/actions/classify", {"category": "010101"}).status_code == 403
    assert post(f"/cases/{case['number']}/actions/dispatch", {}).status_code in (200, 422)


def test_the_evaluator_keeps_the_evaluation_writes(street, evaluator, login):
    client = login(evaluator)
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    client.post(
        "/evaluation/innovation/",
        {"scope": "community:11010500101", "month": month, "score": "88", "evidence": "开展楼门议事会"},
    )
    assert EvidenceScore.objects.filter(entered_by=evaluator, score=88).exists()
    client.post("/evaluation/warnings/", {"unit": "ZHZF", "title": "退单率偏高", "requirement": "梳理派单依据"})
    task = Rectification.objects.get(title="退单率偏高")
    evaluation_services.act_on_rectification(street.users.handler, number=task.number, action="accept")
    evaluation_services.act_on_rectification(
        street.users.handler, number=task.number, action="submit", evidence="已梳理"
    )
    client.post(f"/evaluation/rectifications/{task.number}/", {"action": "approve"})
    task.refresh_from_db()
    assert task.status == "closed"
    # A district user reads the same pages and writes nothing on them.
    district = make_user("district2", "district")
    assert (
        login(district)
        .post(
            "/evaluation/innovation/",
            {"scope": "community:11010500101", "month": month, "score": "1", "evidence": "abcdef"},
        )
        .status_code
        == 403
    )
