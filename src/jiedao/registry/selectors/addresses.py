"""Addresses in free text → the position of the registry building they name, for a case
reported without coordinates ("东湖路161号3单元楼道堆物")."""

import time

from django.db.models import Count, Max

from ..models import Building

_ADDRESS_TTL = 30.0
_addresses: dict[str, tuple] = {}


def _building_addresses():
    """[(address without spaces, lat, lng)] of the buildings with a position, longest first;
    cached per process and reloaded when the buildings change or after ``_ADDRESS_TTL``."""
    now = time.monotonic()
    with_point = Building.objects.exclude(lat=None).exclude(lng=None)
    stamp = with_point.aggregate(n=Count("id"), last=Max("id"))
    key = (stamp["n"], stamp["last"])
    hit = _addresses.get("value")
    if hit is None or hit[0] != key or now - hit[1] > _ADDRESS_TTL:
        rows = [
            ("".join(address.split()), lat, lng)
            for address, lat, lng in with_point.values_list("address", "lat", "lng")
            if address.strip()
        ]
        rows.sort(key=lambda row: -len(row[0]))
        _addresses["value"] = hit = (key, now, rows)
    return hit[2]


def point_for_address(text):
    """The position of the registry building whose address the text names, e.g.
    "东湖路161号3单元楼道堆物" → that building's (lat, lng); None if no building matches."""
    text = "".join((text or "").split())
    if not text:
        return None
    for address, lat, lng in _building_addresses():
        start = text.find(address)
        while start >= 0:
            end = start + len(address)
            # "东湖路1号" must not match inside "东湖路12号": no digit may continue the number.
            if (address[-1:].isdigit() is False or end == len(text) or not text[end].isdigit()) and (
                start == 0 or not (address[0].isdigit() and text[start - 1].isdigit())
            ):
                return lat, lng
            start = text.find(address, start + 1)
    return None


def forget_addresses():
    _addresses.clear()
