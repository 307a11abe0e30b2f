"""Pages of the responsibility list: the public list and lookup, an item with its
history, the measures from history, and the administrators' Excel import/export."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from jiedao.cases.models import Category
from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.org.models import Unit

from . import excel, selectors, services
from .models import ListType


def public_list(request):
    q = request.GET.get("q", "").strip()
    category = request.GET.get("category", "").strip()
    unit = request.GET.get("unit", "").strip()
    versions = selectors.search(q=q, category=category or None, unit=unit or None)
    groups = {lt: [v for v in versions if v.list_type == lt] for lt in ListType.values}
    context = {
        "q": q, "category": category, "unit": unit, "versions": versions,
        "top_match": versions[0] if q and versions else None,
        "street_items": groups[ListType.STREET], "assist_items": groups[ListType.COMMUNITY_ASSIST],
        "negative_items": groups[ListType.NEGATIVE],
        "categories": Category.objects.filter(level=1, active=True).order_by("code"),
        "units": Unit.objects.filter(active=True).order_by("code"),
    }
    return render(request, "duties/public_list.html", context)


def detail(request, code):
    item, versions = selectors.item_with_versions(code)
    return render(request, "duties/detail.html", {"item": item, "current": item.current, "versions": versions})


def _date(value, default):
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def stats(request):
    today = timezone.localdate()
    before = _date(request.GET.get("before"), today.replace(year=today.year - 1))
    after = _date(request.GET.get("after"), today)
    count_before, count_after, share = selectors.reduction(before, after)
    context = {
        "before": before, "after": after, "count_before": count_before, "count_after": count_after,
        "reduction": share, "enforcement_share": selectors.full_enforcement_share(after),
        "assist_count": selectors.count_in_force(after, (ListType.COMMUNITY_ASSIST,)),
        "negative_count": selectors.count_in_force(after, (ListType.NEGATIVE,)),
    }
    return render(request, "duties/stats.html", context)


def export(request):
    versions = sorted(selectors.in_force_now(), key=lambda v: v.item.code)
    response = HttpResponse(
        excel.write_workbook(versions),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="duties-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    if not request.user.has_role("admin"):
        raise NotAllowed()
    context = {"errors": [], "counts": None, "reason": "", "approval_doc": ""}
    if request.method == "POST":
        context["reason"] = request.POST.get("reason", "")
        context["approval_doc"] = request.POST.get("approval_doc", "")
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationFailed("file", "请选择要导入的 Excel 文件。")
            rows = excel.read_rows(upload)
            context["counts"] = services.import_rows(request.user, rows, context["reason"],
                                                     context["approval_doc"])
        except ValidationFailed as exc:
            context["errors"] = exc.errors
    return render(request, "duties/import.html", context, status=422 if context["errors"] else 200)
