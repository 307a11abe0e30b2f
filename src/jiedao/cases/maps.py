"""The cases on the map and in the grid pages: open cases per grid, the case points, the heat
map, a grid's case counts and the grid worker's cases. Every function takes the user and reads
only the cases that user may see (``selectors.visible_cases``); the places themselves (grids,
their boundaries, patrols) come from ``geo``."""

import datetime as dt
import math
from collections import Counter

from django.db.models import Count, F, IntegerField, Q, Sum
from django.db.models.functions import Cast, Floor
from django.urls import reverse
from django.utils import timezone

from jiedao.common.masking import mask_personal_text
from jiedao.geo import selectors as places
from jiedao.geo.models import HEAT_CELL_SCALE, HEAT_DAYS, HeatCell
from jiedao.geo.selectors import collection, feature, require_map_user
from jiedao.org.selectors import in_streets
from jiedao.workcal.calendar import SHANGHAI, start_of_day

from .models import NOT_MATTERS, OPEN_STATUSES, CaseEvent, Channel, Status, Urgency
from .rules import overdue_q
from .selectors import visible_cases, with_live_urgency

MAX_CASE_POINTS = 5000
MAX_HEAT_POINTS = 20000  # map cells, the busiest first
HEAT_TOP_SHARE = 0.75  # cells at or above this percentile of counts show at full colour
URGENCY_COLOURS = {"green": "#16a34a", "yellow": "#eab308", "red": "#dc2626"}


def open_cases_by_grid(user) -> dict:
    """``{grid id: open cases}`` of the cases the user may see."""
    # COUNT(*) over the open cases: an index-only scan of the partial index case_street_open.
    return dict(
        visible_cases(user)
        .filter(status__in=OPEN_STATUSES, grid__isnull=False)
        .order_by()
        .values_list("grid_id")
        .annotate(n=Count("*"))
    )


def grid_layer(user):
    """Every grid boundary, coloured by community, with the number of open cases the user may see."""
    require_map_user(user)
    return places.grid_layer(user, open_cases_by_grid(user))


def grid_list(user):
    """Communities with their grids, the team size and the open cases (visible to the user) per grid."""
    require_map_user(user)
    return places.grid_list(user, open_cases_by_grid(user))


def case_layer(user, *, now: dt.datetime | None = None):
    """Open cases with a position, as points coloured by their deadline level at ``now``
    (green / yellow / red): the case page's rule (``rules.urgency_at``, here in SQL), not the
    level the last deadline sweep stored."""
    require_map_user(user)
    visible = visible_cases(user).filter(status__in=OPEN_STATUSES, lat__isnull=False, lng__isnull=False)
    rows = (
        with_live_urgency(visible, now=now or timezone.now())
        .select_related("category")
        .order_by("-created_at", "-id")[:MAX_CASE_POINTS]
    )
    features = []
    for case in rows:
        level = Urgency(case.live_urgency)
        features.append(
            feature(
                {"type": "Point", "coordinates": [case.lng, case.lat]},
                {
                    "number": case.number,
                    "status": case.status,
                    "status_label": str(case.get_status_display()),
                    "urgency": level.value,
                    "urgency_label": str(level.label),
                    "colour": URGENCY_COLOURS[level.value],
                    "category": case.category.name if case.category_id else "",
                    "summary": mask_personal_text(case.description)[:40],
                    "url": reverse("cases:case", args=[case.number]),
                },
            )
        )
    return collection(features)


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
    require_map_user(user)
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
        visible_cases(user).filter(created_at__gte=start_of_day(live_from)).exclude(status__in=NOT_MATTERS)
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


def grid_case_counts(user, grid, *, now: dt.datetime | None = None):
    """The grid's open cases, those waiting for verification, and the overdue ones (超期 at
    ``now``, the case page's rule) that the user may see."""
    qs = visible_cases(user).filter(grid=grid)
    return qs.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES), distinct=True),
        verifying=Count("id", filter=Q(status=Status.VERIFYING), distinct=True),
        red=Count("id", filter=overdue_q(now or timezone.now()), distinct=True),
    )


def cases_to_verify(user, limit=50):
    """Cases in the user's grids waiting for on-site verification (待核查), oldest result first."""
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


def grid_worker_day(user, now=None):
    """The grid worker's page: today's patrol, the cases to verify, their own reports, their grids."""
    return {
        "patrol": places.patrol_status(user, now),
        "verify": cases_to_verify(user),
        "reports": my_reports(user),
        "grids": list(user.grids.select_related("community").order_by("code")),
        "visit_url": places.visit_log_url(),
    }
