"""Keys for Open311 client systems: issued on the command line or in the admin, shown
once, stored only as a hash, and refused once revoked."""

import io

import pytest
from django.core.management import CommandError, call_command

from jiedao.open311.models import ApiKey
from jiedao.open311.selectors import hash_key

from .conftest import BASE


def create(name, *extra):
    out = io.StringIO()
    call_command("open311", "keys", "create", name, *extra, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_key_on_its_last_line_and_stores_only_a_hash(client, street):
    output = create("区网格化平台")
    plain = output.strip().splitlines()[-1]
    key = ApiKey.objects.get(name="区网格化平台")
    assert key.key_hash == hash_key(plain) != plain
    assert plain.startswith(key.prefix)
    assert not ApiKey.objects.filter(key_hash=plain).exists()
    response = client.post(
        f"{BASE}/requests.json",
        {"api_key": plain, "service_code": "010101", "address_string": "东湖小区", "description": "路面塌陷"},
    )
    assert response.status_code == 201


def test_auto_dispatch_and_a_taken_name(street):
    create("app", "--auto-dispatch")
    assert ApiKey.objects.get(name="app").auto_dispatch
    with pytest.raises(CommandError):
        create("app")


def test_list_and_revoke(client, street):
    plain = create("小程序").strip().splitlines()[-1]
    out = io.StringIO()
    call_command("open311", "keys", "list", stdout=out)
    assert "小程序" in out.getvalue() and plain not in out.getvalue()
    call_command("open311", "keys", "revoke", "小程序", stdout=io.StringIO())
    response = client.post(
        f"{BASE}/requests.json", {"api_key": plain, "service_code": "010101", "address_string": "东湖小区"}
    )
    assert response.status_code == 403


@pytest.fixture
def admin_client(client, street):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def test_a_key_added_in_the_admin_is_shown_once(admin_client):
    response = admin_client.post("/admin/open311/apikey/add/", {"name": "城市大脑", "active": "on"}, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get(name="城市大脑")
    shown = [m.message for m in response.context["messages"]]
    plain = next(m.split("：")[-1] for m in shown if "城市大脑" in m or "新密钥" in m)
    assert hash_key(plain) == key.key_hash
    assert key.user.has_role("operator")


@pytest.mark.parametrize(
    "model", ["apikey", "serviceattribute", "open311request", "externalupdate", "webhook", "delivery"]
)
def test_every_admin_list_opens(admin_client, model):
    assert admin_client.get(f"/admin/open311/{model}/").status_code == 200
    assert admin_client.get(f"/admin/open311/{model}/", {"q": "x"}).status_code == 200
