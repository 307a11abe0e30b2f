"""What each kind of message says when it leaves the site: its Chinese name, the variables its
template may use, the text it has until an administrator changes it (``MessageTemplate``), and
whether it is urgent (sent at once, also in the quiet hours, never held for a digest).

A template is plain Chinese text with variables in braces: ``工单{编号}已受理``. ``render`` fills
them; a variable the kind does not have is refused with its name and the ones it has. The SMS
length counts the signature the provider adds (【街道】): up to 70 characters are one message,
a longer text is sent in parts of 67.

Pure: no database, no settings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

VARIABLE = re.compile(r"\{([^{}\s]{1,20})\}")
SMS_SINGLE = 70
SMS_PART = 67

#: Variables every staff message has: the message itself, its page and the time.
STAFF_VARIABLES = ("消息", "链接", "时间")


@dataclass(frozen=True)
class Kind:
    label: str
    variables: tuple[str, ...]
    text: str
    urgent: bool = False
    resident: bool = False


def _staff(label, urgent=False):
    return Kind(label=label, variables=STAFF_VARIABLES, text="{消息}", urgent=urgent)


KINDS: dict[str, Kind] = {
    "dispatch": _staff(gettext_lazy("派单"), urgent=True),
    "cohandle": _staff(gettext_lazy("协办")),
    "extension": _staff(gettext_lazy("延期申请与审批")),
    "return_decided": _staff(gettext_lazy("退回审核结果")),
    "whistle": _staff(gettext_lazy("吹哨报到"), urgent=True),
    "supervise": _staff(gettext_lazy("督办"), urgent=True),
    "supervise_reply": _staff(gettext_lazy("督办答复")),
    "supervise_overdue": _staff(gettext_lazy("督办超期"), urgent=True),
    "sla_yellow": _staff(gettext_lazy("临期提醒")),
    "sla_red": _staff(gettext_lazy("超期"), urgent=True),
    "response_soon": _staff(gettext_lazy("响应时限将到")),
    "overdue": _staff(gettext_lazy("超期提醒"), urgent=True),
    "report_soon": _staff(gettext_lazy("报到时限将到")),
    "report_missed": _staff(gettext_lazy("未按时报到"), urgent=True),
    "rework": _staff(gettext_lazy("重办")),
    "verify": _staff(gettext_lazy("核查")),
    "merge": _staff(gettext_lazy("并案")),
    "emergency": _staff(gettext_lazy("突发事件"), urgent=True),
    "emergency_duty": _staff(gettext_lazy("值班接警"), urgent=True),
    "emergency_escalate": _staff(gettext_lazy("接警升级"), urgent=True),
    "alert": _staff(gettext_lazy("设备告警"), urgent=True),
    "rectification": _staff(gettext_lazy("整改指令")),
    "participation": _staff(gettext_lazy("居民议事与志愿")),
    "open311": _staff(gettext_lazy("外部平台更新")),
    "system": _staff(gettext_lazy("系统故障"), urgent=True),
    "surge": _staff(gettext_lazy("数量激增")),
    "sensitive": _staff(gettext_lazy("红色预警（舆情、群体事件、热点）"), urgent=True),
    "digest": Kind(
        label=gettext_lazy("消息汇总"),
        variables=("条数", "内容", "时间"),
        text="您有{条数}条新消息：{内容}",
    ),
    "resident_receipt": Kind(
        label=gettext_lazy("受理回执（居民）"),
        variables=("编号", "分类", "链接", "退订链接", "时间"),
        text="您反映的诉求已受理，工单号{编号}，办理进度可查：{链接} 退订：{退订链接}",
        urgent=True,
        resident=True,
    ),
    "resident_result": Kind(
        label=gettext_lazy("办理结果与评价邀请（居民）"),
        variables=("编号", "单位", "答复", "链接", "退订链接", "时间"),
        text="您反映的诉求（工单号{编号}）已由{单位}办理：{答复} 请评价：{链接} 退订：{退订链接}",
        resident=True,
    ),
    "hall_rating": Kind(
        label=gettext_lazy("好差评邀请（办事群众）"),
        variables=("编号", "事项", "链接", "退订链接", "时间"),
        text="您在便民服务中心办理的{事项}（{编号}）已办结，请评价：{链接} 退订：{退订链接}",
        resident=True,
    ),
}


def kind_of(code: str) -> Kind:
    """The kind of ``code``; a kind not listed is a staff message saying itself."""
    return KINDS.get(code) or _staff(code)


class TemplateError(ValueError):
    """A template that names a variable its kind does not have."""

    def __init__(self, unknown: list[str], allowed: tuple[str, ...]):
        self.unknown = unknown
        self.message = _("模板中的变量 %(unknown)s 不认识。可用的变量：%(allowed)s。") % {
            "unknown": "、".join("{" + name + "}" for name in unknown),
            "allowed": "、".join("{" + name + "}" for name in allowed),
        }
        super().__init__(self.message)


def variables_in(text: str) -> list[str]:
    """The variables of ``text`` in order of first appearance (an SMS provider's template
    parameters are these, in this order)."""
    seen: list[str] = []
    for name in VARIABLE.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def check(text: str, allowed: tuple[str, ...]) -> None:
    """Refuse a template naming a variable not in ``allowed``."""
    unknown = [name for name in variables_in(text) if name not in allowed]
    if unknown:
        raise TemplateError(unknown, allowed)


def render(text: str, values: dict[str, object]) -> str:
    """``text`` with each {variable} replaced by its value (an unknown one is left as written)."""
    return VARIABLE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text or "")


def parameters(text: str, values: dict[str, object]) -> list[str]:
    """The values of the template's variables in order: an SMS provider's template parameters."""
    return [str(values.get(name, "")) for name in variables_in(text)]


def sms_length(text: str, signature: str = "") -> tuple[int, int]:
    """(characters, messages) of an SMS of ``text`` with the provider's 【signature】."""
    length = len(text) + (len(signature) + 2 if signature else 0)
    if length <= SMS_SINGLE:
        return length, 1 if length else 0
    return length, math.ceil(length / SMS_PART)


def sample_values(code: str) -> dict[str, object]:
    """Values for a template's preview."""
    return {
        "消息": _("工单 JD2026120700012 已派给您单位，请在 2 小时内响应。"),
        "链接": "https://jd.example.cn/cases/JD2026120700012/",
        "时间": "12月7日 09:30",
        "编号": "JD2026120700012",
        "分类": _("市容环境 / 垃圾清运"),
        "单位": _("城管执法队"),
        "答复": _("垃圾已于当日清运，并增加了清运频次。"),
        "事项": _("居住证办理"),
        "退订链接": "https://jd.example.cn/m/t/ab12cd34",
        "条数": 4,
        "内容": _("1. 工单 JD2026120700012 已派给您单位；2. 工单 JD2026120700015 临期……"),
    }
