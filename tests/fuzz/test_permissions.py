"""Who may open what: every page and every API operation, tried signed out and as a resident.

Each page is classified here as public (anyone), for residents, or for staff; a new page
must be added to one of these sets, so that a page that forgets its permission check fails
this test. Signed out, a page that is not public must send to the sign-in page or refuse;
a resident must be refused every staff page. Every API operation that declares
authentication must answer 401 without it."""

import re

import pytest

from tests import urlwalk
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# Pages anyone may open (url names, "namespace:name").
PUBLIC = {
    "set_language",
    "web:home",
    "web:login",
    "web:logout",
    "web:elderly",
    "web:portal",
    "web:portal_done",
    "web:track",
    "web:service_worker",
    "web:manifest",
    "ops:healthz",
    "ops:metrics",
    "duties:public",
    "duties:detail",
    "duties:stats",
    "duties:export",
    "hall:guide",
    "hall:item",
    "hall:notice",
    "hall:apply",
    "hall:book",
    "hall:ticket",
    "hall:screen",
    "hall:export",
    "open311:discovery",
    "open311:root",
    "open311:services",
    "open311:service",
    "open311:requests",
    "open311:request",
    "open311:token",
    "open311:updates",
    "participation:home",
    "participation:decisions",
    "participation:proposal",
    "participation:similar",
    "participation:propose",
    "participation:vote",
    "participation:survey",
    "participation:volunteer",
    "participation:points",
    "participation:meetings",
    "intelligence:portal_suggest",
    "cases:category_picker",
    "media",
    "messaging:unsubscribe",
    "messaging:delivery_report",
}
# Pages for signed-in residents as well (their own records).
RESIDENT = {
    "messaging:notifications",
    "messaging:channel_settings",
    "hall:mine",
    "cases:case",
    "cases:action",
    "web:api_tokens",
    "web:two_factor_setup",
    "web:two_factor_verify",
}  # the last two send residents home

SAMPLE = {
    "number": "JD2026010100001",
    "code": "x",
    "fmt": "json",
    "path": "cases/x.png",
    "kind": "persons",
    "key": "x",
    "token": "x",
    "action": "respond",
}


def _pages():
    for page in urlwalk.pages():
        name, pattern = page.name, page.pattern
        route = str(pattern.pattern)
        if route.startswith("^"):
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE.get(m.group(1), "x"), route)
            path = path.lstrip("^").rstrip("$").replace("\\.", ".")
        else:
            path = re.sub(
                r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else SAMPLE.get(m.group(2), "x"), route
            )
        yield name, "/" + path


def test_every_page_is_classified():
    names = {name for name, _path in _pages()}
    assert len(names) > 100
    staff = names - PUBLIC - RESIDENT
    assert staff and names >= PUBLIC and names >= RESIDENT


@pytest.mark.parametrize("who", ["anonymous", "resident"])
def test_pages_refuse_those_they_are_not_for(client, street, who):
    if who == "resident":
        assert client.login(username=street.users.resident.username, password=PASSWORD)
        allowed = PUBLIC | RESIDENT
    else:
        allowed = PUBLIC
    let_in = []
    for name, path in _pages():
        if name in allowed:
            continue
        response = client.get(path)
        refused = response.status_code in (401, 403, 404, 405) or (
            response.status_code == 302 and "/login/" in response["Location"]
        )
        if not refused:
            let_in.append(f"{name} {path} → {response.status_code}")
    assert let_in == []


def test_every_api_operation_that_needs_a_user_answers_401_without_one(client, street):
    document = client.get("/api/v1/openapi.json").json()
    required = [
        (method, path) for path, item in document["paths"].items() for method, op in item.items() if op.get("security")
    ]
    assert len(required) > 50
    let_in = []
    for method, path in required:
        url = "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), "1"), path.removeprefix("/api/v1"))
        response = getattr(client, method)(url, content_type="application/json") if method != "get" else client.get(url)
        if response.status_code != 401:
            let_in.append(f"{method.upper()} {path} → {response.status_code}")
    assert let_in == []
