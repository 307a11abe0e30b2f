"""Where a case routes, as the one module the services, the bulk writer and the category
proposals all ask: override rules by priority (for the category or a category above it, the
community, the grid), then the responsibility list, then the street's default unit; and what a
dispatcher's own choice of unit says."""

from jiedao.cases import routing
from jiedao.cases.models import Case
from jiedao.org.models import Unit
from tests.factories import WEDNESDAY


def test_rules_go_by_priority_and_the_street_default_takes_the_rest(street):
    c1, c2 = street.communities
    sanitation, elderly = street.categories.sanitation, street.categories.elderly
    # "东湖社区环境卫生归居委会" (priority 10) before "市政管理归综合执法队" (20, a category above).
    assert routing.route(Case(category=sanitation, community=c1, street=street.street))[0] == street.units.committee1
    assert routing.route(Case(category=sanitation, community=c2, street=street.street))[0] == street.units.enforcement
    unit, reason = routing.route(Case(category=elderly, community=c2, street=street.street))
    assert unit == street.street.default_unit and "默认承办单位" in reason
    decision = routing.route_decision(Case(category=sanitation, community=c2, street=street.street))
    assert decision.rule is not None and "市政管理归综合执法队" in decision.reason


def test_a_unit_the_dispatcher_names_says_why(street):
    case = Case(category=street.categories.sanitation, community=street.communities[1], street=street.street)
    decision = routing.route_decision(case)
    assert routing.named_unit(decision, street.units.enforcement) is decision
    chosen = routing.named_unit(decision, street.units.housing)
    assert (chosen.unit, chosen.reason, chosen.rule) == (street.units.housing, "派单员指定", None)
    district = Unit.objects.create(street=street.street, code="QCG", name="区城管委", kind=Unit.Kind.DISTRICT)
    up = routing.named_unit(decision, district)
    assert up.unit == district and up.reason == "上报区级部门"


def test_the_response_deadline_alone_is_the_one_of_both_deadlines(street):
    repairs = street.categories.repairs  # 4 office hours, 10 working days
    response, completion = routing.deadlines_for(repairs, WEDNESDAY)
    assert routing.response_due(repairs, WEDNESDAY) == response
    assert response > WEDNESDAY and completion > response
