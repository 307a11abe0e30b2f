"""The street's own base map (底图): what every map draws under the grids when no tile server is
set (``JIEDAO["MAP_TILE_URL"]`` empty) — the communities with their names, the roads with
theirs and the notable places (街道办事处, 便民服务中心, 居委会 …) — so that a map shows where
things are without the internet.

- Roads and places are the street's base-map rows (``MapFeature``), imported from a GeoJSON
  file (``import_geojson(level="basemap")``, checked here by ``check``) or written by the demo.
- Roads that the registry's buildings name in their addresses (“东湖路12号”) but that have no
  row are drawn through those buildings, when at least three of them line up along one
  straight road (``roads_from_buildings``); scattered buildings draw nothing.
- Communities are drawn from their imported boundary, or else from their grids.

Every road carries the spots of its name labels, chosen here away from the other roads
(``label_spots``), so the page only places them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from shapely import LineString, MultiLineString, box, transform, unary_union
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from jiedao.org.models import Community, Grid, Street
from jiedao.org.selectors import street_records

from . import validation
from .models import CommunityArea, MapFeature, StreetArea
from .selectors import collection, feature, require_map_user

if TYPE_CHECKING:
    from jiedao.org.models import User

LEVEL = "basemap"
ROAD_KINDS = (MapFeature.Kind.MAIN_ROAD, MapFeature.Kind.ROAD)
PLACE_KINDS = (MapFeature.Kind.OFFICE, MapFeature.Kind.HALL, MapFeature.Kind.COMMITTEE, MapFeature.Kind.PLACE)

# A road gets one name label per full this many metres of its length (at least one).
LABEL_EVERY_M = 1500.0
# A label this far from every other road is clear of them; nearer spots score lower.
LABEL_CLEARANCE_M = 120.0
# The size of the names on the street-wide view (zoom 15: about 3.6 m a pixel), to keep a road's
# name off the other roads and off the names of communities and places: pixels a character
# (road, community, place), half a line's height, and the margin kept around a name.
M_PER_PX = 3.6
ROAD_CHAR_PX, COMMUNITY_CHAR_PX, PLACE_CHAR_PX = 13, 17, 12
HALF_LINE_PX, MARGIN_PX = 9, 10
# Where along a stretch a label may sit (shares of the stretch), the middle preferred.
LABEL_SHARES = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)
# Roads drawn through buildings: at least this many buildings, lying within this share of the
# road's spread (or LINE_SLACK_M) on either side of it; drawn this much past the end buildings.
MIN_BUILDINGS = 3
LINE_SPREAD = 0.1
LINE_SLACK_M = 40.0
LINE_PAST_ENDS_M = 40.0

# “北京市朝阳区示范街道东湖社区东湖路12号院3号楼”: the places before the road (each ending in
# 市, 区, 街道, 社区 …), then the road (…路, …街, …大街, …胡同 …) and its number — not a
# building's number (“3号楼”).
_PLACE_PREFIX = re.compile(r"^.*?(?:省|自治区|市|自治州|盟|区|县|旗|街道|镇|乡|社区|村)(?=\D)")
_ROAD = re.compile(r"([^\d，,、（）()]{1,20}?(?:大街|大道|小街|胡同|路|街|巷|弄|道))[\d０-９]+号(?!楼)")


@dataclass
class Row:
    """One checked feature of a base-map file."""

    index: int  # 1-based position in the file
    name: str
    kind: str
    street: Street
    geometry: dict[str, Any]


# --- the map ----------------------------------------------------------------------


class _Metres:
    """Longitude/latitude ↔ metres on a plane around one point (close enough for a street)."""

    def __init__(self, lng: float, lat: float) -> None:
        self.lng0, self.lat0 = lng, lat
        self.x_scale = validation.M_PER_DEG_LNG_EQUATOR * math.cos(math.radians(lat))
        self.y_scale = validation.M_PER_DEG_LAT

    def xy(self, lng: float, lat: float) -> tuple[float, float]:
        return (lng - self.lng0) * self.x_scale, (lat - self.lat0) * self.y_scale

    def lnglat(self, x: float, y: float) -> tuple[float, float]:
        return self.lng0 + x / self.x_scale, self.lat0 + y / self.y_scale

    def line(self, geometry: BaseGeometry) -> BaseGeometry:
        return transform(geometry, lambda c: (c - (self.lng0, self.lat0)) * (self.x_scale, self.y_scale))


def _rounded(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of ``geometry`` to 1/10,000,000 of a degree (about 1 cm), without the noise of unions."""
    return _plain(mapping(transform(geometry, lambda c: c.round(7))))


