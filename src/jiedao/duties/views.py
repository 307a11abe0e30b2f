"""Pages of the responsibility list: the public list and lookup, an item with its
history, the measures from history, and the administrators' Excel import/export."""

import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiedao.cases.models import Category
from jiedao.common import params
from jiedao.common.errors import NotFound, ValidationFailed
from jiedao.common.throttle import Limit, limited
from jiedao.org.models import Unit
from jiedao.org.permissions import permission
from jiedao.web.access import role_required
from jiedao.web.charts import count_bars

from . import excel, selectors, services
from .models import ListType

# Targets of the reform documents: 精简 at least 30%, full enforcement power for half the items.
REDUCTION_TARGET = 0.3
ENFORCEMENT_TARGET = 0.5


@limited(Limit("SEARCH_RATE"))
def public_list(request):
    q = request.GET.get("q", "").strip()
    category = request.GET.get("category", "").strip()
    unit = request.GET.get("unit", "").strip()
    versions = selectors.search(q=q, category=category or None, unit=unit or None)
    groups = {lt: [v for v in versions if v.list_type == lt] for lt in ListType.values}
    context = {
        "q": q,
        "category": category,
        "unit": unit,
        "versions": versions,
        "top_match": versions[0] if q and versions else None,
        "street_items": groups[ListType.STREET],
        "assist_items": groups[ListType.COMMUNITY_ASSIST],
        "negative_items": groups[ListType.NEGATIVE],
        "categories": Category.objects.filter(level=1, active=True).order_by("code"),
        "units": Unit.objects.filter(active=True).order_by("code"),
        "filtered": bool(q or category or unit),
        "can_import": request.user.is_authenticated and request.user.has_role("admin"),
    }
    return render(request, "duties/public_list.html", context)


@limited(Limit("PUBLIC_PAGE_RATE"))
def detail(request, code):
    try:
        item, versions = selectors.item_with_versions(code)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "duties/detail.html",
        {
            "item": item,
            "current": next((v for v in versions if v.pk == item.current_id), item.current),
            "versions": versions,
            "show_people": request.user.is_authenticated and request.user.is_street_staff,
        },
    )


def _date(value, default):
    try:
        return params.parse_date(value, "date") if value else default
    except ValidationFailed:
        return default


def _percent(share):
    return None if share is None else round(share * 100, 1)


@limited(Limit("PUBLIC_PAGE_RATE"))
def stats(request):
    today = timezone.localdate()
    # By default: the list as first published against the list today (the documents' 126 → 80).
    before = _date(request.GET.get("before"), selectors.list_started_on() or today - dt.timedelta(days=365))
    after = _date(request.GET.get("after"), today)
    count_before, count_after, share = selectors.reduction(before, after)
    enforcement = selectors.full_enforcement_share(after)
    context = {
        "before": before,
        "after": after,
        "count_before": count_before,
        "count_after": count_after,
        "reduction": share,
        "reduction_percent": _percent(share),
        "reduction_met": share is not None and share >= REDUCTION_TARGET,
        "enforcement_share": enforcement,
        "enforcement_percent": _percent(enforcement),
        "enforcement_met": enforcement is not None and enforcement >= ENFORCEMENT_TARGET,
        "reduction_target": _percent(REDUCTION_TARGET),
        "enforcement_target": _percent(ENFORCEMENT_TARGET),
        "assist_count": selectors.count_in_force(after, (ListType.COMMUNITY_ASSIST,)),
        "negative_count": selectors.count_in_force(after, (ListType.NEGATIVE,)),
        "chart": count_bars(
            [(f"{before:%Y-%m-%d}", count_before), (f"{after:%Y-%m-%d}", count_after)],
            _("在册事项数对比"),
            target=count_before * (1 - REDUCTION_TARGET) if count_before else None,
            target_label=_("精简30%目标线"),
        ),
    }
    return render(request, "duties/stats.html", context)


@limited(Limit("DOWNLOAD_RATE"))
def export(request):
    versions = sorted(selectors.in_force_now(), key=lambda v: v.item.code)
    response = HttpResponse(
        excel.write_workbook(versions),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="duties-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


def _error_rows(errors):
    """Splits import errors into the sheet's rows ("第3行 responsible_unit" → row 3, column
    主办单位) and errors about the whole upload (file, reason)."""
    rows, general = [], []
    for error in errors:
        field = error["field"] or ""
        if field.startswith("第") and " " in field:
            line, name = field.split(" ", 1)
            rows.append(
                {
                    "row": line.removeprefix("第").removesuffix("行"),
                    "field": name,
                    "column": excel.FIELD_LABELS.get(name, name),
                    "message": error["message"],
                }
            )
        else:
            general.append({"field": field, "message": error["message"]})
    return rows, general


@role_required("admin")
@require_http_methods(["GET", "POST"])
@permission("duties.edit")
def import_list(request):
    context = {
        "errors": [],
        "row_errors": [],
        "general_errors": [],
        "counts": None,
        "reason": "",
        "approval_doc": "",
        "filename": "",
        "columns": [(header, header in excel.REQUIRED_HEADERS) for header, _f in excel.COLUMNS],
    }
    if request.method == "POST":
        context["reason"] = request.POST.get("reason", "")
        context["approval_doc"] = request.POST.get("approval_doc", "")
        upload = request.FILES.get("file")
        context["filename"] = upload.name if upload is not None else ""
        try:
            if upload is None:
                raise ValidationFailed("file", _("请选择要导入的 Excel 文件。"))
            rows = excel.read_rows(upload)
            context["counts"] = services.import_rows(
                request.user, rows=rows, reason=context["reason"], approval_doc=context["approval_doc"]
            )
        except ValidationFailed as exc:
            context["errors"] = exc.errors
            context["row_errors"], context["general_errors"] = _error_rows(exc.errors)
    return render(request, "duties/import.html", context, status=422 if context["errors"] else 200)
