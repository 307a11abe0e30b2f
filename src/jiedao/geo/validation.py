"""Checks of a GeoJSON file of streets, communities or grids before anything is written.

Every error names the feature by its position in the file (第 N 个要素, counting
from 1) and its code, and says what is wrong in words an operator can act on. The
checks read the database (parents, neighbours that stay) but never write to it.
"""

import json
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely import STRtree
from shapely.errors import GEOSException, ShapelyError
from shapely.geometry import shape
from shapely.validation import explain_validity

from jiedao.org.models import Community, District, Grid, Street

from . import codes
from .models import CommunityArea, StreetArea

LEVELS = codes.LEVELS
LEVEL_LABELS = {"street": gettext_lazy("街道"), "community": gettext_lazy("社区"), "grid": gettext_lazy("网格")}
MAX_NAME = 50
# metres per degree of latitude; a degree of longitude is this × cos(latitude) (close enough for a street).
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LNG_EQUATOR = 111_320.0

# GEOS' reasons for an invalid polygon, in the operator's language.
REASONS = {
    "Self-intersection": gettext_lazy("边界自相交"),
    "Ring Self-intersection": gettext_lazy("边界环自相交"),
    "Too few points in geometry component": gettext_lazy("边界的点数太少（一个环至少要有4个点，首尾相同）"),
    "Hole lies outside shell": gettext_lazy("内洞位于外环之外"),
    "Nested holes": gettext_lazy("内洞相互嵌套"),
    "Interior is disconnected": gettext_lazy("内部被分割成不连通的几块"),
    "Nested shells": gettext_lazy("外环相互嵌套"),
    "Duplicate Rings": gettext_lazy("有重复的环"),
    "Invalid Coordinate": gettext_lazy("坐标无效"),
    "Ring is not closed": gettext_lazy("边界环没有闭合（首尾点应相同）"),
}


def overlap_tolerance() -> float:
    """Overlap allowed between neighbours, as a share of the smaller one's area (slivers
    from digitising along a shared border)."""
    return float(settings.JIEDAO.get("GEO_OVERLAP_TOLERANCE", 0.005))


@dataclass
class Feature:
    index: int  # 1-based position in the file
    code: str
    name: str
    parent_code: str
    geometry: dict
    shape: object = None
    parent: object = None  # District / Street / Community
    extra: dict = field(default_factory=dict)

    def label(self):
        if self.code:
            return _("第%(n)d个要素（编码 %(code)s）") % {"n": self.index, "code": self.code}
        return _("第%(n)d个要素") % {"n": self.index}


class Errors:
    def __init__(self):
        self.items = []

    def add(self, feature, message, index=None):
        if feature is None:
            self.items.append({"field": "file", "message": str(message)})
        else:
            self.items.append(
                {
                    "field": f"features[{feature.index - 1}]",
                    "message": _("%(feature)s：%(problem)s") % {"feature": feature.label(), "problem": message},
                }
            )

    def __bool__(self):
        return bool(self.items)


