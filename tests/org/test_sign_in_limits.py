"""Signing in under attack: wrong passwords sent from one address lock that address out — never
the account's owner elsewhere, also behind the reverse proxy — and one address that fails
with many user names (password spraying) must wait, on the sign-in page, the admin's and the
API token endpoint alike."""

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"  # nginx on the same machine, as in docs/operations.md
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def _through_proxy(client_address):
    """What the server sees of a client behind one reverse proxy that appends to X-Forwarded-For."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_address}


def _web_sign_in(username, password, **meta):
    return Client().post("/login/", {"username": username, "password": password, "next": "/"}, **meta)


def _api_sign_in(username, password, **meta):
    return Client().post(
        "/api/v1/auth/token", {"username": username, "password": password}, content_type="application/json", **meta
    )


@pytest.fixture
def behind_the_proxy(settings):
    settings.NINJA_NUM_PROXIES = 1  # JIEDAO_PROXY_COUNT=1


@pytest.mark.parametrize("sign_in", [_web_sign_in, _api_sign_in], ids=["page", "api"])
def test_an_attackers_wrong_passwords_do_not_lock_the_owner_out_behind_the_proxy(street, behind_the_proxy, sign_in):
    owner = street.users.leader.username
    answers = [sign_in(owner, f"guess-{n}", **_through_proxy(ATTACKER)).status_code for n in range(7)]
    assert answers[-1] == 429  # the attacker's own address is locked for this account
    assert sign_in(owner, PASSWORD, **_through_proxy(ATTACKER)).status_code == 429
    # The owner, through the same proxy from their own address, signs in at once.
    signed_in = sign_in(owner, PASSWORD, **_through_proxy(OWNER))
    assert signed_in.status_code == (302 if sign_in is _web_sign_in else 200)


def test_the_admin_is_not_locked_out_by_someone_elses_guesses(street, behind_the_proxy):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    for n in range(6):
        Client().post(
            "/admin/login/", {"username": admin.username, "password": f"guess-{n}"}, **_through_proxy(ATTACKER)
        )
    response = Client().post(
        "/admin/login/?next=/admin/",
        {"username": admin.username, "password": PASSWORD, "next": "/admin/"},
        **_through_proxy(OWNER),
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_without_a_trusted_proxy_a_made_up_forwarded_header_does_not_dodge_the_lock(street):
    owner = street.users.dispatcher.username
    for n in range(5):
        _web_sign_in(owner, "guess", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert _web_sign_in(owner, PASSWORD, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429
    assert _web_sign_in(owner, PASSWORD, REMOTE_ADDR=OWNER).status_code == 302


def test_a_forwarded_header_that_is_no_address_is_a_failed_sign_in_not_an_error(street, behind_the_proxy):
    wrong = _web_sign_in("leader", "guess", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")
    assert wrong.status_code == 200 and "请输入一个正确的" in wrong.content.decode()
    right = _api_sign_in("leader", PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")
    assert right.status_code == 200


def test_the_21st_failed_sign_in_from_one_address_across_21_user_names_waits(street):
    names = ["leader", "operator", "dispatcher", "resident", "admin"] + [f"nobody{n}" for n in range(16)]
    assert len(set(names)) == 21
    for name in names[:20]:
        answer = _web_sign_in(name, "spray-123", REMOTE_ADDR=ATTACKER)
        assert answer.status_code == 200 and "请输入一个正确的" in answer.content.decode()
    refused = _web_sign_in(names[20], "spray-123", REMOTE_ADDR=ATTACKER)
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "登录失败的次数过多" in text and "分钟后再试" in text
    assert 1 <= int(refused["Retry-After"]) <= 15 * 60
    # The right password does not get through from that address either, in any door.
    assert _web_sign_in("leader", PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 429
    api = _api_sign_in("leader", PASSWORD, REMOTE_ADDR=ATTACKER)
    assert api.status_code == 429 and int(api["Retry-After"]) >= 1
    assert "登录失败的次数过多" in api.json()["errors"][0]["message"]
    admin = Client().post("/admin/login/", {"username": "admin", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert admin.status_code == 429
    # Everybody else signs in as before.
    assert _web_sign_in("leader", PASSWORD, REMOTE_ADDR=OWNER).status_code == 302


def test_failures_through_the_api_and_the_admin_count_towards_the_same_limit(street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, SIGNIN_FAILURE_RATE="3/15m")
    _api_sign_in("nobody1", "spray-123", REMOTE_ADDR=ATTACKER)
    Client().post("/admin/login/", {"username": "nobody2", "password": "spray-123"}, REMOTE_ADDR=ATTACKER)
    _web_sign_in("nobody3", "spray-123", REMOTE_ADDR=ATTACKER)
    assert _api_sign_in("nobody4", "spray-123", REMOTE_ADDR=ATTACKER).status_code == 429


def test_successful_sign_ins_do_not_count_towards_the_limit(street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, SIGNIN_FAILURE_RATE="3/15m")
    office = "192.0.2.10"  # a whole office behind one address
    for _ in range(2):
        assert _web_sign_in("nobody", "typo-123", REMOTE_ADDR=office).status_code == 200
    for _ in range(10):
        assert _web_sign_in("leader", PASSWORD, REMOTE_ADDR=office).status_code == 302
        assert _api_sign_in("resident", PASSWORD, REMOTE_ADDR=office).status_code == 200
    assert _web_sign_in("nobody", "typo-123", REMOTE_ADDR=office).status_code == 200  # the third failure
    assert _web_sign_in("leader", PASSWORD, REMOTE_ADDR=office).status_code == 429
