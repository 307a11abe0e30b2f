"""Limits on anonymous pages and look-ups: tracking a case by number and phone (per address, per
case number and per phone, on the page and the API alike), the public pages and API operations,
and the inventory that keeps every anonymous page and operation declaring its limits."""

import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiedao.api import api
from jiedao.cases import services
from jiedao.hall.models import Ticket
from tests import urlwalk
from tests.fuzz.test_permissions import PUBLIC

PHONE = "13712345678"
TRACK = "/portal/track/"
REFUSED = "查询次数过多"

# Public pages that carry no limit, and why.
NOT_LIMITED = {
    "set_language": "sets a cookie",
    "web:home": "a fixed page",
    "web:login": "the sign-in limits of its own",
    "web:logout": "signs out",
    "web:elderly": "sets a cookie",
    "web:portal_done": "shows the number kept in the visitor's own session",
    "ops:healthz": "the monitor's check",
    "ops:metrics": "for the monitor's address or token only",
    "open311:root": "a fixed text",
    "media": "files, each checked against its record",
    "web:manifest": "a fixed file",
    "web:service_worker": "a fixed file",
    "messaging:delivery_report": "the provider's own secret address; anything else is 404 at once",
    "hall:apply": "signed-in users only",
    "hall:book": "signed-in users only",
    "participation:propose": "signed-in residents only",
    "participation:vote": "signed-in residents only",
    "participation:survey": "signed-in residents only",
    "participation:volunteer": "signed-in residents only",
    "participation:points": "signed-in residents only",
    "participation:meetings": "signed-in residents only",
}
# API operations without a user that are limited inside (by the look-up) or by their own rules.
API_NOT_DECLARED = {
    "/api/v1/public/cases/{number}": "tracking look-up limits (cases.tracking)",
    "/api/v1/public/cases/{number}/rate": "tracking look-up limits (cases.tracking)",
    "/api/v1/sensors/readings": "a device's own token",
}


@pytest.fixture
def case(street):
    case, _created = services.submit_case(None, channel="portal", description="楼下噪音扰民", reporter_phone=PHONE)
    return case


def find(client, number, phone, address):
    return client.post(TRACK, {"step": "find", "number": number, "phone": phone}, REMOTE_ADDR=address)


def api_find(client, number, phone, address):
    return client.get(f"/api/v1/public/cases/{number}", {"phone": phone}, REMOTE_ADDR=address)


# --- tracking ------------------------------------------------------------------------------------------


