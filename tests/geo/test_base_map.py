"""The base map (底图) every map draws when no tile server is set: the demo's roads with their
names laid out over a small street, the roads a real street's buildings name, the import of a
street's own base-map file, and which pages get the base map or the tiles."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import Point, shape

from jiedao.common.errors import ValidationFailed
from jiedao.demo import builder
from jiedao.geo import basemap, services
from jiedao.geo.models import MapFeature
from jiedao.registry.models import Building

URL = "/map/base.geojson"
# The test street: 东湖社区 116.40–116.42 × 39.90–39.91, 西园社区 the same width north of it.
DONGHU = (116.40, 39.90, 116.42, 39.91)
XIYUAN = (116.40, 39.91, 116.42, 39.92)


def layer(data, name):
    return [f for f in data["features"] if f["properties"]["layer"] == name]


def by_name(features):
    return {f["properties"]["name"]: f for f in features}


def inside(box, lng, lat):
    west, south, east, north = box
    return west <= lng <= east and south <= lat <= north


@pytest.fixture
def demo_roads(street):
    """The demo's base map, laid out over the test street's two communities."""
    builder.build_base_map(street.street)
    return street


def test_the_demo_roads_are_drawn_with_their_names_over_the_street(demo_roads, login):
    response = login(demo_roads.users.leader).get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    roads = by_name(layer(data, "road"))
    # Each community's two roads (东湖路 and 光华东街 in 东湖社区, 西园路 and 景明街 in 西园社区) and
    # the main road along the border of the two communities.
    assert set(roads) == {"东湖路", "光华东街", "西园路", "景明街", "朝阳北路"}

    # 东湖路 crosses 东湖社区 from west to east, 30 % of the way up; 光华东街 runs south–north.
    assert roads["东湖路"]["geometry"] == {"type": "LineString", "coordinates": [[116.40, 39.903], [116.42, 39.903]]}
    assert roads["光华东街"]["geometry"]["coordinates"] == [[116.4057, 39.90], [116.4057, 39.91]]
    assert roads["朝阳北路"]["geometry"]["coordinates"] == [[116.40, 39.91], [116.42, 39.91]]
    assert roads["朝阳北路"]["properties"]["main"] is True and roads["东湖路"]["properties"]["main"] is False

    # Every road carries its name's spot on the road itself, upright for the south–north ones.
    for name, road in roads.items():
        labels = road["properties"]["labels"]
        assert labels, name
        line = shape(road["geometry"])
        for spot in labels:
            assert line.distance(Point(spot["at"])) < 1e-6, name
    assert [s["vertical"] for s in roads["光华东街"]["properties"]["labels"]] == [True]
    assert [s["vertical"] for s in roads["东湖路"]["properties"]["labels"]] == [False]
    # 光华东街 meets 东湖路 at 39.903: its name keeps clear of the crossing.
    (spot,) = roads["光华东街"]["properties"]["labels"]
    assert abs(spot["at"][1] - 39.903) > 0.001

    communities = by_name(layer(data, "community"))
    assert set(communities) == {"东湖社区", "西园社区"}
    assert inside(DONGHU, *communities["东湖社区"]["properties"]["label"])
    assert inside(XIYUAN, *communities["西园社区"]["properties"]["label"])

    places = by_name(layer(data, "place"))
    assert places["东湖社区居委会"]["properties"]["kind"] == "committee"
    assert inside(DONGHU, *places["东湖社区居委会"]["geometry"]["coordinates"])
    assert inside(XIYUAN, *places["西园社区居委会"]["geometry"]["coordinates"])
    assert {"示范街道办事处", "示范街道便民服务中心"} <= set(places)
    assert places["示范街道便民服务中心"]["properties"]["kind_label"] == "便民服务中心"


def test_only_street_staff_get_the_base_map(demo_roads, client, login):
    assert client.get(URL).status_code == 302  # to the sign-in page
    assert login(demo_roads.users.resident).get(URL).status_code == 403
    for who in ("grid", "handler", "operator"):
        assert login(getattr(demo_roads.users, who)).get(URL).status_code == 200


def test_a_street_without_a_base_map_still_shows_its_communities(street, login):
    data = login(street.users.leader).get(URL).json()
    assert layer(data, "road") == [] and layer(data, "place") == []
    assert set(by_name(layer(data, "community"))) == {"东湖社区", "西园社区"}
    (outline,) = layer(data, "street")
    assert shape(outline["geometry"]).bounds == (116.40, 39.90, 116.42, 39.92)


def building(street, code, address, lat, lng, community=None):
    return Building.objects.create(
        code=code, name=f"{code}号楼", address=address, community=community or street.communities[0], lat=lat, lng=lng
    )


def test_roads_are_drawn_through_the_buildings_that_name_them(street, login):
    # 安定路: four buildings in a row from south to north, on both sides of the road.
    for n, (lat, lng) in enumerate(
        [(39.9012, 116.4121), (39.9031, 116.4119), (39.9055, 116.4122), (39.9080, 116.4120)]
    ):
        building(street, f"A{n}", f"北京市朝阳区示范街道安定路{n * 4 + 1}号", lat, lng)
    # 杂乱街: three buildings far apart in every direction — no road can be told from them.
    for n, (lat, lng) in enumerate([(39.9010, 116.4010), (39.9090, 116.4190), (39.9030, 116.4180)]):
        building(street, f"Z{n}", f"杂乱街{n + 1}号", lat, lng)
    # 孤单路: a single building.
    building(street, "G1", "孤单路8号", 39.905, 116.405)

    roads = by_name(layer(login(street.users.leader).get(URL).json(), "road"))
    assert set(roads) == {"安定路"}
    road = roads["安定路"]
    assert road["properties"]["derived"] is True
    (start, end) = sorted(road["geometry"]["coordinates"], key=lambda c: c[1])
    # South–north, from a little south of the first building to a little north of the last.
    assert 39.9005 < start[1] < 39.9012 and 39.9080 < end[1] < 39.9087
    assert abs(start[0] - 116.412) < 0.0003 and abs(end[0] - 116.412) < 0.0003


def test_an_imported_road_wins_over_the_buildings(demo_roads, login):
    for n, lat in enumerate([39.901, 39.904, 39.907]):
        building(demo_roads, f"D{n}", f"东湖路{n + 1}号", lat, 116.419)
    roads = layer(login(demo_roads.users.leader).get(URL).json(), "road")
    donghu = [r for r in roads if r["properties"]["name"] == "东湖路"]
    assert len(donghu) == 1 and donghu[0]["properties"]["derived"] is False


@pytest.mark.parametrize(
    "address, road",
    [
        ("东湖路12号", "东湖路"),
        ("北京市朝阳区示范街道东湖社区东湖路12号院3号楼", "东湖路"),
        ("朝阳门外大街 5 号", "朝阳门外大街"),
        ("吉祥胡同8号", "吉祥胡同"),
        ("南市街3号", "南市街"),
        ("湖光里3号楼", ""),
        ("东湖小区", ""),
        ("", ""),
    ],
)
def test_the_road_is_read_from_an_address(address, road):
    assert basemap.parse_road(address) == road


def road_file(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def road(name, coordinates, kind="road", **extra):
    return {
        "type": "Feature",
        "properties": {"name": name, "kind": kind, **extra},
        "geometry": {"type": "LineString", "coordinates": coordinates},
    }


def test_a_base_map_file_replaces_the_street_base_map(demo_roads, login):
    before = MapFeature.objects.count()
    result = services.import_geojson(
        demo_roads.users.admin,
        data=road_file(
            road("新华路", [[116.401, 39.905], [116.419, 39.906]], kind="主干道"),
            {
                "type": "Feature",
                "properties": {"name": "光明胡同", "kind": "road"},
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[[116.402, 39.912], [116.402, 39.918]], [[116.402, 39.918], [116.408, 39.918]]],
                },
            },
            {
                "type": "Feature",
                "properties": {"name": "社区文化中心", "kind": "place"},
                "geometry": {"type": "Point", "coordinates": [116.41, 39.915]},
            },
        ),
        level="basemap",
    )
    assert result.created == ["新华路", "光明胡同", "社区文化中心"] and result.replaced == before > 2
    data = login(demo_roads.users.leader).get(URL).json()
    assert set(by_name(layer(data, "road"))) == {"新华路", "光明胡同"}
    # A road of two stretches is named on each.
    assert len(by_name(layer(data, "road"))["光明胡同"]["properties"]["labels"]) == 2
    assert by_name(layer(data, "road"))["新华路"]["properties"]["main"] is True
    assert set(by_name(layer(data, "place"))) == {"社区文化中心"}


def test_a_bad_base_map_file_is_refused_whole_with_every_error_named(demo_roads):
    before = list(MapFeature.objects.values_list("name", flat=True))
    with pytest.raises(ValidationFailed) as refused:
        services.import_geojson(
            None,
            data=road_file(
                road("新华路", [[116.401, 39.905], [116.419, 39.906]]),
                road("", [[116.401, 39.905], [116.419, 39.906]]),
                road("长安街", [[116.401, 39.905]]),
                road("建国路", [[39.905, 216.401], [39.906, 216.419]]),
                road("光明路", [[116.401, 39.905], [116.419, 39.906]], kind="river"),
                {"type": "Feature", "properties": {"name": "居委会", "kind": "committee"}, "geometry": None},
                road("和平路", [[116.401, 39.905], [116.419, 39.906]], street="999999999"),
                road("文明路", [["116.401", "39.905"], [116.419, 39.906]]),
            ),
            level="basemap",
        )
    messages = [e["message"] for e in refused.value.errors]
    assert messages[0] == "第2个要素：缺少 name 属性（道路或地点的名称）。"
    assert (
        messages[1] == "第3个要素（长安街）：坐标格式不对：道路的 coordinates 应为至少两个点 [经度, 纬度] 组成的列表。"
    )
    assert messages[2].startswith("第4个要素（建国路）：坐标超出经纬度范围")
    assert messages[3].startswith("第5个要素（光明路）：kind 属性“river”无效，应为以下之一：main_road（主干道）")
    assert messages[4] == "第6个要素（居委会）：几何类型为 无，地点应为 Point（点）。"
    assert messages[5] == "第7个要素（和平路）：街道“999999999”不存在。"
    assert messages[6].startswith("第8个要素（文明路）：坐标格式不对")
    assert len(messages) == 7
    assert list(MapFeature.objects.values_list("name", flat=True)) == before


def test_the_command_line_imports_and_exports_a_base_map(demo_roads, tmp_path, capsys):
    out = tmp_path / "basemap.geojson"
    call_command("geo", "export", str(out), "--level", "basemap")
    exported = json.loads(out.read_text())
    names = sorted(f["properties"]["name"] for f in exported["features"])
    assert "东湖路" in names and all(f["properties"]["street"] == "110105001" for f in exported["features"])
    MapFeature.objects.all().delete()
    call_command("geo", "import", str(out), "--level", "basemap")
    assert "底图导入完成" in capsys.readouterr().out
    assert sorted(MapFeature.objects.values_list("name", flat=True)) == names
    out.write_text(json.dumps(road_file(road("长安街", [[116.401, 39.905]]))))
    with pytest.raises(CommandError):
        call_command("geo", "import", str(out), "--level", "basemap")
    assert sorted(MapFeature.objects.values_list("name", flat=True)) == names


def map_settings(page_html):
    start = page_html.index('data-base-map="') + len('data-base-map="')
    raw = page_html[start : page_html.index('"', start)]
    return json.loads(raw.replace("&quot;", '"'))


def test_without_a_tile_server_the_maps_draw_the_base_map(demo_roads, login):
    client = login(demo_roads.users.leader)
    for page in ("/map/", "/cockpit/", "/cockpit/screen/"):
        html = client.get(page).content.decode()
        assert "geo/basemap.js" in html, page
        config = map_settings(html)
        assert config["url"] == URL and config["tiles"] == "", page
    assert map_settings(client.get("/cockpit/screen/").content.decode())["dark"] is True
    assert "底图：" in client.get("/map/").content.decode()  # the legend says what the base map shows


def test_with_a_tile_server_the_maps_use_its_tiles(demo_roads, login, settings):
    tiles = "http://tiles.internal/{z}/{x}/{y}.png"
    settings.JIEDAO = dict(settings.JIEDAO, MAP_TILE_URL=tiles, MAP_TILE_ATTRIBUTION="© 区测绘院")
    client = login(demo_roads.users.leader)
    for page in ("/map/", "/cockpit/"):
        config = map_settings(client.get(page).content.decode())
        assert config == {"tiles": tiles, "attribution": "© 区测绘院", "url": "", "dark": False}, page
    assert "底图：" not in client.get("/map/").content.decode()


def test_label_spots_sit_clear_of_crossings():
    # A road 2 km long crossed in its middle: its one label moves off the crossing, upright.
    line = shape({"type": "LineString", "coordinates": [[0, 0], [0, 2000]]})
    crossing = shape({"type": "LineString", "coordinates": [[-500, 1000], [500, 1000]]})
    (spot,) = basemap.label_spots(line, crossing)
    assert spot[2] is True and abs(spot[1] - 1000) >= 100
    # A road of 4 km gets a label per full 1.5 km, each in the middle of its stretch.
    long_line = shape({"type": "LineString", "coordinates": [[0, 0], [4000, 0]]})
    spots = basemap.label_spots(long_line, None)
    assert [(x, y, vertical) for x, y, vertical in spots] == [(1000, 0, False), (3000, 0, False)]
