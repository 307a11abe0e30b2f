"""Sending a case to a unit (派单), the part shared by the dispatcher's action
(``services.dispatch``) and the intake that dispatches at once (``intake``):

- ``route_for_dispatch``: where the case goes — the routing decision (``routing``), or the unit
  the dispatcher names, checked against the case's street and the negative list; it reads only
  and refuses with ``ValidationFailed``, so a case that cannot go anywhere is refused with
  nothing written. A returned case never goes back by itself to a unit that returned it: the
  routing passes over those units (``next_route``: the routing's next choice, or none), and
  only the dispatcher naming such a unit sends the case there again;
- ``apply_dispatch``: what dispatching sets on the case row (unit, reason, deadlines), unsaved;
  the status is the lifecycle's (``states.CASE``);
- ``dispatch_data``: what the dispatch event records, enough to replay the case;
- ``send_notices``: the unit's message, and the co-handling task (协办) with a message for
  each collaborating unit the responsibility list names.
"""

from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.messaging.services import notify
from jiedao.org.models import Unit

from .models import CaseEvent, Urgency, Whistle, WhistleSummons
from .routing import RouteDecision, deadlines_for, named_unit, route_decision

# What dispatching changes on the case row.
DISPATCH_FIELDS = (
    "unit",
    "routed_by",
    "duty_version",
    "dispatched_at",
    "response_due",
    "completion_due",
    "responded_at",
    "urgency",
    "status",
    "updated_at",
)


def case_page(case) -> str:
    """The case's page: where a message about the case leads. The path around the number is
    looked up once per URL configuration and script prefix (every dispatch and most actions
    write a message with it)."""
    number = case.number
    if not number.isalnum():  # a number that would need quoting (never one the site gives)
        return reverse("cases:case", args=[number])
    resolver, prefix = get_resolver(get_urlconf()), get_script_prefix()
    held = _case_paths.get(prefix)
    if held is None or held[0] is not resolver:
        head, _sep, tail = reverse("cases:case", args=[_PLACEHOLDER]).partition(_PLACEHOLDER)
        held = _case_paths[prefix] = (resolver, head, tail)
    return f"{held[1]}{number}{held[2]}"


_PLACEHOLDER = "JIEDAOCASENUMBER"
_case_paths: dict[str, tuple] = {}


def iso(value):
    return value.isoformat() if value else None


def refusing_unit_ids(case) -> list[int]:
    """The units that returned the case (退单), the latest first; none for a case never returned."""
    if not case.return_count:
        return []
    ids = (
        CaseEvent.objects.filter(case=case, action="return", actor_unit__isnull=False)
        .order_by("-seq")
        .values_list("actor_unit_id", flat=True)
    )
    return list(dict.fromkeys(ids))


def next_route(case, refused=None) -> RouteDecision:
    """The routing decision passing over the units that returned the case (``refused``: their
    ids, read from the case's log when not given): the routing's next choice, or no unit."""
    avoid = frozenset(refusing_unit_ids(case) if refused is None else refused)
    return route_decision(case, avoid=avoid)


def route_for_dispatch(case, unit_code=None) -> RouteDecision:
    """Where the case goes: the routing decision (never a unit that returned the case), or the
    dispatcher's ``unit_code`` (checked against the negative list). Reads only; raises
    ``ValidationFailed``."""
    if case.category_id is None:
        raise ValidationFailed("category", _("派单前请先选择分类。"))
    refused = refusing_unit_ids(case)
    decision = next_route(case, refused)
    if unit_code:
        unit = Unit.objects.filter(code=unit_code, active=True).first()
        if unit is None:
            raise ValidationFailed("unit", _("承办单位代码“%(code)s”不存在或已停用。") % {"code": unit_code})
        if case.street_id is not None and unit.street_id != case.street_id:
            raise ValidationFailed("unit", _("承办单位“%(name)s”不属于本工单的受理街道。") % {"name": unit.name})
        if decision.negative is not None and decision.unit is None and unit.kind != Unit.Kind.DISTRICT:
            raise ValidationFailed("unit", decision.reason)
        return named_unit(decision, unit)
    if decision.unit is None:
        if decision.negative is not None:
            raise ValidationFailed("unit", decision.reason)
        if refused:
            raise ValidationFailed("unit", _("派单规则给出的单位已退回此工单，请手动选择承办单位。"))
        raise ValidationFailed("unit", _("没有派单规则匹配此工单，请手动选择承办单位。"))
    return decision


def apply_dispatch(case, decision: RouteDecision, now) -> None:
    """Set the unit, the reason and both deadlines on the case (not saved)."""
    case.unit = decision.unit
    case.routed_by = str(decision.reason)[:200]
    case.duty_version = decision.duty_version
    case.dispatched_at = now
    case.response_due, case.completion_due = deadlines_for(case.category, now, decision.duty_version)
    case.responded_at = None
    case.urgency = Urgency.GREEN


def collaborators_of(case, decision: RouteDecision) -> list:
    """The co-handling units (协办) the decision names, the holding unit left out."""
    return [unit for unit in decision.collaborators if unit != case.unit]


def dispatch_data(case, decision: RouteDecision, *, manual: bool) -> dict:
    """What the dispatch event records (``manual``: the dispatcher named the unit)."""
    return {
        "unit": case.unit.code,
        "routed_by": case.routed_by,
        "rule": decision.rule.pk if decision.rule else None,
        "duty": decision.duty_version.item.code if decision.duty_version else None,
        "duty_version": decision.duty_version.number if decision.duty_version else None,
        "collaborators": [unit.code for unit in collaborators_of(case, decision)],
        "response_due": iso(case.response_due),
        "completion_due": iso(case.completion_due),
        "manual": manual,
    }


def send_notices(user, case, decision: RouteDecision, at) -> bool:
    """The unit's notification, and the co-handling task (协办) with a notification for
    each collaborating unit the list names. Returns whether there was a co-handling task."""
    unit = case.unit
    notify(
        unit=unit,
        link=case_page(case),
        kind="dispatch",
        message=_("新工单 %(number)s 已派至本单位，请在时限内响应。") % {"number": case.number},
    )
    collaborators = collaborators_of(case, decision)
    if collaborators:
        cohandle = Whistle.objects.create(
            case=case,
            kind=Whistle.Kind.COHANDLE,
            blown_by=user if user is not None and user.is_authenticated else None,
            blown_at=at,
            report_due=case.response_due,
            reason=_("权责清单协办：%(reason)s") % {"reason": case.routed_by},
        )
        for collaborator in collaborators:
            WhistleSummons.objects.create(whistle=cohandle, unit=collaborator)
            notify(
                unit=collaborator,
                link=case_page(case),
                kind="cohandle",
                message=_("工单 %(number)s 需本单位协办（主办：%(unit)s），请报到并说明承担的工作。")
                % {"number": case.number, "unit": unit.name},
            )
    return bool(collaborators)
