"""A point finds its grid, community and street — on the command line, in the API and
when a case is registered; a point outside every grid says so."""

from jiedao.cases import services as case_services
from jiedao.geo import selectors

from .test_import import run


def test_a_point_inside_a_grid_finds_grid_community_and_street(street):
    assert selectors.where(39.915, 116.415) == {
        "grid": {"code": "1101050010202", "name": "第二网格"},
        "community": {"code": "11010500102", "name": "西园社区"},
        "street": {"code": "110105001", "name": "示范街道"},
    }
    assert selectors.where(39.95, 116.50) is None


def test_locate_command_prints_grid_community_and_street(street, capsys):
    status, out, _err = run(capsys, "geo", "locate", "39.905", "116.405")
    assert status == 0
    assert out.splitlines() == ["网格 1101050010101 第一网格", "社区 11010500101 东湖社区", "街道 110105001 示范街道"]


def test_locate_command_says_when_the_point_is_outside_every_grid(street, capsys):
    status, out, err = run(capsys, "geo", "locate", "39.95", "116.50")
    assert status == 1 and out == ""
    assert "坐标（纬度 39.95，经度 116.50）不在任何网格内。" in err


def test_locate_command_explains_swapped_or_bad_coordinates(street, capsys):
    status, _out, err = run(capsys, "geo", "locate", "116.405", "39.905")
    assert status == 2 and "是否把纬度和经度写反了" in err
    status, _out, err = run(capsys, "geo", "locate", "北纬39", "116.4")
    assert status == 2 and "参数 LAT 应为数字" in err


def test_locate_api(street, login):
    client = login(street.users.dispatcher)
    found = client.get("/api/v1/geo/locate", {"lat": 39.905, "lng": 116.415}).json()
    assert found["grid"]["code"] == "1101050010102" and found["community"]["name"] == "东湖社区"
    outside = client.get("/api/v1/geo/locate", {"lat": 39.95, "lng": 116.50})
    assert outside.status_code == 404 and "不在任何网格内" in outside.json()["errors"][0]["message"]
    assert login(street.users.resident).get("/api/v1/geo/locate", {"lat": 39.905, "lng": 116.415}).status_code == 403


def test_a_case_with_a_position_is_placed_in_its_grid_and_community(street):
    case, _ = case_services.submit_case(
        street.users.resident, channel="portal", description="路灯不亮", lat=39.915, lng=116.405
    )
    assert case.grid.code == "1101050010201" and case.community.code == "11010500102"
    outside, _ = case_services.submit_case(
        street.users.resident, channel="portal", description="路灯不亮", lat=39.95, lng=116.50
    )
    assert outside.grid is None and outside.community is None
