"""The inputs that once answered a server error, each sent as it was first tried, and their
neighbours: every one now gets a clear 4xx that names the field and the rule in Chinese,
and nothing is written.

Dates, months and years are accepted in the supported years 2000–2100 (jiedao.common.params);
list cursors only in the shape the server made them; JSON bodies without lone surrogates,
NaN or numbers beyond ±(2^53 − 1)."""

import base64
import datetime as dt
import json

import pytest

from jiedao.cases.models import Case
from jiedao.workcal.models import CalendarDay, CalendarYear
from tests.emergency.conftest import devices  # noqa: F401  (the test street's sensors)

pytestmark = pytest.mark.django_db

RANGE = "2000 年至 2100 年"


def b64json(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def errors(response):
    return {(e["field"], e["message"]) for e in response.json()["errors"]}


def fields(response):
    return {e["field"] for e in response.json()["errors"]}


@pytest.fixture
def signed_in(client, street):
    def sign_in(username):
        client.force_login(getattr(street.users, username))
        return client

    return sign_in


# --- JSON bodies -------------------------------------------------------------------------------


def test_a_lone_surrogate_in_a_case_description_is_refused_naming_the_field(signed_in, in_chinese):
    client = signed_in("resident")
    response = client.post("/api/v1/cases", '{"description": "\\ud800"}', content_type="application/json")
    assert response.status_code == 422
    assert fields(response) == {"description"}
    assert "代理项" in response.json()["errors"][0]["message"]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"description": "楼道堆物\\udfff请处理", "lat": 39.905, "lng": 116.405}', "description"),
        ('{"description": "楼道堆物", "photos": ["\\ud83d"]}', "photos.0"),
        ('{"\\udc00": "x", "description": "楼道堆物"}', "body"),
    ],
)
def test_lone_surrogates_anywhere_in_a_body_are_refused(signed_in, body, field):
    response = signed_in("operator").post("/api/v1/cases", body, content_type="application/json")
    assert response.status_code == 422
    assert fields(response) == {field}
    assert not Case.objects.exists()


def test_a_surrogate_pair_is_an_ordinary_character(signed_in):
    body = '{"description": "楼下垃圾桶满了没人清运 \\ud83d\\ude00", "lat": 39.905, "lng": 116.405}'
    response = signed_in("resident").post("/api/v1/cases", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Case.objects.get().description.endswith("\U0001f600")


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", "1e400", "9007199254740992", "-99999999999999999999999999"]
)
def test_numbers_that_are_not_json_or_too_large_are_refused(signed_in, value, in_chinese):
    body = f'{{"description": "楼下垃圾桶满了没人清运", "lat": {value}, "lng": 116.405}}'
    response = signed_in("resident").post("/api/v1/cases", body, content_type="application/json")
    assert response.status_code == 422
    assert fields(response) == {"body"}
    assert "NaN" in response.json()["errors"][0]["message"]
    assert not Case.objects.exists()


