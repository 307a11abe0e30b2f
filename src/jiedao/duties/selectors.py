"""Reads of the responsibility list: what is in force, its history, search, and routing."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import search as search_engine
from jiedao.common.errors import NotFound
from jiedao.common.selectors import vocabulary
from jiedao.org.models import Unit

from .models import DutyItem, DutyStatus, DutyVersion, Level, ListType

if TYPE_CHECKING:
    from django.db.models import Model

_PREFETCH = ("categories", "collaborating_units")


def _in_force_on(version, day):
    return (
        version.status == DutyStatus.IN_FORCE
        and version.effective_from <= day
        and (version.effective_to is None or version.effective_to > day)
    )


def in_force_now(today: dt.date | None = None) -> list[DutyVersion]:
    """Current versions in force today, with categories and units loaded.

    Cached per process and keyed by the newest version (id and time): every change to
    the list writes a version, so one cheap query tells whether the cache is still
    right — asked at most every ``LIST_CHECK_SECONDS``, so that a busy intake does not ask
    it for every case: another process's change counts within that time.
    ``forget_cached_list`` empties it at once in the writing process."""
    today = today or timezone.localdate()
    checked_at = _cache.get("checked_at")
    if _cache.get("today") == today and checked_at is not None and time.monotonic() - checked_at < LIST_CHECK_SECONDS:
        return list(_cache["versions"])
    newest = DutyVersion.objects.order_by("-id").values_list("id", "changed_at").first()
    key = (today, newest)
    if _cache.get("key") != key:
        versions = DutyVersion.objects.filter(pk__in=DutyItem.objects.values("current_id"))
        versions = versions.select_related("item", "responsible_unit").prefetch_related(*_PREFETCH)
        in_force = [v for v in versions if _in_force_on(v, today)]
        by_category: dict[int, list[DutyVersion]] = {}
        for version in in_force:
            for category in version.categories.all():
                by_category.setdefault(category.pk, []).append(version)
        _cache.update(key=key, versions=in_force, by_category=by_category)
    _cache.update(today=today, checked_at=time.monotonic())
    return list(_cache["versions"])


def in_force_for_category(category_id: int, today: dt.date | None = None) -> list[DutyVersion]:
    in_force_now(today)
    return list(_cache["by_category"].get(category_id, []))


_cache: dict[str, Any] = {}
# How long the list read by this process is used before asking whether it changed.
LIST_CHECK_SECONDS = 2.0


def forget_cached_list() -> None:
    _cache.clear()


def versions_as_of(moment: dt.datetime) -> list[DutyVersion]:
    """For every item, the version that was current at ``moment`` (a datetime)."""
    latest = {}
    for version in DutyVersion.objects.filter(changed_at__lte=moment).order_by("item_id", "number"):
        latest[version.item_id] = version
    return list(latest.values())


def in_force_at(
    day: dt.date, list_types: tuple[str, ...] = (ListType.STREET, ListType.COMMUNITY_ASSIST)
) -> list[DutyVersion]:
    """Versions in force on ``day`` as the list stood at the end of that day."""
    moment = dt.datetime.combine(day, dt.time.max, tzinfo=timezone.get_current_timezone())
    return [v for v in versions_as_of(moment) if _in_force_on(v, day) and v.list_type in list_types]


def count_in_force(day: dt.date, list_types: tuple[str, ...] = (ListType.STREET,)) -> int:
    """Number of items in force on a day (by default the 街道权责清单 only)."""
    return len(in_force_at(day, list_types))


def reduction(
    before: dt.date, after: dt.date, list_types: tuple[str, ...] = (ListType.STREET,)
) -> tuple[int, int, float | None]:
    """(count before, count after, share reduced) — the documents' 126 → 80, 精简 ≥ 30%."""
    a, b = count_in_force(before, list_types), count_in_force(after, list_types)
    return a, b, (None if a == 0 else (a - b) / a)


def list_started_on() -> dt.date | None:
    """The day the first version of the list was written (Beijing time); None for an empty list."""
    first = DutyVersion.objects.order_by("changed_at").values_list("changed_at", flat=True).first()
    return timezone.localdate(first) if first else None


