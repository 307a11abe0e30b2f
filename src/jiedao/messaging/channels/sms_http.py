"""A generic HTTP SMS gateway, as many government SMS platforms offer one: a URL, GET or POST, a
body template with the placeholders {phone} {text} {key} {secret} (form-encoded or JSON), and a
success rule on the JSON answer (``code=0``: the field ``code`` equals ``0``; dotted paths such as
``result.code=0`` reach into objects).

The number must be a mainland mobile (+86 allowed): any other is refused without calling the
gateway. No answer, a timeout, HTTP 429 or 5xx and the codes of ``RETRY_CODES`` may heal later;
any other refusal will not (docs/messaging.md, "渠道 Channels")."""

from __future__ import annotations

import json
import re
from typing import cast
from urllib.parse import quote_plus

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from .base import Outgoing, Sent
from .transport import Reply, call, http_retry, mainland_mobile, mask, scrub, valid_url

PLACEHOLDERS = ("phone", "text", "key", "secret")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SAMPLE = {"phone": "13800000000", "text": '示例 "短信" & 内容', "key": "k1", "secret": "s"}


def _field(data: object, path: str) -> object:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


class HttpSmsChannel:
    name = "sms_http"
    label = cast(str, gettext_lazy("短信（HTTP 短信网关）"))

    def __init__(self, **overrides: object) -> None:
        """Settings from ``settings.SMS_HTTP``; any of its keys, lower-cased, may be given instead
        (``url``, ``method``, ``body``, ``content_type``, ``success``, ``id_field``,
        ``message_field``, ``retry_codes``, ``secret``, ``timeout``)."""
        config = {k.lower(): v for k, v in getattr(settings, "SMS_HTTP", {}).items()}
        unknown = set(overrides) - {
            "url",
            "method",
            "body",
            "content_type",
            "success",
            "id_field",
            "message_field",
            "retry_codes",
            "secret",
            "timeout",
        }
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        config.update(overrides)
        self.url = str(config.get("url") or "")
        self.method = str(config.get("method") or "POST").upper()
        self.body = str(config.get("body") or "")
        self.content_type = str(config.get("content_type") or "form").lower()
        self.success = str(config.get("success") or "")
        self.id_field = str(config.get("id_field") or "")
        self.message_field = str(config.get("message_field") or "")
        retry_codes = config.get("retry_codes") or ""
        if isinstance(retry_codes, str):
            retry_codes = retry_codes.split(",")
        self.retry_codes = {str(c).strip() for c in cast(list, retry_codes) if str(c).strip()}
        self.secret = str(config.get("secret") or "")
        self.timeout = float(cast(float, config.get("timeout") or 10))

    def _rule(self) -> tuple[str, str]:
        field, _, value = self.success.partition("=")
        return field.strip(), value.strip()

    def check(self) -> list[str]:
        problems = []
        if not valid_url(self.url):
            problems.append(gettext("JIEDAO_SMS_HTTP_URL 不是有效的网址（应以 http:// 或 https:// 开头）。"))
        if self.method not in ("GET", "POST"):
            problems.append(gettext("JIEDAO_SMS_HTTP_METHOD 只能是 GET 或 POST。"))
        if self.content_type not in ("form", "json"):
            problems.append(gettext("JIEDAO_SMS_HTTP_CONTENT_TYPE 只能是 form（表单）或 json。"))
        elif self.method == "GET" and self.content_type == "json":
            problems.append(gettext("GET 请求的参数放在网址中，JIEDAO_SMS_HTTP_CONTENT_TYPE 应为 form。"))
        if not self.body:
            problems.append(gettext("JIEDAO_SMS_HTTP_BODY 没有填写：至少要有 {phone} 和 {text}。"))
        else:
            unknown = sorted({n for n in _PLACEHOLDER.findall(self.body) if n not in PLACEHOLDERS})
            if unknown:
                problems.append(
                    gettext("JIEDAO_SMS_HTTP_BODY 中有不认识的占位符 %(names)s；只能使用 %(allowed)s。")
                    % {
                        "names": "、".join("{" + n + "}" for n in unknown),
                        "allowed": "、".join("{" + n + "}" for n in PLACEHOLDERS),
                    }
                )
            missing = [n for n in ("phone", "text") if "{" + n + "}" not in self.body]
            if missing:
                problems.append(
                    gettext("JIEDAO_SMS_HTTP_BODY 缺少占位符 %(names)s。")
                    % {"names": "、".join("{" + n + "}" for n in missing)}
                )
            if "{secret}" in self.body and not self.secret:
                problems.append(gettext("JIEDAO_SMS_HTTP_BODY 用到 {secret}，但 JIEDAO_SMS_HTTP_SECRET 没有填写。"))
            if self.content_type == "json" and not unknown:
                try:
                    json.loads(self.fill(_SAMPLE))
                except ValueError:
                    problems.append(gettext("JIEDAO_SMS_HTTP_BODY 填入内容后不是有效的 JSON。"))
        field, value = self._rule()
        if not field or not value:
            problems.append(gettext("JIEDAO_SMS_HTTP_SUCCESS 应写成“字段=值”，例如 code=0。"))
        return problems

    def fill(self, values: dict[str, str]) -> str:
        """The body template with each placeholder replaced, escaped for JSON or the form."""

        def escape(value: str) -> str:
            if self.content_type == "json":
                return json.dumps(value, ensure_ascii=False)[1:-1]
            return quote_plus(value)

        return _PLACEHOLDER.sub(lambda m: escape(values[m.group(1)]) if m.group(1) in values else m.group(0), self.body)

    def send(self, message: Outgoing) -> Sent:
        phone = mainland_mobile(message.address)
        if not phone:
            return Sent(
                ok=False,
                code="bad_phone",
                answer=gettext("“%(phone)s”不是中国大陆手机号码（11 位，以 13～19 开头），未发送。")
                % {"phone": message.address},
            )
        problems = self.check()
        if problems:
            return Sent(ok=False, code="configuration", answer=" ".join(problems))
        filled = self.fill({"phone": phone, "text": message.text, "key": message.key, "secret": self.secret})
        if self.method == "GET":
            url = self.url + ("&" if "?" in self.url else "?") + filled
            reply = call(url, method="GET", timeout=self.timeout)
        else:
            content_type = (
                "application/json; charset=utf-8"
                if self.content_type == "json"
                else "application/x-www-form-urlencoded; charset=utf-8"
            )
            reply = call(self.url, body=filled.encode("utf-8"), content_type=content_type, timeout=self.timeout)
        return self.read(reply)

    def read(self, reply: Reply) -> Sent:
        """What the gateway's answer means."""
        secrets = (self.secret,)
        if not reply.answered:
            words = gettext("短信网关无法连接：%(error)s") % {"error": scrub(reply.error, *secrets)}
            return Sent(ok=False, code="network", answer=words, retry=True)
        data = reply.json()
        excerpt = scrub(reply.excerpt(), *secrets)
        if reply.status != 200:
            words = gettext("短信网关答复 HTTP %(status)s：%(body)s") % {"status": reply.status, "body": excerpt}
            return Sent(ok=False, code=f"http_{reply.status}", answer=words, retry=http_retry(reply.status))
        if data is None:
            words = gettext("短信网关的答复不是 JSON：%(body)s") % {"body": excerpt}
            return Sent(ok=False, code="bad_answer", answer=words)
        field, expected = self._rule()
        found = _field(data, field)
        code = "" if found is None else str(found)
        words = str(_field(data, self.message_field) or "") if self.message_field else excerpt
        provider_id = str(_field(data, self.id_field) or "") if self.id_field else ""
        extra = {"secret": mask(self.secret)} if self.secret else {}
        if code == expected:
            return Sent(ok=True, provider_id=provider_id, code=code, answer=scrub(words, *secrets), extra=extra)
        return Sent(
            ok=False,
            provider_id=provider_id,
            code=code,
            answer=scrub(words, *secrets),
            retry=code in self.retry_codes,
            extra=extra,
        )
