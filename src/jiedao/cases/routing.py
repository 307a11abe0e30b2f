"""Where a case goes and by when: the routing rules and the deadlines, as pure reads.

A case is routed, in order, to:

1. the first active routing rule by priority (an explicit override kept by the
   administrators) that matches its category or a category above it, its community
   and its grid — unless it would send a negative-list item to a street unit (the list
   changed after the rule was saved): such a rule is skipped, and said so in the basis;
2. else the responsibility list item in force for its category (主办, with the 协办
   units it names), or nowhere when the task is on the negative list (负面清单);
3. else the default unit of the case's street.

A rule or list entry that names a unit of another street than the case's is skipped
(an installation that serves a whole city). The deadlines are the duty item's limits
when it has them, else the category's, counted on the working calendar from the
moment of dispatch.

Nothing here writes: the services (one case at a time), the bulk writer (the demo
and the history import) and the intelligence selectors (which unit a proposed
category would reach) all ask the same functions. The categories, rules and default
units are read through ``cases.selectors`` (its per-process cache)."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from jiedao.duties.selectors import route_for, rule_overruled
from jiedao.org.models import Unit
from jiedao.workcal.calendar import add_hours, workday_deadline

from . import selectors
from .models import RoutingRule


@dataclass
class RouteDecision:
    """Where a case goes and why: an override rule, the responsibility list, or the default."""

    unit: Unit | None
    reason: str
    rule: RoutingRule | None = None
    duty_version: object = None
    collaborators: list = field(default_factory=list)
    # The negative-list item that forbids handing the case to a street unit, if any.
    negative: object = None


def _category_chain(category):
    """Ids of the category and of every level above it (parents from the cache when known)."""
    known = selectors.routing_data().categories_by_id
    chain = []
    node = category
    while node is not None:
        chain.append(node.pk)
        if node.parent_id is None:
            break
        node = known.get(node.parent_id) or node.parent
    return chain


def _same_street(unit, case) -> bool:
    """A rule or list entry naming another street's unit does not apply (a city installation)."""
    return case.street_id is None or unit.street_id == case.street_id


def route_decision(case, duty_route=route_for, avoid=frozenset()) -> RouteDecision:
    """Routing, in order: an explicit override rule (first by priority) → the in-force
    responsibility list (主办 and 协办, or a negative-list block) → the street's default unit.
    ``duty_route(category, community_id)``: what the list says (a bulk write remembers it).
    ``avoid``: ids of units passed over (the units that returned the case): the next choice."""
    chain = _category_chain(case.category) if case.category_id else []
    overruled = ""  # rules the negative list set aside, told in the routing basis
    duty = None  # what the list says, read at most once
    for rule in selectors.routing_rules():
        if rule.category_id is not None and rule.category_id not in chain:
            continue
        if rule.unit_id in avoid:
            continue
        if rule.community_id is not None and rule.community_id != case.community_id:
            continue
        if rule.grid_id is not None and rule.grid_id != case.grid_id:
            continue
        if not _same_street(rule.unit, case):
            continue
        if duty is None:
            duty = duty_route(case.category, case.community_id)  # once, for the rules and below
        why = rule_overruled(duty, unit=rule.unit)
        if why:
            overruled += _("未采用派单规则 #%(id)s（%(why)s）；") % {"id": rule.pk, "why": why}
            continue
        return RouteDecision(rule.unit, _("派单规则 #%(id)s %(name)s") % {"id": rule.pk, "name": rule.name}, rule=rule)
    if duty is None:
        duty = duty_route(case.category, case.community_id)
    if duty.blocked:
        return RouteDecision(None, overruled + duty.reason, duty_version=duty.version, negative=duty.negative)
    if duty.unit is not None and duty.unit.pk not in avoid and _same_street(duty.unit, case):
        return RouteDecision(duty.unit, duty.reason, duty_version=duty.version, collaborators=duty.collaborators)
    default_unit = selectors.street_default_unit(case.community_id, case.street_id)
    if default_unit is not None and default_unit.active and default_unit.pk not in avoid:
        if duty.version is not None:
            # The duty belongs to "the community committee where it happens", but the case has no community.
            return RouteDecision(
                default_unit,
                _("权责清单 %(code)s 由所在社区承办，工单未定位到社区，派给街道默认承办单位")
                % {"code": duty.version.item.code},
                duty_version=duty.version,
            )
        return RouteDecision(default_unit, _("无匹配规则，派给街道默认承办单位"))
    return RouteDecision(None, "")


def named_unit(decision: RouteDecision, unit: Unit) -> RouteDecision:
    """The decision when the dispatcher names ``unit`` instead of the routing's: the routing's
    own when it is the same unit; for a district department (上报区级部门) the reason, with the
    negative list's when it blocked the case, and the duty version's limits; else "派单员指定".
    Whether the unit may take the case (its street, the negative list) is the caller's check."""
    if unit == decision.unit:
        return decision
    if unit.kind == Unit.Kind.DISTRICT:
        reason = _("上报区级部门：%(reason)s") % {"reason": decision.reason} if decision.negative else _("上报区级部门")
        return RouteDecision(unit, reason, duty_version=decision.duty_version)
    return RouteDecision(unit, _("派单员指定"))


def route(case):
    """The unit for the case and why, as ``(unit, reason)``."""
    decision = route_decision(case)
    return decision.unit, decision.reason


def deadlines_for(category, start, duty_version=None):
    """(response_due, completion_due) for a case dispatched at ``start``: the duty item's
    limits when it has them, else the category's."""
    workdays = category.completion_workdays
    if duty_version is not None and duty_version.completion_workdays is not None:
        workdays = duty_version.completion_workdays
    return response_due(category, start, duty_version), workday_deadline(start, workdays)


def response_due(category, start, duty_version=None):
    """The response deadline alone (what a history that states its completion deadline lacks):
    the duty item's hours when it has them, else the category's, counted as the category says."""
    hours = float(category.response_hours)
    if duty_version is not None and duty_version.response_hours is not None:
        hours = float(duty_version.response_hours)
    return add_hours(start, hours, category.office_hours_only)
