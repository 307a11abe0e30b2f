"""The geo API: map layers as GeoJSON, point lookup and the grid measures.

Every layer is read through ``geo.selectors`` with the signed-in user, so a unit
handler gets only the cases of their unit, a grid worker those of their grids, and
the special-care layer answers 403 to anybody outside its roles."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from jiedao.cases import grid_measures as measures
from jiedao.cases import maps
from jiedao.common import params
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.common.schemas import ErrorsOut
from jiedao.registry import maps as registry_maps

from . import selectors

router = Router(tags=["geo"])
ERRORS = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 422: ErrorsOut}


class RatioOut(Schema):
    value: float | None
    numerator: int
    denominator: int


class GridMeasuresOut(Schema):
    month: str
    community_code: str
    community_name: str
    active_discovery: RatioOut
    grid_level: RatioOut
    grid_completion: RatioOut


class GeoMeasuresOut(GridMeasuresOut):
    communities: list[GridMeasuresOut] = []


class PlaceOut(Schema):
    code: str
    name: str


class WhereOut(Schema):
    grid: PlaceOut
    community: PlaceOut
    street: PlaceOut


class HeatOut(Schema):
    days: int
    points: list[list[float]]
    max: int


class LocateQuery(Schema):
    lat: float
    lng: float


@router.get(
    "/geo/grids", url_name="geo_grids", response={200: dict, **ERRORS}, summary="Grid boundaries (网格边界, GeoJSON)"
)
def grids(request):
    """Every grid as a GeoJSON polygon with ``code``, ``name``, ``community``, ``colour``
    (by community) and ``open_cases`` (open cases the user may see)."""
    return maps.grid_layer(request.user)


@router.get(
    "/geo/cases", url_name="geo_cases", response={200: dict, **ERRORS}, summary="Open cases as points (GeoJSON)"
)
def cases(request):
    """Open cases with a position that the user may see, with ``urgency`` green / yellow / red."""
    return maps.case_layer(request.user)


@router.get(
    "/geo/heat", url_name="geo_heat", response={200: HeatOut, **ERRORS}, summary="Case heat, last 30 days, by map cell"
)
def heat(request):
    """The cases received today and the 29 days before that the user may see, counted per map
    cell of 0.001° (about 110 m × 85 m): ``points`` are ``[lat, lng, cases]`` at each cell's
    centre, the busiest first; ``max`` is the top of the colour scale (the 75th percentile of
    the cells' counts: cells at or above it show at full colour)."""
    return maps.heat_layer(request.user)


@router.get(
    "/geo/care",
    url_name="geo_care",
    response={200: dict, **ERRORS},
    summary="Special-care households (authorised roles)",
)
def care(request):
    """Buildings with special-care residents (counts and tags, no names). 403 unless the
    user is a leader, an administrator or a grid worker (own grids only)."""
    return registry_maps.care_layer(request.user)


@router.get(
    "/geo/locate",
    url_name="geo_locate",
    response={200: WhereOut, **ERRORS},
    summary="Grid, community and street of a point",
)
def locate(request, query: Query[LocateQuery]):
    if not selectors.may_see_map(request.user):
        raise NotAllowed(_("只有街道工作人员可以查询网格。"))
    if not (-90 <= query.lat <= 90 and -180 <= query.lng <= 180):
        raise ValidationFailed("lat", _("经纬度超出范围：纬度在 -90 到 90 之间，经度在 -180 到 180 之间。"))
    found = selectors.where(query.lat, query.lng)
    if found is None:
        raise NotFound(_("坐标（纬度 %(lat)s，经度 %(lng)s）不在任何网格内。") % {"lat": query.lat, "lng": query.lng})
    return found


@router.get(
    "/geo/measures",
    url_name="geo_measures",
    response={200: GeoMeasuresOut, **ERRORS},
    summary="Grid measures of a month",
    tags=["metrics"],
)
def grid_measures(request, month: str = "", community: str = ""):
    """主动发现率, 小事不出网格 and 网格事件办结率 for the street (with one row per community)
    or for one community. Definitions: docs/geo.md."""
    if not selectors.may_see_map(request.user):
        raise NotAllowed(_("只有街道工作人员可以查看网格指标。"))
    month = f"{params.parse_month(month):%Y-%m}" if month.strip() else measures.current_month()
    result = measures.grid_measures(month, community.strip() or None).as_dict()
    result["communities"] = (
        [] if community.strip() else [row.as_dict() for row in measures.grid_measures_by_community(month)]
    )
    return result