def full_enforcement_share(day: dt.date) -> float | None:
    """Share of street items in force on a day for which the street holds full enforcement power."""
    versions = in_force_at(day, (ListType.STREET,))
    if not versions:
        return None
    return sum(1 for v in versions if v.full_enforcement) / len(versions)


def item_with_versions(code: str) -> tuple[DutyItem, list[DutyVersion]]:
    item = DutyItem.objects.select_related("current__responsible_unit").filter(code=code).first()
    if item is None:
        raise NotFound(_("权责事项 %(code)s 不存在。") % {"code": code})
    versions = list(
        item.versions.select_related("responsible_unit", "changed_by").prefetch_related(*_PREFETCH).order_by("-number")
    )
    return item, versions


# --- search (一键查询职能归属) ---------------------------------------------------


def search(
    q: str = "",
    category: str | None = None,
    unit: str | None = None,
    include_negative: bool = True,
    today: dt.date | None = None,
    limit: int | None = None,
) -> list[DutyVersion]:
    """Items in force matching a free-text problem description, best first.

    The product's one search (``common.search``) with the search vocabulary: an item is found
    by its name and common phrasings first, then by the rest of its text (basis, categories,
    units), and by the formal terms of the everyday words typed (暖气 → 冬季采暖)."""
    versions = in_force_now(today)
    if not include_negative:
        versions = [v for v in versions if v.list_type != ListType.NEGATIVE]
    if category:
        versions = [
            v for v in versions if any(c.code == category or c.code.startswith(category) for c in v.categories.all())
        ]
    if unit:
        versions = [
            v
            for v in versions
            if (v.responsible_unit and v.responsible_unit.code == unit)
            or any(u.code == unit for u in v.collaborating_units.all())
        ]
    query = search_engine.parse(q, vocabulary())
    if query.empty:
        ranked = sorted(versions, key=lambda v: v.item.code)
        return ranked[:limit] if limit else ranked
    versions.sort(key=lambda v: v.item.code)
    ranked = [d.payload for _score, d in search_engine.rank(query, [duty_doc(v) for v in versions])]
    return ranked[:limit] if limit else ranked


def duty_doc(version: DutyVersion) -> search_engine.Doc:
    """A duty as the search sees it: its name and phrasings weigh most, its other text less."""
    return search_engine.doc(
        version.item.code,
        [(version.name, 1.0), (version.keywords, 1.0), (version.item.code, 1.0), (version.search_text, 0.5)],
        version,
    )


# --- routing from the list -----------------------------------------------------

LEVEL_ORDER: dict[str, int] = {Level.GRID: 0, Level.COMMUNITY: 1, Level.STREET: 2, Level.DISTRICT: 3}


@dataclass
class DutyRoute:
    """What the list says about a case: its 主办, 协办, the deciding version, and blocks."""

    unit: Unit | None = None
    version: DutyVersion | None = None
    collaborators: list = field(default_factory=list)
    reason: str = ""
    # Set when the category maps only to negative-list duties: the street may not take it.
    negative: DutyVersion | None = None

    @property
    def blocked(self) -> bool:
        return self.negative is not None and self.unit is None


def _unit_for(version, community_id):
    if version.responsible_unit_id:
        return version.responsible_unit
    if community_id is None:
        return None
    return Unit.objects.filter(kind=Unit.Kind.COMMUNITY, community_id=community_id, active=True).first()


