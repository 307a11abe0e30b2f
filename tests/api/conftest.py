import base64
import io
import json

import pytest
from django.test import Client
from PIL import Image

from jiedao.org import services as org_services
from tests.factories import PASSWORD

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fast_api_tests(settings):
    # Cheap password hashing. The throttle counts live in the database cache: each test's
    # rollback starts the next one with none.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


class ApiClient:
    """A Django test client speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, token=None):
        self.client = Client()
        self.token = token
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path, params=None, **extra):
        return self.client.get(API + path, params or {}, **self.headers, **extra)

    def post(self, path, body=None, **extra):
        return self.client.post(
            API + path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            **self.headers,
            **extra,
        )


@pytest.fixture
def api(street):
    """``api(user)`` → a client signed in as ``user`` with a real token; ``api(None)`` → anonymous."""

    def make(user):
        if user is None:
            return ApiClient()
        plain, _token = org_services.create_token(user.username, password=PASSWORD)
        return ApiClient(plain)

    return make


def png_bytes(size=(8, 8), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def errors_of(response):
    return {(e["field"], e["message"]) for e in response.json()["errors"]}


def fields_of(response):
    return {e["field"] for e in response.json()["errors"]}


# --- cases in a given state, through the services ------------------------------


def submit(street, user=None, **values):
    from jiedao.cases import services

    user = user or street.users.operator
    defaults = {
        "channel": "phone",
        "description": "小区路灯坏了",
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
        "address": "东湖小区3号楼",
    }
    if user.has_role("resident") and not user.is_street_staff:
        defaults = {"channel": "portal", "description": "楼道堆满杂物"}
    defaults.update(values)
    case, _created = services.submit_case(user, **defaults)
    return case


def dispatched(street, category="010102", unit=None, user=None, **values):
    """A case in the first grid, classified and dispatched (by the routing rules unless ``unit``)."""
    from jiedao.cases import services

    values.setdefault("lat", 39.905)
    values.setdefault("lng", 116.405)
    case = submit(street, user=user, category_code=category, **values)
    return services.dispatch(street.users.dispatcher, number=case.number, unit_code=unit)
