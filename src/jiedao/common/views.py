"""The access-log review page (访问审计) for administrators and its Excel export."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from jiedao.web.access import role_required

from . import exports, params, selectors
from .forms import AccessLogFilterForm

PAGE_SIZE = 50


def _before(request):
    value = request.GET.get("before", "")
    return params.row_id(value)


@role_required("admin")
def access_log(request):
    form = AccessLogFilterForm(request.GET or None)
    rows, next_before = [], None
    if not form.is_bound or form.is_valid():
        rows, next_before = selectors.access_log_page(
            request.user, before=_before(request), limit=PAGE_SIZE, **form.filters()
        )
    kept = {key: value for key, value in request.GET.items() if key != "before" and value}
    context = {
        "form": form,
        "rows": rows,
        "next_url": "?" + urlencode({**kept, "before": next_before}) if next_before else None,
        "first_url": "?" + urlencode(kept) if _before(request) else None,
        "export_query": urlencode(kept),
    }
    return render(request, "common/access_log.html", context)


@role_required("admin")
def access_log_export(request):
    form = AccessLogFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():  # the page shows what is wrong with the filters
        return redirect(reverse("common:access_log") + "?" + request.GET.urlencode())
    queryset = selectors.access_log_queryset(request.user, **form.filters())
    response = HttpResponse(
        exports.access_log_workbook(queryset),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="access-log-{timezone.localdate():%Y%m%d}.xlsx"'
    return response