def route_for(category: Model | None, community_id: int | None = None, today: dt.date | None = None) -> DutyRoute:
    """The route the list gives a case of this category in this community."""
    if category is None:
        return DutyRoute()
    matching = in_force_for_category(category.pk, today)
    if not matching:
        return DutyRoute()
    main = [v for v in matching if v.list_type == ListType.STREET]
    assist = [v for v in matching if v.list_type == ListType.COMMUNITY_ASSIST]
    negative = [v for v in matching if v.list_type == ListType.NEGATIVE]
    if not main and not assist:
        version = negative[0]
        return DutyRoute(
            negative=version,
            version=version,
            reason=_("“%(name)s”属于负面清单事项，不得下派街道或社区（依据：%(basis)s），请上报区级部门%(unit)s。")
            % {
                "name": version.name,
                "basis": version.basis or version.basis_text,
                "unit": f"（{version.responsible_unit.name}）" if version.responsible_unit else "",
            },
        )
    # The most local level that holds the duty handles it (小事不出网格，大事不出街道).
    primary_pool = main or assist
    # A community-level duty needs the case's community; without it the next level's holder takes it.
    primary_pool.sort(key=lambda v: (LEVEL_ORDER.get(v.level, 9), v.item.code))
    version, unit = primary_pool[0], None
    for candidate in primary_pool:
        unit = _unit_for(candidate, community_id)
        if unit is not None:
            version = candidate
            break
    collaborators = []
    for candidate in list(version.collaborating_units.all()) + [
        _unit_for(v, community_id) for v in assist if v is not version
    ]:
        if candidate is not None and candidate != unit and candidate not in collaborators:
            collaborators.append(candidate)
    reason = _("权责清单 %(code)s “%(name)s” 第%(number)d版：主办 %(unit)s") % {
        "code": version.item.code,
        "name": version.name,
        "number": version.number,
        "unit": unit.name if unit else _("（所在社区居委会，未确定社区）"),
    }
    return DutyRoute(
        unit=unit,
        version=version,
        collaborators=collaborators,
        reason=reason,
        negative=negative[0] if negative else None,
    )


# --- the negative list against the routing rules (派单规则) ------------------------------------
#
# An override rule runs before the list, so it must not undo the negative list: a rule that would
# hand a negative-list item to a street or community unit is refused when it is saved, and skipped
# at routing if the list changed after it was saved. A rule to a district department (上报区级部门)
# is what the negative list asks for, and stands.


def blocking_negative(category_id: int, today: dt.date | None = None) -> DutyVersion | None:
    """The negative-list item that keeps cases of this category from the street — in force for
    it with no street or community-assist duty beside it, as routing blocks — or None."""
    matching = in_force_for_category(category_id, today)
    if not matching or any(v.list_type != ListType.NEGATIVE for v in matching):
        return None
    return matching[0]


def _is_street_unit(unit: Unit) -> bool:
    return unit.kind != Unit.Kind.DISTRICT


def _with_descendants(category: Any) -> list[Any]:
    """The category and every category below it (a rule matches them all)."""
    model = type(category)
    found, frontier = [category], [category.pk]
    while frontier:
        children = list(model._default_manager.filter(parent_id__in=frontier).order_by("pk"))
        found.extend(children)
        frontier = [c.pk for c in children]
    return found


def override_refusal(*, category: Model | None, unit: Unit | None, today: dt.date | None = None) -> str:
    """Why a routing rule for ``category`` (and the categories below it) may not send cases to
    ``unit``: one of them is a negative-list item and the unit is a street or community one.
    "" when it may. A rule for every category is not refused; routing skips it for the
    negative-list items (``rule_overruled``)."""
    if category is None or unit is None or not _is_street_unit(unit):
        return ""
    for node in _with_descendants(category):
        version = blocking_negative(node.pk, today)
        if version is not None:
            return _(
                "分类“%(category)s”在负面清单上（%(code)s “%(name)s”），不得由派单规则派给街道或社区单位"
                "“%(unit)s”；请改选分类，或把承办单位改为区级部门%(district)s。"
            ) % {
                "category": node.name,
                "code": version.item.code,
                "name": version.name,
                "unit": unit.name,
                "district": f"（{version.responsible_unit.name}）" if version.responsible_unit else "",
            }
    return ""


def rule_overruled(route: DutyRoute, *, unit: Unit) -> str:
    """Why the negative list overrules a routing rule that would send this case to ``unit``
    (``route``: what the list says about the case), or "" when the rule stands."""
    if route.blocked and route.negative is not None and _is_street_unit(unit):
        return _("负面清单事项 %(code)s 不得派给街道或社区") % {"code": route.negative.item.code}
    return ""


def district_units() -> list[Unit]:
    """District departments a case blocked by the negative list can be sent up to (上报区级部门)."""
    return list(Unit.objects.filter(kind=Unit.Kind.DISTRICT, active=True).order_by("code"))
