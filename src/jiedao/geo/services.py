"""Every write of the geo app: importing boundaries and the base map (底图) from GeoJSON and
patrol check-ins. (The heat-map rollup is written by ``evaluation.compute``, which reads the
cases.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import idempotency
from jiedao.common.errors import FieldErrors, InvalidTransition, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, District, Grid, Street

from . import basemap, validation
from . import locate as locator
from .models import CommunityArea, MapFeature, PatrolCheckIn, StreetArea
from .selectors import open_patrol_start

if TYPE_CHECKING:
    import datetime as dt

    from jiedao.org.models import User

MAX_NOTE = 200
PATROL_SCOPE = "patrol-check-in"  # the idempotency keys of check-ins


@dataclass
class ImportResult:
    level: str
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    replaced: int = 0  # base map: the rows the file took the place of

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated)


def _may_import(user):
    # ``None`` is the operator at the command line (who already holds the server).
    if user is not None:  # no user: the command line
        permissions.require(user, "geo.import", _("只有系统管理员可以导入边界。"))


def import_geojson(user: User | None, *, data: bytes | str | dict[str, Any], level: str) -> ImportResult:
    """Import a GeoJSON FeatureCollection of one level (street | community | grid | basemap).

    All or nothing: every feature is checked first (geometry, code rule, parent,
    duplicates, overlaps); one error refuses the whole file and nothing is written.
    Features whose code exists already update that row (name, parent, boundary).
    A base-map file (roads and places, ``geo.basemap.check``) replaces the whole base map of
    each street it names."""
    _may_import(user)
    if level == basemap.LEVEL:
        return _import_base_map(data)
    features, errors = validation.check(data, level)
    if errors:
        raise ValidationFailed(errors=errors)
    result = ImportResult(level=level)
    with transaction.atomic():
        for feature in features:
            created = _WRITERS[level](feature)
            (result.created if created else result.updated).append(feature.code)
        if level == "grid":
            transaction.on_commit(locator.invalidate)
    return result


def _write_grid(feature):
    _grid, created = Grid.objects.update_or_create(
        code=feature.code,
        defaults={"community": feature.parent, "name": feature.name, "boundary": feature.geometry},
    )
    return created


def _write_community(feature):
    community, created = Community.objects.update_or_create(
        code=feature.code, defaults={"street": feature.parent, "name": feature.name}
    )
    CommunityArea.objects.update_or_create(community=community, defaults={"boundary": feature.geometry})
    return created


def _write_street(feature):
    district = feature.parent
    if district is None:
        district = District.objects.create(code=feature.parent_code, name=feature.extra["district_name"])
    street, created = Street.objects.update_or_create(
        code=feature.code, defaults={"district": district, "name": feature.name}
    )
    StreetArea.objects.update_or_create(street=street, defaults={"boundary": feature.geometry})
    return created


_WRITERS = {"grid": _write_grid, "community": _write_community, "street": _write_street}


def _import_base_map(data):
    rows, errors = basemap.check(data)
    if errors:
        raise ValidationFailed(errors=errors)
    result = ImportResult(level=basemap.LEVEL)
    with transaction.atomic():
        streets = {row.street.pk for row in rows}
        result.replaced, _kinds = MapFeature.objects.filter(street__in=streets).delete()
        MapFeature.objects.bulk_create(
            [MapFeature(street=row.street, kind=row.kind, name=row.name, geometry=row.geometry) for row in rows]
        )
        result.created = [row.name for row in rows]
    return result


# --- patrol (巡查打卡) ---------------------------------------------------------


def check_in(
    user: User,
    *,
    kind: str,
    lat: Any = None,
    lng: Any = None,
    grid_code: str = "",
    note: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> PatrolCheckIn:
    """Record a patrol check-in: ``start`` (开始巡查), ``point`` (途中打卡) or ``end``
    (结束巡查) at the phone's position, which is required (a check-in is a point of the patrol:
    without a position — no signal, permission refused — it is refused on ``position``). The
    grid is the one named, else the worker's grid at the position (or their only grid).

    ``idempotency_key``: the phone's own key for a check-in taken without network and sent
    later; the same key sent again answers the check-in made the first time."""
    permissions.require(user, "geo.patrol", _("只有网格员可以巡查打卡。"))
    done = idempotency.previous(user, PATROL_SCOPE, idempotency_key)
    if done is not None:
        return PatrolCheckIn.objects.get(pk=done)
    if kind not in PatrolCheckIn.Kind.values:
        raise ValidationFailed("kind", _("打卡类型“%(kind)s”无效。") % {"kind": kind})
    now = at or timezone.now()
    errors = FieldErrors()
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors.add("note", _("说明不能超过%(max)d个字。") % {"max": MAX_NOTE})
    if lat in ("", None) and lng in ("", None):
        lat = lng = None
    elif lat in ("", None) or lng in ("", None):
        errors.add("lat" if lat in ("", None) else "lng", _("经纬度需同时提供。"))
        lat = lng = None
    else:
        try:
            lat, lng = float(lat), float(lng)
        except (TypeError, ValueError):
            errors.add("lat", _("经纬度必须是数字。"))
            lat = lng = None
        else:
            if not -90 <= lat <= 90:
                errors.add("lat", _("纬度必须在 -90 到 90 之间。"))
            if not -180 <= lng <= 180:
                errors.add("lng", _("经度必须在 -180 到 180 之间。"))
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                lat = lng = None
    my_grids = {g.code: g for g in user.grids.all()}
    grid = None
    if grid_code:
        grid = my_grids.get(grid_code)
        if grid is None:
            errors.add("grid", _("网格“%(code)s”不是您负责的网格。") % {"code": grid_code})
    if lat is None and not any(e["field"] in ("lat", "lng") for e in errors.errors):
        errors.add(
            "position",
            _("没有获取到手机定位，不能打卡。请打开手机定位并允许本网站使用位置，然后点“重新定位”。"),
        )
    errors.raise_if_any()

    located = locator.locate(lat, lng) if lat is not None else None
    if grid is None:
        if located is not None and located.code in my_grids:
            grid = my_grids[located.code]
        elif len(my_grids) == 1:
            grid = next(iter(my_grids.values()))
    inside = None if lat is None else (located is not None and grid is not None and located.pk == grid.pk)

    with transaction.atomic():
        # Serialise one worker's check-ins so that two taps cannot both start a patrol.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        done = idempotency.previous(user, PATROL_SCOPE, idempotency_key)  # sent twice at once
        if done is not None:
            return PatrolCheckIn.objects.get(pk=done)
        started = open_patrol_start(user, now)
        if kind == PatrolCheckIn.Kind.START and started is not None:
            raise InvalidTransition(
                _("巡查已于 %(time)s 开始，请先结束本次巡查。")
                % {"time": timezone.localtime(started.at).strftime("%H:%M")}
            )
        if kind != PatrolCheckIn.Kind.START and started is None:
            raise InvalidTransition(_("还没有开始巡查，请先点“开始巡查”。"))
        if kind != PatrolCheckIn.Kind.START and grid is None:
            grid = cast(PatrolCheckIn, started).grid  # a patrol is open: checked above
        checkin = PatrolCheckIn.objects.create(
            user=user, grid=grid, kind=kind, at=now, lat=lat, lng=lng, inside=inside, note=note
        )
        idempotency.remember(user, PATROL_SCOPE, idempotency_key, checkin.pk)
        return checkin