def load(data):
    """bytes / str / dict → the list of GeoJSON features, or raise ValueError with a message."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(_("文件不是 UTF-8 编码的文本，请另存为 UTF-8 的 GeoJSON。")) from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValueError(
                _("文件不是有效的 JSON（第%(line)d行第%(col)d列：%(msg)s）。")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ) from None
    if not isinstance(data, dict):
        raise ValueError(_("GeoJSON 应为一个 FeatureCollection 对象。"))
    if data.get("type") == "Feature":
        return [data]
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise ValueError(
            _("GeoJSON 应为 FeatureCollection，并带有 features 列表（收到 type=%(type)s）。")
            % {"type": data.get("type")}
        )
    if not data["features"]:
        raise ValueError(_("文件中没有任何要素。"))
    return data["features"]


def _text(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return str(value).strip()


def _reason(text):
    """'Self-intersection[116.4 39.9]' → '边界自相交（位置：经度 116.4，纬度 39.9）'."""
    head, _sep, where = text.partition("[")
    reason = str(REASONS.get(head.strip(), head.strip()))
    where = where.rstrip("]").split()
    if len(where) >= 2:
        return _("%(reason)s（位置：经度 %(lng)s，纬度 %(lat)s）") % {
            "reason": reason,
            "lng": where[0],
            "lat": where[1],
        }
    return reason


def _coordinates_in_range(geom) -> bool:
    west, south, east, north = geom.bounds
    return -180 <= west <= east <= 180 and -90 <= south <= north <= 90


def _parse_one(index, raw, level, errors):
    feature = Feature(index=index, code="", name="", parent_code="", geometry={})
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        errors.add(feature, _("不是 GeoJSON 要素（type 应为 Feature）。"))
        return None
    props = raw.get("properties") or {}
    if not isinstance(props, dict):
        props = {}
    feature.code = _text(props.get("code"))
    feature.name = _text(props.get("name"))
    feature.parent_code = _text(props.get("parent"))
    feature.extra = {"district_name": _text(props.get("district_name"))}
    ok = True
    if not feature.code:
        errors.add(feature, _("缺少 code 属性（编码）。"))
        ok = False
    if not feature.name:
        errors.add(feature, _("缺少 name 属性（名称）。"))
        ok = False
    elif len(feature.name) > MAX_NAME:
        errors.add(feature, _("名称不能超过%(max)d个字。") % {"max": MAX_NAME})
        ok = False
    if level != "street" and not feature.parent_code:
        errors.add(
            feature,
            _("缺少 parent 属性（所属%(parent)s的编码）。")
            % {"parent": _("街道") if level == "community" else _("社区")},
        )
        ok = False
    geometry = raw.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else _("无")
        errors.add(feature, _("几何类型为 %(type)s，应为 Polygon 或 MultiPolygon（面）。") % {"type": kind})
        return None
    feature.geometry = {"type": geometry["type"], "coordinates": geometry.get("coordinates")}
    try:
        geom = shape(feature.geometry)
    except (ShapelyError, GEOSException, ValueError, TypeError, IndexError, AttributeError) as exc:
        errors.add(feature, _("边界坐标无法解析（%(error)s），请检查坐标数组。") % {"error": exc})
        return None
    if geom.is_empty:
        errors.add(feature, _("边界为空。"))
        return None
    if not _coordinates_in_range(geom):
        errors.add(
            feature, _("坐标超出经纬度范围：应为 WGS-84 的 [经度, 纬度]（是否写反了经纬度，或使用了投影坐标？）。")
        )
        return None
    if not geom.is_valid:
        errors.add(feature, _("边界无效：%(reason)s。") % {"reason": _reason(explain_validity(geom))})
        return None
    if geom.area <= 0:
        errors.add(feature, _("边界面积为零。"))
        return None
    feature.shape = geom
    return feature if ok else None


def _area_m2(geom, latitude):
    return geom.area * M_PER_DEG_LAT * M_PER_DEG_LNG_EQUATOR * math.cos(math.radians(latitude))


def _resolve_parents(level, features, errors):
    if level == "grid":
        wanted = {f.parent_code for f in features}
        found = {c.code: c for c in Community.objects.filter(code__in=wanted).select_related("street")}
        for f in features:
            f.parent = found.get(f.parent_code)
            if f.parent is None:
                errors.add(
                    f,
                    _("所属社区“%(code)s”不存在（parent 应为已有社区的代码，请先导入社区）。")
                    % {"code": f.parent_code},
                )
    elif level == "community":
        wanted = {f.parent_code for f in features}
        found = {s.code: s for s in Street.objects.filter(code__in=wanted)}
        for f in features:
            f.parent = found.get(f.parent_code)
            if f.parent is None:
                errors.add(
                    f,
                    _("所属街道“%(code)s”不存在（parent 应为已有街道的代码，请先导入街道）。")
                    % {"code": f.parent_code},
                )
    else:
        for f in features:
            district_code = f.parent_code or f.code[:6]
            f.parent_code = district_code
            f.parent = District.objects.filter(code=district_code).first()
            if f.parent is None and not f.extra.get("district_name"):
                errors.add(
                    f,
                    _("所属区“%(code)s”不存在：请先在系统管理中建立该区，或在要素中给出 district_name。")
                    % {"code": district_code},
                )


def _check_codes(level, features, errors):
    first_at = {}
    for f in features:
        if f.code in first_at:
            errors.add(f, _("编码与第%(n)d个要素重复。") % {"n": first_at[f.code]})
            continue
        first_at[f.code] = f.index
        if f.parent is None and level != "street":
            continue  # the unknown parent is reported already
        message = codes.code_error(level, f.code, f.parent_code)
        if message:
            errors.add(f, message)


def _group_key(level, feature):
    """Neighbours that must not overlap: grids of one street, communities of one street,
    streets of one district."""
    if level == "grid":
        return feature.parent.street_id
    if level == "community":
        return feature.parent.pk
    return feature.parent_code


def _existing_neighbours(level, key, file_codes):
    """(code, label, shape) of the rows of the same level and group that the file leaves as they are."""
    rows = []
    if level == "grid":
        qs = Grid.objects.filter(community__street_id=key).exclude(code__in=file_codes).exclude(boundary=None)
        for grid in qs.select_related("community"):
            rows.append((grid.code, f"{grid.community.name} {grid.name}", grid.boundary))
    elif level == "community":
        qs = CommunityArea.objects.filter(community__street_id=key).exclude(community__code__in=file_codes)
        for area in qs.select_related("community"):
            rows.append((area.community.code, area.community.name, area.boundary))
    else:
        qs = StreetArea.objects.filter(street__district__code=key).exclude(street__code__in=file_codes)
        for area in qs.select_related("street"):
            rows.append((area.street.code, area.street.name, area.boundary))
    out = []
    for code, label, boundary in rows:
        try:
            geom = shape(boundary)
        except (ShapelyError, GEOSException, ValueError, TypeError, KeyError, AttributeError):
            continue
        if geom.is_valid and not geom.is_empty:
            out.append((code, label, geom))
    return out


def _overlap_message(area_m2, share):
    return _("重叠约 %(area)s 平方米（占较小者面积的 %(share).1f%%）") % {
        "area": f"{area_m2:,.0f}",
        "share": share * 100,
    }


def _check_overlaps(level, features, errors):
    tolerance = overlap_tolerance()
    noun = str(LEVEL_LABELS[level])
    scope = _("同一区内") if level == "street" else _("同一街道内")
    groups = {}
    for f in features:
        groups.setdefault(_group_key(level, f), []).append(f)
    file_codes = [f.code for f in features]
    for key, members in groups.items():
        neighbours = _existing_neighbours(level, key, file_codes)
        items = [("file", f, f.shape) for f in members] + [("db", n, n[2]) for n in neighbours]
        geoms = [item[2] for item in items]
        tree = STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i >= j:
                continue
            a, b = items[i], items[j]
            if a[0] == "db" and b[0] == "db":
                continue
            overlap = geoms[i].intersection(geoms[j])
            if overlap.is_empty or overlap.area <= 0:
                continue
            share = overlap.area / min(geoms[i].area, geoms[j].area)
            if share <= tolerance:
                continue
            latitude = overlap.centroid.y
            message = _overlap_message(_area_m2(overlap, latitude), share)
            feature_a = a[1]
            if b[0] == "file":
                errors.add(
                    feature_a,
                    _("与第%(n)d个要素（编码 %(code)s）%(what)s；%(scope)s的%(noun)s不能重叠。")
                    % {"n": b[1].index, "code": b[1].code, "what": message, "scope": scope, "noun": noun},
                )
            else:
                feature = feature_a if a[0] == "file" else b[1]
                other = b[1] if a[0] == "file" else a[1]
                errors.add(
                    feature,
                    _("与已有%(noun)s %(code)s（%(name)s）%(what)s；%(scope)s的%(noun)s不能重叠。")
                    % {"noun": noun, "code": other[0], "name": other[1], "what": message, "scope": scope},
                )


def _check_inside_parent(level, features, errors):
    """A grid must lie within its community's boundary, a community within its street's
    (when the parent's boundary is known), up to the overlap tolerance."""
    if level == "street":
        return
    tolerance = overlap_tolerance()
    if level == "grid":
        areas = {
            a.community_id: a.boundary for a in CommunityArea.objects.filter(community__in=[f.parent for f in features])
        }
    else:
        areas = {a.street_id: a.boundary for a in StreetArea.objects.filter(street__in=[f.parent for f in features])}
    shapes = {}
    for key, boundary in areas.items():
        try:
            geom = shape(boundary)
        except (ShapelyError, GEOSException, ValueError, TypeError, KeyError, AttributeError):
            continue
        if geom.is_valid:
            shapes[key] = geom
    for f in features:
        parent_shape = shapes.get(f.parent.pk)
        if parent_shape is None:
            continue
        outside = f.shape.difference(parent_shape)
        share = outside.area / f.shape.area if f.shape.area else 0
        if share > tolerance:
            errors.add(
                f,
                _("有 %(share).1f%% 的面积超出所属%(parent)s“%(name)s”的边界。")
                % {"share": share * 100, "parent": _("社区") if level == "grid" else _("街道"), "name": f.parent.name},
            )


def check(data, level):
    """Parse and check a file. Returns ``(features, errors)``; ``errors`` is a list of
    ``{"field", "message"}`` and empty only when every feature may be written."""
    errors = Errors()
    if level not in LEVELS:
        errors.add(None, _("层级“%(level)s”无效，应为 grid、community 或 street。") % {"level": level})
        return [], errors.items
    try:
        raw_features = load(data)
    except ValueError as exc:
        errors.add(None, str(exc))
        return [], errors.items
    features = []
    for index, raw in enumerate(raw_features, start=1):
        feature = _parse_one(index, raw, level, errors)
        if feature is not None:
            features.append(feature)
    _resolve_parents(level, features, errors)
    _check_codes(level, features, errors)
    placed = [f for f in features if f.parent is not None or level == "street"]
    if level == "street":
        placed = [f for f in placed if f.parent is not None or f.extra.get("district_name")]
    _check_overlaps(level, placed, errors)
    _check_inside_parent(level, [f for f in placed if f.parent is not None], errors)
    errors.items.sort(key=lambda e: (e["field"] != "file", _feature_order(e["field"])))
    return features, errors.items


def _feature_order(field_name):
    try:
        return int(field_name.split("[", 1)[1].rstrip("]"))
    except (IndexError, ValueError):
        return -1
