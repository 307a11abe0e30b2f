"""The negative list outranks the routing rules (派单规则): a rule that would hand a
negative-list item to a street or community unit is refused when an administrator saves it,
and a rule that slipped in anyway (the list changed after it was saved) is skipped at routing,
the case going where the list sends it, with the skipped rule named in the routing basis."""

import pytest
from django.urls import reverse

from jiedao.cases import services
from jiedao.cases.models import Category, RoutingRule
from jiedao.common.errors import ValidationFailed
from jiedao.duties import services as duty_services
from tests.factories import WEDNESDAY

from .conftest import item


@pytest.fixture
def admin_client(client, duties):
    admin = duties.users.admin
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def new_case(street, category_code):
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="居民反映问题",
        reporter_phone="13800138000",
        category_code=category_code,
        lat=39.905,
        lng=116.405,
        at=WEDNESDAY,
    )
    return case


def rule_form(category, unit, **extra):
    return {
        "priority": "5",
        "name": "测试规则",
        "category": str(category.pk) if category else "",
        "community": "",
        "grid": "",
        "unit": str(unit.pk),
        "active": "on",
        **extra,
    }


ADD = reverse("admin:cases_routingrule_add")


def test_the_admin_refuses_a_rule_sending_a_negative_list_item_to_a_street_unit(admin_client, duties):
    before = RoutingRule.objects.count()
    elderly = Category.objects.get(code="020101")
    page = admin_client.post(ADD, rule_form(elderly, duties.units.service))
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    # The error sits on the category field and names the negative-list item and the unit.
    message = " ".join(errors["category"])
    assert "负面清单" in message and "JD-003" in message and "招商引资" in message
    assert duties.units.service.name in message
    assert message in page.content.decode()
    assert RoutingRule.objects.count() == before


def test_a_rule_for_a_category_above_a_negative_list_item_is_refused_too(admin_client, duties):
    # "民政" (02) matches 养老服务 (020101) below it, which is on the negative list.
    civil = Category.objects.get(code="02")
    page = admin_client.post(ADD, rule_form(civil, duties.units.service))
    assert page.status_code == 200
    assert "养老服务" in " ".join(page.context["adminform"].form.errors["category"])
    assert not RoutingRule.objects.filter(category=civil).exists()


def test_a_rule_sending_the_item_up_to_the_district_department_is_saved(admin_client, district):
    elderly = Category.objects.get(code="020101")
    response = admin_client.post(ADD, rule_form(elderly, district))
    assert response.status_code == 302
    assert RoutingRule.objects.filter(category=elderly, unit=district).exists()


def test_reactivating_a_rule_from_the_list_is_refused_once_its_item_is_on_the_negative_list(admin_client, duties):
    lamps = Category.objects.get(code="010102")
    rule = RoutingRule.objects.create(priority=5, name="路灯归公共服务办", category=lamps, unit=duties.units.service)
    rule.active = False
    rule.save()
    # The item behind 路灯 moves to the negative list.
    duty_services.save_duty(
        duties.users.admin,
        code="JD-001",
        raw=item(list_type="negative", level="区级部门", responsible_unit="QFGW"),
        reason="划入负面清单",
    )
    listing = reverse("admin:cases_routingrule_changelist") + "?q=" + rule.name
    page = admin_client.post(
        listing,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(rule.pk),
            "form-0-priority": "5",
            "form-0-active": "on",
            "_save": "保存",
        },
    )
    assert page.status_code == 200
    assert "JD-001" in page.content.decode() and "负面清单" in page.content.decode()
    rule.refresh_from_db()
    assert not rule.active


def test_routing_skips_a_rule_that_slipped_past_the_list_and_says_so(duties, district):
    # A rule saved while 路灯 (010102) was a street duty …
    lamps = Category.objects.get(code="010102")
    rule = RoutingRule.objects.create(priority=1, name="路灯归公共服务办", category=lamps, unit=duties.units.service)
    routed = services.dispatch(duties.users.dispatcher, number=new_case(duties, "010102").number, at=WEDNESDAY)
    assert routed.unit == duties.units.service and f"#{rule.pk}" in routed.routed_by
    # … then the list changes: the item goes to the negative list, the rule stays in the database.
    duty_services.save_duty(
        duties.users.admin,
        code="JD-001",
        raw=item(list_type="negative", level="区级部门", responsible_unit="QFGW"),
        reason="划入负面清单",
    )
    case = new_case(duties, "010102")
    with pytest.raises(ValidationFailed) as caught:
        services.dispatch(duties.users.dispatcher, number=case.number, at=WEDNESDAY)
    # As if the rule did not exist: the negative list blocks the street, and the basis names the rule.
    message = caught.value.errors[0]["message"]
    assert f"未采用派单规则 #{rule.pk}" in message and "负面清单" in message
    case.refresh_from_db()
    assert case.status == "new" and case.unit is None
    # Sent up to the district department, the case keeps the basis with the skipped rule.
    case = services.dispatch(duties.users.dispatcher, number=case.number, unit_code="QFGW", at=WEDNESDAY)
    assert case.unit == district
    assert f"未采用派单规则 #{rule.pk}" in case.routed_by and "上报区级部门" in case.routed_by


def test_a_rule_for_every_category_still_routes_the_others_but_not_the_negative_list(duties):
    rule = RoutingRule.objects.create(priority=1, name="全部归公共服务办", unit=duties.units.service)
    other = services.dispatch(duties.users.dispatcher, number=new_case(duties, "010102").number, at=WEDNESDAY)
    assert other.unit == duties.units.service
    with pytest.raises(ValidationFailed) as caught:
        services.dispatch(duties.users.dispatcher, number=new_case(duties, "020101").number, at=WEDNESDAY)
    assert f"未采用派单规则 #{rule.pk}" in caught.value.errors[0]["message"]
