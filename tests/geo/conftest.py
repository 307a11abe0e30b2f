import json

import pytest

from jiedao.geo import locate
from tests.factories import square


@pytest.fixture(autouse=True)
def _fresh_grid_index():
    """Rolled-back grids leave no signal behind: forget the point index around each test."""
    locate.invalidate()
    yield
    locate.invalidate()


def feature(code, name, geometry, parent=None, **extra):
    properties = {"code": code, "name": name, **extra}
    if parent is not None:
        properties["parent"] = parent
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


@pytest.fixture
def new_grids():
    """Two new grids of 东湖社区 east of the test street's grids (116.42–116.44), side by side."""
    return [
        feature("1101050010103", "第三网格", square(116.42, 39.90), parent="11010500101"),
        feature("1101050010104", "第四网格", square(116.43, 39.90), parent="11010500101"),
    ]
