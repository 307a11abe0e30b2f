"""Reads of the geo app: where a point is, the grid boundaries, exports, the grid team and the
patrols. Cases on the map (open cases per grid, case points, the heat map) are read by
``cases.maps``, which passes its counts in; the special-care layer by ``registry.maps``. Every
selector that returns people takes the user and returns only what that user may see."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import NotAllowed, NotFound
from jiedao.common.masking import mask_phone
from jiedao.org.models import Community, Grid, Street
from jiedao.org.selectors import street_records

from . import locate as locator
from .models import CommunityArea, GridMember, PatrolCheckIn, StreetArea

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from jiedao.org.models import User

# A patrol left open longer than this is treated as ended (the worker forgot to check out).
PATROL_MAX_HOURS = 12

# Who sees the special-care households layer (特殊关爱人群): leaders and administrators
# for the whole street, grid workers for their own grids. Nobody else, on the page or the API.
CARE_ROLES = ("leader", "admin", "grid")
# Who may unmask the phones of the grid team on the grid page.
TEAM_PHONE_ROLES = ("leader", "admin", "dispatcher")
# Colours of the communities on the map, in community code order (repeats after 10).
PALETTE = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626", "#4f46e5", "#ca8a04"]


def require_map_user(user: User | AnonymousUser | None) -> None:
    if user is None or not user.is_authenticated or not user.is_street_staff:
        raise NotAllowed(_("只有街道工作人员可以查看地图。"))


def may_see_map(user: User | AnonymousUser | None) -> bool:
    return user is not None and user.is_authenticated and user.is_street_staff


def may_see_care(user: User | AnonymousUser | None) -> bool:
    return user is not None and user.is_authenticated and user.has_role(*CARE_ROLES)


# --- where a point is -----------------------------------------------------------


def where(lat: float, lng: float) -> dict[str, dict[str, str]] | None:
    """The grid, community and street at a point as a dict, or None outside every grid."""
    grid = locator.locate(lat, lng)
    if grid is None:
        return None
    community = grid.community
    street = Street.objects.get(pk=community.street_id)
    return {
        "grid": {"code": grid.code, "name": grid.name},
        "community": {"code": community.code, "name": community.name},
        "street": {"code": street.code, "name": street.name},
    }


# --- GeoJSON ----------------------------------------------------------------------


def feature(geometry: Any, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def community_colours() -> dict[str, str]:
    return {
        code: PALETTE[i % len(PALETTE)]
        for i, code in enumerate(Community.objects.order_by("code").values_list("code", flat=True))
    }


def grid_layer(user: User, open_counts: dict[int, int]) -> dict[str, Any]:
    """Every grid boundary, coloured by community, with its open cases from ``open_counts``
    (``{grid id: n}``, counted by ``cases.maps`` among the cases the user may see)."""
    require_map_user(user)
    colours = community_colours()
    features = []
    for grid in (
        street_records(user, Grid.objects.exclude(boundary=None), "community__street")
        .select_related("community")
        .order_by("code")
    ):
        features.append(
            feature(
                grid.boundary,
                {
                    "code": grid.code,
                    "name": grid.name,
                    "community": grid.community.code,
                    "community_name": grid.community.name,
                    "colour": colours.get(grid.community.code, PALETTE[0]),
                    "open_cases": open_counts.get(grid.pk, 0),
                    "url": reverse("geo:grid", args=[grid.code]),
                },
            )
        )
    return collection(features)


def export_geojson(level: str) -> dict[str, Any]:
    """Every street, community or grid with a boundary, in the import format."""
    features = []
    if level == "grid":
        for grid in Grid.objects.exclude(boundary=None).select_related("community").order_by("code"):
            features.append(
                feature(grid.boundary, {"code": grid.code, "name": grid.name, "parent": grid.community.code})
            )
    elif level == "community":
        for area in CommunityArea.objects.select_related("community__street").order_by("community__code"):
            features.append(
                feature(
                    area.boundary,
                    {"code": area.community.code, "name": area.community.name, "parent": area.community.street.code},
                )
            )
    elif level == "street":
        for street_area in StreetArea.objects.select_related("street__district").order_by("street__code"):
            street = street_area.street
            features.append(
                feature(
                    street_area.boundary,
                    {"code": street.code, "name": street.name, "parent": street.district.code},
                )
            )
    else:
        raise ValueError(level)
    return collection(features)


# --- grid pages ----------------------------------------------------------------------


def grid_list(user: User, open_counts: dict[int, int]) -> list[dict[str, Any]]:
    """Communities with their grids, the team size and the open cases per grid from
    ``open_counts`` (``{grid id: n}``, counted by ``cases.maps``)."""
    require_map_user(user)
    grids: list[Any] = list(
        street_records(user, Grid.objects.all(), "community__street")
        .select_related("community")
        .annotate(
            team=Count("members", filter=Q(members__active=True), distinct=True),
            workers_n=Count("workers", distinct=True),
        )
        .order_by("community__code", "code")
    )
    communities: dict[Community, list[Grid]] = {}
    for grid in grids:
        grid.open_cases = open_counts.get(grid.pk, 0)
        communities.setdefault(grid.community, []).append(grid)
    return [{"community": c, "grids": g} for c, g in communities.items()]


def grid_for(user: User, code: str) -> Grid:
    require_map_user(user)
    grid = (
        street_records(user, Grid.objects.all(), "community__street")
        .select_related("community", "community__street")
        .filter(code=code)
        .first()
    )
    if grid is None:
        raise NotFound(_("网格 %(code)s 不存在。") % {"code": code})
    return grid


def may_see_team_phones(user: User, grid: Grid) -> bool:
    if user.has_role(*TEAM_PHONE_ROLES):
        return True
    return user.has_role("grid") and user.grids.filter(pk=grid.pk).exists()


def grid_team(user: User, grid: Grid) -> tuple[list[dict[str, Any]], bool]:
    """The grid's team: members by role (专职, 兼职, 楼门长) and accounts assigned to the
    grid that have no member row yet. Phones are masked unless the user may see them."""
    unmasked = may_see_team_phones(user, grid)
    members = list(GridMember.objects.filter(grid=grid, active=True).select_related("user").order_by("role", "id"))
    listed_users = {m.user_id for m in members if m.user_id}
    rows = []
    for member in members:
        phone = member.phone or (member.user.phone if member.user else "")
        rows.append(
            {
                "member": member,
                "account": member.user,
                "name": member.display_name,
                "role": member.get_role_display(),
                "role_code": member.role,
                "buildings": member.buildings,
                "phone": phone if unmasked else mask_phone(phone),
            }
        )
    for worker in grid.workers.exclude(pk__in=listed_users).order_by("username"):
        rows.append(
            {
                "member": None,
                "account": worker,
                "name": str(worker),
                "role": _("网格员（账号）"),
                "role_code": "account",
                "buildings": "",
                "phone": worker.phone if unmasked else mask_phone(worker.phone),
            }
        )
    return rows, unmasked


def patrols_in_grid(grid: Grid, day: dt.date | None = None, limit: int = 20) -> list[PatrolCheckIn]:
    day = day or timezone.localdate()
    return list(
        PatrolCheckIn.objects.filter(grid=grid, at__date=day).select_related("user").order_by("-at", "-id")[:limit]
    )


# --- the grid worker's day ------------------------------------------------------------


def open_patrol_start(user: User, now: dt.datetime | None = None) -> PatrolCheckIn | None:
    """The ``start`` check-in of the user's patrol in progress, or None."""
    now = now or timezone.now()
    last = PatrolCheckIn.objects.filter(user=user).order_by("-at", "-id").first()
    if last is None or last.kind == PatrolCheckIn.Kind.END:
        return None
    if now - last.at > dt.timedelta(hours=PATROL_MAX_HOURS):
        return None
    return (
        PatrolCheckIn.objects.filter(user=user, kind=PatrolCheckIn.Kind.START, at__lte=last.at)
        .order_by("-at", "-id")
        .first()
    )


def patrol_status(user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Whether the user is on patrol now, since when, and today's check-ins and patrol time."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    checkins = list(PatrolCheckIn.objects.filter(user=user, at__date=today).select_related("grid").order_by("at", "id"))
    started = open_patrol_start(user, now)
    minutes = 0.0
    current = None
    for checkin in checkins:
        if checkin.kind == PatrolCheckIn.Kind.START:
            current = checkin.at
        elif checkin.kind == PatrolCheckIn.Kind.END and current is not None:
            minutes += (checkin.at - current).total_seconds() / 60
            current = None
    if started is not None:
        minutes += (
            now - max(started.at, timezone.make_aware(dt.datetime.combine(today, dt.time())))
        ).total_seconds() / 60
    return {
        "on_patrol": started is not None,
        "started_at": started.at if started else None,
        "grid": started.grid if started else None,
        "checkins": list(reversed(checkins)),
        "minutes_today": int(minutes),
        "patrols_today": sum(1 for c in checkins if c.kind == PatrolCheckIn.Kind.START),
    }


def visit_log_url() -> str | None:
    """The registry's visit log form (探访记录), when the registry provides one."""
    try:
        return reverse("registry:visit")
    except NoReverseMatch:
        return None
