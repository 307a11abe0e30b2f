"""The group robots and SMS channels against local servers that speak each provider's protocol:
they check what they are sent as the provider does (the key in the query, DingTalk's signature
recomputed, the gateway's form, Tencent's action header and body) and answer as the provider does,
with its success, a refusal that may heal (retry) and one that will not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import translation

from jiedao.messaging.channels.base import Outgoing
from jiedao.messaging.channels.dingtalk import DingTalkChannel
from jiedao.messaging.channels.sms_http import HttpSmsChannel
from jiedao.messaging.channels.sms_tencent import TencentSmsChannel
from jiedao.messaging.channels.wecom import WeComChannel


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        self.method = handler.command
        self.path = parts.path
        self.query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        self.raw_query = parts.query
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.body = body

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


Answer = tuple[int, object]  # HTTP status and the JSON answer


class Provider:
    """A local HTTP server; ``answer`` is the provider's behaviour, every request is kept."""

    def __init__(self, answer: Callable[[Request], Answer]) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self, body)
                provider.requests.append(request)
                status, data = provider.answer(request)
                payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Request], Answer]], Provider]]:
    started: list[Provider] = []

    def start(answer: Callable[[Request], Answer]) -> Provider:
        started.append(Provider(answer))
        return started[-1]

    yield start
    for provider in started:
        provider.close()


def closed_port_url() -> str:
    """An address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- WeCom ------------------------------------------------------------------------------------


def wecom_server(keys: set[str], *, per_minute: int = 20) -> Callable[[Request], Answer]:
    """WeCom's webhook: a known key, JSON, a known msgtype with content; 20 messages a minute."""
    counts: dict[str, int] = {}

    def answer(request: Request) -> Answer:
        if request.method != "POST" or request.path != "/cgi-bin/webhook/send":
            return 404, {"errcode": 404, "errmsg": "not found"}
        key = request.query.get("key", "")
        if key not in keys:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1], from ip: 127.0.0.1"}
        if not request.headers.get("content-type", "").startswith("application/json"):
            return 200, {"errcode": 40058, "errmsg": "invalid Request Parameter"}
        data = request.json()
        kind = data.get("msgtype")
        if kind not in ("text", "markdown") or not data.get(kind, {}).get("content"):
            return 200, {"errcode": 44004, "errmsg": "empty content"}
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > per_minute:
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return answer


def test_wecom_sends_text_with_mentions_to_the_named_robot(serve):
    provider = serve(wecom_server({"KEY-ZHIFA-0001", "KEY-CHENGGUAN-02"}))
    channel = WeComChannel(base_url=provider.url, robots="综合执法队=KEY-ZHIFA-0001;城管=KEY-CHENGGUAN-02")
    assert channel.check() == []

    sent = channel.send(
        Outgoing(key="m1", address="城管", text="新派单：幸福路占道经营", mentions=("+86 138-0013-8000", "12345"))
    )

    assert sent.ok and sent.code == "0" and not sent.retry
    [request] = provider.requests
    assert request.query["key"] == "KEY-CHENGGUAN-02"
    assert request.json() == {
        "msgtype": "text",
        "text": {"content": "新派单：幸福路占道经营", "mentioned_mobile_list": ["13800138000"]},
    }
    assert "KEY-CHENGGUAN-02" not in json.dumps(sent.extra, ensure_ascii=False)


def test_wecom_sends_a_link_as_markdown(serve):
    provider = serve(wecom_server({"K1"}))
    channel = WeComChannel(base_url=provider.url, robots={"综合执法队": "K1"})

    sent = channel.send(
        Outgoing(key="m2", address="综合执法队", subject="督办", text="请今日回复", link="https://jd.example/c/1")
    )

    assert sent.ok
    body = provider.requests[0].json()
    assert body["msgtype"] == "markdown"
    assert "https://jd.example/c/1" in body["markdown"]["content"] and "督办" in body["markdown"]["content"]


def test_wecom_rate_limit_is_retried_and_a_removed_robot_is_not(serve):
    provider = serve(wecom_server({"K1"}, per_minute=2))
    channel = WeComChannel(base_url=provider.url, robots="群=K1;旧群=K-REMOVED-123456")

    answers = [channel.send(Outgoing(key=f"m{i}", address="群", text="提醒")) for i in range(3)]
    assert [a.ok for a in answers] == [True, True, False]
    assert answers[2].code == "45009" and answers[2].retry

    removed = channel.send(Outgoing(key="m9", address="旧群", text="提醒"))
    assert not removed.ok and removed.code == "93000" and not removed.retry
    assert "K-REMOVED-123456" not in removed.answer + json.dumps(removed.extra)


