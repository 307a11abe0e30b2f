"""Uploaded files (/media/), served only to those allowed to see them and only as images."""

from csp.decorators import csp
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from jiedao.cases.selectors import photo_visible
from jiedao.common import images
from jiedao.org.services import authenticate_token
from jiedao.participation.selectors import photo_public

# Stored files are shown as images and nothing else: a page opened from /media/ may run no
# script, load nothing but the image itself, and is sandboxed (an origin of its own).
MEDIA_POLICY = {"default-src": ["'none'"], "img-src": ["'self'"], "style-src": ["'unsafe-inline'"], "sandbox": True}
MISSING = "文件不存在或您无权查看。"


def _bearer_user(request):
    """The user of an API bearer token sent with the request, if any (API clients fetch photos too)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return authenticate_token(header[len("Bearer ") :])


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
    response = FileResponse(
        handle,
        content_type=kind or "application/octet-stream",
        as_attachment=kind is None,
        filename=path.rsplit("/", 1)[-1],
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A case photo may show a resident or their home: kept by no cache, checked at each request
    # (the case's scoping can change). A public proposal's photo may be cached for an hour.
    response["Cache-Control"] = "private, no-store" if case_photo else "public, max-age=3600"
    return response
