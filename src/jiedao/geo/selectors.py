"""Reads of the geo app: the map layers, exports, the grid pages and the grid worker's
day. Every selector that returns cases or people takes the user and returns only what
that user may see (cases through ``cases.selectors.visible_cases``)."""

import datetime as dt
import math
from collections import Counter

from django.apps import apps
from django.db.models import Count, F, IntegerField, Q, Sum
from django.db.models.functions import Cast, Floor
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.cases.models import OPEN_STATUSES, Channel, Status
from jiedao.cases.selectors import visible_cases
from jiedao.common.errors import NotAllowed, NotFound
from jiedao.common.masking import mask_personal_text, mask_phone
from jiedao.org.models import Community, Grid, Street
from jiedao.org.selectors import in_streets, street_records
from jiedao.workcal.calendar import SHANGHAI, start_of_day

from . import locate as locator
from .models import HEAT_CELL_SCALE, HEAT_DAYS, CommunityArea, GridMember, HeatCell, PatrolCheckIn, StreetArea

# Who sees the special-care households layer (特殊关爱人群): leaders and administrators
# for the whole street, grid workers for their own grids. Nobody else, on the page or the API.
CARE_ROLES = ("leader", "admin", "grid")
# Who may unmask the phones of the grid team on the grid page.
TEAM_PHONE_ROLES = ("leader", "admin", "dispatcher")
MAX_CASE_POINTS = 5000
MAX_HEAT_POINTS = 20000  # map cells, the busiest first
HEAT_TOP_SHARE = 0.75  # cells at or above this percentile of counts show at full colour
# Colours of the communities on the map, in community code order (repeats after 10).
PALETTE = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626", "#4f46e5", "#ca8a04"]
URGENCY_COLOURS = {"green": "#16a34a", "yellow": "#eab308", "red": "#dc2626"}


def _require_staff(user):
    if user is None or not user.is_authenticated or not user.is_street_staff:
        raise NotAllowed(_("只有街道工作人员可以查看地图。"))


def may_see_map(user) -> bool:
    return user is not None and user.is_authenticated and user.is_street_staff


def may_see_care(user) -> bool:
    return user is not None and user.is_authenticated and user.has_role(*CARE_ROLES)


# --- where a point is -----------------------------------------------------------


def where(lat, lng):
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


def _feature(geometry, properties):
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _collection(features):
    return {"type": "FeatureCollection", "features": features}


def community_colours():
    return {
        code: PALETTE[i % len(PALETTE)]
        for i, code in enumerate(Community.objects.order_by("code").values_list("code", flat=True))
    }


