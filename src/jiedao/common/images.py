"""Uploaded photos turned into the images Jiedao stores, in one place for every app.

Every photo — a case's (portal, staff intake, grid report, resolve, the API) and a resident
proposal's — goes through ``accept_photos``. Pillow reads the format from the content,
whatever the file is called, and only JPEG, PNG, GIF and WebP are taken; a file of more than
10 MB, an image of more pixels than ``MAX_PIXELS`` (a "decompression bomb": a small file
that would fill the memory) and a damaged or cut-off file are refused with a message naming
the field. The pixels are then written again into a new file: turned upright by their EXIF
orientation, converted to sRGB, without any metadata (EXIF with its GPS position, comments,
colour profiles) and without anything that followed the image in the upload; an animation
keeps its first frame. A JPEG stays a JPEG and a WebP a WebP; PNG and GIF become PNG.

The stored name is ours: ``cases/2026/12/<32 random hex digits>.jpg`` (``PhotoPath``, the
models' ``upload_to``), with the extension of the format written; nothing of the client's
file name is kept. ``/media/`` serves a file with the image type of that extension
(``content_type``), and ``reencode_stored`` rewrites the files that earlier versions stored
under the client's names."""

import io
import logging
import re
import secrets
import warnings
from functools import partial

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps

logger = logging.getLogger("jiedao.images")