def parse_road(address: str) -> str:
    """The road an address lies on (“朝阳区东湖路12号院” → “东湖路”), or "" when it names none."""
    text = "".join((address or "").split())
    candidates = [text]
    while (shorter := _PLACE_PREFIX.sub("", candidates[-1], count=1)) != candidates[-1]:
        candidates.append(shorter)
    for candidate in reversed(candidates):  # the fewest places left in front first
        found = _ROAD.match(candidate)
        if found:
            return found.group(1)
    return ""


def roads_from_buildings(points: Iterable[tuple[str, float, float]]) -> list[tuple[str, dict[str, Any]]]:
    """``[(road name, GeoJSON LineString)]`` for the roads named in the addresses of
    ``points`` (``(address, lat, lng)``) whose buildings line up along one straight road:
    the line runs along the buildings' main direction, a little past the end ones."""
    by_road: dict[str, list[tuple[float, float]]] = {}
    for address, lat, lng in points:
        name = parse_road(address)
        if name and lat is not None and lng is not None:
            by_road.setdefault(name, []).append((lng, lat))
    roads = []
    for name, spots in sorted(by_road.items()):
        if len(set(spots)) < MIN_BUILDINGS:
            continue
        mean_lng = sum(p[0] for p in spots) / len(spots)
        mean_lat = sum(p[1] for p in spots) / len(spots)
        plane = _Metres(mean_lng, mean_lat)
        xy = [plane.xy(lng, lat) for lng, lat in spots]
        sxx = sum(x * x for x, _y in xy) / len(xy)
        syy = sum(y * y for _x, y in xy) / len(xy)
        sxy = sum(x * y for x, y in xy) / len(xy)
        angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
        ux, uy = math.cos(angle), math.sin(angle)
        along = [x * ux + y * uy for x, y in xy]
        across = [-x * uy + y * ux for x, y in xy]
        spread = max(along) - min(along)
        if spread <= 0 or max(abs(a) for a in across) > max(LINE_SLACK_M, LINE_SPREAD * spread):
            continue  # the buildings do not line up along one straight road
        start, end = min(along) - LINE_PAST_ENDS_M, max(along) + LINE_PAST_ENDS_M
        ends = [plane.lnglat(ux * t, uy * t) for t in (start, end)]
        roads.append(
            (name, {"type": "LineString", "coordinates": [[round(lng, 6), round(lat, 6)] for lng, lat in ends]})
        )
    return roads


