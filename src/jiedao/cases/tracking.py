"""Tracking a case (查询进度): with the case number and the reporter's phone, or signed in as the
resident who reported it; and what the resident is shown of it.

Case numbers are sequential, so a phone is all that protects a case from a neighbour who
knows it. Look-ups are limited per client (TRACK_RATE), and failed ones per case number
(TRACK_NUMBER_RATE) and per phone (TRACK_PHONE_RATE) whatever the address, so that neither a
number's phone nor a phone's numbers can be guessed from many addresses. The tracking page and
the API count together. Once a limit is reached the right phone is refused too until the
window has moved on, and the message says so without telling whether the number exists.

What the resident sees (``resident_view``): their own words and the place, with the phones,
identity numbers and the room masked as on every public page; the steps in plain words
(受理 → 已派给… → 正在办理 → 已办结, with dates) and what comes next; and the unit's reply once
the case is resolved. Never the staff's names, internal notes and events (notes, whistles,
extension requests, deadline warnings, returns) or the routing basis."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiedao.common.errors import NotFound
from jiedao.common.masking import mask_address, mask_personal_text
from jiedao.common.throttle import Limit, guard

from . import selectors, telling
from .models import Case, CaseEvent, Status
from .validation import normalise_phone

LIMITS = (
    Limit("TRACK_RATE"),
    Limit("TRACK_NUMBER_RATE", per="number", failures=True),
    Limit("TRACK_PHONE_RATE", per="phone", failures=True),
)
REFUSED = gettext_lazy(
    "查询次数过多，请 %(wait)s后再试。为保护报事人的信息，在此之前即使工单编号和手机号都正确也查不到；"
    "急事请拨打 12345。"
)


def find(request, number, phone):
    """The case with this number and phone (``NotFound`` otherwise), counted against the
    limits (``Throttled`` when one is reached)."""
    with guard(request, *LIMITS, message=REFUSED, number=(number or "").strip(), phone=normalise_phone(phone)):
        return selectors.public_case(number, phone)


def linked_case(token: str) -> Case | None:
    """The case the signed link of the resident's SMS names (``telling.case_link``), or None
    when the link is damaged, forged or expired."""
    number = telling.number_from_link(token)
    if number is None:
        return None
    return Case.objects.select_related("category", "unit", "master").filter(number=number).first()


def own_case(user, number: str) -> Case | None:
    """The case numbered ``number`` when the signed-in ``user`` reported it (no phone needed),
    else None."""
    number = (number or "").strip()
    # Case numbers are short runs of letters and digits; anything else is no case of theirs.
    if user is None or not user.is_authenticated or not (number.isascii() and number.isalnum()) or len(number) > 20:
        return None
    try:
        case = selectors.case_for(user, number)
    except NotFound:
        return None
    return case if case.reporter_id == user.pk else None


@dataclass(frozen=True)
class Step:
    """One step of the case in plain words."""

    title: str
    at: dt.datetime
    detail: str = ""


@dataclass(frozen=True)
class ResidentView:
    """What the resident is shown of their case."""

    description: str
    address: str
    status_label: str
    steps: list[Step] = field(default_factory=list)
    next_step: str = ""
    reply: str = ""
    reply_unit: str = ""
    replied_at: dt.datetime | None = None
    can_rate: bool = False


# The events whose note is an answer to the resident.
REPLIES = ("resolve", "answer", "advise", "self_resolve")


def _unit_name(event: CaseEvent) -> str:
    return event.unit.name if event.unit is not None else ""


def _step(event: CaseEvent, case: Case) -> Step | None:
    """The event in the resident's words, or None for what stays inside the office."""
    action, unit, at = event.action, _unit_name(event), event.at
    if action == "create":
        return Step(_("已受理"), at, _("您反映的问题已登记。"))
    if action == "dispatch":
        if unit:
            return Step(_("已派给%(unit)s") % {"unit": unit}, at, _("由他们负责办理。"))
        return Step(_("已派给承办单位"), at)
    if action == "respond":
        return Step(_("正在办理"), at, _("%(unit)s已开始办理。") % {"unit": unit} if unit else "")
    if action == "approve_extension":
        return Step(_("办理时间延长"), at, _("办理需要更多时间，期限已按规定延长。"))
    if action == "resolve":
        return Step(_("已办结"), at, _("办理单位已答复，答复见下方。"))
    if action == "answer":
        return Step(_("已答复"), at, _("工作人员已直接答复您，答复见下方。"))
    if action == "advise":
        return Step(_("已答复"), at, _("这是个人事务，工作人员已告诉您可以怎么办，见下方。"))
    if action == "self_resolve":
        return Step(_("已现场处置"), at, _("网格员已到现场处理好，处理结果见下方。"))
    if action == "verify_pass":
        return Step(_("已现场核实"), at, _("办理结果已到现场核实。"))
    if action == "verify_fail":
        return Step(_("继续办理"), at, _("现场核实发现还没有办好，已退回继续办理。"))
    if action == "inform":
        return Step(_("已告知办理结果"), at, _("工作人员已把办理结果告诉您。"))
    if action == "rate":
        if event.data.get("reopen"):
            return Step(_("重新办理"), at, _("您的评价是未解决或不满意，已请办理单位重新办理。"))
        return Step(_("已评价"), at, _("感谢您的评价。"))
    if action == "close":
        return Step(_("已结案"), at)
    if action == "merge":
        master = case.master.number if case.master_id and case.master is not None else ""
        return Step(_("合并办理"), at, _("与反映同一问题的工单 %(master)s 一起办理。") % {"master": master})
    return None


def _next_step(case: Case) -> str:
    return {
        Status.NEW: _("派给负责的部门或社区。"),
        Status.RETURNED: _("派给负责的部门或社区。"),
        Status.DISPATCHED: _("承办单位开始办理。"),
        Status.IN_PROGRESS: _("办结并答复您。"),
        Status.VERIFYING: _("到现场核实办理结果。"),
        Status.RATING: _("请您看看答复，在下方评价。"),
    }.get(case.status, "")


def resident_view(case: Case) -> ResidentView:
    """The case as its reporter sees it on the tracking page."""
    events = selectors.events_of(case)
    steps = [step for step in (_step(event, case) for event in events) if step is not None]
    # The unit's result while it stands (a failed check or a reopening withdraws it), or the
    # desk's own answer to a call it settled at intake.
    reply = next((event for event in reversed(events) if event.action in REPLIES), None)
    if reply is not None and reply.action == "resolve" and case.resolved_at is None:
        reply = None
    return ResidentView(
        description=mask_personal_text(case.description),
        address=mask_address(case.address),
        # A case a unit sent back waits for its dispatch again: the return stays inside the office.
        status_label=str(Status.NEW.label if case.status == Status.RETURNED else case.get_status_display()),
        steps=steps,
        next_step=_next_step(case),
        reply=mask_personal_text(reply.note) if reply is not None else "",
        reply_unit=(reply.actor_unit.name if reply.actor_unit is not None else _unit_name(reply)) if reply else "",
        replied_at=reply.at if reply is not None else None,
        can_rate=case.status == Status.RATING,
    )