# The formats read (Pillow's names) → the extension of the format written. A JPEG holding
# several pictures (MPO, from some cameras) opens as JPEG and reports itself as MPO.
OPEN = ["JPEG", "PNG", "GIF", "WEBP"]
READ = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "GIF": "png", "WEBP": "webp"}
WRITE = {"jpg": ("JPEG", {"quality": 88}), "png": ("PNG", {}), "webp": ("WEBP", {"quality": 85})}
# The image types served by extension; any other stored file is served as a download.
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}
MAX_PIXELS = 50_000_000  # a 48-megapixel camera's full resolution (8064×6048) still fits
OUR_NAME = re.compile(r"^[a-z]+/\d{4}/\d{2}/[0-9a-f]{32}\.(?:jpg|png|webp)$")
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class Refused(Exception):
    """The upload is not an image that may be stored; ``message`` says why, for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def accept_photos(errors, field, files):
    """The uploads as new image files ready to store (see the module's description); a file
    refused adds its reason to ``errors`` under ``field`` and is left out."""
    limit = settings.JIEDAO["MAX_PHOTO_BYTES"]
    accepted = []
    for index, upload in enumerate(files, start=1):
        name = getattr(upload, "name", "") or f"#{index}"
        if upload.size > limit:
            errors.add(field, _("照片“%(name)s”超过10 MB，请压缩后再上传。") % {"name": name})
            continue
        upload.seek(0)
        try:
            data, extension = reencode(upload.read(), name)
        except Refused as exc:
            errors.add(field, exc.message)
            continue
        accepted.append(ContentFile(data, name=f"photo.{extension}"))
    return accepted


def reencode(data, name, max_pixels=MAX_PIXELS):
    """(the bytes of a new image file, its extension) from the bytes of an upload called
    ``name``; ``Refused`` when they are not an image that may be stored. ``max_pixels=None``
    leaves only Pillow's own limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below decides
            image = Image.open(io.BytesIO(data), formats=OPEN)
    except Image.DecompressionBombError:  # beyond Pillow's own limit
        raise Refused(_too_large(name)) from None
    except Exception:  # Pillow reports unreadable data with many kinds of exception
        raise Refused(_("文件“%(name)s”不是图片，请上传 JPG、PNG、GIF 或 WebP 格式的照片。") % {"name": name}) from None
    with image:
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise Refused(_too_large(name))
        extension = READ[image.format]
        try:
            pixels = _upright_srgb(image, keep_alpha=extension != "jpg")
            out = io.BytesIO()
            kind, options = WRITE[extension]
            pixels.save(out, kind, **options)
        except Exception:  # a truncated or corrupt stream fails only when the pixels are read
            raise Refused(_("照片“%(name)s”已损坏或不完整，请重新上传。") % {"name": name}) from None
    return out.getvalue(), extension


def _too_large(name):
    return _("照片“%(name)s”的像素过多（不能超过 %(max)s 像素），请缩小后再上传。") % {
        "name": name,
        "max": f"{MAX_PIXELS:,}",
    }


def _upright_srgb(image, keep_alpha):
    """The first frame's pixels, upright, in sRGB (RGB, or RGBA when the image has
    transparency and ``keep_alpha``), as an image that carries no metadata."""
    profile = image.info.get("icc_profile")
    alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    mode = "RGBA" if alpha and keep_alpha else "RGB"
    upright = ImageOps.exif_transpose(image, in_place=True) or image  # no copy when already upright
    pixels = None
    if profile and upright.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            pixels = ImageCms.profileToProfile(
                upright, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode=mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pixels = None  # a profile that cannot be read: the pixels are taken as sRGB
    if pixels is None:
        pixels = upright.convert(mode)
    pixels.info = {}
    return pixels


def stored_name(folder, extension, month=None):
    """``<folder>/<year>/<month>/<32 random hex digits>.<extension>``; ``month`` (``"2025/03"``)
    instead of the current month."""
    month = month or f"{timezone.localtime():%Y/%m}"
    return f"{folder}/{month}/{secrets.token_hex(16)}.{extension}"


def content_type(name):
    """The image type served for a stored file, by its extension; None when it is not an image's."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return CONTENT_TYPES.get(extension)


@deconstructible
class PhotoPath:
    """``upload_to`` of stored photos: a random name under ``folder`` (``stored_name``) with the
    extension of the file ``accept_photos`` wrote; any other extension becomes ``.bin``, which
    ``/media/`` serves only as a download."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, instance, filename):
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return stored_name(self.folder, extension if extension in WRITE else "bin")

    def __eq__(self, other):
        return isinstance(other, PhotoPath) and other.folder == self.folder


def reencode_stored(queryset, field_name, folder, storage=default_storage):
    """Rewrite, as ``accept_photos`` would, every photo of ``queryset`` (rows with the file field
    ``field_name``) whose stored name is not one of ours, under a new name of ours in the same
    month's folder; the old file is deleted once the change is committed. A file that is not an
    image is removed from its row (the row is deleted when the field is required) and from the
    disk; a file missing from the media folder is left as it is. Each is logged. Returns
    (rewritten, removed)."""
    model = queryset.model
    required = not model._meta.get_field(field_name).blank
    month = re.compile(rf"^{re.escape(folder)}/(\d{{4}}/\d{{2}})/[^/]+$")
    rewritten = removed = 0
    # Read the names first: the rows change while the loop runs.
    stored = list(queryset.exclude(**{field_name: ""}).order_by("pk").values_list("pk", field_name))
    for pk, old in stored:
        if OUR_NAME.match(old):
            continue
        label = f"{model._meta.label} {pk}"
        try:
            with storage.open(old, "rb") as handle:
                data = handle.read()
        except (OSError, SuspiciousFileOperation):
            logger.warning("photo %s of %s is missing from the media folder; left as it is", old, label)
            continue
        try:
            data, extension = reencode(data, old.rsplit("/", 1)[-1], max_pixels=None)
        except Refused as exc:
            if required:
                model.objects.filter(pk=pk).delete()
            else:
                model.objects.filter(pk=pk).update(**{field_name: ""})
            transaction.on_commit(partial(storage.delete, old))
            logger.warning("photo %s of %s is not an image any more (%s); removed", old, label, exc.message)
            removed += 1
            continue
        found = month.match(old)
        new = storage.save(stored_name(folder, extension, month=found.group(1) if found else None), ContentFile(data))
        model.objects.filter(pk=pk).update(**{field_name: new})
        transaction.on_commit(partial(storage.delete, old))
        logger.info("photo %s of %s rewritten as %s", old, label, new)
        rewritten += 1
    return rewritten, removed