def grid_layer(user):
    """Every grid boundary, coloured by community, with the number of open cases the user may see."""
    _require_staff(user)
    colours = community_colours()
    # COUNT(*) over the open cases: an index-only scan of the partial index case_street_open.
    open_counts = dict(
        visible_cases(user)
        .filter(status__in=OPEN_STATUSES, grid__isnull=False)
        .order_by()
        .values_list("grid_id")
        .annotate(n=Count("*"))
    )
    features = []
    for grid in (
        street_records(user, Grid.objects.exclude(boundary=None), "community__street")
        .select_related("community")
        .order_by("code")
    ):
        features.append(
            _feature(
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
    return _collection(features)


def case_layer(user):
    """Open cases with a position, as points coloured by urgency (green / yellow / red)."""
    _require_staff(user)
    rows = (
        visible_cases(user)
        .filter(status__in=OPEN_STATUSES, lat__isnull=False, lng__isnull=False)
        .select_related("category")
        .order_by("-created_at", "-id")[:MAX_CASE_POINTS]
    )
    features = []
    for case in rows:
        features.append(
            _feature(
                {"type": "Point", "coordinates": [case.lng, case.lat]},
                {
                    "number": case.number,
                    "status": case.status,
                    "status_label": str(case.get_status_display()),
                    "urgency": case.urgency,
                    "urgency_label": str(case.get_urgency_display()),
                    "colour": URGENCY_COLOURS.get(case.urgency, URGENCY_COLOURS["green"]),
                    "category": case.category.name if case.category_id else "",
                    "summary": mask_personal_text(case.description)[:40],
                    "url": reverse("cases:case", args=[case.number]),
                },
            )
        )
    return _collection(features)


def cell_counts(cases, *by):
    """``(*by, lat_cell, lng_cell, n)`` of the cases with a position, one row per heat-map
    cell (positions floored to 1/HEAT_CELL_SCALE degree) and value of the fields ``by``."""

    def cell(name):
        return Cast(Floor(F(name) * HEAT_CELL_SCALE), IntegerField())

    return (
        cases.filter(lat__isnull=False, lng__isnull=False)
        .order_by()
        .annotate(lat_cell=cell("lat"), lng_cell=cell("lng"))
        .values_list(*by, "lat_cell", "lng_cell")
        .annotate(n=Count("*"))
    )


def heat_layer(user, days=HEAT_DAYS, now=None):
    """The heat map of the cases received today and the ``days - 1`` days before (Beijing
    dates) that the user may see, merged duplicates left out: ``{"days", "points", "max"}``,
    one point ``[lat, lng, cases]`` per map cell (its centre), the busiest cells first, and the
    top of the colour scale (``heat_scale_top``).

    Street-wide and district users read the worker's rollup (``HeatCell``) for the days before
    today and count today's cases live, so the layer costs the same however many cases a month
    brings; everyone else (a handler, a grid worker) counts their own visible cases."""
    _require_staff(user)
    today = (now or timezone.now()).astimezone(SHANGHAI).date()
    first = today - dt.timedelta(days=days - 1)
    totals = Counter()
    if user.sees_whole_street or user.sees_district:
        cells = HeatCell.objects.filter(in_streets(user), day__gte=first, day__lt=today)
        for lat_cell, lng_cell, n in cells.values_list("lat_cell", "lng_cell").order_by().annotate(n=Sum("received")):
            totals[(lat_cell, lng_cell)] += n
        live_from = today
    else:
        live_from = first
    for lat_cell, lng_cell, n in cell_counts(
        visible_cases(user).filter(created_at__gte=start_of_day(live_from)).exclude(status=Status.MERGED)
    ):
        totals[(lat_cell, lng_cell)] += n
    points = [
        [round((lat_cell + 0.5) / HEAT_CELL_SCALE, 6), round((lng_cell + 0.5) / HEAT_CELL_SCALE, 6), n]
        for (lat_cell, lng_cell), n in totals.most_common(MAX_HEAT_POINTS)
    ]
    return {"days": days, "points": points, "max": heat_scale_top([p[2] for p in points])}


def heat_scale_top(weights):
    """The top of the heat map's colour scale: the 75th percentile of the cells' counts
    (nearest rank), so that the busiest quarter of the cells show at full colour and a few
    exceptional cells do not fade all the others (where most cells hold one case, every
    case shows at full colour)."""
    if not weights:
        return 0
    ordered = sorted(weights)
    return ordered[max(0, math.ceil(HEAT_TOP_SHARE * len(ordered)) - 1)]


def care_points(user):
    """The special-care residents (独居老人, 低保, 残疾人 …) as GeoJSON point features,
    one per building of the registry (一户一档) that has a position:
    ``{"building", "grid", "tags": ["独居老人 2", …], "count": persons}`` — never names,
    identity numbers or phones. Persons who moved away or died are left out.

    The hook between the map and the registry: [] for anybody outside ``CARE_ROLES``
    and [] when the registry app is not installed. Leaders and administrators get the
    whole street; a grid worker only the buildings of their own grids."""
    if not may_see_care(user) or not apps.is_installed("jiedao.registry"):
        return []
    from jiedao.registry.models import Building, Person, PersonTag

    at_building = "person__household__house__building"
    marks = PersonTag.objects.filter(
        tag__active=True,
        **{f"{at_building}__lat__isnull": False, f"{at_building}__lng__isnull": False},
    ).exclude(person__status__in=(Person.Status.MOVED, Person.Status.DECEASED))
    if not user.has_role("leader", "admin"):
        marks = marks.filter(**{f"{at_building}__grid__in": user.grids.all()})
    persons, tags = {}, {}
    for building_id, person_id, tag in marks.values_list(f"{at_building}_id", "person_id", "tag__name"):
        persons.setdefault(building_id, set()).add(person_id)
        counts = tags.setdefault(building_id, {})
        counts[tag] = counts.get(tag, 0) + 1
    features = []
    for building in Building.objects.filter(pk__in=list(persons)).select_related("grid").order_by("code"):
        features.append(
            _feature(
                {"type": "Point", "coordinates": [building.lng, building.lat]},
                {
                    "building": building.name,
                    "grid": building.grid.code if building.grid_id else "",
                    "tags": [f"{name} {n}" for name, n in sorted(tags[building.pk].items())],
                    "count": len(persons[building.pk]),
                },
            )
        )
    return features


def care_layer(user):
    if not may_see_care(user):
        raise NotAllowed(_("特殊关爱人群图层仅对街道领导、管理员和本网格网格员开放。"))
    return _collection(care_points(user))


def export_geojson(level):
    """Every street, community or grid with a boundary, in the import format."""
    features = []
    if level == "grid":
        for grid in Grid.objects.exclude(boundary=None).select_related("community").order_by("code"):
            features.append(
                _feature(grid.boundary, {"code": grid.code, "name": grid.name, "parent": grid.community.code})
            )
    elif level == "community":
        for area in CommunityArea.objects.select_related("community__street").order_by("community__code"):
            features.append(
                _feature(
                    area.boundary,
                    {"code": area.community.code, "name": area.community.name, "parent": area.community.street.code},
                )
            )
    elif level == "street":
        for area in StreetArea.objects.select_related("street__district").order_by("street__code"):
            features.append(
                _feature(
                    area.boundary,
                    {"code": area.street.code, "name": area.street.name, "parent": area.street.district.code},
                )
            )
    else:
        raise ValueError(level)
    return _collection(features)


# --- grid pages ----------------------------------------------------------------------


def grid_list(user):
    """Communities with their grids, the team size and the open cases (visible to the user) per grid."""
    _require_staff(user)
    # COUNT(*) over the open cases: an index-only scan of the partial index case_street_open.
    open_counts = dict(
        visible_cases(user)
        .filter(status__in=OPEN_STATUSES, grid__isnull=False)
        .order_by()
        .values_list("grid_id")
        .annotate(n=Count("*"))
    )
    grids = list(
        street_records(user, Grid.objects.all(), "community__street")
        .select_related("community")
        .annotate(
            team=Count("members", filter=Q(members__active=True), distinct=True),
            workers_n=Count("workers", distinct=True),
        )
        .order_by("community__code", "code")
    )
    communities = {}
    for grid in grids:
        grid.open_cases = open_counts.get(grid.pk, 0)
        communities.setdefault(grid.community, []).append(grid)
    return [{"community": c, "grids": g} for c, g in communities.items()]


def grid_for(user, code):
    _require_staff(user)
    grid = (
        street_records(user, Grid.objects.all(), "community__street")
        .select_related("community", "community__street")
        .filter(code=code)
        .first()
    )
    if grid is None:
        raise NotFound(_("网格 %(code)s 不存在。") % {"code": code})
    return grid


def may_see_team_phones(user, grid) -> bool:
    if user.has_role(*TEAM_PHONE_ROLES):
        return True
    return user.has_role("grid") and user.grids.filter(pk=grid.pk).exists()


def grid_team(user, grid):
    """The grid's team: members by role (专职, 兼职, 楼门长) and accounts assigned to the
    grid that have no member row yet. Phones are masked unless the user may see them."""
    unmasked = may_see_team_phones(user, grid)
    members = list(GridMember.objects.filter(grid=grid, active=True).select_related("user").order_by("role", "id"))
    listed_users = {m.user_id for m in members if m.user_id}
    rows = []
    for member in members:
        phone = member.phone or (member.user.phone if member.user_id else "")
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


def grid_case_counts(user, grid):
    qs = visible_cases(user).filter(grid=grid)
    return qs.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES), distinct=True),
        verifying=Count("id", filter=Q(status=Status.VERIFYING), distinct=True),
        red=Count("id", filter=Q(status__in=OPEN_STATUSES, urgency="red"), distinct=True),
    )


