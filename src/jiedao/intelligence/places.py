"""The places a request names, for finding duplicates: the registry buildings it names (by
their name, "东湖小区3号楼", or their address, "东湖路57号"), and its address normalised
(full-width digits, 栋/幢/座 written as 号楼, spaces, unit and room left out), so that two
reports of one place match however each caller wrote it."""

import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from django.db.models import Count, Max

from jiedao.registry.models import Building

_TTL = 60.0
_lock = threading.Lock()
_index: dict[str, tuple] = {}

# "东湖路57号", "和平里小区3号楼", "吉祥胡同12号": a road or estate with its number. The name is
# cut to the registry's label that ends there, else to the place word before the number.
_NUMBER = re.compile(r"\d+号(?:楼|院)?")
_PLACE_WORD = re.compile(
    r"[\u4e00-\u9fa5]{1,6}?(?:大街|胡同|小区|家园|花园|新村|公寓|宿舍|路|街|巷|道|里|村|院|苑|园)$"
)
_BUILDING_WORD = re.compile(r"(\d+)(?:栋|幢|座|号楼)")


@dataclass(frozen=True)
class Spot:
    """A registry building: its id, point and grid."""

    pk: int
    lat: float | None
    lng: float | None
    grid_id: int | None


def normalise_address(text) -> str:
    """The address as one key: NFKC (full-width digits and letters to ASCII), no spaces or
    punctuation, 栋/幢/座 as 号楼."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"[\s,，.。、:：;；()（）\-—#]+", "", text).replace("号院", "号")
    return _BUILDING_WORD.sub(r"\1号楼", text)


def _buildings():
    """{name or address without spaces: Spot} of the registry buildings, cached per process and
    reloaded when the buildings change or after ``_TTL``. A name or an address two buildings
    share names neither."""
    now = time.monotonic()
    stamp = Building.objects.aggregate(n=Count("id"), last=Max("id"))
    key = (stamp["n"], stamp["last"])
    hit = _index.get("value")
    if hit is None or hit[0] != key or now - hit[1] > _TTL:
        names: dict[str, Spot | None] = {}
        for pk, name, address, lat, lng, grid_id in Building.objects.values_list(
            "pk", "name", "address", "lat", "lng", "grid_id"
        ):
            spot = Spot(pk, lat, lng, grid_id)
            for label in {normalise_address(name), normalise_address(address)}:
                if label:
                    names[label] = spot if label not in names else None
        with _lock:
            _index["value"] = hit = (key, now, {k: v for k, v in names.items() if v is not None})
    return hit[2]


def forget():
    with _lock:
        _index.clear()


def place_keys(*texts) -> tuple[set, list]:
    """``(keys, buildings)`` of the texts (an address, a description): a key ``b<id>`` for each
    registry building named, and ``a<address>`` for each other numbered address; the buildings
    named, as ``Spot``."""
    keys, spots = set(), []
    for text in texts:
        for label, spot in _places_in(normalise_address(text)):
            if spot is not None:
                keys.add(f"b{spot.pk}")
                spots.append(spot)
            else:
                keys.add("a" + label)
    return keys, spots


def _places_in(text):
    """[(label, Spot or None)] of the numbered places in a normalised text: the registry
    building's label when one ends at the number ("我们东湖小区3号楼" → "东湖小区3号楼"), else the
    place word and number ("东湖路57号"); a number without a place word is not a place."""
    names = _buildings()
    found = []
    for match in _NUMBER.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        tail = next(
            (before[i:] + match.group(0) for i in range(len(before)) if before[i:] + match.group(0) in names), None
        )
        if tail is not None:
            found.append((tail, names[tail]))
            continue
        word = _PLACE_WORD.search(before)
        if word is not None:
            found.append((word.group(0) + match.group(0), None))
    return found


def _estates():
    """Estate and road names of the registry ("东湖小区", "东湖路"), longest first."""
    hit = _index.get("estates")
    names = _buildings()
    if hit is None or hit[0] is not names:
        estates = set()
        for label in names:
            stem = re.sub(r"\d+号(?:楼|院)?$", "", label)
            if len(stem) >= 2:
                estates.add(stem)
        with _lock:
            _index["estates"] = hit = (names, sorted(estates, key=len, reverse=True))
    return hit[1]


def without_places(text) -> str:
    """The text without the places it names (numbered addresses, buildings, estates and roads of
    the registry), so that two reports about one place are not alike for the place alone."""
    text = normalise_address(text)
    for label, _spot in _places_in(text):
        text = text.replace(label, "")
    for estate in _estates():
        if estate in text:
            text = text.replace(estate, "")
    return text
