"""钉钉自定义机器人 (DingTalk custom robot): a JSON POST to ``{base}/robot/send?access_token=TOKEN``.

A robot is named in the settings with its token and, in signed mode (加签), its secret: then
``timestamp`` (milliseconds) and ``sign`` = urlencode(base64(HMAC-SHA256(secret,
"{timestamp}\\n{secret}"))) join the query. The mobiles to @ are listed in ``at.atMobiles`` and
written as ``@mobile`` in the text, as DingTalk shows them. ``errcode`` 0 is accepted; the codes
of ``RETRY_CODES`` may heal later, any other refusal will not (docs/messaging.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote, quote_plus

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from .base import Outgoing, Sent
from .transport import call, mainland_mobile, mask, named_pairs, robot_reply, valid_url

#: errcodes that mean "later": -1 system busy, 130101 too many messages (20 a minute a robot).
RETRY_CODES = {-1, 130101}
KNOWN_CODES = {
    -1: gettext_lazy("钉钉系统繁忙"),
    130101: gettext_lazy("发送太快（每个机器人每分钟最多 20 条）"),
    310000: gettext_lazy("安全设置不符：关键词、加签或 IP 地址"),
    300001: gettext_lazy("机器人令牌无效"),
    400102: gettext_lazy("机器人已停用"),
}


def sign(secret: str, timestamp: int) -> str:
    """DingTalk's signature of a timestamp (ms), URL-encoded as the query wants it."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


@dataclass(frozen=True)
class Robot:
    token: str
    secret: str = ""


class DingTalkChannel:
    name = "dingtalk"
    label = cast(str, gettext_lazy("钉钉群机器人"))

    def __init__(
        self,
        *,
        base_url: str | None = None,
        robots: str | Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        config = getattr(settings, "DINGTALK", {})
        self.base_url = (base_url if base_url is not None else config.get("BASE_URL", "")).rstrip("/")
        pairs, self.problems = named_pairs(
            robots if robots is not None else config.get("ROBOTS", ""), setting="JIEDAO_DINGTALK_ROBOTS"
        )
        self.robots = {}
        for name, value in pairs.items():
            token, _, secret = value.partition(",")
            self.robots[name] = Robot(token.strip(), secret.strip())
        self.timeout = float(timeout if timeout is not None else config.get("TIMEOUT", 10))

    def check(self) -> list[str]:
        problems = list(self.problems)
        if not valid_url(self.base_url):
            problems.append(gettext("JIEDAO_DINGTALK_BASE_URL 不是有效的网址（应以 http:// 或 https:// 开头）。"))
        if not self.robots and not self.problems:
            problems.append(
                gettext("没有配置钉钉群机器人：请在 JIEDAO_DINGTALK_ROBOTS 中填写“名称=令牌”或“名称=令牌,加签密钥”。")
            )
        for name, robot in self.robots.items():
            if not robot.token:
                problems.append(gettext("钉钉群机器人“%(name)s”没有填写令牌。") % {"name": name})
        return problems

    def payload(self, message: Outgoing) -> dict:
        """The JSON the robot is sent."""
        mobiles = [m for m in (mainland_mobile(p) for p in message.mentions) if m]
        at_line = (" ".join(f"@{m}" for m in mobiles) + "\n") if mobiles else ""
        at = {"atMobiles": mobiles, "isAtAll": False}
        if message.link:
            title = message.subject or message.text[:20]
            heading = f"### {message.subject}\n\n" if message.subject else ""
            text = f"{heading}{at_line}{message.text}\n\n[{gettext('查看详情')}]({message.link})"
            return {"msgtype": "markdown", "markdown": {"title": title, "text": text}, "at": at}
        head = f"{message.subject}\n" if message.subject else ""
        return {"msgtype": "text", "text": {"content": f"{at_line}{head}{message.text}"}, "at": at}

    def url(self, robot: Robot, *, now_ms: int | None = None) -> str:
        url = f"{self.base_url}/robot/send?access_token={quote(robot.token, safe='')}"
        if robot.secret:
            timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
            url += f"&timestamp={timestamp}&sign={sign(robot.secret, timestamp)}"
        return url

    def send(self, message: Outgoing) -> Sent:
        robot = self.robots.get(message.address.strip())
        if robot is None or not robot.token:
            return Sent(
                ok=False,
                code="unknown_robot",
                answer=gettext("没有名为“%(name)s”的钉钉群机器人。") % {"name": message.address},
            )
        if not valid_url(self.base_url):
            return Sent(ok=False, code="configuration", answer=gettext("钉钉群机器人的地址配置有误。"))
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        reply = call(self.url(robot), body=body, content_type="application/json; charset=utf-8", timeout=self.timeout)
        return robot_reply(
            reply,
            unreachable=gettext("钉钉无法连接：%(error)s"),
            refused=gettext("钉钉答复 HTTP %(status)s：%(body)s"),
            secrets=(robot.token, robot.secret),
            known=KNOWN_CODES,
            retry_codes=RETRY_CODES,
            extra={"robot": message.address, "token": mask(robot.token), "signed": bool(robot.secret)},
        )
