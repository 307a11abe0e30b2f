"""Pages of 智能分拨: live suggestions at intake (htmx partials), the model page, hot issues,
and the override of a flagged reply. Thin: selectors read, services write."""

import datetime as dt
import math

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiedao.cases.forms import picked_category
from jiedao.cases.models import Case
from jiedao.cases.selectors import grid_at
from jiedao.common.errors import DomainError
from jiedao.common.throttle import Limit, limited
from jiedao.org.models import Community, Grid
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import measures, selectors, services

INTAKE_ROLES = ("operator", "dispatcher", "admin", "leader")
MODEL_PAGE_ROLES = ("admin", "leader", "dispatcher")
HOT_ROLES = ("leader", "dispatcher", "admin", "operator", "handler", "grid")


def _float(value):
    """A number typed in a form, or None (also for NaN and infinity, which no setting takes)."""
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _place(get):
    """(community, grid, lat, lng) from the intake form's fields (unknown codes are ignored)."""
    lat, lng = _float(get.get("lat")), _float(get.get("lng"))
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180 if lng is not None else False):
        lat = lng = None
    grid = Grid.objects.select_related("community").filter(code=get.get("grid")).first() if get.get("grid") else None
    if grid is None and lat is not None and lng is not None:
        grid = grid_at(lat, lng)
    community = (
        grid.community
        if grid is not None
        else (Community.objects.filter(code=get.get("community")).first() if get.get("community") else None)
    )
    return community, grid, lat, lng


def _picked_category(get):

    code = picked_category(get)
    return selectors.category_for_label(code) if code else None


@role_required(*INTAKE_ROLES)
def suggest(request):
    """Top-3 categories with the unit each routes to, and possible duplicates (operator intake)."""
    get = request.GET
    text = (get.get("description") or "").strip()
    community, grid, lat, lng = _place(get)
    suggestions = selectors.suggest(text, community=community, grid=grid) if len(text) >= 4 else []
    category = _picked_category(get) or (suggestions[0].category if suggestions else None)
    address = (get.get("address") or "").strip()[:200]
    duplicates = (
        selectors.duplicate_candidates(text=text, lat=lat, lng=lng, grid=grid, category=category, address=address)
        if len(text) >= 4
        else []
    )
    return render(
        request,
        "intelligence/_suggest.html",
        {
            "suggestions": suggestions,
            "duplicates": duplicates,
            "threshold": selectors.auto_threshold(),
            "staff": True,
            "attach_to": get.get("attach_to", ""),
        },
    )


@limited(Limit("SEARCH_RATE"))
def portal_suggest(request):
    """Possible duplicates for a resident writing a report: only what the public may see."""
    get = request.GET
    text = (get.get("description") or "").strip()
    _community, grid, lat, lng = _place(get)
    address = (get.get("address") or "").strip()[:200]
    duplicates = (
        selectors.duplicate_candidates(text=text, lat=lat, lng=lng, grid=grid, limit=3, address=address)
        if len(text) >= 4
        else []
    )
    return render(
        request,
        "intelligence/_suggest.html",
        {"duplicates": duplicates, "staff": False, "attach_to": get.get("attach_to", "")},
    )


# --- models --------------------------------------------------------------------------


@role_required(*MODEL_PAGE_ROLES)
def models_page(request):
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    active = selectors.active_version()
    context = {
        "versions": selectors.versions(),
        "tuning": selectors.tuning(),
        "active": active,
        "threshold": selectors.auto_threshold(active),
        "record": selectors.dispatch_record(active),
        "may_manage": request.user.has_role(*services.MODEL_ROLES),
        "routing_accuracy": measures.routing_accuracy(start, now),
        "auto_share": measures.auto_dispatch_share(start, now),
        "reply_rate": measures.reply_flag_rate(start, now),
        "reply_units": measures.reply_flag_rates_by_unit(start, now),
    }
    return render(request, "intelligence/models.html", context)


@require_POST
@role_required(*MODEL_PAGE_ROLES)
@permission("intelligence.models")
def models_action(request):
    action = request.POST.get("action")
    try:
        if action == "train":
            version = services.request_training(request.user)
            messages.success(request, _("已开始训练 v%(v)d，由后台任务完成，稍后刷新查看。") % {"v": version.pk})
        elif action == "starter":
            version = services.request_starter(request.user)
            messages.success(request, _("已开始训练 v%(v)d，由后台任务完成，稍后刷新查看。") % {"v": version.pk})
        elif action == "activate":
            version = services.activate(request.user, version_id=int(request.POST.get("version") or 0))
            messages.success(request, _("已启用 v%(v)d。") % {"v": version.pk})
        elif action == "deactivate":
            services.deactivate(request.user)
            messages.success(request, _("已停用智能分拨，新工单由人工分类。"))
        elif action == "tuning":
            services.save_tuning(
                request.user,
                auto_dispatch=request.POST.get("auto_dispatch") == "on",
                auto_dispatch_precision=_float(request.POST.get("auto_dispatch_precision")) or 0.0,
                duplicate_radius_m=int(_float(request.POST.get("duplicate_radius_m")) or 200),
                duplicate_days=int(_float(request.POST.get("duplicate_days")) or 14),
            )
            messages.success(request, _("参数已保存。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValueError:
        messages.error(request, _("输入无效。"))
    return redirect("intelligence:models")


# --- hot issues ---------------------------------------------------------------------


@role_required(*HOT_ROLES)
def hot_list(request):
    issues = selectors.hot_issues(request.user, limit=30)
    return render(request, "intelligence/hot.html", {"issues": issues})


@role_required(*HOT_ROLES)
def hot_issue(request, key):
    issue, members = selectors.hot_issue(request.user, key)
    if issue is None:
        raise Http404(_("该热点已不在近7天的热点中。"))
    return render(request, "intelligence/hot_issue.html", {"issue": issue, "members": members})


# --- reply quality ------------------------------------------------------------------


@require_POST
@role_required("handler", "leader", "dispatcher", "admin")
@permission("intelligence.reply_override")
def reply_override(request, check_id):
    number = Case.objects.filter(reply_checks__pk=check_id).values_list("number", flat=True).first()
    if number is None:
        raise Http404
    try:
        services.override_reply(request.user, check_id=check_id, note=request.POST.get("note", ""))
        messages.success(request, _("已确认保留此答复。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("cases:case", number)
