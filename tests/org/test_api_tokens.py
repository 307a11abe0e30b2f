"""API tokens end when their owner wants them to: a new password revokes them all, the token a
request carries can revoke itself, and the page 我的接口令牌 lists one's tokens (never the
token itself) with a button to revoke each, or all."""

import re

import pytest
from django.test import Client

from jiedao.org.models import ApiToken
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Qiang-Hua-2026!"


def _token(username, password=PASSWORD):
    response = Client().post(
        "/api/v1/auth/token", {"username": username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["token"]


def _me(token):
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _staff_admin(street):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return admin


def _changed_in_the_admin_by_an_administrator(street, user):
    client = Client()
    client.force_login(_staff_admin(street))
    response = client.post(
        f"/admin/org/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302


def _changed_with_set_password(street, user):
    """As ``jiedao changepassword`` and any other code does it."""
    user.set_password(NEW_PASSWORD)
    user.save()


@pytest.mark.parametrize(
    "change", [_changed_in_the_admin_by_an_administrator, _changed_with_set_password], ids=["admin", "set_password"]
)
def test_an_old_token_answers_401_after_a_password_change(street, change):
    leader = street.users.leader
    old, other = _token(leader.username), _token(leader.username)
    someone_else = _token(street.users.resident.username)
    assert _me(old) == 200 and _me(other) == 200
    change(street, leader)
    assert _me(old) == 401 and _me(other) == 401
    assert not ApiToken.objects.filter(user=leader).exists()
    assert _me(someone_else) == 200  # nobody else's tokens are touched
    assert _me(_token(leader.username, NEW_PASSWORD)) == 200


def test_signing_in_again_keeps_the_tokens(street):
    token = _token("leader")
    assert Client().post("/login/", {"username": "leader", "password": PASSWORD}).status_code == 302
    assert _me(token) == 200


def test_a_password_changed_in_one_session_ends_the_others_and_the_tokens(street):
    admin = _staff_admin(street)
    token = _token(admin.username)
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        assert client.post("/login/", {"username": admin.username, "password": PASSWORD}).status_code == 302
    response = here.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"].endswith("/admin/password_change/done/")
    assert here.get("/account/tokens/").status_code == 200  # the session that changed it goes on
    assert elsewhere.get("/account/tokens/").status_code == 302  # the other one is signed out
    assert _me(token) == 401


def test_delete_revokes_the_token_the_request_carries_and_only_that_one(street):
    first, second = _token("leader"), _token("leader")
    response = Client().delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {first}")
    assert response.status_code == 204
    assert _me(first) == 401 and _me(second) == 200
    again = Client().delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {first}")
    assert again.status_code == 401 and again.json()["errors"][0]["message"]
    assert Client().delete("/api/v1/auth/token").status_code == 401


def test_the_tokens_page_lists_ones_own_tokens_without_the_token_and_revokes_them(street):
    resident = street.users.resident
    mine = [_token(resident.username) for _ in range(3)]
    theirs = _token("leader")
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    page = client.get("/account/tokens/")
    text = page.content.decode()
    assert page.status_code == 200 and "我的接口令牌" in text
    stored = ApiToken.objects.filter(user=resident)
    assert text.count('name="token"') == 3
    for plain in [*mine, theirs]:
        assert plain not in text
    for token in ApiToken.objects.all():
        assert token.key_hash not in text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)

    # A form post without the CSRF token is refused.
    assert client.post("/account/tokens/", {"token": stored[0].pk}).status_code == 403
    # Someone else's token is not found and keeps working.
    leaders = ApiToken.objects.get(user__username="leader")
    refused = client.post("/account/tokens/", {"token": leaders.pk, "csrfmiddlewaretoken": csrf})
    assert refused.status_code == 404 and "不存在或已经撤销" in refused.content.decode()
    assert _me(theirs) == 200
    # A token number that is not one is named as the field's error.
    bad = client.post("/account/tokens/", {"token": "abc", "csrfmiddlewaretoken": csrf})
    assert bad.status_code == 422 and "请从列表中选择要撤销的令牌" in bad.content.decode()

    # Revoke one: it answers 401, the others still work.
    first = ApiToken.objects.filter(user=resident).order_by("pk").first()
    done = client.post("/account/tokens/", {"token": first.pk, "csrfmiddlewaretoken": csrf}, follow=True)
    assert "已撤销这个接口令牌" in done.content.decode()
    assert [_me(t) for t in mine] == [401, 200, 200]
    # Revoke all.
    done = client.post("/account/tokens/", {"all": "1", "csrfmiddlewaretoken": csrf}, follow=True)
    assert "已撤销全部 2 个接口令牌" in done.content.decode() and "您没有接口令牌" in done.content.decode()
    assert [_me(t) for t in mine] == [401, 401, 401]
    assert _me(theirs) == 200


def test_every_signed_in_user_finds_the_tokens_page_in_the_top_bar(street, client):
    assert "/account/tokens/" not in client.get("/portal/").content.decode()
    assert client.get("/account/tokens/").status_code == 302  # signed out: to the sign-in page
    client.force_login(street.users.resident)
    assert 'href="/account/tokens/"' in client.get("/portal/").content.decode()
