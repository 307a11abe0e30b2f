"""Pages of the geo app: the map (一图统览) and its base map (底图), the grids and their teams,
the grid measures, and the grid worker's phone pages (我的网格, 巡查打卡). Thin: selectors
read, services write, domain errors become form errors."""

import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from jiedao.cases import grid_measures as measures
from jiedao.cases import maps
from jiedao.cases.measures import month_bounds
from jiedao.common import idempotency
from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import DomainError, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors, form_errors_text
from jiedao.org.models import Community
from jiedao.org.permissions import permission
from jiedao.org.roles import STAFF_ROLES
from jiedao.org.selectors import in_streets
from jiedao.registry.models import Building
from jiedao.web.access import role_required

from . import basemap, selectors, services
from .forms import MonthForm, PatrolForm
from .models import PatrolCheckIn

STAFF = tuple(sorted(STAFF_ROLES))


@role_required(*STAFF)
def map_view(request):
    user = request.user
    care = selectors.may_see_care(user)
    config = {
        "grids": reverse("api:geo_grids"),
        "cases": reverse("api:geo_cases"),
        "heat": reverse("api:geo_heat"),
        "care": reverse("api:geo_care") if care else None,
        "tiles": settings.JIEDAO.get("MAP_TILE_URL", ""),
        "labels": {
            "grids": _("网格边界"),
            "cases": _("未结工单"),
            "heat": _("近30天工单热力"),
            "care": _("特殊关爱人群") if care else "",
            "open": _("查看工单"),
            "grid": _("网格"),
            "open_cases": _("未结工单数"),
            "households": _("户/人"),
            "error": _("地图数据加载失败，请刷新重试。"),
        },
    }
    colours = selectors.community_colours()
    legend = [{"name": c.name, "colour": colours.get(c.code)} for c in Community.objects.order_by("code")]
    return render(
        request,
        "geo/map.html",
        {
            "config": json.dumps(config, ensure_ascii=False),
            "care": care,
            "legend": legend,
            "tiles": bool(config["tiles"]),
        },
    )


# How long a browser keeps the base map before asking again (it changes only by an import).
BASE_MAP_MAX_AGE = 300


@role_required(*STAFF)
def base_map(request):
    """The base map (底图) of the user's streets as GeoJSON (``application/geo+json``): what
    every map draws under its layers when no tile server is set (``geo.basemap``). The roads
    the street has no row for are drawn through the registry's buildings named on them."""
    user = request.user
    buildings = (
        Building.objects.filter(in_streets(user, "community__street"))
        .exclude(lat=None)
        .exclude(lng=None)
        .values_list("community__street_id", "address", "lat", "lng")
    )
    response = JsonResponse(
        basemap.base_map(user, buildings=buildings.iterator()),
        content_type="application/geo+json",
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )
    patch_cache_control(response, private=True, max_age=BASE_MAP_MAX_AGE)
    return response


@role_required(*STAFF)
def grid_list(request):
    return render(request, "geo/grids.html", {"communities": maps.grid_list(request.user)})


@role_required(*STAFF)
def grid_detail(request, code):
    try:
        grid = selectors.grid_for(request.user, code)
    except NotFound as exc:
        raise Http404(exc.message) from None
    team, unmasked = selectors.grid_team(request.user, grid)
    if unmasked:
        for row in team:
            if row["phone"]:
                log_unmasked_view(request.user, row["member"] or row["account"], ["phone"], purpose="grid page")
    context = {
        "grid": grid,
        "team": team,
        "counts": maps.grid_case_counts(request.user, grid),
        "patrols": selectors.patrols_in_grid(grid),
        "is_mine": request.user.grids.filter(pk=grid.pk).exists(),
    }
    return render(request, "geo/grid.html", context)


@role_required(*STAFF)
def measures_view(request):
    communities = list(Community.objects.order_by("code"))
    form = MonthForm(request.GET or None, communities=communities)
    month = measures.current_month()
    community = ""
    if form.is_valid():
        month = form.cleaned_data.get("month") or month
        community = form.cleaned_data.get("community") or ""
    try:
        month_bounds(month)
    except ValidationFailed as exc:
        messages.error(request, exc.errors[0]["message"])
        month = measures.current_month()
    total = measures.grid_measures(month, community or None)
    rows = [] if community else measures.grid_measures_by_community(month)
    return render(
        request,
        "geo/measures.html",
        {"form": form, "month": month, "total": total, "rows": rows, "community": community},
    )


@role_required("grid")
def my_grid(request):
    day = maps.grid_worker_day(request.user)
    context = {**day, "now": timezone.now(), "verify_distance": settings.JIEDAO["VERIFY_DISTANCE_M"]}
    return render(request, "geo/my_grid.html", context)


@role_required("grid")
@permission("geo.patrol")
def patrol(request):
    """巡查打卡. A check-in taken without network is kept on the phone and sent later (web/app/
    offline.js) with its own key (``Idempotency-Key``) and the time it was taken: sent twice, it
    is recorded once; the phone's queue reads a short JSON answer."""
    user = request.user
    form = PatrolForm(request.POST or None, user=user)
    status = 200
    queued = bool(request.headers.get("X-Offline-Queue"))
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if form.is_valid():
            try:
                key = idempotency.clean_key(
                    request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key")
                )
                checkin = services.check_in(user, kind=kind, idempotency_key=key, **form.service_kwargs())
            except DomainError as exc:
                apply_errors(form, exc)
                status = exc.http_status
            else:
                text = {
                    PatrolCheckIn.Kind.START: _("已开始巡查（%(time)s）。"),
                    PatrolCheckIn.Kind.POINT: _("已打卡（%(time)s）。"),
                    PatrolCheckIn.Kind.END: _("已结束巡查（%(time)s）。"),
                }[checkin.kind] % {"time": timezone.localtime(checkin.at).strftime("%H:%M")}
                if checkin.inside is False:
                    text += " " + _("注意：当前位置不在您负责的网格内。")
                if queued:
                    return JsonResponse({"ok": True, "message": text})
                messages.success(request, text)
                return redirect("geo:patrol")
        status = 422 if status == 200 else status
        if queued:
            return JsonResponse({"ok": False, "message": form_errors_text(form)}, status=status)
        status = 422
    return render(request, "geo/patrol.html", {"form": form, "patrol": selectors.patrol_status(user)}, status=status)
