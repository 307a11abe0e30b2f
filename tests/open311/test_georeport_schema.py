"""The Open311 project's own description of GeoReport v2 (data/georeport-v2.yaml, its published
Swagger document) run through schemathesis against the server, at /open311/v2 as a client that
read our discovery document would: requests generated for each of its operations, valid by the
description and not, with made-up values and with real ones (our formats, jurisdiction, service
codes, request ids, tokens). Whatever is sent, the answer is never a server error nor an HTML
page: it is XML or JSON, as the path's extension asks (XML when it names neither), and every
refusal is the standard's error list whose codes are the HTTP status."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from jiedao.open311.models import ServiceAttribute
from jiedao.org.models import Street
from tests.fuzz.conftest import wsgi_in_the_test_transaction  # noqa: F401  (the fixture, shared)

from .conftest import BASE

SPEC = Path(__file__).parent / "data" / "georeport-v2.yaml"
# Examples per operation: 6 operations × EXAMPLES requests, about half a minute.
EXAMPLES = 60
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


@pytest.fixture
def _no_rate_limits(settings):
    """The reads of a run come from one address; the limits have their own tests
    (test_anonymous_reads.py) and would only hide the code behind them here."""
    settings.JIEDAO = {key: ("" if key.endswith("_RATE") else value) for key, value in settings.JIEDAO.items()}


@pytest.fixture
def real(street, key, client):
    """The values a client would have learnt from us: the jurisdiction, a service with a
    definition, a request it sent and the request's token."""
    ServiceAttribute.objects.create(
        category=street.categories.lamps,
        code="location_type",
        description="路灯在什么位置？",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values_text="road=道路\nestate=小区内",
    )
    _key, plain = key
    sent = client.post(
        f"{BASE}/requests.json",
        {"api_key": plain, "service_code": "010101", "address_string": "东湖小区3号楼", "description": "垃圾桶满了"},
    )
    assert sent.status_code == 201, sent.content
    [created] = sent.json()
    return {
        "jurisdiction_id": Street.objects.order_by("code").first().code,
        "service_code": street.categories.lamps.code,
        "service_request_id": created["service_request_id"],
        "token_id": created["token"],
    }


def _strategy(operation, real):
    """Made-up requests, valid and not, and requests with our real values in both formats."""
    made_up = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
    names = {p.name for p in operation.path_parameters}
    ours = []
    for fmt in ("xml", "json", "XML"):
        path = {"response_format": fmt, **{name: real[name] for name in names if name in real}}
        query = {"jurisdiction_id": real["jurisdiction_id"]}
        ours.append(operation.as_strategy(path_parameters=path, query=query))
        ours.append(operation.as_strategy(path_parameters=path))
        ours.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path))
    return st.one_of(*made_up, *ours)


def format_asked(url):
    """The format the server reads from the path it was sent: ``json`` when the last part of
    the path ends in ``.json`` (in any case), otherwise XML, the standard's required format."""
    last = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    return "json" if last.lower().endswith(".json") else "xml"


def errors_in(fmt, body):
    """[(code, description)] of the standard's error list, or an AssertionError."""
    if fmt == "xml":
        root = ET.fromstring(body)
        assert root.tag == "errors", body[:300]
        errors = [(e.findtext("code"), e.findtext("description")) for e in root]
        assert all(e.tag == "error" for e in root), body[:300]
        return [(int(code), description) for code, description in errors]
    items = json.loads(body)
    assert isinstance(items, list), body[:300]
    assert all(set(item) == {"code", "description"} for item in items), body[:300]
    return [(item["code"], item["description"]) for item in items]


def check_georeport_answer(response):
    """Not a server error, not HTML: the format the path asks for; a refusal is the error list."""
    sent = f"{response.request.method} {response.request.url}"
    assert response.status_code < 500, f"{sent}: {response.status_code} {response.content[:300]!r}"
    fmt = format_asked(response.request.url)
    content_type = {name.lower(): values for name, values in response.headers.items()}.get("content-type", [""])[0]
    assert content_type == CONTENT_TYPES[fmt], (
        f"{sent}: {response.status_code} {dict(response.headers)} {response.content[:300]!r}"
    )
    body = response.content.decode("utf-8")
    if fmt == "xml":
        assert body.startswith('<?xml version="1.0" encoding="utf-8"?>'), f"{sent}: {body[:300]}"
    if response.status_code >= 400:
        errors = errors_in(fmt, response.content)
        assert errors, f"{sent}: an empty error list"
        assert {code for code, _description in errors} == {response.status_code}, f"{sent}: {body[:300]}"
        assert all(description for _code, description in errors), f"{sent}: {body[:300]}"
    elif fmt == "xml":
        ET.fromstring(response.content)
    else:
        json.loads(response.content)


def test_the_published_georeport_description_finds_no_server_error_and_no_html(
    real,
    _no_rate_limits,
    wsgi_in_the_test_transaction,  # noqa: F811
):
    schema = schemathesis.openapi.from_path(SPEC)
    schema.config.update(base_url="http://localhost/open311/v2")
    app = get_wsgi_application()
    failures, tried = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, real))
        def call(case):
            check_georeport_answer(case.call(app=app))

        tried.append(operation.label)
        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # every operation's failure, reported together
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    assert len(tried) == 6, tried
    assert failures == [], "\n\n".join(failures)
