"""Signing in to the API: tokens, /me, sessions, and the published OpenAPI."""

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from jiedao.org.models import ApiToken
from tests.factories import PASSWORD

from .conftest import API, ApiClient

ROLE_USERS = {
    "admin": ("admin", None),
    "operator": ("operator", None),
    "dispatcher": ("dispatcher", None),
    "handler": ("handler", "ZHZF"),
    "grid": ("grid", None),
    "leader": ("leader", None),
    "resident": ("resident", None),
}


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_role_gets_a_token_and_sees_itself(street, role):
    username, unit_code = ROLE_USERS[role]
    response = ApiClient().post("/auth/token", {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["expires_at"].endswith("+08:00")
    assert dt.datetime.fromisoformat(body["expires_at"]) > timezone.now()

    me = ApiClient(body["token"]).get("/me")
    assert me.status_code == 200
    data = me.json()
    assert data["username"] == username
    assert data["roles"] == [role]
    assert len(data["role_labels"]) == 1 and data["role_labels"][0]
    if unit_code:
        assert data["unit"] == {"code": unit_code, "name": "综合执法队"}
    else:
        assert data["unit"] is None


def test_only_a_hash_of_the_token_is_stored(street):
    token = ApiClient().post("/auth/token", {"username": "leader", "password": PASSWORD}).json()["token"]
    stored = ApiToken.objects.get(user=street.users.leader)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.key_hash


@pytest.mark.parametrize("username,password", [("leader", "wrong-password"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_refused_with_401(street, username, password):
    response = ApiClient().post("/auth/token", {"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"errors": [{"field": None, "message": "用户名或密码错误。"}]}
    assert not ApiToken.objects.exists()


def test_missing_password_names_the_field(street):
    response = ApiClient().post("/auth/token", {"username": "leader"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


def test_inactive_user_gets_no_token_and_loses_old_ones(street, api):
    client = api(street.users.handler)
    street.users.handler.is_active = False
    street.users.handler.save()
    assert client.get("/me").status_code == 401
    assert ApiClient().post("/auth/token", {"username": "handler", "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic bGVhZGVyOnBhc3MxMjM0NQ=="])
def test_requests_without_a_valid_token_get_401(street, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get(API + "/me", **extra)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]
    assert Client().get(API + "/cases", **extra).status_code == 401


def test_expired_token_is_refused(street, api):
    client = api(street.users.leader)
    assert client.get("/me").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/me").status_code == 401


def test_a_token_sees_the_users_roles_and_unit_as_they_are_now(street, api):
    """The token, its user and the user's roles are read afresh by every request: a role taken
    away, a role given, a move to another unit, a revoked token take effect at the next call."""
    dispatcher = street.users.dispatcher
    client = api(dispatcher)
    assert client.get("/me").json()["roles"] == ["dispatcher"]
    assert client.post("/cases/JD0/actions/classify", {"category": "010101"}).status_code == 404  # may, no such case
    dispatcher.groups.add(Group.objects.get(name="leader"))
    assert client.get("/me").json()["roles"] == ["dispatcher", "leader"]
    dispatcher.groups.remove(Group.objects.get(name="dispatcher"))
    assert client.get("/me").json()["roles"] == ["leader"]
    assert client.post("/cases/JD0/actions/classify", {"category": "010101"}).status_code == 403
    dispatcher.unit = street.units.committee1
    dispatcher.save()
    assert client.get("/me").json()["unit"]["code"] == "JWH01"
    ApiToken.objects.filter(user=dispatcher).delete()
    assert client.get("/me").status_code == 401


def test_pages_can_call_the_api_with_their_session(street):
    client = Client()
    client.force_login(street.users.dispatcher)
    assert client.get(API + "/me").json()["username"] == "dispatcher"


def test_session_writes_need_the_csrf_token(street):
    client = Client(enforce_csrf_checks=True)
    client.force_login(street.users.operator)
    body = '{"channel": "phone", "description": "井盖丢失", "reporter_phone": "13812345678"}'
    refused = client.post(API + "/cases", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"]

    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    accepted = client.post(API + "/cases", body, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 201


def test_openapi_lists_every_path(street):
    response = Client().get(API + "/openapi.json")
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    expected = {
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/cases",
        "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/events",
        "/api/v1/metrics/three-rates",
        "/api/v1/public/cases/{number}",
        "/api/v1/public/cases/{number}/rate",
    }
    assert expected <= paths
    from jiedao.cases.states import TRANSITIONS

    for action in TRANSITIONS:
        assert f"/api/v1/cases/{{number}}/actions/{action}" in paths
    docs = Client().get(API + "/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_an_expired_session_gets_401_not_a_csrf_error(street):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "no-such-session"
    response = client.post(API + "/cases", "{}", content_type="application/json")
    assert response.status_code == 401