def patrols_in_grid(grid, day=None, limit=20):
    day = day or timezone.localdate()
    return list(
        PatrolCheckIn.objects.filter(grid=grid, at__date=day).select_related("user").order_by("-at", "-id")[:limit]
    )


# --- the grid worker's day ------------------------------------------------------------


def patrol_status(user, now=None):
    """Whether the user is on patrol now, since when, and today's check-ins and patrol time."""
    from .services import open_patrol_start

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


def cases_to_verify(user, limit=50):
    """Cases in the user's grids waiting for on-site verification (待核查), oldest result first."""
    from jiedao.cases.models import CaseEvent

    if not user.has_role("grid"):
        return []
    cases = list(
        visible_cases(user)
        .filter(status=Status.VERIFYING, grid__in=user.grids.all())
        .select_related("category", "grid", "community", "unit")
        .order_by("resolved_at", "id")[:limit]
    )
    results = {}
    for case_id, note in (
        CaseEvent.objects.filter(case__in=cases, action="resolve")
        .order_by("case_id", "seq")
        .values_list("case_id", "note")
    ):
        results[case_id] = note  # the last 办结 result of each case wins
    for case in cases:
        case.result_note = results.get(case.pk, "")
    return cases


def my_reports(user, limit=10):
    """The user's own recent on-site reports (channel grid), newest first."""
    return list(
        visible_cases(user)
        .filter(channel=Channel.GRID, created_by=user)
        .select_related("category", "grid")
        .order_by("-created_at", "-id")[:limit]
    )


def visit_log_url():
    """The registry's visit log form (探访记录), when the registry provides one."""
    try:
        return reverse("registry:visit")
    except NoReverseMatch:
        return None


def grid_worker_day(user, now=None):
    return {
        "patrol": patrol_status(user, now),
        "verify": cases_to_verify(user),
        "reports": my_reports(user),
        "grids": list(user.grids.select_related("community").order_by("code")),
        "visit_url": visit_log_url(),
    }