def test_the_eleventh_wrong_phone_for_one_number_is_refused_whatever_the_address(client, case, settings):
    # Eleven clients behind the reverse proxy, each with its own address.
    settings.NINJA_NUM_PROXIES = 1
    for i in range(5):
        page = client.post(
            TRACK,
            {"step": "find", "number": case.number, "phone": f"1390000000{i}"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        )
        assert page.status_code == 404
    for i in range(5, 10):
        answer = client.get(
            f"/api/v1/public/cases/{case.number}", {"phone": f"1390000000{i}"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        )
        assert answer.status_code == 404
    refused = client.post(
        TRACK, {"step": "find", "number": case.number, "phone": "13900000010"}, HTTP_X_FORWARDED_FOR="198.51.100.10"
    )
    assert refused.status_code == 429
    assert 3000 < int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert REFUSED in page and "分钟后再试" in page
    assert 'name="number"' in page  # the form, with the reason above it, not an error page
    # The right phone from yet another address is refused too, on the page and in the API.
    right = client.post(
        TRACK, {"step": "find", "number": case.number, "phone": PHONE}, HTTP_X_FORWARDED_FOR="198.51.100.11"
    )
    assert right.status_code == 429 and REFUSED in right.content.decode()
    assert "噪音扰民" not in right.content.decode()
    api_right = client.get(
        f"/api/v1/public/cases/{case.number}", {"phone": PHONE}, HTTP_X_FORWARDED_FOR="198.51.100.12"
    )
    assert api_right.status_code == 429 and int(api_right["Retry-After"]) > 3000
    assert REFUSED in api_right.json()["errors"][0]["message"]


def test_a_number_that_does_not_exist_is_refused_the_same_way(client, street):
    answers = [find(client, "JD2026010199999", f"1390000000{i}", f"198.51.100.{i}") for i in range(11)]
    assert [a.status_code for a in answers] == [404] * 10 + [429]
    assert REFUSED in answers[-1].content.decode()


def test_one_phone_tried_on_ten_numbers_is_refused_on_the_eleventh(client, case):
    numbers = [f"{case.number[:-5]}{n:05d}" for n in range(2, 13)]
    answers = [api_find(client, number, PHONE, f"203.0.113.{i}") for i, number in enumerate(numbers)]
    assert [a.status_code for a in answers] == [404] * 10 + [429]
    # The phone is refused on its own case as well, until the window has moved on.
    assert find(client, case.number, PHONE, "203.0.113.99").status_code == 429


def test_one_address_is_refused_after_thirty_look_ups_across_numbers(client, case):
    for i in range(30):
        number = f"{case.number[:-5]}{i + 100:05d}"
        assert find(client, number, f"139000001{i:02d}", "192.0.2.7").status_code == 404
    refused = api_find(client, case.number, PHONE, "192.0.2.7")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert find(client, case.number, PHONE, "192.0.2.7").status_code == 429
    # Another address still finds the case.
    assert find(client, case.number, PHONE, "192.0.2.8").status_code == 200


def test_finding_the_case_does_not_use_up_the_allowance_of_wrong_phones(client, case):
    for i in range(9):
        assert find(client, case.number, f"1390000000{i}", f"198.51.100.{i}").status_code == 404
    for _ in range(5):
        found = find(client, case.number, PHONE, "198.51.100.50")
        assert found.status_code == 200 and "噪音扰民" in found.content.decode()
    assert find(client, case.number, "13900000009", "198.51.100.9").status_code == 404
    assert find(client, case.number, PHONE, "198.51.100.50").status_code == 429


def test_a_wrong_number_and_a_wrong_phone_look_the_same(client, case):
    def answer(number, phone, address):
        with CaptureQueriesContext(connection) as queries:
            response = api_find(client, number, phone, address)
        return response.status_code, response.json(), len(queries)

    wrong_phone = answer(case.number, "13900000000", "198.51.100.1")
    wrong_number = answer(f"{case.number[:-5]}99999", PHONE, "198.51.100.2")
    assert wrong_phone == wrong_number
    assert wrong_phone[0] == 404
    page_phone = find(client, case.number, "13900000001", "198.51.100.3")
    page_number = find(client, f"{case.number[:-5]}99998", PHONE, "198.51.100.4")
    assert page_phone.status_code == page_number.status_code == 404
    assert page_phone.context["find_form"].non_field_errors() == page_number.context["find_form"].non_field_errors()


def test_rating_through_the_page_counts_as_a_look_up(client, case):
    for i in range(10):
        rated = client.post(
            TRACK,
            {
                "step": "rate",
                "number": case.number,
                "phone": f"1390000000{i}",
                "resolved": "yes",
                "satisfaction": "satisfied",
            },
            REMOTE_ADDR=f"198.51.100.{i}",
        )
        assert rated.status_code == 404
    refused = client.post(
        TRACK,
        {"step": "rate", "number": case.number, "phone": PHONE, "resolved": "yes", "satisfaction": "satisfied"},
        REMOTE_ADDR="198.51.100.10",
    )
    assert refused.status_code == 429 and REFUSED in refused.content.decode()


# --- public pages and operations ----------------------------------------------------------------------


def test_a_search_page_is_refused_after_its_limit_with_a_page_that_says_when(client, street):
    for _ in range(120):
        assert client.get("/duties/", {"q": "占道"}, REMOTE_ADDR="198.51.100.30").status_code == 200
    refused = client.get("/duties/", {"q": "占道"}, REMOTE_ADDR="198.51.100.30")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert re.search(r"请求过于频繁，请 \d+ (秒|分钟)后再试", page) and "12345" in page
    assert client.get("/duties/", {"q": "占道"}, REMOTE_ADDR="198.51.100.31").status_code == 200


def test_a_fragment_while_typing_is_refused_as_a_fragment(client, street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, SEARCH_RATE="2/m")
    suggest = reverse("intelligence:portal_suggest")
    for _ in range(2):
        assert client.get(suggest, {"description": "路灯坏了"}, HTTP_HX_REQUEST="true").status_code == 200
    refused = client.get(suggest, {"description": "路灯坏了"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 429 and refused["Retry-After"]
    body = refused.content.decode()
    assert body.startswith('<p class="error"') and "请求过于频繁" in body and "<html" not in body


def test_an_anonymous_api_operation_is_refused_with_retry_after(client, street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, SEARCH_RATE="3/m")
    for _ in range(3):
        assert client.get("/api/v1/duties", {"q": "占道"}).status_code == 200
    refused = client.get("/api/v1/duties", {"q": "占道"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["errors"][0]["message"] == "请求过于频繁，请稍后再试。"


def test_queue_tickets_from_one_address_are_limited_on_the_page_and_the_api(client, street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, HALL_TICKET_RATE="2/h")
    assert client.post(reverse("hall:ticket"), {"group": "A"}).status_code == 200
    assert (
        client.post("/api/v1/hall/tickets", json.dumps({"group": "A"}), content_type="application/json").status_code
        == 201
    )
    refused = client.post(reverse("hall:ticket"), {"group": "A"})
    assert "请求过于频繁" in refused.content.decode() and "分钟后再试" in refused.content.decode()
    api_refused = client.post("/api/v1/hall/tickets", json.dumps({"group": "A"}), content_type="application/json")
    assert api_refused.status_code == 429
    assert Ticket.objects.count() == 2
    # The hall's kiosk at another address is not held up.
    assert client.post(reverse("hall:ticket"), {"group": "A"}, REMOTE_ADDR="198.51.100.40").status_code == 200
    assert Ticket.objects.count() == 3


def test_guessing_links_to_applications_is_limited(client, street):
    for i in range(20):
        page = client.get(reverse("hall:application", args=[f"BJ{i:05d}"]), {"t": "forged"})
        assert page.status_code == 404
    assert client.get(reverse("hall:application", args=["BJ00099"]), {"t": "forged"}).status_code == 429


# --- the inventory --------------------------------------------------------------------------------------


def _views():
    return {page.name: page.view for page in urlwalk.pages()}


def test_every_public_page_declares_a_real_limit():
    views = _views()
    undeclared = sorted(name for name in PUBLIC - set(NOT_LIMITED) if not getattr(views[name], "limits", ()))
    assert undeclared == []
    for name, view in views.items():
        for limit in getattr(view, "limits", ()):
            assert settings.JIEDAO.get(limit.setting), f"{name}: {limit.setting} has no rate"


def test_every_api_operation_without_a_user_declares_its_limits():
    undeclared = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                if operation.auth_param is not None:  # signed-in callers only (auth=None: anyone)
                    continue
                url = "/api/v1" + prefix.rstrip("/") + "/" + path.lstrip("/")
                if url in API_NOT_DECLARED or url == "/api/v1/auth/token":  # the sign-in limits
                    continue
                if not operation.throttle_objects:
                    undeclared.append(f"{'/'.join(operation.methods)} {url}")
    assert undeclared == []
