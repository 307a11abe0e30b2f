"""The access-log review page (访问审计) for administrators, its Excel export, and uploaded
files served only to those allowed to see them."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from jiedao.web.access import role_required

from . import exports, selectors
from .forms import AccessLogFilterForm

PAGE_SIZE = 50


def _before(request):
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


@role_required("admin")
def access_log(request):
    form = AccessLogFilterForm(request.GET or None)
    rows, next_before = [], None
    if not form.is_bound or form.is_valid():
        rows, next_before = selectors.access_log_page(request.user, before=_before(request), limit=PAGE_SIZE,
                                                      **form.filters())
    kept = {key: value for key, value in request.GET.items() if key != "before" and value}
    context = {
        "form": form, "rows": rows,
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


def _bearer_user(request):
    """The user of an API bearer token sent with the request, if any (API clients fetch photos too)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from jiedao.org.services import authenticate_token

    return authenticate_token(header[len("Bearer "):])


def media(request, path):
    """An uploaded file, only for those who may see what it belongs to; 404 for everybody else,
    so that guessing names reveals nothing. Case photos follow the case's scoping; photos of
    residents' proposals are as public as the proposals."""
    from django.views.static import serve

    from jiedao.cases.selectors import photo_visible

    user = request.user if request.user.is_authenticated else (_bearer_user(request) or request.user)
    if path.startswith("cases/"):
        allowed = photo_visible(user, path)
    else:
        allowed = path.startswith("participation/")
    if not allowed:
        raise Http404("文件不存在或您无权查看。")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
