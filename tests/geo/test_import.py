"""Importing and exporting boundaries: a good file is written, a bad file is refused
whole with an error per feature that names its position and code, and nothing is written."""

import json

import pytest

from jiedao.cli import main
from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.geo import codes, locate, services
from jiedao.geo.models import CommunityArea
from jiedao.org.models import Community, Grid
from tests.factories import square

from .conftest import collection, feature

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[116.42, 39.90], [116.43, 39.91], [116.43, 39.90], [116.42, 39.91], [116.42, 39.90]]],
}


def messages(exc):
    return [e["message"] for e in exc.value.errors]


def grid_rows():
    return sorted(Grid.objects.values_list("code", "name", "boundary"))


def test_a_good_grid_file_creates_the_grids_and_points_find_them(street, new_grids):
    result = services.import_geojson(street.users.admin, data=collection(*new_grids), level="grid")

    assert result.created == ["1101050010103", "1101050010104"] and result.updated == []
    grid = Grid.objects.get(code="1101050010104")
    assert grid.community == street.communities[0] and grid.name == "第四网格"
    assert locate.locate(39.905, 116.435) == grid


def test_importing_an_existing_code_updates_that_grid(street):
    moved = feature("1101050010101", "第一网格（调整后）", square(116.40, 39.90, size=0.008), parent="11010500101")
    result = services.import_geojson(street.users.admin, data=collection(moved), level="grid")

    assert result.created == [] and result.updated == ["1101050010101"]
    grid = Grid.objects.get(code="1101050010101")
    assert grid.name == "第一网格（调整后）"
    # The point near the old north-east corner is no longer inside it.
    assert locate.locate(39.9095, 116.4095) is None


def test_an_invalid_polygon_refuses_the_whole_file(street, new_grids):
    before = grid_rows()
    bad = feature("1101050010105", "第五网格", BOWTIE, parent="11010500101")

    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=collection(new_grids[0], bad), level="grid")

    assert exc.value.errors[0]["field"] == "features[1]"
    text = messages(exc)[0]
    assert text.startswith("第2个要素（编码 1101050010105）")
    assert "自相交" in text and "经度" in text
    assert grid_rows() == before  # the good first feature was not written either


def test_overlapping_grids_in_the_file_are_refused_naming_both(street, new_grids):
    overlapping = feature("1101050010105", "第五网格", square(116.425, 39.90), parent="11010500101")
    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=collection(*new_grids, overlapping), level="grid")

    text = " ".join(messages(exc))
    assert "第1个要素（编码 1101050010103）：与第3个要素（编码 1101050010105）重叠" in text
    assert "第2个要素（编码 1101050010104）：与第3个要素（编码 1101050010105）重叠" in text
    assert "平方米" in text
    assert not Grid.objects.filter(code__in=["1101050010103", "1101050010104", "1101050010105"]).exists()


def test_a_grid_overlapping_an_existing_grid_of_another_community_is_refused(street):
    # Half over 西园社区 第一网格 (116.40–116.41, 39.91–39.92).
    intruder = feature("1101050010103", "第三网格", square(116.405, 39.905), parent="11010500101")
    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=collection(intruder), level="grid")

    text = " ".join(messages(exc))
    assert "与已有网格 1101050010201（西园社区 第一网格）重叠" in text
    assert "与已有网格 1101050010101（东湖社区 第一网格）重叠" in text


def test_a_sliver_along_a_shared_border_is_tolerated(street):
    # Overlaps its western neighbour (第二网格, ends at 116.42) by 0.00002° × 0.01°: 0.2 % of its area.
    neighbour = feature("1101050010103", "第三网格", square(116.41998, 39.90), parent="11010500101")
    result = services.import_geojson(street.users.admin, data=collection(neighbour), level="grid")
    assert result.created == ["1101050010103"]


def test_an_unknown_parent_is_refused(street, new_grids):
    orphan = feature("1101050099901", "第一网格", square(116.42, 39.92), parent="11010500999")
    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=collection(new_grids[0], orphan), level="grid")

    assert messages(exc) == [
        "第2个要素（编码 1101050099901）：所属社区“11010500999”不存在（parent 应为已有社区的代码，请先导入社区）。"
    ]
    assert not Grid.objects.filter(code="1101050010103").exists()


def test_points_lines_duplicates_and_bad_codes_are_each_named(street, new_grids):
    point = feature(
        "1101050010105", "第五网格", {"type": "Point", "coordinates": [116.45, 39.90]}, parent="11010500101"
    )
    duplicate = feature("1101050010103", "重复", square(116.46, 39.90), parent="11010500101")
    wrong_code = feature("1101050010201", "编错了", square(116.47, 39.90), parent="11010500101")
    no_name = feature("1101050010106", "", square(116.48, 39.90), parent="11010500101")

    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(
            street.users.admin, data=collection(new_grids[0], point, duplicate, wrong_code, no_name), level="grid"
        )

    text = messages(exc)
    assert text[0].startswith("第2个要素（编码 1101050010105）：几何类型为 Point，应为 Polygon 或 MultiPolygon")
    assert text[1] == "第3个要素（编码 1101050010103）：编码与第1个要素重复。"
    assert text[2].startswith("第4个要素（编码 1101050010201）：编码“1101050010201”不符合规则")
    assert "11010500101" in text[2]
    assert text[3] == "第5个要素（编码 1101050010106）：缺少 name 属性（名称）。"


def test_a_file_that_is_not_geojson_is_refused(street):
    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=b"{not json", level="grid")
    assert exc.value.errors[0]["field"] == "file"
    assert "不是有效的 JSON" in messages(exc)[0]
    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(
            street.users.admin, data=json.dumps({"type": "FeatureCollection", "features": []}), level="grid"
        )
    assert messages(exc) == ["文件中没有任何要素。"]


