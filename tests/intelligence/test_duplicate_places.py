"""Duplicates found by place: the same registry building named by its address or its name (a
call that gives only an address is checked too), a point nearby, the normalised address; and
another matter at the same spot is not taken for the same one."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.intelligence import places, selectors
from jiedao.registry.models import Building

TEXT = "东湖小区3号楼有住户扩建阳台，占用了楼下的公共绿地"


@pytest.fixture
def building(street):
    places.forget()
    grid = street.grids[0]
    yield Building.objects.create(
        code="B0001", name="东湖小区3号楼", address="东湖路57号", community=grid.community, grid=grid,
        lat=39.905, lng=116.405,
    )  # fmt: skip
    places.forget()


def first_report(street, building, category_code="", **place):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description=TEXT,
        reporter_phone="13812345678",
        category_code=category_code,
        **(place or {"lat": building.lat, "lng": building.lng}),
    )
    return case


def test_a_call_with_only_an_address_finds_the_report_at_that_building(street, building):
    existing = first_report(street, building)
    for address in ("东湖路５７号 2单元301", "东湖小区3栋", "东湖路57号院"):
        found = selectors.find_duplicates("我们那栋楼有人把阳台往外扩，把楼下绿地圈进去了", address=address)
        assert [c.case.pk for c in found][:1] == [existing.pk], address
        assert found[0].place == "building"


def test_a_point_nearby_finds_it_and_a_point_far_away_does_not(street, building):
    existing = first_report(street, building)
    near = selectors.find_duplicates("楼下有人扩建阳台占了绿地", lat=building.lat + 0.0002, lng=building.lng)
    assert near and near[0].case.pk == existing.pk and near[0].place == "near"
    far = selectors.find_duplicates("楼下有人扩建阳台占了绿地", lat=building.lat + 0.02, lng=building.lng)
    assert far == []


def test_a_report_registered_with_an_address_only_is_found_by_the_building_named_in_its_text(street, building):
    existing = first_report(street, building, address="东湖路57号")
    found = selectors.find_duplicates("东湖小区3号楼楼下绿地被扩建的阳台占了", lat=building.lat, lng=building.lng)
    assert found and found[0].case.pk == existing.pk


def test_another_matter_at_the_same_spot_is_not_taken_for_the_same(street, building):
    first_report(street, building)
    found = selectors.find_duplicates("东湖小区3号楼楼道灯坏了好几天，晚上看不见台阶", address="东湖路57号")
    assert found == []


def test_the_likely_duplicate_comes_first(street, building):
    other = first_report(street, building)
    case_services.submit_case(
        street.users.operator, channel="12345", description="东湖小区3号楼门口垃圾堆积，没人清运",
        reporter_phone="13812345679", lat=building.lat, lng=building.lng,
    )  # fmt: skip
    found = selectors.find_duplicates("东湖小区3号楼扩建阳台占用公共绿地", address="东湖路57号")
    assert found[0].case.pk == other.pk


def test_reports_outside_the_window_are_not_candidates(street, building):
    first_report(street, building)
    later = timezone.now() + dt.timedelta(days=30)
    assert selectors.find_duplicates(TEXT, address="东湖路57号", now=later) == []


def test_address_keys_are_normalised(building):
    assert places.normalise_address("东湖路５７号 3栋") == "东湖路57号3号楼"
    keys, spots = places.place_keys("东湖路57号2单元301")
    assert keys == {f"b{building.pk}"} and spots[0].lat == building.lat
    assert places.place_keys("光明街8号")[0] == {"a光明街8号"}
    assert places.without_places("我们东湖小区3号楼楼下绿地") == "我们楼下绿地"


def test_a_report_of_another_category_family_ranks_lower(street, building):
    """The family is the top-level category: a report filed under 环境卫生 (城乡建设 › 城市建设和
    市政管理 › 环境卫生) is of the family 城乡建设 that a call classified only at the first level
    names, and not of 民政's."""
    existing = first_report(street, building, category_code="010101")
    same = selectors.find_duplicates("东湖小区3号楼楼下绿地被扩建的阳台占了", address="东湖路57号", category_code="01")
    other = selectors.find_duplicates("东湖小区3号楼楼下绿地被扩建的阳台占了", address="东湖路57号", category_code="02")
    leaf = selectors.find_duplicates(
        "东湖小区3号楼楼下绿地被扩建的阳台占了", address="东湖路57号", category_code="010102"
    )
    assert same[0].case.pk == existing.pk == leaf[0].case.pk
    assert same[0].score == leaf[0].score
    assert other and other[0].score == pytest.approx(
        same[0].score - selectors.SAME_FAMILY + selectors.OTHER_FAMILY, abs=0.002
    )


def test_another_matter_at_the_same_facility_is_not_taken_for_the_same(street, building):
    case_services.submit_case(
        street.users.operator, channel="12345", description="东湖小区3号楼社区卫生服务站门口乱停车，救护车进不来",
        reporter_phone="13812345679", lat=building.lat, lng=building.lng,
    )  # fmt: skip
    found = selectors.find_duplicates("东湖小区3号楼社区卫生服务站经常不开门", address="东湖路57号")
    assert found == []
    again = selectors.find_duplicates("东湖小区3号楼卫生服务站门口车停得乱七八糟，救护车都进不来", address="东湖路57号")
    assert again and again[0].place == "building"
