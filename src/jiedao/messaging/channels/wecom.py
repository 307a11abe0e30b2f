"""企业微信群机器人 (WeCom group robot): a JSON POST to ``{base}/cgi-bin/webhook/send?key=KEY``.

A message goes to a robot by its configured name (``Outgoing.address``). Plain text with the
mobile numbers to @ (``mentioned_mobile_list``); with a link and nobody to @, markdown with the
link. The answer's ``errcode`` 0 is accepted; the codes of ``RETRY_CODES`` may heal later, any
other refusal will not (docs/messaging.md, "渠道 Channels")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import cast
from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from .base import Outgoing, Sent
from .transport import call, mainland_mobile, mask, named_pairs, robot_reply, valid_url

#: errcodes that mean "later": -1 system busy, 45009 too many calls, 45033 too many at once.
RETRY_CODES = {-1, 45009, 45033}
#: errcodes worth a word of their own; every other non-zero errcode is refused for good.
KNOWN_CODES = {
    -1: gettext_lazy("企业微信系统繁忙"),
    45009: gettext_lazy("调用太频繁（每个机器人每分钟最多 20 条）"),
    45033: gettext_lazy("同时调用的请求太多"),
    93000: gettext_lazy("机器人密钥无效（机器人可能已被移出群）"),
    40008: gettext_lazy("消息类型不对"),
    44004: gettext_lazy("消息内容为空"),
}
TEXT_BYTES = 2048
MARKDOWN_BYTES = 4096


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[: limit - 3].decode("utf-8", "ignore") + "…"


class WeComChannel:
    name = "wecom"
    label = cast(str, gettext_lazy("企业微信群机器人"))

    def __init__(
        self,
        *,
        base_url: str | None = None,
        robots: str | Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        config = getattr(settings, "WECOM", {})
        self.base_url = (base_url if base_url is not None else config.get("BASE_URL", "")).rstrip("/")
        self.robots, self.problems = named_pairs(
            robots if robots is not None else config.get("ROBOTS", ""), setting="JIEDAO_WECOM_ROBOTS"
        )
        self.timeout = float(timeout if timeout is not None else config.get("TIMEOUT", 10))

    def check(self) -> list[str]:
        problems = list(self.problems)
        if not valid_url(self.base_url):
            problems.append(gettext("JIEDAO_WECOM_BASE_URL 不是有效的网址（应以 http:// 或 https:// 开头）。"))
        if not self.robots and not self.problems:
            problems.append(gettext("没有配置企业微信群机器人：请在 JIEDAO_WECOM_ROBOTS 中填写“名称=密钥”。"))
        return problems

    def payload(self, message: Outgoing) -> dict:
        """The JSON the robot is sent."""
        mobiles = [m for m in (mainland_mobile(p) for p in message.mentions) if m]
        head = f"{message.subject}\n" if message.subject else ""
        if message.link and not mobiles:
            title = f"**{message.subject}**\n" if message.subject else ""
            content = f"{title}{message.text}\n[{gettext('查看详情')}]({message.link})"
            return {"msgtype": "markdown", "markdown": {"content": _cut(content, MARKDOWN_BYTES)}}
        content = head + message.text + (f"\n{message.link}" if message.link else "")
        text: dict = {"content": _cut(content, TEXT_BYTES)}
        if mobiles:
            text["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": text}

    def send(self, message: Outgoing) -> Sent:
        key = self.robots.get(message.address.strip())
        if not key:
            return Sent(
                ok=False,
                code="unknown_robot",
                answer=gettext("没有名为“%(name)s”的企业微信群机器人。") % {"name": message.address},
            )
        if not valid_url(self.base_url):
            return Sent(ok=False, code="configuration", answer=gettext("企业微信群机器人的地址配置有误。"))
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        url = f"{self.base_url}/cgi-bin/webhook/send?key={quote(key, safe='')}"
        reply = call(url, body=body, content_type="application/json; charset=utf-8", timeout=self.timeout)
        return robot_reply(
            reply,
            unreachable=gettext("企业微信无法连接：%(error)s"),
            refused=gettext("企业微信答复 HTTP %(status)s：%(body)s"),
            secrets=(key,),
            known=KNOWN_CODES,
            retry_codes=RETRY_CODES,
            extra={"robot": message.address, "key": mask(key)},
        )
