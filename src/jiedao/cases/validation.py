"""Input rules for cases, each producing a message that names the field and the rule."""

import math
import re

from django.utils.translation import gettext as _

from jiedao.common.images import accept_photos

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
MAX_DESCRIPTION = 2000
MAX_PHOTOS = 9


def normalise_phone(raw: str) -> str:
    value = (raw or "").strip().replace(" ", "")
    if value.startswith("+86"):
        value = value[3:]
    return value


def check_phone(errors, field, raw, required=False):
    value = normalise_phone(raw)
    if not value:
        if required:
            errors.add(field, _("请填写联系电话。"))
        return ""
    if not (MOBILE.match(value) or LANDLINE.match(value)):
        errors.add(
            field,
            _("“%(value)s”不是有效的大陆电话号码：手机号为1开头的11位数字，固话如 010-12345678。") % {"value": raw},
        )
    return value


def check_description(errors, field, raw):
    value = (raw or "").strip()
    if not value:
        errors.add(field, _("请描述您反映的问题，内容不能为空。"))
    elif len(value) > MAX_DESCRIPTION:
        errors.add(field, _("内容不能超过%(max)d个字（现有%(n)d个字）。") % {"max": MAX_DESCRIPTION, "n": len(value)})
    return value


def check_location(errors, lat, lng):
    if lat is None and lng is None:
        return None, None
    if lat is None or lng is None:
        errors.add("lat" if lat is None else "lng", _("经纬度需同时填写。"))
        return None, None
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        errors.add("lat", _("经纬度必须是数字。"))
        return None, None
    if not (-90 <= lat <= 90):
        errors.add("lat", _("纬度必须在 -90 到 90 之间。"))
    if not (-180 <= lng <= 180):
        errors.add("lng", _("经度必须在 -180 到 180 之间。"))
    return lat, lng


def check_photos(errors, field, files):
    """At most nine photos, each an image of at most 10 MB: returned as the new image files to
    store (``jiedao.common.images``: re-encoded, without metadata, under names of ours)."""
    files = list(files or [])
    if len(files) > MAX_PHOTOS:
        errors.add(field, _("最多上传%(max)d张照片。") % {"max": MAX_PHOTOS})
        return []
    return accept_photos(errors, field, files)


EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_lat = (phi2 - phi1) / 2
    half_lng = math.radians(lng2 - lng1) / 2
    a = math.sin(half_lat) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_lng) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def verification_data(*, photos: int, lat=None, lng=None, distance=None, on_site=False, reason="") -> dict:
    """What a verification's event records: the photos taken, the phone's position and its
    distance from the case (metres), whether that proves the check on site, and the reason
    given when it does not."""
    return {
        "photos": photos,
        "lat": lat,
        "lng": lng,
        "distance_m": round(distance) if distance is not None else None,
        "on_site": on_site,
        "reason": reason,
    }
