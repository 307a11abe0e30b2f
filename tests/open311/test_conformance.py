"""Open311 GeoReport v2, method by method, in both formats, as the specification
describes it: the discovery document, services, service definitions, POST requests,
tokens, GET requests with their filters, GET a request, the errors and their HTTP
codes; and the servicerequestupdates extension."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.cases.models import Case, Channel
from jiedao.open311.models import ServiceAttribute

from .conftest import BASE, errors_of, items_of, json_of, xml_of

FORMATS = ["xml", "json"]
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)$")


@pytest.fixture
def location_type(street):
    """The lamp service asks where the lamp is (a single-choice attribute)."""
    return ServiceAttribute.objects.create(
        category=street.categories.lamps,
        code="location_type",
        description="路灯在什么位置？",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values_text="road=道路\nestate=小区内\npark=公园",
    )


def post_request(client, plain, fmt="json", **fields):
    data = {
        "api_key": plain,
        "service_code": "010101",
        "lat": "39.905",
        "long": "116.405",
        "description": "垃圾桶满了没人清运",
        "phone": "13812345678",
        "first_name": "三",
        "last_name": "张",
        "email": "zhang@example.cn",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data)


# --- discovery ---------------------------------------------------------------------------


def test_discovery_in_xml_names_the_endpoint_and_both_formats(client, street):
    root = xml_of(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    assert ISO_WITH_OFFSET.match(root.findtext("changeset"))
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"  # clients append "/services.xml"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert "示范街道" in root.findtext("contact")


def test_discovery_in_json(client, street):
    data = json_of(client.get("/open311/discovery.json"))
    assert set(data) >= {"changeset", "contact", "key_service", "endpoints"}
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]


# --- services and definitions -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_leaf_categories_grouped_by_top_category(client, street, location_type, fmt):
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    services = items_of(response, fmt, "service")
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"010101", "010102", "010201", "020101"}  # leaves only
    lamp = by_code["010102"]
    assert lamp["service_name"] == "城市公共设施"
    assert lamp["group"] == "城乡建设"
    assert lamp["type"] == "realtime"
    assert str(lamp["metadata"]).lower() == "true"  # it has an attribute
    assert str(by_code["010101"]["metadata"]).lower() == "false"
    assert by_code["020101"]["group"] == "民政"
    assert "5 个工作日" in lamp["description"]


def test_an_inactive_category_is_not_a_service(client, street):
    street.categories.elderly.active = False
    street.categories.elderly.save()
    codes = {s["service_code"] for s in json_of(client.get(f"{BASE}/services.json"))}
    assert "020101" not in codes


def test_service_definition_in_xml_lists_the_attribute_and_its_values(client, street, location_type):
    root = xml_of(client.get(f"{BASE}/services/010102.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "010102"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("code") == "location_type"
    assert attribute.findtext("datatype") == "singlevaluelist"
    assert attribute.findtext("required") == "true"
    assert attribute.findtext("variable") == "true"
    assert attribute.findtext("order") == "1"
    assert attribute.findtext("description") == "路灯在什么位置？"
    assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [
        ("road", "道路"),
        ("estate", "小区内"),
        ("park", "公园"),
    ]


def test_service_definition_in_json(client, street, location_type):
    data = json_of(client.get(f"{BASE}/services/010102.json"))
    assert data["service_code"] == "010102"
    assert data["attributes"][0]["values"][1] == {"key": "estate", "name": "小区内"}
    assert data["attributes"][0]["required"] is True


def test_a_service_without_attributes_has_an_empty_list(client, street):
    assert json_of(client.get(f"{BASE}/services/010101.json")) == {"service_code": "010101", "attributes": []}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["999999", "0101"])  # unknown, and a category that is not a leaf
def test_unknown_service_definition_is_404(client, street, fmt, code):
    response = client.get(f"{BASE}/services/{code}.{fmt}")
    assert response.status_code == 404
    [(status, description)] = errors_of(response, fmt)
    assert status == 404 and code in description


# --- POST requests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_request_creates_a_case_on_the_api_channel(client, key, fmt):
    _key, plain = key
    response = post_request(client, plain, fmt, account_id="acc-7")
    assert response.status_code == 201
    [item] = items_of(response, fmt)
    case = Case.objects.get(number=item["service_request_id"])
    assert case.channel == Channel.API
    assert case.category.code == "010101"
    assert case.reporter_phone == "13812345678"
    assert case.reporter_name == "张三"
    assert case.grid.code == "1101050010101"  # located from lat/long
    assert item["token"] == case.open311.token
    assert item["account_id"] == "acc-7"
    assert "小时内响应" in item["service_notice"]
    assert case.open311.email == "zhang@example.cn"
    assert case.created_by.display_name.endswith("市级12345平台")


def test_post_request_with_an_address_only(client, key):
    response = post_request(client, key[1], lat="", long="", address_string="东湖小区3号楼东侧")
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.address == "东湖小区3号楼东侧" and case.lat is None


def test_post_request_records_attributes_in_the_description(client, key, location_type):
    response = post_request(client, key[1], service_code="010102", **{"attribute[location_type]": "estate"})
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert "【路灯在什么位置？】小区内" in case.description
    assert case.open311.attributes == {"location_type": "estate"}


def test_post_request_with_auto_dispatch_key_is_dispatched_by_the_rules(client, street):
    from jiedao.open311.services import create_key

    _key, plain = create_key("自动派单客户端", auto_dispatch=True)
    response = post_request(client, plain)
    item = response.json()[0]
    case = Case.objects.get(number=item["service_request_id"])
    assert case.status == "dispatched"
    assert case.unit == street.units.committee1  # the community rule for sanitation
    assert street.units.committee1.name in item["service_notice"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("api_key", [None, "", "o311_not-a-key"])
def test_post_request_without_a_valid_key_is_403(client, street, fmt, api_key):
    response = post_request(client, api_key, fmt)
    assert response.status_code == 403
    [(status, _description)] = errors_of(response, fmt)
    assert status == 403
    assert not Case.objects.exists()


def test_a_revoked_key_is_refused(client, key):
    from jiedao.open311.services import revoke_key

    revoke_key(key[0].name)
    assert post_request(client, key[1]).status_code == 403


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields, field_named",
    [
        ({"service_code": ""}, "service_code"),
        ({"lat": "", "long": ""}, "lat"),
        ({"lat": "north"}, "lat"),
        ({"long": None}, "long"),
        ({"email": "not-an-email"}, "email"),
        ({"media_url": "ftp://example.cn/a.jpg"}, "media_url"),
        ({"phone": "12345"}, "phone"),
        ({"description": "字" * 2001}, "description"),
    ],
)
def test_post_request_with_bad_parameters_is_400(client, key, fmt, fields, field_named):
    response = post_request(client, key[1], fmt, **fields)
    assert response.status_code == 400
    errors = errors_of(response, fmt)
    assert all(code == 400 for code, _d in errors)
    assert any(field_named in description for _c, description in errors)
    assert not Case.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_request_for_an_unknown_service_is_404(client, key, fmt):
    response = post_request(client, key[1], fmt, service_code="999999")
    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


@pytest.mark.parametrize(
    "attribute, message",
    [
        ({}, "location_type"),
        ({"attribute[location_type]": "roof"}, "roof"),
    ],
)
def test_post_request_checks_attributes_against_the_definition(client, key, location_type, attribute, message):
    response = post_request(client, key[1], service_code="010102", **attribute)
    assert response.status_code == 400
    assert message in response.json()[0]["description"]


def test_empty_parameters_count_as_absent(client, key):
    # An empty optional field is not an invalid value.
    response = post_request(client, key[1], email="", media_url="", account_id="", phone="")
    assert response.status_code == 201


# --- tokens -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_answers_the_request_id(client, key, fmt):
    item = post_request(client, key[1]).json()[0]
    response = client.get(f"{BASE}/tokens/{item['token']}.{fmt}")
    assert response.status_code == 200
    assert items_of(response, fmt) == [{"service_request_id": item["service_request_id"], "token": item["token"]}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_token_is_404(client, street, fmt):
    response = client.get(f"{BASE}/tokens/nope.{fmt}")
    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


# --- GET requests ------------------------------------------------------------------------------------------


def make_case(street, category="010101", at=None, **values):
    defaults = {
        "channel": "phone",
        "description": "路灯坏了，联系我 13912345678",
        "reporter_name": "李四",
        "reporter_phone": "13812345678",
        "address": "东湖小区3号楼2单元401",
        "lat": 39.905,
        "lng": 116.405,
        "category_code": category,
    }
    defaults.update(values)
    case, _created = case_services.submit_case(street.users.operator, at=at, **defaults)
    return case


def close_case(street, case):
    case_services.dispatch(street.users.dispatcher, number=case.number)
    handler = {
        "ZHZF": street.users.handler,
        "JWH01": street.users.handler_committee,
        "ZJ": street.users.handler_housing,
    }[Case.objects.get(pk=case.pk).unit.code]
    case_services.respond(handler, number=case.number)
    case_services.resolve(handler, number=case.number, result="已清运")
    return case_services.rate(street.users.operator, number=case.number, resolved=True, satisfaction="satisfied")


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_shows_public_fields_only(client, street, fmt):
    case = make_case(street)
    response = client.get(f"{BASE}/requests.{fmt}")
    assert response.status_code == 200
    [item] = items_of(response, fmt)
    assert item["service_request_id"] == case.number
    assert item["status"] == "open"
    assert item["service_code"] == "010101" and item["service_name"] == "环境卫生"
    assert ISO_WITH_OFFSET.match(item["requested_datetime"])
    assert item["requested_datetime"].endswith("+08:00")
    assert float(item["lat"]) == 39.905 and float(item["long"]) == 116.405
    body = response.content.decode()
    # Never the reporter: no name, no phone (not even typed into the text), no house number.
    for secret in ("李四", "13812345678", "13912345678", "2单元401"):
        assert secret not in body
    assert "139****5678" in item["description"]
    assert item["address"].startswith("东湖小区3号楼")
    assert not {"email", "phone", "first_name", "last_name"} & set(item)


def test_a_dispatched_case_names_the_agency_and_the_expected_time(client, street):
    case = make_case(street)
    case = case_services.dispatch(street.users.dispatcher, number=case.number)
    [item] = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert item["agency_responsible"] == case.unit.name
    assert item["expected_datetime"] == timezone.localtime(case.completion_due).isoformat(timespec="seconds")
    assert ISO_WITH_OFFSET.match(item["expected_datetime"])
    assert item["status_notes"] == "待响应"


def test_status_filter_takes_open_and_closed_as_a_comma_list(client, street):
    open_case = make_case(street)
    closed = close_case(street, make_case(street, description="第二件"))
    ids = lambda params: {r["service_request_id"] for r in client.get(f"{BASE}/requests.json", params).json()}
    assert ids({"status": "open"}) == {open_case.number}
    assert ids({"status": "closed"}) == {closed.number}
    assert ids({"status": "open,closed"}) == {open_case.number, closed.number}
    assert ids({"status": ""}) == {open_case.number, closed.number}  # empty = absent


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"start_date": "last tuesday"},
        {"end_date": "2026-13-01"},
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},  # > 90 days
        {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},  # end before start
    ],
)
def test_bad_filters_are_400(client, street, fmt, params):
    response = client.get(f"{BASE}/requests.{fmt}", params)
    assert response.status_code == 400
    assert errors_of(response, fmt)[0][0] == 400


def test_service_code_filter_takes_a_comma_list(client, street):
    a = make_case(street, "010101")
    b = make_case(street, "010102")
    make_case(street, "020101")
    rows = client.get(f"{BASE}/requests.json", {"service_code": "010101,010102"}).json()
    assert {r["service_request_id"] for r in rows} == {a.number, b.number}


def test_dates_filter_on_the_requested_time_with_offsets(client, street):
    now = timezone.now()
    old = make_case(street, at=now - dt.timedelta(days=40))
    new = make_case(street, at=now - dt.timedelta(days=2))
    start = (now - dt.timedelta(days=10)).astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()
    rows = client.get(f"{BASE}/requests.json", {"start_date": start}).json()
    assert [r["service_request_id"] for r in rows] == [new.number]
    end = (now - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = client.get(f"{BASE}/requests.json", {"end_date": end}).json()
    assert [r["service_request_id"] for r in rows] == [old.number]


def test_without_dates_only_the_last_90_days_are_listed(client, street):
    now = timezone.now()
    recent = make_case(street, at=now - dt.timedelta(days=89))
    make_case(street, at=now - dt.timedelta(days=91))
    rows = client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in rows] == [recent.number]


def test_service_request_id_list_ignores_the_other_filters(client, street):
    now = timezone.now()
    old = make_case(street, at=now - dt.timedelta(days=200))
    other = make_case(street, "010102")
    rows = client.get(
        f"{BASE}/requests.json",
        {"service_request_id": f"{old.number}, {other.number}", "service_code": "020101", "status": "closed"},
    ).json()
    assert {r["service_request_id"] for r in rows} == {old.number, other.number}


def test_requests_come_newest_first_in_pages_of_50_or_as_asked_up_to_200(client, street):
    now = timezone.now()
    Case.objects.bulk_create(
        [
            Case(number=f"T{i:06d}", channel="phone", description="x", created_at=now - dt.timedelta(minutes=i))
            for i in range(1001)
        ]
    )
    first = client.get(f"{BASE}/requests.json")
    assert [r["service_request_id"] for r in first.json()] == [f"T{i:06d}" for i in range(50)]
    assert first["Link"] == f'<http://testserver{BASE}/requests.json?page=2>; rel="next"'
    pages = [client.get(f"{BASE}/requests.json", {"page": page, "page_size": 200}) for page in range(1, 7)]
    ids = [r["service_request_id"] for page in pages for r in page.json()]
    assert ids == [f"T{i:06d}" for i in range(1001)]
    assert "Link" in pages[4] and "Link" not in pages[5]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params, named",
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "二"}, "page"),
        ({"page": "9" * 5000}, "page"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1.5"}, "page_size"),
    ],
)
def test_bad_paging_is_400_naming_the_parameter(client, street, fmt, params, named):
    response = client.get(f"{BASE}/requests.{fmt}", params)
    assert response.status_code == 400
    [(code, description)] = errors_of(response, fmt)
    assert code == 400 and description.startswith(named + " ")


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request(client, street, fmt):
    case = make_case(street)
    response = client.get(f"{BASE}/requests/{case.number}.{fmt}")
    assert response.status_code == 200
    [item] = items_of(response, fmt)
    assert item["service_request_id"] == case.number


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request_is_404(client, street, fmt):
    response = client.get(f"{BASE}/requests/JD2026010100001.{fmt}")
    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


def test_a_closed_case_maps_to_closed(client, street):
    case = close_case(street, make_case(street))
    [item] = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert item["status"] == "closed"
    assert item["status_notes"] == "已结案"


# --- cross-cutting rules ------------------------------------------------------------------------------------


def test_unsupported_format_is_400_in_xml(client, street):
    response = client.get(f"{BASE}/services.csv")
    assert response.status_code == 400
    assert errors_of(response, "xml")[0][0] == 400


@pytest.mark.parametrize("path", ["services.json", "requests/JD1.json", "tokens/abc.json"])
def test_a_method_the_resource_does_not_have_is_405(client, street, path):
    response = client.post(f"{BASE}/{path}", {})
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_jurisdiction_is_404_and_ours_is_accepted(client, street, fmt):
    assert client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "110105001"}).status_code == 200
    response = client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "elsewhere"})
    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


def test_error_descriptions_follow_the_language_asked_for(client, street):
    response = client.get(f"{BASE}/services/999999.json", HTTP_ACCEPT_LANGUAGE="en")
    assert "999999" in response.json()[0]["description"]
    assert "不存在" not in response.json()[0]["description"]


# --- servicerequestupdates (mySociety extension) ---------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_list_the_public_steps_with_extended_statuses(client, street, fmt):
    case = close_case(street, make_case(street))
    response = client.get(f"{BASE}/servicerequestupdates.{fmt}")
    assert response.status_code == 200
    updates = items_of(response, fmt, "request_update")
    assert [u["status"] for u in updates] == ["action_scheduled", "in_progress", "fixed", "closed"]
    assert all(u["service_request_id"] == case.number for u in updates)
    assert all(ISO_WITH_OFFSET.match(u["updated_datetime"]) for u in updates)
    assert updates[0]["description"].startswith("派单")
    assert "已清运" in updates[2]["description"]
    assert len({u["update_id"] for u in updates}) == 4


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_update_is_recorded_on_the_case_and_listed(client, street, key, fmt):
    case = make_case(street)
    case = case_services.dispatch(street.users.dispatcher, number=case.number)
    response = client.post(
        f"{BASE}/servicerequestupdates.{fmt}",
        {
            "api_key": key[1],
            "service_request_id": case.number,
            "status": "FIXED",
            "update_id": "fms-9",
            "updated_datetime": "2026-03-02T10:00:00+08:00",
            "description": "居民反映已经修好了",
            "email": "x@example.cn",
            "first_name": "A",
            "last_name": "B",
        },
    )
    assert response.status_code == 200
    [item] = items_of(response, fmt, "request_update")
    event = case.events.get(pk=int(item["update_id"]))
    assert event.action == "open311_update" and event.note == "居民反映已经修好了"
    assert Case.objects.get(pk=case.pk).status == "dispatched"  # recorded, not applied
    assert case.unit.notifications.filter(kind="open311").exists()
    listed = client.get(f"{BASE}/servicerequestupdates.json").json()
    assert {"update_id": item["update_id"], "status": "fixed", "description": "居民反映已经修好了"}.items() <= next(
        u for u in listed if u["update_id"] == item["update_id"]
    ).items()


def test_post_update_is_idempotent_by_the_clients_update_id(client, street, key):
    case = make_case(street)
    data = {"api_key": key[1], "service_request_id": case.number, "status": "open", "update_id": "u-1"}
    first = client.post(f"{BASE}/servicerequestupdates.json", data).json()
    second = client.post(f"{BASE}/servicerequestupdates.json", data).json()
    assert first == second
    assert case.events.filter(action="open311_update").count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields, code",
    [
        ({"api_key": None}, 403),
        ({"api_key": "wrong"}, 403),
        ({"service_request_id": None}, 400),
        ({"status": None}, 400),
        ({"status": "resolved-ish"}, 400),
        ({"updated_datetime": "yesterday"}, 400),
        ({"service_request_id": "JD2000010100001"}, 404),
    ],
)
def test_post_update_errors(client, street, key, fmt, fields, code):
    case = make_case(street)
    data = {"api_key": key[1], "service_request_id": case.number, "status": "closed", "description": "x"}
    data.update(fields)
    response = client.post(f"{BASE}/servicerequestupdates.{fmt}", {k: v for k, v in data.items() if v is not None})
    assert response.status_code == code
    assert errors_of(response, fmt)[0][0] == code
    assert not case.events.filter(action="open311_update").exists()


@pytest.mark.parametrize("path", ["requests.json", "servicerequestupdates.json", "services.json"])
def test_lists_cost_the_same_queries_for_more_rows(client, street, key, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        # A key holder's lists are never answered from the cache.
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{BASE}/{path}", {"api_key": key[1]}).status_code == 200
        return len(captured)

    close_case(street, make_case(street))
    few = queries()
    for _ in range(3):
        close_case(street, make_case(street))
    assert queries() == few
