"""What third-party Open311 clients do with the server: follow the discovery document by
appending ``/services.xml`` to the endpoint URL (SeeClickFix's open311-validator does so, and
with a URL that ends in a slash sends ``/open311/v2//services.xml``), and meet every refusal,
at any address under /open311/, in the standard's error list of the format they asked for,
never in the site's HTML pages."""

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from jiedao import urls
from jiedao.open311.models import ServiceAttribute

from .conftest import BASE, errors_of, json_of, xml_of

FORMATS = ["xml", "json"]


@pytest.fixture
def csrf_client():
    """A client that does not fetch a page first, as no Open311 client does."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def location_type(street):
    return ServiceAttribute.objects.create(
        category=street.categories.lamps,
        code="location_type",
        description="路灯在什么位置？",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values_text="road=道路\nestate=小区内",
    )


def endpoint_path(client, fmt):
    """The path of the discovery document's endpoint URL."""
    if fmt == "xml":
        url = xml_of(client.get("/open311/discovery.xml")).findtext("endpoints/endpoint/url")
    else:
        url = json_of(client.get("/open311/discovery.json"))["endpoints"][0]["url"]
    assert not url.endswith("/")
    return urlsplit(url).path


# --- discovery, as the validator follows it ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_discovery_endpoint_url_is_one_to_append_the_methods_to(client, street, location_type, fmt):
    """The validator's steps: the discovery document, services from its endpoint URL, then the
    definition of every service that has one."""
    base = endpoint_path(client, fmt)
    assert base == "/open311/v2"
    services = client.get(f"{base}/services.{fmt}")
    assert services.status_code == 200
    if fmt == "xml":
        listed = [{c.tag: c.text for c in s} for s in xml_of(services).findall("service")]
    else:
        listed = json_of(services)
    assert listed and all(s["service_code"] for s in listed)
    with_definition = [s["service_code"] for s in listed if s["metadata"] in (True, "true")]
    assert with_definition == [street.categories.lamps.code]
    for code in with_definition:
        definition = client.get(f"{base}/services/{code}.{fmt}")
        assert definition.status_code == 200
        if fmt == "xml":
            assert xml_of(definition).findtext("attributes/attribute/code") == "location_type"
        else:
            assert json_of(definition)["attributes"][0]["code"] == "location_type"


def test_the_endpoint_url_itself_points_to_the_methods(client, street):
    for path in ("/open311/v2", "/open311/v2/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "/open311/discovery.xml" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["//services.xml", "//services.json", "//services/010102.xml", "///requests.json", "//requests.xml"]
)
def test_a_doubled_slash_after_the_endpoint_url_is_the_same_method(client, street, location_type, path):
    doubled = client.get(f"{BASE}{path}")
    single = client.get(f"{BASE}/{path.lstrip('/')}")
    assert doubled.status_code == single.status_code == 200
    assert doubled.content == single.content


# --- every refusal in the standard's words --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "fmt"),
    [
        # a format the standard does not have, or a malformed one
        ("GET", "/open311/v2/requests.%F3%A0%81", 400, "xml"),
        ("GET", "/open311/v2/services/0.%C2%86", 400, "xml"),
        ("GET", "/open311/v2/tokens/0.0", 400, "xml"),
        ("GET", "/open311/v2/services.", 400, "xml"),
        ("GET", "/open311/discovery.csv", 400, "xml"),
        ("POST", "/open311/v2/requests.yaml", 400, "xml"),
        # addresses that are no method: the format their extension names, XML otherwise
        ("GET", "/open311/v2/request/JD2026010100001.json", 404, "json"),
        ("GET", "/open311/v2/request/JD2026010100001.xml", 404, "xml"),
        ("GET", "/open311/v2/requests", 404, "xml"),
        ("GET", "/open311/v2/services.xml/", 404, "xml"),
        ("GET", "/open311/v2/services/a/b.JSON", 404, "json"),
        ("GET", "/open311/v2//nothing", 404, "xml"),
        ("GET", "/open311/discovery", 404, "xml"),
        ("GET", "/open311/v3/services.json", 404, "json"),
        ("DELETE", "/open311/anything", 404, "xml"),
        ("POST", "/open311/v2/unknown.json", 404, "json"),
        # methods an address does not have, without a CSRF token as every client sends them
        ("POST", "/open311/v2/", 405, "xml"),
        ("POST", "/open311/discovery.json", 405, "json"),
        ("PUT", "/open311/v2/requests.json", 405, "json"),
    ],
)
def test_every_refusal_under_open311_is_the_standard_error_list(csrf_client, street, method, path, status, fmt):
    response = csrf_client.generic(method, path)
    assert response.status_code == status
    [(code, description)] = errors_of(response, fmt)  # also checks the content type
    assert code == status and description


