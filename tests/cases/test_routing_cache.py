"""Categories, routing rules, default units and grids are kept in memory per process.
An edit made in this process applies to the very next case; an edit made by another
process (no signal reaches this one) applies once ``ROUTING_TTL`` has passed."""

import pytest

from jiedao.cases import selectors, services
from jiedao.cases.models import Category, RoutingRule
from jiedao.common.errors import ValidationFailed
from jiedao.org.models import Grid
from tests.factories import WEDNESDAY


def intake(street, category="010101", lat=39.905, lng=116.405, **values):
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="居民反映问题",
        reporter_phone="13800138000",
        category_code=category,
        lat=lat,
        lng=lng,
        dispatch=True,
        at=WEDNESDAY,
        **values,
    )
    return case


@pytest.fixture
def clock(monkeypatch):
    """A clock for the cache that the test moves by hand."""
    now = [1000.0]
    monkeypatch.setattr(selectors, "_clock", lambda: now[0])
    return now


def test_a_rule_saved_here_routes_the_very_next_case(street):
    assert intake(street).unit == street.units.committee1
    rule = RoutingRule.objects.get(priority=10)
    rule.unit = street.units.service
    rule.save()
    assert intake(street).unit == street.units.service


def test_a_rule_changed_by_another_process_applies_within_the_ttl(street, clock):
    assert intake(street).unit == street.units.committee1
    RoutingRule.objects.filter(priority=10).update(active=False)  # as another process: no signal here
    clock[0] += selectors.ROUTING_TTL / 2
    assert intake(street).unit == street.units.committee1
    clock[0] += selectors.ROUTING_TTL
    # Without the community's rule, "市政管理归综合执法队" matches sanitation.
    assert intake(street).unit == street.units.enforcement


def test_a_category_switched_off_here_is_refused_at_once(street):
    intake(street)
    sanitation = Category.objects.get(code="010101")
    sanitation.active = False
    sanitation.save()
    with pytest.raises(ValidationFailed) as refused:
        intake(street)
    assert refused.value.errors[0]["field"] == "category"


def test_a_category_given_children_here_is_no_longer_a_leaf(street):
    intake(street)
    Category.objects.create(code="01010101", name="垃圾清运", level=4, parent=street.categories.sanitation)
    with pytest.raises(ValidationFailed):
        intake(street)


def test_a_renamed_grid_is_shown_at_once(street):
    assert intake(street).grid.name == "第一网格"
    grid = Grid.objects.get(code="1101050010101")
    grid.name = "东湖第一网格"
    grid.save()
    assert intake(street).grid.name == "东湖第一网格"


def test_a_new_default_unit_of_the_street_takes_unmatched_cases(street):
    assert intake(street, category="020101").unit == street.units.service
    street.street.default_unit = street.units.housing
    street.street.save()
    assert intake(street, category="020101").unit == street.units.housing
