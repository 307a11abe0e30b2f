"""The access-log review page (访问审计) for administrators, its Excel export, and uploaded
files served only to those allowed to see them."""

from csp.decorators import csp
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from jiedao.cases.selectors import photo_visible
from jiedao.org.services import authenticate_token
from jiedao.participation.selectors import photo_public
from jiedao.web.access import role_required

from . import exports, images, params, selectors
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


# Stored files are shown as images and nothing else: a page opened from /media/ may run no
# script, load nothing but the image itself, and is sandboxed (an origin of its own).
MEDIA_POLICY = {"default-src": ["'none'"], "img-src": ["'self'"], "style-src": ["'unsafe-inline'"], "sandbox": True}
MISSING = "文件不存在或您无权查看。"


def _bearer_user(request):
    """The user of an API bearer token sent with the request, if any (API clients fetch photos too)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return authenticate_token(header[len("Bearer "):])


def _plain_name(path):
    """A stored name has plain segments only: no empty, ``.`` or ``..`` segment, no backslash."""
    return "\\" not in path and "\0" not in path and all(part not in ("", ".", "..") for part in path.split("/"))


@csp(MEDIA_POLICY)
def media(request, path):
    """An uploaded photo, found by its exact stored name among the records it belongs to: a case
    photo for those who may see the case (its scoping; API clients with their bearer token), a
    proposal's photo for anyone while the proposal is public. Any other path, a file missing
    from the disk and a photo the user may not see all answer the same 404, so that guessing
    names reveals nothing. The file is sent with the image type of its extension (ours, chosen
    when it was stored), inline and never sniffed; a file of an earlier version whose extension
    is not an image's is sent as a download."""
    user = request.user if request.user.is_authenticated else (_bearer_user(request) or request.user)
    if not _plain_name(path):
        raise Http404(MISSING)
    case_photo = photo_visible(user, path)
    if not case_photo and not photo_public(path):
        raise Http404(MISSING)
    try:
        handle = default_storage.open(path, "rb")
    except (OSError, SuspiciousFileOperation):
        raise Http404(MISSING) from None
    kind = images.content_type(path)
    response = FileResponse(handle, content_type=kind or "application/octet-stream", as_attachment=kind is None,
                            filename=path.rsplit("/", 1)[-1])
    response["X-Content-Type-Options"] = "nosniff"
    # A case photo may show a resident or their home: kept by no cache, checked at each request
    # (the case's scoping can change). A public proposal's photo may be cached for an hour.
    response["Cache-Control"] = "private, no-store" if case_photo else "public, max-age=3600"
    return response
