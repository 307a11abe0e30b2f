import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from jiedao.open311 import services
from jiedao.workcal import calendar

BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _fresh_state(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    calendar.invalidate()  # throttle counts live in the database cache, rolled back after each test
    yield
    calendar.invalidate()


@pytest.fixture
def key(street):
    """``(ApiKey, plain key)`` of a client system."""
    return services.create_key("市级12345平台")


@pytest.fixture
def client():
    return Client()


def xml_of(response):
    """The parsed XML body, after checking the declaration and the content type."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def errors_of(response, fmt):
    """[(code, description)] of a GeoReport error list, in either format."""
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors"
        return [(int(e.findtext("code")), e.findtext("description")) for e in root.findall("error")]
    return [(e["code"], e["description"]) for e in json_of(response)]


def items_of(response, fmt, item_tag="request"):
    """A collection as a list of dicts of strings (XML) or plain values (JSON)."""
    if fmt == "xml":
        root = xml_of(response)
        return [{child.tag: (child.text or "") for child in item} for item in root.findall(item_tag)]
    return json_of(response)
