"""A case reported with only an address that the household registry knows lands in its grid."""

from jiedao.cases import services
from jiedao.registry.selectors import point_for_address


def test_a_known_building_address_places_the_case_in_its_grid(street, registry):
    case, _created = services.submit_case(
        street.users.operator,
        channel="phone",
        description="楼道堆满杂物",
        reporter_phone="13812345678",
        address="东湖路2号 2单元楼道",
    )
    assert case.grid.code == street.grids[1].code
    assert case.community == street.communities[0]
    assert (case.lat, case.lng) == (39.905, 116.415)


def test_an_unknown_or_longer_number_is_not_taken_for_a_building(street, registry):
    assert point_for_address("东湖路12号") is None
    assert point_for_address("幸福大街8号") is None
    assert point_for_address("西园路1号门口") == (39.915, 116.405)
    case, _created = services.submit_case(
        street.users.operator, channel="phone", description="路灯不亮", address="东湖路12号"
    )
    assert case.grid is None and case.lat is None