def test_only_administrators_import(street, new_grids):
    with pytest.raises(NotAllowed):
        services.import_geojson(street.users.dispatcher, data=collection(*new_grids), level="grid")
    assert not Grid.objects.filter(code="1101050010103").exists()


def test_communities_get_boundaries_and_grids_must_stay_inside_them(street):
    area = {
        "type": "Polygon",
        "coordinates": [[[116.40, 39.90], [116.42, 39.90], [116.42, 39.91], [116.40, 39.91], [116.40, 39.90]]],
    }
    services.import_geojson(
        street.users.admin,
        data=collection(feature("11010500101", "东湖社区", area, parent="110105001")),
        level="community",
    )
    assert CommunityArea.objects.get(community__code="11010500101").boundary["type"] == "Polygon"

    outside = feature("1101050010103", "第三网格", square(116.43, 39.90), parent="11010500101")
    with pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=collection(outside), level="grid")
    assert messages(exc) == ["第1个要素（编码 1101050010103）：有 100.0% 的面积超出所属社区“东湖社区”的边界。"]


def test_a_new_community_under_an_existing_street(street):
    area = square(116.42, 39.90, size=0.02)
    result = services.import_geojson(
        street.users.admin,
        data=collection(feature("11010500103", "南苑社区", area, parent="110105001")),
        level="community",
    )
    assert result.created == ["11010500103"]
    assert Community.objects.get(code="11010500103").street == street.street


def test_the_code_rule_accepts_the_demo_and_test_codes_and_refuses_others():
    from jiedao.demo import places

    street_code = places.STREET[0]
    assert codes.code_error("street", street_code, places.DISTRICT[0]) is None
    for suffix, *_rest in places.COMMUNITIES:
        community = f"{street_code}{suffix}"  # as the demo builder codes them
        assert codes.code_error("community", community, street_code) is None
        for index in range(len(places.GRID_NAMES)):
            assert codes.code_error("grid", f"{community}{index + 1:02d}", community) is None
    assert codes.code_error("grid", "1101050010101", "11010500101") is None
    assert codes.code_error("community", "110105001001", "110105001") is None  # 12-digit statistical code
    assert codes.code_error("grid", "1101050010100", "11010500101")  # sequence 00
    assert codes.code_error("grid", "11010500101A1", "11010500101")
    assert codes.code_error("grid", "1101050010101", "11010500102")  # another community's prefix
    assert codes.code_error("street", "11010501", "110105")


# --- the command ------------------------------------------------------------------------


def run(capsys, *args):
    """Runs ``jiedao …`` as the command line does; returns (exit status, stdout, stderr).

    Django closes every connection when a command run from the command line ends; the
    test's own connection (inside the test transaction) must stay open."""
    from unittest import mock

    from django.db import connections

    try:
        with mock.patch.object(connections, "close_all"):
            main(["jiedao", *args])
        status = 0
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_command_imports_and_exports_grids(street, new_grids, tmp_path, capsys):
    source = tmp_path / "grids.geojson"
    source.write_text(collection(*new_grids), encoding="utf-8")

    status, out, _err = run(capsys, "geo", "import", str(source), "--level", "grid")
    assert status == 0 and "新增 2，更新 0" in out

    target = tmp_path / "out.geojson"
    status, out, _err = run(capsys, "geo", "export", "--level", "grid", str(target))
    assert status == 0 and "6 个要素" in out
    exported = json.loads(target.read_text(encoding="utf-8"))
    props = {f["properties"]["code"]: f["properties"] for f in exported["features"]}
    assert props["1101050010104"] == {"code": "1101050010104", "name": "第四网格", "parent": "11010500101"}

    # The export imports again unchanged (every grid is updated, none created).
    status, out, _err = run(capsys, "geo", "import", str(target), "--level", "grid")
    assert status == 0 and "新增 0，更新 6" in out

    status, out, _err = run(capsys, "geo", "export", "--level", "grid")
    assert status == 0 and json.loads(out)["type"] == "FeatureCollection"


def test_command_refuses_a_bad_file_with_every_error_and_exit_status_1(street, new_grids, tmp_path, capsys):
    source = tmp_path / "bad.geojson"
    bad = feature("1101050010105", "第五网格", BOWTIE, parent="11010500101")
    orphan = feature("1101050099901", "第一网格", square(116.42, 39.92), parent="11010500999")
    source.write_text(collection(new_grids[0], bad, orphan), encoding="utf-8")

    status, _out, err = run(capsys, "geo", "import", str(source), "--level", "grid")

    assert status == 1
    assert "第2个要素（编码 1101050010105）：边界无效" in err
    assert "第3个要素（编码 1101050099901）：所属社区“11010500999”不存在" in err
    assert "共 2 处错误，未写入任何数据" in err
    assert not Grid.objects.filter(code="1101050010103").exists()


def test_command_needs_a_known_level_and_an_existing_file(street, tmp_path, capsys):
    status, _out, err = run(capsys, "geo", "import", str(tmp_path / "missing.geojson"), "--level", "grid")
    assert status == 2 and "文件不存在" in err
    status, _out, err = run(capsys, "geo", "import", str(tmp_path / "x.geojson"), "--level", "building")
    assert status == 2 and "building" in err


def test_errors_come_in_english_too(street, new_grids):
    from django.utils import translation

    bad = feature("1101050010105", "第五网格", BOWTIE, parent="11010500101")
    with translation.override("en"), pytest.raises(ValidationFailed) as exc:
        services.import_geojson(street.users.admin, data=collection(new_grids[0], bad), level="grid")
    assert messages(exc) == [
        "Feature 2 (code 1101050010105): invalid boundary: the boundary intersects itself "
        "(at longitude 116.425, latitude 39.905)."
    ]
