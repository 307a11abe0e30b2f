"""What a resident, a window clerk and a unit see through the API and the pages."""

import json

import pytest
from django.test import Client

from jiedao.hall import services
from jiedao.hall.models import Status

from .conftest import NOW, materials

API = "/api/v1"
APPLICANT = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}


def client_for(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client, path, body):
    return client.post(API + path, json.dumps(body), content_type="application/json")


def test_catalogue_search_and_item_with_materials(hall):
    client = client_for()
    found = client.get(API + "/hall/items", {"q": "老年"}).json()
    assert [i["name"] for i in found] == ["老年人优待证办理"]
    item = client.get(API + "/hall/items/11010500100001").json()
    assert item["promised_days"] == 5 and item["statutory_days"] == 20
    assert [(m["name"], m["core"]) for m in item["materials"]] == [
        ("居民身份证", True),
        ("户口簿", True),
        ("近期一寸免冠照片", False),
    ]
    assert client.get(API + "/hall/items/nope").status_code == 404


def test_window_acceptance_by_api_masks_the_identity_number(hall, street):
    response = post_json(
        client_for(street.users.operator),
        "/hall/applications",
        {
            "item_code": "11010500100001",
            **APPLICANT,
            "materials": {str(k): v for k, v in materials(hall["elderly"], 近期一寸免冠照片="missing").items()},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "accepted" and body["mode"] == "incomplete"
    assert body["applicant_id"] == "110***********4321"
    assert APPLICANT["id_number"] not in response.content.decode()
    assert APPLICANT["phone"] not in response.content.decode()


def test_illegal_action_is_a_409_with_a_message(hall, street):
    clerk = street.users.operator
    app = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    response = post_json(client_for(clerk), f"/hall/applications/{app.number}/actions/issue", {"delivery": "post"})
    assert response.status_code == 409
    assert "不能“出件”" in response.json()["errors"][0]["message"]


def test_an_unknown_action_is_a_422_naming_the_action_whatever_the_number(hall, street):
    clerk = client_for(street.users.operator)
    app = services.accept_at_window(
        street.users.operator,
        item_code="11010500100001",
        applicant=APPLICANT,
        materials=materials(hall["elderly"]),
        now=NOW,
    )
    for number in (app.number, "BJ000"):
        response = post_json(clerk, f"/hall/applications/{number}/actions/fly", {})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "action"
    assert app.events.count() == 1


def test_resident_applies_online_and_cannot_approve(hall, street):
    resident = client_for(street.users.resident)
    response = post_json(
        resident,
        "/hall/applications",
        {
            "item_code": "11010500100001",
            **APPLICANT,
            "materials": {str(k): v for k, v in materials(hall["elderly"]).items()},
        },
    )
    assert response.status_code == 201
    number = response.json()["number"]
    assert response.json()["status"] == Status.SUBMITTED
    assert post_json(resident, f"/hall/applications/{number}/actions/accept", {}).status_code == 403
    # Another resident does not see it.
    assert client_for(street.users.resident_other).get(API + f"/hall/applications/{number}").status_code == 404


def test_tickets_by_api(hall, street):
    taken = post_json(client_for(), "/hall/tickets", {"group": "B", "priority": True})
    assert taken.status_code == 201 and taken.json()["number"] == "B001"
    called = post_json(client_for(street.users.operator), "/hall/tickets/call", {"window": "5"})
    assert called.json()["number"] == "B001" and called.json()["window"] == "5"


def test_guide_page_and_one_time_notice_pdf(hall):
    client = client_for()
    page = client.get("/hall/?q=老年").content.decode()
    assert "老年人优待证办理" in page and "就业登记" not in page
    detail = client.get("/hall/items/11010500100001/").content.decode()
    assert "户口簿" in detail and "5个工作日" in detail
    pdf = client.get("/hall/items/11010500100001/notice.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert b"/FontFile" in pdf.content  # the Chinese font is embedded, not left to the reader
    assert set("一次性告知单户口簿老年人优待证") <= _mapped_characters(pdf.content)


def _mapped_characters(data):
    """Every character the PDF's embedded fonts map to Unicode (their ToUnicode tables)."""
    import re
    import zlib

    found = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            plain = zlib.decompress(stream)
        except zlib.error:
            plain = stream
        if b"begincmap" not in plain:
            continue
        for uni in re.findall(rb"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4})>", plain):
            found.add(chr(int(uni, 16)))
    return found


def test_application_page_masks_applicant_and_records_the_rating(hall, street):
    clerk = street.users.operator
    app = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    services.approve(street.users.leader, number=app.number, now=NOW)
    services.issue(clerk, number=app.number, delivery="on_the_spot", now=NOW)
    client = client_for(clerk)
    page = client.get(f"/hall/applications/{app.number}/").content.decode()
    assert "110***********4321" in page and APPLICANT["id_number"] not in page
    assert "赵*" in page
    client.post(f"/hall/applications/{app.number}/", {"action": "rate", "level": "5"})
    page = client.get(f"/hall/applications/{app.number}/").content.decode()
    assert "非常满意" in page


def test_window_page_calls_a_ticket_and_the_screen_shows_it(hall, street):
    services.take_ticket("A")
    clerk = client_for(street.users.operator)
    clerk.post("/hall/window/", {"do": "call", "window": "2"})
    assert "A001" in clerk.get("/hall/window/").content.decode()
    screen = client_for().get("/hall/screen/").content.decode()
    assert "A001" in screen and 'http-equiv="refresh"' in screen


@pytest.mark.parametrize("path", ["/hall/window/", "/hall/approvals/", "/hall/measures/", "/hall/rectifications/"])
def test_staff_pages_are_closed_to_residents(hall, street, path):
    assert client_for(street.users.resident).get(path).status_code == 403


def test_unit_queue_lists_only_its_own_applications(hall, street):
    clerk = street.users.operator
    mine = services.accept_at_window(
        clerk, item_code="11010500100003", applicant=APPLICANT, materials=materials(hall["work"]), now=NOW
    )
    other = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    page = client_for(street.users.handler_housing).get("/hall/approvals/").content.decode()
    assert mine.number in page and other.number not in page


def test_measures_page_shows_targets(hall, street):
    page = client_for(street.users.leader).get("/hall/measures/").content.decode()
    assert "最多跑一次率" in page and "≥ 95.0%" in page


def test_elderly_mode_on_the_guide(hall):
    client = client_for()
    client.post("/elderly/", {"on": "1", "next": "/hall/"})
    assert 'class="elderly' in client.get("/hall/").content.decode()


def test_resident_applies_on_the_page_and_finds_it_under_my_applications(hall, street):
    client = client_for(street.users.resident)
    elderly = hall["elderly"]
    data = {
        "name": "王大妈",
        "id_number": "110105195203031111",
        "phone": "13800138000",
        **{f"material_{m.pk}": "provided" for m in elderly.materials.all()},
    }
    response = client.post(f"/hall/items/{elderly.code}/apply/", data, follow=True)
    assert "网上申请待受理" in response.content.decode()
    assert elderly.name in client.get("/hall/mine/").content.decode()


def test_pages_with_a_year_of_data_in_english(street):
    from django.utils import timezone

    from jiedao.hall.demo import build_hall
    from jiedao.hall.models import Application, Rectification

    units = {u.code: u for u in vars(street.units).values()}
    users = {"operator": street.users.operator, "leader": street.users.leader, "resident": street.users.resident}
    build_hall(street.street, units, users, timezone.now(), days=60)
    client = client_for(street.users.admin)
    client.post("/i18n/setlang/", {"language": "en", "next": "/hall/"})
    app = Application.objects.filter(status="issued").first()
    pages = [
        "/hall/",
        "/hall/window/",
        "/hall/approvals/",
        "/hall/rectifications/",
        "/hall/measures/",
        "/hall/ticket/",
        "/hall/screen/",
        "/hall/import/",
        f"/hall/applications/{app.number}/",
    ]
    if Rectification.objects.exists():
        pages.append(f"/hall/applications/{Rectification.objects.first().rating.application.number}/")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
    assert "At most one visit" in client.get("/hall/measures/").content.decode()


def test_bundle_accepted_on_the_window_page_shows_its_applications(hall, street):
    client = client_for(street.users.operator)
    data = {
        "bundle": "1",
        "name": "赵强",
        "id_number": "110105196503034321",
        **{f"material_{m.pk}": "provided" for i in (hall["elderly"], hall["work"]) for m in i.materials.all()},
    }
    page = client.post("/hall/window/accept/YJS-01/?bundle=1", data, follow=True).content.decode()
    assert "我要退休一件事" in page and "公共服务部" in page and "区住建委派驻组" in page
