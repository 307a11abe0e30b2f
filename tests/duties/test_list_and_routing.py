"""The responsibility list: versions, the routing it gives, search, and measures from history."""

import datetime as dt

import pytest

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.duties import selectors, services
from jiedao.duties.models import DutyItem, DutyVersion

from .conftest import REASON, item


def test_a_change_writes_a_new_version_and_keeps_the_old_one(duties):
    admin = duties.users.admin
    services.save_duty(
        admin, code="JD-001", raw=item(completion_workdays=2), reason="压缩办结时限", approval_doc="示范街发〔2026〕3号"
    )
    current, versions = selectors.item_with_versions("JD-001")
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].completion_workdays == 2 and versions[1].completion_workdays == 3
    assert versions[0].reason == "压缩办结时限" and versions[0].approval_doc == "示范街发〔2026〕3号"
    assert versions[0].changed_by == admin
    assert current.current == versions[0]


def test_saving_the_same_values_writes_no_version(duties):
    services.save_duty(duties.users.admin, code="JD-001", raw=item(), reason=REASON)
    assert DutyVersion.objects.filter(item__code="JD-001").count() == 1


def test_versions_cannot_be_edited_or_deleted(duties):
    version = DutyItem.objects.get(code="JD-001").current
    version.name = "改名"
    with pytest.raises(RuntimeError):
        version.save()
    with pytest.raises(RuntimeError):
        version.delete()


def test_only_administrators_change_the_list(duties):
    with pytest.raises(NotAllowed):
        services.save_duty(duties.users.dispatcher, code="JD-009", raw=item(), reason=REASON)


def test_bad_values_name_the_field_and_the_rule(duties):
    with pytest.raises(ValidationFailed) as caught:
        services.save_duty(
            duties.users.admin,
            code="JD-010",
            raw=item(responsible_unit="NOPE", categories=["0101"], basis_statute="", power_type="批评"),
            reason="",
        )
    fields = {e["field"] for e in caught.value.errors}
    assert {"responsible_unit", "categories", "basis_statute", "power_type", "reason"} <= fields
    assert not DutyItem.objects.filter(code="JD-010").exists()


def test_route_follows_the_list_community_item_goes_to_the_case_community(duties):
    c1 = duties.communities[0]
    route = selectors.route_for(duties.categories.sanitation, c1.pk)
    assert route.unit == duties.units.committee1
    assert route.version.item.code == "JD-002"
    assert "JD-002" in route.reason


def test_collaborators_come_from_the_item(duties):
    services.save_duty(duties.users.admin, code="JD-001", raw=item(collaborating_units=["ZJ"]), reason="增加协办单位")
    route = selectors.route_for(duties.categories.lamps, None)
    assert route.unit == duties.units.enforcement
    assert route.collaborators == [duties.units.housing]


def test_negative_list_blocks_the_street_and_says_why(duties):
    route = selectors.route_for(duties.categories.elderly, None)
    assert route.blocked
    assert "负面清单" in route.reason and "关于街道职责准入的规定" in route.reason


def test_repealed_items_stop_routing_but_stay_readable(duties):
    services.repeal_duty(duties.users.admin, code="JD-001", reason="职责上收区城管委", effective_to=dt.date(2026, 1, 1))
    assert selectors.route_for(duties.categories.lamps, None).unit is None
    _item, versions = selectors.item_with_versions("JD-001")
    assert versions[0].status == "repealed" and versions[1].status == "in_force"


@pytest.mark.parametrize("query, code", [("楼道堆物", "JD-002"), ("有人摆摊占道", "JD-001"), ("招商", "JD-003")])
def test_public_search_finds_items_by_chinese_words(duties, query, code):
    results = selectors.search(q=query)
    assert results and results[0].item.code == code


def test_search_with_no_match_returns_nothing(duties):
    assert selectors.search(q="航天发射") == []


def test_items_in_force_and_reduction_from_history(duties):
    admin = duties.users.admin
    jan = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    for n in range(10, 20):
        services.save_duty(
            admin,
            code=f"OLD-{n}",
            raw=item(name=f"旧事项{n}", effective_from=dt.date(2024, 1, 1)),
            reason=REASON,
            at=jan,
        )
    # JD-001 was written "now"; at 2025-06-30 the ten old items were in force.
    assert selectors.count_in_force(dt.date(2025, 6, 30)) == 10
    later = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    for n in range(10, 14):
        services.repeal_duty(admin, code=f"OLD-{n}", reason="精简", effective_to=dt.date(2025, 7, 1), at=later)
    before, after, share = selectors.reduction(dt.date(2025, 6, 30), dt.date(2025, 7, 2))
    assert (before, after) == (10, 6)
    assert share == pytest.approx(0.4)


def test_full_enforcement_share(duties):
    # Street list in force today: JD-001 only (full enforcement); the assist and negative lists don't count.
    assert selectors.full_enforcement_share(dt.date.today()) == 1.0
    services.save_duty(
        duties.users.admin, code="JD-004", raw=item(name="违规户外广告", full_enforcement=False), reason=REASON
    )
    assert selectors.full_enforcement_share(dt.date.today()) == 0.5
