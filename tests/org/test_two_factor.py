"""Two-factor sign-in (两步验证) for staff who can see personal data unmasked."""

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.JIEDAO = dict(settings.JIEDAO, STAFF_TWO_FACTOR=True)


def code_for(user, steps_ahead=0):
    """The code the user's authenticator app shows now (or a later 30-second step)."""
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return totp.token_str() if hasattr(totp, "token_str") else f"{totp.token():06d}"


def sign_in(client, user, next_url="/cases/dispatch/"):
    return client.post("/login/", {"username": user.username, "password": PASSWORD, "next": next_url})


def test_a_dispatcher_sets_up_the_authenticator_then_needs_its_code_at_every_sign_in(client, street):
    dispatcher = street.users.dispatcher
    sign_in(client, dispatcher)
    # The password alone does not open staff pages: first the set-up page with a QR code.
    response = client.get("/cases/dispatch/")
    assert response.status_code == 302 and response["Location"].startswith("/login/2fa/setup/")
    setup = client.get(response["Location"])
    page = setup.content.decode()
    assert "设置两步验证" in page and 'src="data:image/svg+xml' in page and "手动输入这串密钥" in page
    wrong = client.post("/login/2fa/setup/?next=/cases/dispatch/", {"otp": "000000", "next": "/cases/dispatch/"})
    assert wrong.status_code == 422 and "动态码不正确" in wrong.content.decode()
    assert client.post("/login/2fa/setup/", {"otp": "12ab"}).status_code == 422
    done = client.post("/login/2fa/setup/", {"otp": code_for(dispatcher), "next": "/cases/dispatch/"})
    assert done.status_code == 302 and done["Location"] == "/cases/dispatch/"
    assert client.get("/cases/dispatch/").status_code == 200

    client.post("/logout/")
    sign_in(client, dispatcher)
    response = client.get("/cases/dispatch/")
    assert response["Location"].startswith("/login/2fa/verify/")
    # The session cannot use the API either until the second step is done.
    assert client.get("/api/v1/cases").status_code == 401
    verify = client.post("/login/2fa/verify/", {"otp": code_for(dispatcher, 1), "next": "/cases/dispatch/"})
    assert verify.status_code == 302 and verify["Location"] == "/cases/dispatch/"
    assert client.get("/api/v1/cases").status_code == 200


def test_open311_reads_answer_staff_between_the_two_steps_but_staff_pages_still_ask(client, street):
    """An Open311 method is a machine answer without personal data: a dispatcher who has given
    the password only reads it as anyone may; the staff page of webhook deliveries asks for the code."""
    sign_in(client, street.users.dispatcher)
    services = client.get("/open311/v2/services.json")
    assert services.status_code == 200 and services["Content-Type"].startswith("application/json")
    assert client.get("/open311/discovery.json").status_code == 200
    assert client.get("/open311/webhooks/")["Location"].startswith("/login/2fa/setup/")


def test_leaders_and_residents_sign_in_with_their_password_only(client, street):
    for user, page in ((street.users.leader, "/cases/overview/"), (street.users.resident, "/portal/")):
        client.post("/logout/")
        sign_in(client, user, page)
        assert client.get(page).status_code == 200
    assert not TOTPDevice.objects.exists()


def test_the_api_token_of_such_staff_needs_the_code(client, street):
    operator = street.users.operator
    body = {"username": operator.username, "password": PASSWORD}
    no_device = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert no_device.status_code == 422 and no_device.json()["errors"][0]["field"] == "otp"
    assert "先在网页上登录" in no_device.json()["errors"][0]["message"]
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    missing = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert missing.status_code == 422 and "6 位动态码" in missing.json()["errors"][0]["message"]
    ok = client.post("/api/v1/auth/token", {**body, "otp": code_for(operator)}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["token"]
    assert device.pk


def test_switched_off_staff_sign_in_with_the_password(client, street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, STAFF_TWO_FACTOR=False)
    sign_in(client, street.users.dispatcher)
    assert client.get("/cases/dispatch/").status_code == 200