def test_wecom_unknown_robot_and_unreachable_server(serve):
    provider = serve(wecom_server({"K1"}))
    channel = WeComChannel(base_url=provider.url, robots="群=K1")
    unknown = channel.send(Outgoing(key="m1", address="没有这个群", text="x"))
    assert not unknown.ok and not unknown.retry and "没有这个群" in unknown.answer
    assert provider.requests == []

    down = WeComChannel(base_url=closed_port_url(), robots="群=K1", timeout=2).send(
        Outgoing(key="m1", address="群", text="x")
    )
    assert not down.ok and down.retry and down.code == "network"


def test_wecom_check_names_what_is_wrong():
    assert any(
        "JIEDAO_WECOM_ROBOTS" in p for p in WeComChannel(base_url="https://qyapi.weixin.qq.com", robots="").check()
    )
    problems = WeComChannel(base_url="qyapi.weixin.qq.com", robots="群KEY;群2=K2").check()
    assert any("第 1 项" in p for p in problems)
    assert any("JIEDAO_WECOM_BASE_URL" in p for p in problems)


@override_settings(
    WECOM={"BASE_URL": "https://qyapi.weixin.qq.com", "ROBOTS": "综合执法队=KEY1;城管=KEY2", "TIMEOUT": 5}
)
def test_wecom_reads_its_robots_from_the_settings():
    channel = WeComChannel()
    assert channel.check() == []
    assert channel.robots == {"综合执法队": "KEY1", "城管": "KEY2"}


# --- DingTalk ---------------------------------------------------------------------------------