def test_a_refusal_does_not_echo_a_huge_parameter_whole(client, street):
    response = client.get(f"{BASE}/services.json", {"jurisdiction_id": "9" * 5000})
    assert response.status_code == 404
    [(code, description)] = errors_of(response, "json")
    assert code == 404 and "jurisdiction_id" in description
    assert len(description) <= 300 and description.endswith("…")


def test_the_refusals_follow_the_language_asked_for(client, street):
    english = client.get("/open311/v2/nothing.json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()[0]["description"].startswith("There is no such Open311 method")
    chinese = client.get("/open311/v2/nothing.json")
    assert chinese.json()[0]["description"].startswith("没有这个 Open311 方法")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_django_cannot_read_is_400_in_the_format_asked_for(csrf_client, street, fmt):
    """A multipart body without its boundary fails before the view runs, as a request body
    with more fields than Django reads does."""
    broken = csrf_client.post(f"{BASE}/requests.{fmt}", b"--x\r\n", content_type="multipart/form-data")
    many = csrf_client.post(
        f"{BASE}/requests.{fmt}",
        "&".join(f"f{i}=x" for i in range(1200)),
        content_type="application/x-www-form-urlencoded",
    )
    for response in (broken, many):
        assert response.status_code == 400
        [(code, _description)] = errors_of(response, fmt)
        assert code == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_input_holding_nul_is_400_in_the_error_list_saying_why(csrf_client, street, fmt):
    """The site refuses the NUL character before any method runs; an Open311 client still gets
    the standard's error list, in the format it asked for, naming the character."""
    in_query = csrf_client.get(f"{BASE}/services.{fmt}?jurisdiction_id=%00")
    in_body = csrf_client.post(f"{BASE}/requests.{fmt}", {"api_key": "k", "description": "井盖\x00丢了"})
    for response in (in_query, in_body):
        assert response.status_code == 400
        [(code, description)] = errors_of(response, fmt)
        assert code == 400 and "NUL" in description


def test_a_host_we_do_not_serve_is_400_in_the_standard_error_list(client, street):
    response = client.get(f"{BASE}/services.json", HTTP_HOST="elsewhere.example")
    assert response.status_code == 400
    assert errors_of(response, "json")[0][0] == 400


def test_a_server_error_under_open311_is_still_the_error_list(rf):
    """What the site answers if a view ever failed: the error list there, the site's page elsewhere."""
    response = urls.handler500(rf.get(f"{BASE}/requests.json"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [error] = json.loads(response.content)
    assert error["code"] == 500 and error["description"]
    assert urls.handler500(rf.get("/portal/"))["Content-Type"].startswith("text/html")


def test_the_rest_of_the_site_keeps_its_own_pages(client, street):
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")
    assert client.get("/no-such-page.json")["Content-Type"].startswith("text/html")
    # The staff page of webhook deliveries is a page like any other (signed out: to the sign-in page).
    assert client.get("/open311/webhooks/").status_code == 302
    assert client.get("/open311/webhooks")["Location"] == "/open311/webhooks/"
