"""Cases are routed by the responsibility list: 主办 and 协办, the negative list, the
version that routed a case, and the time limits the list sets."""

import datetime as dt

import pytest

from jiedao.cases import services
from jiedao.cases.models import CaseEvent, RoutingRule, Whistle
from jiedao.common.errors import ValidationFailed
from jiedao.duties import services as duty_services
from jiedao.org.models import Unit
from tests.factories import WEDNESDAY, make_user

from .conftest import item


@pytest.fixture
def list_only(duties):
    """The list decides: no override rules."""
    RoutingRule.objects.update(active=False)
    return duties


def new_case(street, category_code, lat=39.905, lng=116.405):
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="居民反映问题",
        reporter_phone="13800138000",
        category_code=category_code,
        lat=lat,
        lng=lng,
        at=WEDNESDAY,
    )
    return case


def test_the_list_picks_the_unit_and_the_case_records_the_item_and_version(list_only):
    case = services.dispatch(list_only.users.dispatcher, number=new_case(list_only, "010102").number, at=WEDNESDAY)
    assert case.unit == list_only.units.enforcement
    assert case.duty_version.item.code == "JD-001" and case.duty_version.number == 1
    assert "JD-001" in case.routed_by
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert event.data["duty"] == "JD-001" and event.data["duty_version"] == 1


def test_limits_come_from_the_duty_item(list_only):
    admin = list_only.users.admin
    duty_services.save_duty(admin, code="JD-001", raw=item(response_hours=1, completion_workdays=1), reason="压缩时限")
    case = services.dispatch(list_only.users.dispatcher, number=new_case(list_only, "010102").number, at=WEDNESDAY)
    assert case.response_due == WEDNESDAY + dt.timedelta(hours=1)
    # One working day after Wednesday 18 November 2026 is Thursday the 19th.
    assert case.completion_due.astimezone(dt.timezone(dt.timedelta(hours=8))).date() == dt.date(2026, 11, 19)


def test_a_case_keeps_the_version_that_routed_it(list_only):
    case = services.dispatch(list_only.users.dispatcher, number=new_case(list_only, "010102").number, at=WEDNESDAY)
    duty_services.save_duty(list_only.users.admin, code="JD-001", raw=item(responsible_unit="ZJ"), reason="职责调整")
    case.refresh_from_db()
    assert case.duty_version.number == 1 and case.duty_version.responsible_unit == list_only.units.enforcement
    later = services.dispatch(list_only.users.dispatcher, number=new_case(list_only, "010102").number, at=WEDNESDAY)
    assert later.duty_version.number == 2 and later.unit == list_only.units.housing


def test_collaborating_units_get_a_cohandling_task_they_report_to(list_only):
    duty_services.save_duty(
        list_only.users.admin, code="JD-001", raw=item(collaborating_units=["ZJ"]), reason="增加协办"
    )
    case = services.dispatch(list_only.users.dispatcher, number=new_case(list_only, "010102").number, at=WEDNESDAY)
    cohandling = Whistle.objects.get(case=case, kind=Whistle.Kind.COHANDLE)
    assert [s.unit for s in cohandling.summonses.all()] == [list_only.units.housing]
    services.report_to_whistle(list_only.users.handler_housing, number=case.number, part="负责检测灯杆", at=WEDNESDAY)
    assert cohandling.summonses.get().reported_at is not None


def test_community_items_go_to_the_committee_of_the_case_community(list_only):
    case = services.dispatch(list_only.users.dispatcher, number=new_case(list_only, "010101").number, at=WEDNESDAY)
    assert case.unit == list_only.units.committee1


def test_negative_list_refuses_a_street_unit_and_names_the_basis(list_only):
    case = new_case(list_only, "020101")
    with pytest.raises(ValidationFailed) as caught:
        services.dispatch(list_only.users.dispatcher, number=case.number, at=WEDNESDAY)
    message = caught.value.errors[0]["message"]
    assert "负面清单" in message and "关于街道职责准入的规定" in message
    with pytest.raises(ValidationFailed):
        services.dispatch(list_only.users.dispatcher, number=case.number, unit_code="GGFW", at=WEDNESDAY)
    case.refresh_from_db()
    assert case.status == "new" and case.unit is None


def test_negative_list_case_can_be_sent_up_to_the_district(list_only):
    district = Unit.objects.get(code="QFGW")
    district.kind = Unit.Kind.DISTRICT
    district.save()
    make_user("handler_qfgw", "handler", unit=district)
    case = services.dispatch(
        list_only.users.dispatcher, number=new_case(list_only, "020101").number, unit_code="QFGW", at=WEDNESDAY
    )
    assert case.unit == district and case.status == "dispatched"
    assert "上报区级部门" in case.routed_by


def test_an_override_rule_still_wins_over_the_list(duties):
    # The fixture's rule "市政管理归综合执法队" is active; JD-001 says the same unit, so point the rule elsewhere.
    RoutingRule.objects.filter(name="市政管理归综合执法队").update(unit=duties.units.service)
    case = services.dispatch(duties.users.dispatcher, number=new_case(duties, "010102").number, at=WEDNESDAY)
    assert case.unit == duties.units.service and case.duty_version is None
    assert "派单规则" in case.routed_by