def label_spots(
    line: BaseGeometry, others: BaseGeometry | None, *, clearance: float = LABEL_CLEARANCE_M
) -> list[tuple[float, float, bool]]:
    """Where a road's name goes, in the metres of ``line`` (a LineString or MultiLineString):
    ``[(x, y, vertical)]``, one per full ``LABEL_EVERY_M`` of each part (at least one), each at
    the spot of its stretch farthest from ``others`` (the other roads, the other names) up to
    ``clearance``, the middle preferred; ``vertical`` when the road runs more north–south than
    east–west there."""
    parts = list(line.geoms) if isinstance(line, MultiLineString) else [line]
    spots = []
    for part in parts:
        length = part.length
        if length <= 0:
            continue
        pieces = max(1, int(length // LABEL_EVERY_M))
        for piece in range(pieces):
            start, size = length * piece / pieces, length / pieces
            best: tuple[float, float] | None = None
            for share in LABEL_SHARES:
                at = start + size * share
                room = clearance if others is None else min(others.distance(part.interpolate(at)), clearance)
                score = room - abs(share - 0.5) * 40
                if best is None or score > best[0]:
                    best = (score, at)
            assert best is not None
            at = best[1]
            point = part.interpolate(at)
            before, after = part.interpolate(max(0.0, at - 15)), part.interpolate(min(length, at + 15))
            vertical = abs(after.y - before.y) > abs(after.x - before.x)
            spots.append((point.x, point.y, vertical))
    return spots


def _name_box(x: float, y: float, chars: int, char_px: int, *, after: bool = False) -> BaseGeometry:
    """The room a name takes around (``after``: to the right of) a point, in metres."""
    half_height = (HALF_LINE_PX + MARGIN_PX / 2) * M_PER_PX
    if after:  # a place: its dot, then its name
        return box(x - 7 * M_PER_PX, y - half_height, x + (chars * char_px + 14) * M_PER_PX, y + half_height)
    half_width = (chars * char_px / 2 + MARGIN_PX / 2) * M_PER_PX
    return box(x - half_width, y - half_height, x + half_width, y + half_height)


def _road_features(
    roads: list[tuple[str, bool, bool, BaseGeometry]],
    communities: list[tuple[Community, BaseGeometry]],
    places: list[MapFeature],
) -> list[dict[str, Any]]:
    """The road features, main roads last (drawn on top), each with the spots of its name clear
    of the other roads and of the names of the communities and places."""
    centre = unary_union([geometry for *_rest, geometry in roads]).centroid
    plane = _Metres(centre.x, centre.y)
    metric = [plane.line(geometry) for *_rest, geometry in roads]
    names = []
    for community, area in communities:
        spot = area.representative_point()
        names.append(_name_box(*plane.xy(spot.x, spot.y), len(community.name), COMMUNITY_CHAR_PX))
    for place in places:
        lng, lat = place.geometry["coordinates"][:2]
        names.append(_name_box(*plane.xy(lng, lat), len(place.name), PLACE_CHAR_PX, after=True))
    features = []
    for i in sorted(range(len(roads)), key=lambda i: (roads[i][1], roads[i][0])):
        name, main, derived, geometry = roads[i]
        # The same road's other stretches (a name kept across a crossing) are no obstacle.
        others = [m for j, m in enumerate(metric) if j != i and roads[j][0] != name] + names
        clearance = (len(name) * ROAD_CHAR_PX / 2 + MARGIN_PX) * M_PER_PX
        labels = [
            {"at": [round(v, 6) for v in plane.lnglat(x, y)], "vertical": vertical}
            for x, y, vertical in label_spots(metric[i], unary_union(others) if others else None, clearance=clearance)
        ]
        features.append(
            feature(
                _rounded(geometry),
                {"layer": "road", "name": name, "main": main, "derived": derived, "labels": labels},
            )
        )
    return features


def _community_areas(streets: list[Street]) -> list[tuple[Community, BaseGeometry]]:
    areas = {a.community_id: shape(a.boundary) for a in CommunityArea.objects.filter(community__street__in=streets)}
    grids: dict[int, list[BaseGeometry]] = {}
    for community_id, boundary in (
        Grid.objects.filter(community__street__in=streets)
        .exclude(boundary=None)
        .values_list("community_id", "boundary")
    ):
        grids.setdefault(community_id, []).append(shape(boundary))
    out = []
    for community in Community.objects.filter(street__in=streets).order_by("code"):
        area = areas.get(community.pk)
        if area is None and community.pk in grids:
            area = unary_union(grids[community.pk])
        if area is not None and not area.is_empty:
            out.append((community, area))
    return out


def base_map(user: User, *, buildings: Iterable[tuple[int, str, float, float]] = ()) -> dict[str, Any]:
    """The base map of the streets ``user`` sees, as one GeoJSON FeatureCollection; each
    feature's ``layer`` says what it is:

    - ``community``: a community's area, ``name``, ``code`` and ``label`` (``[lng, lat]``);
    - ``street``: a street's outline (imported, or around its communities), ``name``;
    - ``road``: a road, ``name``, ``main`` (主干道), ``derived`` (drawn through the registry's
      buildings), ``labels``: ``[{"at": [lng, lat], "vertical": bool}]``;
    - ``place``: a notable place, ``name``, ``kind`` and ``kind_label``.

    ``buildings``: ``(street id, address, lat, lng)`` of the registry's buildings, for the roads
    the streets have no row for (the registry is read by the page that asks, above this app)."""
    require_map_user(user)
    streets = list(street_records(user, Street.objects.all(), "pk").order_by("code"))
    communities = _community_areas(streets)
    rows = list(MapFeature.objects.filter(street__in=streets).order_by("street__code", "kind", "name", "id"))
    features: list[dict[str, Any]] = []
    for community, area in communities:
        spot = area.representative_point()
        features.append(
            feature(
                _rounded(area),
                {
                    "layer": "community",
                    "name": community.name,
                    "code": community.code,
                    "label": [round(spot.x, 6), round(spot.y, 6)],
                },
            )
        )
    outlines = {a.street_id: shape(a.boundary) for a in StreetArea.objects.filter(street__in=streets)}
    for street in streets:
        outline = outlines.get(street.pk) or unary_union(
            [area for community, area in communities if community.street_id == street.pk]
        )
        if not outline.is_empty:
            features.append(feature(_rounded(outline.boundary), {"layer": "street", "name": street.name}))

    # Roads: the rows, then the roads the buildings name that a street has no row for.
    roads: list[tuple[str, bool, bool, BaseGeometry]] = []
    named: dict[int, set[str]] = {}
    for row in rows:
        if row.kind in ROAD_KINDS:
            roads.append((row.name, row.kind == MapFeature.Kind.MAIN_ROAD, False, shape(row.geometry)))
            named.setdefault(row.street_id, set()).add(row.name)
    by_street: dict[int, list[tuple[str, float, float]]] = {}
    for street_id, address, lat, lng in buildings:
        by_street.setdefault(street_id, []).append((address, lat, lng))
    for street_id, points in sorted(by_street.items()):
        if street_id not in {s.pk for s in streets}:
            continue
        for name, geometry in roads_from_buildings(points):
            if name not in named.get(street_id, set()):
                roads.append((name, False, True, shape(geometry)))
    if roads:
        features += _road_features(roads, communities, [row for row in rows if row.kind in PLACE_KINDS])
    for row in rows:
        if row.kind in PLACE_KINDS:
            features.append(
                feature(
                    row.geometry,
                    {"layer": "place", "name": row.name, "kind": row.kind, "kind_label": row.get_kind_display()},
                )
            )
    return collection(features)


# --- import and export ----------------------------------------------------------------


def _kind(value: object) -> str:
    """A kind given by its code (``main_road``) or its label (主干道), or ""."""
    text = validation._text(value)
    for code, label in MapFeature.Kind.choices:
        if text in (code, str(label)):
            return code
    return ""


def check(data: bytes | str | dict[str, Any]) -> tuple[list[Row], list[dict[str, str]]]:
    """The features of a base-map file, or every error in it (nothing is written here).

    Each feature: ``name`` (≤ 50 characters); ``kind``, one of ``main_road`` 主干道, ``road``
    道路 (a LineString or MultiLineString), ``office`` 街道办事处, ``hall`` 便民服务中心,
    ``committee`` 社区居委会, ``place`` 其他地点 (a Point); ``street``, the street's code — may be
    left out when the installation has one street."""
    errors: list[dict[str, str]] = []
    try:
        raw_features = validation.load(data)
    except ValueError as exc:
        return [], [{"field": "file", "message": str(exc)}]
    streets = {s.code: s for s in Street.objects.all()}
    kinds = "、".join(f"{code}（{label}）" for code, label in MapFeature.Kind.choices)
    rows = []
    for index, raw in enumerate(raw_features, start=1):
        problems: list[str] = []
        props = raw.get("properties") if isinstance(raw, dict) else None
        props = props if isinstance(props, dict) else {}
        name = validation._text(props.get("name"))
        where = (
            _("第%(n)d个要素（%(name)s）") % {"n": index, "name": name} if name else _("第%(n)d个要素") % {"n": index}
        )

        def refuse(message: str, where: str = where, index: int = index) -> None:
            errors.append(
                {
                    "field": f"features[{index - 1}]",
                    "message": _("%(feature)s：%(problem)s") % {"feature": where, "problem": message},
                }
            )

        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            refuse(_("不是 GeoJSON 要素（type 应为 Feature）。"))
            continue
        if not name:
            problems.append(_("缺少 name 属性（道路或地点的名称）。"))
        elif len(name) > validation.MAX_NAME:
            problems.append(_("名称不能超过%(max)d个字。") % {"max": validation.MAX_NAME})
        kind = _kind(props.get("kind"))
        if not kind:
            problems.append(
                _("kind 属性“%(kind)s”无效，应为以下之一：%(kinds)s。")
                % {"kind": validation._text(props.get("kind")), "kinds": kinds}
            )
        code = validation._text(props.get("street"))
        street = streets.get(code) if code else (next(iter(streets.values())) if len(streets) == 1 else None)
        if street is None:
            problems.append(
                _("街道“%(code)s”不存在。") % {"code": code}
                if code
                else _("缺少 street 属性（所属街道的编码）：系统中有多个街道时必须写明。")
            )
        geometry = raw.get("geometry")
        shape_type = geometry.get("type") if isinstance(geometry, dict) else None
        wanted = ("Point",) if kind in PLACE_KINDS else ("LineString", "MultiLineString")
        if kind and shape_type not in wanted:
            given = {"type": shape_type or _("无")}
            problems.append(
                _("几何类型为 %(type)s，地点应为 Point（点）。") % given
                if kind in PLACE_KINDS
                else _("几何类型为 %(type)s，道路应为 LineString 或 MultiLineString（线）。") % given
            )
        elif kind:
            assert isinstance(geometry, dict)
            coordinates = geometry.get("coordinates")
            if not _well_formed(shape_type, coordinates):
                problems.append(
                    _("坐标格式不对：地点的 coordinates 应为一个点 [经度, 纬度]。")
                    if shape_type == "Point"
                    else _("坐标格式不对：道路的 coordinates 应为至少两个点 [经度, 纬度] 组成的列表。")
                )
            else:
                geom = shape({"type": shape_type, "coordinates": coordinates})
                if not validation._coordinates_in_range(geom):
                    problems.append(
                        _("坐标超出经纬度范围：应为 WGS-84 的 [经度, 纬度]（是否写反了经纬度，或使用了投影坐标？）。")
                    )
                elif isinstance(geom, (LineString, MultiLineString)) and geom.length <= 0:
                    problems.append(_("道路至少要有两个不同的点。"))
                else:
                    geometry = mapping(geom)
        for problem in problems:
            refuse(problem)
        if not problems and street is not None:
            assert isinstance(geometry, dict)
            rows.append(Row(index=index, name=name, kind=kind, street=street, geometry=_plain(geometry)))
    return rows, errors


def _position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    )


def _line(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 2 and all(_position(v) for v in value)


def _well_formed(kind: str | None, coordinates: Any) -> bool:
    """Whether ``coordinates`` are a Point's, a LineString's or a MultiLineString's."""
    if kind == "Point":
        return _position(coordinates)
    if kind == "LineString":
        return _line(coordinates)
    return isinstance(coordinates, list) and bool(coordinates) and all(_line(v) for v in coordinates)


def _plain(geometry: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry with lists for coordinates (shapely's mapping gives tuples)."""

    def lists(value: Any) -> Any:
        return [lists(v) for v in value] if isinstance(value, (list, tuple)) else value

    return {"type": geometry["type"], "coordinates": lists(geometry["coordinates"])}


def export() -> dict[str, Any]:
    """Every street's base-map rows in the import format."""
    return collection(
        [
            feature(row.geometry, {"name": row.name, "kind": row.kind, "street": row.street.code})
            for row in MapFeature.objects.select_related("street").order_by("street__code", "kind", "name", "id")
        ]
    )
