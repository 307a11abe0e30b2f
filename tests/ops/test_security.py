"""Sign-in lock-out, the Content-Security-Policy, and pages that carry no inline script."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

import jiedao
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SRC = Path(jiedao.__file__).resolve().parent


def _sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password, "next": "/"})


def test_five_wrong_passwords_lock_the_account_on_that_device_for_a_while(client, street):
    handler = street.users.handler_committee.username
    for _ in range(4):
        response = _sign_in(client, handler, "wrong-password")
        assert response.status_code == 200 and "请输入一个正确的" in response.content.decode()
    locked = _sign_in(client, handler, "wrong-password")
    assert locked.status_code == 429
    assert "已被暂时锁定" in locked.content.decode() and "15 分钟" in locked.content.decode()
    # Even the right password is refused while locked, and nobody is signed in.
    assert _sign_in(client, handler, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same device, and the same account from another address, still work.
    assert _sign_in(client, street.users.leader.username, PASSWORD).status_code == 302
    client.logout()
    other_address = client.post("/login/", {"username": handler, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert other_address.status_code == 302
    client.logout()
    # An administrator lifts the lock.
    call_command("axes_reset_username", handler)
    assert _sign_in(client, handler, PASSWORD).status_code == 302


def test_the_api_token_endpoint_shares_the_lock_out_and_says_so_in_json(client, street):
    username = street.users.dispatcher.username
    for _ in range(5):
        client.post(
            "/api/v1/auth/token", {"username": username, "password": "nope-nope"}, content_type="application/json"
        )
    response = client.post(
        "/api/v1/auth/token", {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429
    error = response.json()["errors"][0]
    assert error["field"] == "username" and "已被暂时锁定" in error["message"]


def test_pages_carry_a_policy_that_allows_only_the_sites_own_scripts(client, street):
    response = client.get("/portal/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in SRC.rglob("templates/**/*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.relative_to(SRC)}: {tag}")
        for handler in re.findall(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(SRC)}: {handler.strip()}")
    assert offenders == []


def test_the_report_form_is_limited_per_address_and_says_how_long_to_wait(client, street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, PORTAL_RATE="2/h")
    report = {"description": "楼下路灯不亮", "reporter_phone": "13800138000", "lat": "39.905", "lng": "116.405"}
    for _ in range(2):
        assert client.post("/portal/", report).status_code == 302
    refused = client.post("/portal/", report)
    assert refused.status_code == 422
    assert "提交太频繁了" in refused.content.decode() and "12345" in refused.content.decode()
    # A report with a mistake in it does not use up the allowance of the next address.
    other = client.post("/portal/", report, REMOTE_ADDR="198.51.100.20")
    assert other.status_code == 302


def test_an_open311_key_is_limited(client, street, settings):
    from jiedao.open311 import services as open311_services

    settings.JIEDAO = dict(settings.JIEDAO, OPEN311_KEY_RATE="1/h")
    _key, plain = open311_services.create_key("测试客户端")
    body = {
        "api_key": plain,
        "service_code": "010101",
        "description": "井盖松动",
        "lat": "39.905",
        "long": "116.405",
        "phone": "13800138000",
    }
    assert client.post("/open311/v2/requests.json", body).status_code == 201
    refused = client.post("/open311/v2/requests.json", body)
    assert refused.status_code == 429 and 3000 < int(refused["Retry-After"]) <= 3600
    assert "过于频繁" in refused.json()[0]["description"] and "分钟后再试" in refused.json()[0]["description"]


def test_input_with_a_nul_character_is_refused_with_a_message(client, street, login):
    operator = login(street.users.operator)
    api = operator.post(
        "/api/v1/cases",
        {"channel": "12345", "description": "路灯\u0000坏了", "reporter_phone": "13800138000"},
        content_type="application/json",
    )
    assert api.status_code == 422 and "NUL" in api.json()["errors"][0]["message"]
    page = client.post(
        "/portal/",
        "description=%E8%B7%AF%00&reporter_phone=13800138000",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 400 and "控制字符" in page.content.decode()
    assert client.get("/duties/?q=%00").status_code == 400