def dingtalk_server(robots: dict[str, str], *, per_minute: int = 20) -> Callable[[Request], Answer]:
    """DingTalk's custom robot: a known token; for a signed robot the timestamp within an hour and
    the signature recomputed from the robot's secret; 20 messages a minute."""
    counts: dict[str, int] = {}

    def answer(request: Request) -> Answer:
        if request.method != "POST" or request.path != "/robot/send":
            return 404, {"errcode": 404, "errmsg": "not found"}
        token = request.query.get("access_token", "")
        if token not in robots:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        secret = robots[token]
        if secret:
            timestamp = request.query.get("timestamp", "")
            if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 3600 * 1000:
                return 200, {"errcode": 310000, "errmsg": "sign not match, more: [timestamp is invalid]"}
            digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
            if request.query.get("sign") != base64.b64encode(digest).decode():
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        data = request.json()
        kind = data.get("msgtype")
        if kind not in ("text", "markdown"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        counts[token] = counts.get(token, 0) + 1
        if counts[token] > per_minute:
            return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return answer


def test_dingtalk_signed_robot_is_accepted_with_its_mentions(serve):
    provider = serve(dingtalk_server({"TOKEN-A": "SECabc+/=123", "TOKEN-B": ""}))
    channel = DingTalkChannel(base_url=provider.url, robots="街道群=TOKEN-A,SECabc+/=123;社区群=TOKEN-B")
    assert channel.check() == []

    signed = channel.send(Outgoing(key="m1", address="街道群", text="吹哨报到：今天 15:00", mentions=("13800138000",)))
    plain = channel.send(Outgoing(key="m2", address="社区群", text="提醒"))

    assert signed.ok and plain.ok
    first, second = provider.requests
    assert "sign" in first.query and "sign" not in second.query
    body = first.json()
    assert body["msgtype"] == "text"
    assert body["at"]["atMobiles"] == ["13800138000"]
    assert "@13800138000" in body["text"]["content"]


def test_dingtalk_wrong_secret_is_not_retried(serve):
    provider = serve(dingtalk_server({"TOKEN-A": "SEC-right"}))
    channel = DingTalkChannel(base_url=provider.url, robots="街道群=TOKEN-A,SEC-wrong-secret")

    sent = channel.send(Outgoing(key="m1", address="街道群", text="x"))

    assert not sent.ok and sent.code == "310000" and not sent.retry
    assert "SEC-wrong-secret" not in sent.answer + json.dumps(sent.extra)


def test_dingtalk_too_fast_is_retried_and_links_go_as_markdown(serve):
    provider = serve(dingtalk_server({"T": "SECx"}, per_minute=1))
    channel = DingTalkChannel(base_url=provider.url, robots={"群": "T,SECx"})

    first = channel.send(Outgoing(key="m1", address="群", subject="应急", text="请确认", link="https://jd.example/a/1"))
    second = channel.send(Outgoing(key="m2", address="群", text="x"))

    assert first.ok
    assert provider.requests[0].json()["markdown"]["title"] == "应急"
    assert "https://jd.example/a/1" in provider.requests[0].json()["markdown"]["text"]
    assert not second.ok and second.code == "130101" and second.retry


def test_dingtalk_server_error_is_retried(serve):
    provider = serve(lambda request: (502, {"message": "bad gateway"}))
    sent = DingTalkChannel(base_url=provider.url, robots="群=T").send(Outgoing(key="m1", address="群", text="x"))
    assert not sent.ok and sent.retry and sent.code == "http_502"


def test_dingtalk_check_names_what_is_wrong():
    problems = DingTalkChannel(base_url="ftp://oapi.dingtalk.com", robots="").check()
    assert any("JIEDAO_DINGTALK_BASE_URL" in p for p in problems)
    assert any("JIEDAO_DINGTALK_ROBOTS" in p for p in problems)
    assert any("令牌" in p for p in DingTalkChannel(base_url="https://oapi.dingtalk.com", robots="群=,SEC1").check())


# --- Generic HTTP SMS gateway -----------------------------------------------------------------


def gateway(*, password: str = "pw-0123456789", busy: bool = False) -> Callable[[Request], Answer]:
    """A government SMS platform: form or JSON with account, password, mobile and content; answers
    {"code": 0, "msgid": …} or {"code": 101, "msg": "密码错误"}; 503 when busy."""

    def answer(request: Request) -> Answer:
        if busy:
            return 503, {"code": 500, "msg": "系统忙"}
        if request.method == "GET":
            fields = request.query
        elif request.headers.get("content-type", "").startswith("application/json"):
            fields = request.json()
        else:
            fields = dict(urllib.parse.parse_qsl(request.body.decode("utf-8")))
        if fields.get("password") != password:
            return 200, {"code": 101, "msg": "密码错误"}
        if not str(fields.get("mobile", "")).isdigit() or len(str(fields["mobile"])) != 11:
            return 200, {"code": 102, "msg": "号码错误"}
        return 200, {"code": 0, "msg": "提交成功", "msgid": f"G-{fields.get('msgid')}"}

    return answer


FORM_BODY = "account=jd&password={secret}&mobile={phone}&content={text}&msgid={key}"
JSON_BODY = '{"account": "jd", "password": "{secret}", "mobile": "{phone}", "content": "{text}", "msgid": "{key}"}'


@pytest.mark.parametrize(
    ("method", "content_type", "body"),
    [("POST", "form", FORM_BODY), ("POST", "json", JSON_BODY), ("GET", "form", FORM_BODY)],
)
def test_gateway_sends_and_reads_the_success_rule(serve, method, content_type, body):
    provider = serve(gateway())
    channel = HttpSmsChannel(
        url=provider.url + "/sms/send",
        method=method,
        body=body,
        content_type=content_type,
        success="code=0",
        id_field="msgid",
        message_field="msg",
        secret="pw-0123456789",
    )
    assert channel.check() == []
    text = '【示范街道】您的诉求 "JD2025" 已受理 & 正在办理'

    sent = channel.send(Outgoing(key="k-42", address="+86 139 1234 5678", text=text))

    assert sent.ok and sent.provider_id == "G-k-42" and sent.answer == "提交成功"
    [request] = provider.requests
    assert request.method == method
    fields = (
        request.query
        if method == "GET"
        else request.json()
        if content_type == "json"
        else dict(urllib.parse.parse_qsl(request.body.decode()))
    )
    assert fields["mobile"] == "13912345678" and fields["content"] == text


def test_gateway_refusal_busy_and_timeout(serve):
    wrong = HttpSmsChannel(
        url=serve(gateway()).url, body=FORM_BODY, secret="pw-wrong-secret", message_field="msg", success="code=0"
    )
    refused = wrong.send(Outgoing(key="k1", address="13800138000", text="x"))
    assert not refused.ok and refused.code == "101" and refused.answer == "密码错误" and not refused.retry

    busy = HttpSmsChannel(url=serve(gateway(busy=True)).url, body=FORM_BODY, secret="pw", success="code=0")
    answer = busy.send(Outgoing(key="k1", address="13800138000", text="x"))
    assert not answer.ok and answer.retry and answer.code == "http_503"

    def slow(request: Request) -> Answer:
        time.sleep(1.5)
        return 200, {"code": 0}

    late = HttpSmsChannel(url=serve(slow).url, body=FORM_BODY, secret="pw", success="code=0", timeout=0.5)
    timed_out = late.send(Outgoing(key="k1", address="13800138000", text="x"))
    assert not timed_out.ok and timed_out.retry and timed_out.code == "network"


def test_gateway_retry_codes_are_retried(serve):
    provider = serve(lambda request: (200, {"result": {"code": "E429", "msg": "流量控制"}}))
    channel = HttpSmsChannel(
        url=provider.url, body=FORM_BODY, secret="pw", success="result.code=OK", retry_codes="E429"
    )
    sent = channel.send(Outgoing(key="k1", address="13800138000", text="x"))
    assert not sent.ok and sent.code == "E429" and sent.retry


@pytest.mark.parametrize("phone", ["12345678901", "1380013800", "010-12345678", "+1 415 555 0100", ""])
def test_gateway_refuses_a_number_that_is_not_a_mainland_mobile_without_calling(serve, phone):
    provider = serve(gateway())
    sent = HttpSmsChannel(url=provider.url, body=FORM_BODY, secret="pw", success="code=0").send(
        Outgoing(key="k1", address=phone, text="x")
    )
    assert not sent.ok and not sent.retry and sent.code == "bad_phone" and "手机号码" in sent.answer
    assert provider.requests == []


def test_gateway_check_refuses_unknown_placeholders_and_bad_settings():
    problems = HttpSmsChannel(
        url="sms.example", method="PUT", body="to={mobile}&msg={text}", content_type="xml", success="code"
    ).check()
    text = " ".join(problems)
    assert "{mobile}" in text and "不认识的占位符" in text
    assert "{phone}" in text  # missing
    for setting in (
        "JIEDAO_SMS_HTTP_URL",
        "JIEDAO_SMS_HTTP_METHOD",
        "JIEDAO_SMS_HTTP_CONTENT_TYPE",
        "JIEDAO_SMS_HTTP_SUCCESS",
    ):
        assert setting in text
    broken_json = HttpSmsChannel(url="https://sms.example", body='{"m": {phone}, "t": "{text}"', content_type="json")
    assert any("JSON" in p for p in broken_json.check())


def test_gateway_with_a_bad_template_sends_nothing(serve):
    provider = serve(gateway())
    sent = HttpSmsChannel(url=provider.url, body="to={mobile}&msg={text}", success="code=0").send(
        Outgoing(key="k1", address="13800138000", text="x")
    )
    assert not sent.ok and not sent.retry and "{mobile}" in sent.answer
    assert provider.requests == []


# --- Tencent Cloud SMS ------------------------------------------------------------------------

SECRET_ID = "AKIDjiedaoTEST0001"
APPROVED = {"1001": 2}  # template id → number of parameters


def tencent_server(*, limit_per_phone: int = 5) -> Callable[[Request], Answer]:
    """Tencent Cloud's API for SendSms 2021-01-11: the action and version headers, a TC3 credential
    of a known SecretId, the application, signature and an approved template with its number of
    parameters; one status per number, LimitExceeded after a few messages to one number."""
    counts: dict[str, int] = {}

    def error(code: str, message: str) -> Answer:
        return 200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-err"}}

    def answer(request: Request) -> Answer:
        if request.headers.get("x-tc-action") != "SendSms" or request.headers.get("x-tc-version") != "2021-01-11":
            return error("InvalidAction", "The action requested is invalid.")
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/"):
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        body = request.json()
        if body.get("SmsSdkAppId") != "1400000001" or body.get("SignName") != "示范街道":
            return error("FailedOperation.SignatureIncorrectOrUnapproved", "signature unapproved")
        statuses = []
        for phone in body["PhoneNumberSet"]:
            status = {
                "SerialNo": "",
                "PhoneNumber": phone,
                "Fee": 0,
                "SessionContext": body.get("SessionContext", ""),
                "IsoCode": "CN",
            }
            counts[phone] = counts.get(phone, 0) + 1
            if body.get("TemplateId") not in APPROVED:
                status.update(Code="FailedOperation.TemplateIncorrectOrUnapproved", Message="template unapproved")
            elif len(body.get("TemplateParamSet") or []) != APPROVED[body["TemplateId"]]:
                status.update(Code="InvalidParameterValue.TemplateParameterFormatError", Message="param error")
            elif counts[phone] > limit_per_phone:
                status.update(Code="LimitExceeded.PhoneNumberThirtySecondLimit", Message="30 seconds limit")
            else:
                status.update(Code="Ok", Message="send success", Fee=1, SerialNo=f"2640:{counts[phone]}")
            statuses.append(status)
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": "req-1"}}

    return answer


def tencent(url: str, **changes: str) -> TencentSmsChannel:
    config = {
        "secret_id": SECRET_ID,
        "secret_key": "tencent-secret-key-0001",
        "app_id": "1400000001",
        "sign_name": "示范街道",
        "endpoint": url,
    }
    config.update(changes)
    return TencentSmsChannel(**config)


def test_tencent_sends_an_approved_template(serve):
    provider = serve(tencent_server())
    channel = tencent(provider.url)
    assert channel.check() == []

    sent = channel.send(
        Outgoing(key="msg-7", address="13800138000", text="", template="1001", params=("JD2025010100001", "3"))
    )

    assert sent.ok and sent.code == "Ok" and sent.provider_id == "2640:1"
    body = provider.requests[0].json()
    assert body["PhoneNumberSet"] == ["+8613800138000"]
    assert body["TemplateParamSet"] == ["JD2025010100001", "3"] and body["SessionContext"] == "msg-7"


def test_tencent_refusals_and_limits(serve):
    channel = tencent(serve(tencent_server(limit_per_phone=1)).url)
    ok = channel.send(Outgoing(key="a", address="13800138000", text="", template="1001", params=("x", "y")))
    limited = channel.send(Outgoing(key="b", address="13800138000", text="", template="1001", params=("x", "y")))
    unapproved = channel.send(Outgoing(key="c", address="13900139000", text="", template="9999", params=("x", "y")))
    params = channel.send(Outgoing(key="d", address="13700137000", text="", template="1001", params=("x",)))

    assert ok.ok
    assert not limited.ok and limited.code == "LimitExceeded.PhoneNumberThirtySecondLimit" and limited.retry
    assert not unapproved.ok and unapproved.code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert not unapproved.retry and "模板" in unapproved.answer
    assert not params.ok and params.code.startswith("InvalidParameterValue.") and not params.retry


def test_tencent_wrong_key_is_not_retried_and_the_network_is(serve):
    wrong = tencent(serve(tencent_server()).url, secret_id="AKIDwrong000000001")
    sent = wrong.send(Outgoing(key="a", address="13800138000", text="", template="1001", params=("x", "y")))
    assert not sent.ok and sent.code == "AuthFailure.SecretIdNotFound" and not sent.retry

    down = tencent(closed_port_url(), timeout="2")
    answer = down.send(Outgoing(key="a", address="13800138000", text="", template="1001", params=("x", "y")))
    assert not answer.ok and answer.retry and answer.code == "ClientNetworkError"
    assert "tencent-secret-key-0001" not in answer.answer


def test_tencent_refuses_before_calling(serve):
    provider = serve(tencent_server())
    channel = tencent(provider.url)
    bad_phone = channel.send(Outgoing(key="a", address="0571-8888888", text="", template="1001", params=("x", "y")))
    no_template = channel.send(Outgoing(key="a", address="13800138000", text="通知"))
    assert bad_phone.code == "bad_phone" and not bad_phone.retry
    assert no_template.code == "no_template" and not no_template.retry
    assert provider.requests == []
    problems = " ".join(tencent("sms.tencentcloudapi.com", secret_key="", app_id="abc", sign_name="").check())
    for setting in ("SECRET_KEY", "APP_ID", "SIGN_NAME", "ENDPOINT"):
        assert f"JIEDAO_SMS_TENCENT_{setting}" in problems


def test_the_problems_read_in_english_too():
    with translation.override("en"):
        problems = HttpSmsChannel(url="https://sms.example", body="to={mobile}&msg={text}", success="code=0").check()
        refused = HttpSmsChannel(url="https://sms.example", body=FORM_BODY, secret="pw").send(
            Outgoing(key="k", address="12345", text="x")
        )
    assert any("unknown placeholders {mobile}" in p for p in problems)
    assert "not a mainland China mobile number" in refused.answer