def test_report_hours_of_infinity_is_refused_before_any_deadline_is_computed(signed_in, make_case):
    case = make_case()
    response = signed_in("dispatcher").post(
        f"/api/v1/cases/{case.number}/actions/whistle",
        '{"units": ["ZJ"], "report_hours": Infinity}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert not case.whistles.exists()


@pytest.mark.parametrize("text", ["堆" * (10 * 1024 * 1024 // 3), "x" * (10 * 1024 * 1024)])
def test_a_ten_megabyte_description_is_refused(signed_in, text):
    body = json.dumps({"description": text, "lat": 39.905, "lng": 116.405}, ensure_ascii=False).encode()
    response = signed_in("resident").post("/api/v1/cases", body, content_type="application/json")
    assert response.status_code == 422
    assert fields(response) == {"description"}
    assert not Case.objects.exists()


def test_invalid_utf8_in_a_json_body_is_refused(signed_in):
    response = signed_in("resident").post(
        "/api/v1/cases", b'{"description": "\xed\xa0\x80\xff"}', content_type="application/json"
    )
    assert response.status_code == 422
    assert not Case.objects.exists()


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_user_name_longer_than_any_account_is_refused_before_anyone_tries_it(client, street, path, in_chinese):
    from axes.models import AccessAttempt

    response = client.post(path, {"username": "x" * 100_000, "password": "pass12345"})
    assert response.status_code == 200
    assert "用户名不能超过 150 个字。" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_a_token_for_a_user_name_longer_than_any_account_is_refused(client, street):
    response = client.post(
        "/api/v1/auth/token", {"username": "x" * 100_000, "password": "pass12345"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert fields(response) == {"username"}


# --- list cursors --------------------------------------------------------------------------------

CRAFTED_CURSORS = {
    "a list": b64json([1]),
    "a number": b64json(5),
    "a string": b64json("x"),
    "an object": b64json({"a": 1}),
    "nested lists": b64json([[1], 2]),
    "an id that is text": b64json(["2026-01-01T00:00:00+08:00", "x"]),
    "a time that is a number": b64json([1767196800, 1]),
    "a time without a zone": b64json(["2026-01-01T00:00:00", 1]),
    "a time in year 1": b64json(["0001-01-01T00:00:00+08:00", 1]),
    "a huge int": b64json([10**400, 1]),
    "a huge id": b64json(["2026-01-01T00:00:00+08:00", 10**30]),
    "an id that is true": b64json(["2026-01-01T00:00:00+08:00", True]),
    "null and an id": b64json([None, 1]),
    "invalid base64": "!!!",
    "bytes that are not JSON": "AAAA",
    "not ASCII": "翻页",
}


@pytest.mark.parametrize("order", ["created", "due"])
@pytest.mark.parametrize("name", sorted(CRAFTED_CURSORS))
def test_a_crafted_case_list_cursor_is_refused_naming_the_cursor(signed_in, name, order, in_chinese):
    cursor = CRAFTED_CURSORS[name]
    if name == "null and an id" and order == "due":
        cursor = b64json([None])  # null is a deadline there: one value short instead
    response = signed_in("leader").get("/api/v1/cases", {"cursor": cursor, "order": order})
    assert response.status_code == 422, response.content
    assert errors(response) == {("cursor", "翻页参数无效，请从第一页重新开始。")}


def test_the_cursor_the_server_gives_still_turns_the_page(signed_in, make_case):
    for _ in range(3):
        make_case()
    client = signed_in("leader")
    for order in ("created", "due"):
        first = client.get("/api/v1/cases", {"limit": 2, "order": order}).json()
        second = client.get("/api/v1/cases", {"limit": 2, "order": order, "cursor": first["next_cursor"]}).json()
        numbers = [c["number"] for c in first["items"] + second["items"]]
        assert len(numbers) == len(set(numbers)) == 3


@pytest.mark.parametrize("name", ["nested lists", "a number", "a string", "an object", "a huge int", "invalid base64"])
def test_a_crafted_person_list_cursor_is_refused(signed_in, name):
    response = signed_in("admin").get("/api/v1/registry/persons", {"cursor": CRAFTED_CURSORS[name]})
    assert response.status_code == 422
    assert fields(response) == {"cursor"}


@pytest.mark.parametrize(
    "path, username", [("/cases/workbench/", "handler"), ("/registry/", "admin"), ("/evaluation/records/", "leader")]
)
@pytest.mark.parametrize("name", ["a number", "a huge id", "invalid base64", "not ASCII"])
def test_pages_show_a_crafted_cursor_as_a_message(signed_in, path, username, name):
    response = signed_in(username).get(path, {"cursor": CRAFTED_CURSORS[name]})
    assert response.status_code == 200
    assert "翻页参数无效" in response.content.decode()


@pytest.mark.parametrize("before", ["²", "１２", "99999999999999999999999", "-1", "0x10"])
def test_the_access_log_page_starts_from_the_top_for_a_before_it_did_not_make(client, street, before):
    admin = street.users.admin
    client.force_login(admin)
    response = client.get("/audit/access-log/", {"before": before})
    assert response.status_code == 200


# --- months, years, dates and times --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/metrics/three-rates", "/api/v1/geo/measures"])
@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1999-12", "2101-01"])
def test_a_month_outside_the_supported_years_is_refused_naming_the_range(signed_in, path, month, in_chinese):
    response = signed_in("leader").get(path, {"month": month})
    assert response.status_code == 422
    assert fields(response) == {"month"}
    assert RANGE in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026", "26-11", "二〇二六年十一月"])
def test_a_month_that_is_not_a_month_is_refused_naming_the_form(signed_in, month, in_chinese):
    response = signed_in("leader").get("/api/v1/metrics/three-rates", {"month": month})
    assert response.status_code == 422
    assert errors(response) == {("month", "月份格式应为 YYYY-MM，例如 2026-11。")}


def test_a_month_typed_with_full_width_digits_is_read(signed_in):
    response = signed_in("leader").get("/api/v1/metrics/three-rates", {"month": "２０２６-１１"})
    assert response.status_code == 200
    assert response.json()["month"] == "2026-11"


def test_measures_of_a_period_from_year_one_to_9999_are_refused_to_anyone(client, street, in_chinese):
    response = client.get("/api/v1/participation/measures", {"start": "0001-01-01", "end": "9999-12-31"})
    assert response.status_code == 422
    assert fields(response) == {"start", "end"} or fields(response) == {"start"}
    assert RANGE in response.json()["errors"][0]["message"]


def test_the_refusals_speak_english_to_those_who_chose_it(signed_in):
    client = signed_in("resident")
    response = client.get(
        "/api/v1/participation/measures", {"start": "0001-01-01", "end": "2026-11-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert errors(response) == {("start", "From: outside the supported range, which is the years 2000 to 2100.")}
    response = client.post(
        "/api/v1/cases", '{"description": "\\ud800"}', content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert errors(response) == {
        (
            "description",
            "“description” holds a character that cannot be read (an unpaired "
            "UTF-16 surrogate). Please remove it and send again.",
        )
    }


def test_a_sensor_reading_at_the_ends_of_time_is_refused(client, street, devices):  # noqa: F811 - the fixture
    from jiedao.emergency.models import Reading

    gauge = devices["WL-01"]
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00"):
        reading = {"device": gauge.device.code, "token": gauge.token, "at": at, "metric": "level", "value": 1.0}
        response = client.post("/api/v1/sensors/readings", {"readings": [reading]}, content_type="application/json")
        assert 400 <= response.status_code < 500 or response.json()["accepted"] == 0, (at, response.content)
    assert not Reading.objects.exists()


def test_measures_of_a_period_that_ends_before_it_starts_are_refused(client, street):
    response = client.get("/api/v1/participation/measures", {"start": "2026-11-18", "end": "2026-11-01"})
    assert response.status_code == 422
    assert fields(response) == {"end"}


@pytest.mark.parametrize(
    "starts_at",
    ["0001-01-01T00:00:00", "0001-01-01T00:00:00+08:00", "9999-12-31T23:30:00+08:00", "9999-12-31T23:59:59-12:00"],
)
def test_an_appointment_in_year_one_or_9999_is_refused(signed_in, street, starts_at):
    from jiedao.hall.models import Appointment, ServiceItem

    ServiceItem.objects.create(
        code="11010500100001",
        basic_code="000114011000",
        name="老年人优待证办理",
        item_type="public_service",
        group="B",
        unit=street.units.service,
        statutory_days=20,
        promised_days=5,
    )
    response = signed_in("resident").post(
        "/api/v1/hall/appointments",
        {"item_code": "11010500100001", "starts_at": starts_at},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("year", ["1000000000000", "-5", "0", "99999", "1"])
def test_emergency_measures_of_a_huge_or_negative_year_are_refused(signed_in, year, in_chinese):
    response = signed_in("leader").get("/api/v1/emergency/measures", {"year": year})
    assert response.status_code == 422
    assert fields(response) == {"year"}


def test_emergency_measures_of_a_supported_year_are_answered(signed_in):
    assert signed_in("leader").get("/api/v1/emergency/measures", {"year": 2100}).status_code == 200


@pytest.mark.parametrize(
    "path, name, value",
    [
        ("/cases/overview/", "month", "9999-12"),
        ("/cases/overview/", "month", "0001-01"),
        ("/cases/overview/", "month", "2100-12"),
        ("/grids/measures/", "month", "9999-12"),
        ("/emergency/drills/", "year", "1000000000000"),
        ("/emergency/drills/", "year", "-5"),
        ("/evaluation/rankings/", "period", "9999-12"),
        ("/evaluation/rankings/", "period", "2100-12"),
        ("/evaluation/streets/", "period", "0001-W01"),
        ("/evaluation/records/", "until", "9999-12-31"),
        ("/evaluation/records/", "since", "0001-01-01"),
        ("/evaluation/report/", "month", "9999-12"),
        ("/evaluation/innovation/", "month", "9999-12"),
        ("/evaluation/indicators/response_rate/", "period", "9999-12"),
        ("/audit/access-log/", "date_to", "9999-12-31"),
        ("/duties/stats/", "after", "9999-12-31"),
        ("/duties/stats/", "before", "0001-01-01"),
        ("/exports/cases/", "month", "9999-12"),
    ],
)
def test_pages_answer_dates_outside_the_supported_years_without_a_server_error(client, street, path, name, value):
    admin = street.users.admin
    admin.groups.add(*street.users.leader.groups.all())
    client.force_login(admin)
    response = client.get(path, {name: value})
    assert response.status_code in (200, 302), (path, response.status_code)


# --- the working calendar's admin ----------------------------------------------------------------


@pytest.fixture
def superuser_client(client, street):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def test_a_holiday_on_9999_12_31_cannot_be_entered(superuser_client, in_chinese):
    response = superuser_client.post(
        "/admin/workcal/calendarday/add/", {"date": "9999-12-31", "kind": "holiday", "name": "元旦", "notice": ""}
    )
    assert response.status_code == 200
    assert RANGE in response.content.decode()
    assert not CalendarDay.objects.exists()


def test_a_year_9999_notice_cannot_be_marked_as_entered(superuser_client):
    response = superuser_client.post("/admin/workcal/calendaryear/add/", {"year": "9999", "notice": ""})
    assert response.status_code == 200
    assert RANGE in response.content.decode()
    assert not CalendarYear.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "year=9999",
        "year=99999999999999",
        "year=²",
        "date__year=9999",
        "date__year=9999&date__month=12",
        "date__year=9999&date__month=12&date__day=31",
        "date__year=0&date__month=13",
        "date__year=x",
    ],
)
def test_a_holiday_kept_on_9999_12_31_does_not_break_the_admin_list(superuser_client, query):
    CalendarDay.objects.create(date=dt.date(9999, 12, 31), kind="holiday", name="元旦")
    response = superuser_client.get(f"/admin/workcal/calendarday/?{query}")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert "e=1" in response["Location"]  # Django's page for a filter it cannot apply
    assert superuser_client.get("/admin/workcal/calendarday/").status_code == 200
    assert superuser_client.get("/admin/").status_code == 200
