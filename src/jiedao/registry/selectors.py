"""Reads of the registry. Every selector takes the user and returns only what that user
may see; personal data goes out masked unless the caller asked to unmask and the
user may, and then the view is written to the access log.

Who sees what (权限分级):

| role | sees | may unmask identity number and phone |
| --- | --- | --- |
| 网格员 grid worker | persons and buildings of own grids | own grids' persons, on "显示完整" |
| 社区居委会 community staff (handler of a community unit) | own community | no |
| 街道科室 street section staff, 派单员, 街道领导 | the whole street | no |
| 系统管理员 administrator | the whole street | yes, on "显示完整" |
| residents, district departments, others | nothing | no |

Those who may unmask a person are also the only ones who may look them up by a complete
identity number or phone (``person_list``'s ``q``), each look-up logged. Masked, a person
comes with their age, never their birth date (eight of the hidden digits).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiedao.common import params
from jiedao.common.audit import log_lookup, log_unmasked_view
from jiedao.common.crypto import blind_index
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.common.masking import find_personal_numbers, mask_id_number, mask_phone
from jiedao.common.params import Cursor, RowId
from jiedao.org.models import Community, Grid, Unit

from . import validation
from .models import (
    Building,
    CareTag,
    Enterprise,
    Facility,
    House,
    Household,
    ImportRun,
    MergeConflict,
    Person,
    PersonTag,
    Visit,
)

STREET_WIDE_ROLES = ("admin", "leader", "dispatcher")
# Persons counted in the assistance list and the visit measure.
CARED_STATUSES = (Person.Status.LIVING, Person.Status.AWAY)
PERSON_RELATED = ("household__house__building__grid__community", "household__house__building__community")
RECENT_VISIT_DAYS = 28
DEFAULT_FRESH_DAYS = 180


# --- scope -------------------------------------------------------------------------------


@dataclass
class Scope:
    everything: bool = False
    grid_ids: frozenset = field(default_factory=frozenset)
    community_ids: frozenset = field(default_factory=frozenset)

    @property
    def empty(self):
        return not (self.everything or self.grid_ids or self.community_ids)

    def covers(self, grid_id, community_id):
        return (
            self.everything
            or (grid_id is not None and grid_id in self.grid_ids)
            or (community_id is not None and community_id in self.community_ids)
        )


def _unit_kind(user):
    if user.has_role("handler") and user.unit_id is not None:
        return user.unit.kind
    return None


def scope_of(user) -> Scope:
    """What part of the street's base data the user may read."""
    if user is None or not user.is_authenticated:
        return Scope()
    cache = getattr(user, "_registry_scope", None)
    if cache is not None:
        return cache
    kind = _unit_kind(user)
    if user.has_role(*STREET_WIDE_ROLES) or kind == Unit.Kind.SECTION:
        if user.covers_all_streets:
            scope = Scope(everything=True)
        else:  # a city: the communities of their street (a section: of its unit's street)
            streets = user.street_ids if user.has_role(*STREET_WIDE_ROLES) else {user.unit.street_id}
            scope = Scope(
                community_ids=frozenset(Community.objects.filter(street_id__in=streets).values_list("id", flat=True))
            )
    else:
        grids = frozenset(user.grids.values_list("id", flat=True)) if user.has_role("grid") else frozenset()
        communities = frozenset()
        if kind == Unit.Kind.COMMUNITY and user.unit.community_id is not None:
            communities = frozenset({user.unit.community_id})
        scope = Scope(grid_ids=grids, community_ids=communities)
    user._registry_scope = scope
    return scope


def may_read(user) -> bool:
    return not scope_of(user).empty


def require_read(user):
    if not may_read(user):
        raise NotAllowed(_("只有网格员、社区和街道工作人员可以查看一户一档。"))


def may_import(user) -> bool:
    return user is not None and user.is_authenticated and user.has_role("admin")


def _place_of_person(person):
    household = person.household
    if household is None:
        return None, None
    building = household.house.building
    return building.grid_id, building.community_id


def may_unmask(user, person) -> bool:
    """Administrators, and grid workers for the persons of their own grids."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role("admin"):
        return True
    grid_id, _community = _place_of_person(person)
    return user.has_role("grid") and grid_id is not None and grid_id in scope_of(user).grid_ids


def may_edit_somewhere(user) -> bool:
    """Whether the user keeps some part of the base data (visits, tags, conflicts):
    administrators, grid workers with grids, community staff."""
    if user is None or not user.is_authenticated:
        return False
    scope = scope_of(user)
    return user.has_role("admin") or bool(scope.grid_ids or scope.community_ids)


def may_edit_place(user, grid_id, community_id) -> bool:
    """Tag, record visits, decide conflicts: administrators, the grid's workers and the
    community's staff."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role("admin"):
        return True
    scope = scope_of(user)
    return (grid_id is not None and grid_id in scope.grid_ids) or (
        community_id is not None and community_id in scope.community_ids
    )


def may_edit(user, person) -> bool:
    return may_edit_place(user, *_place_of_person(person))


def _place_filter(scope, prefix, community_path=None):
    """Records placed by ``{prefix}grid`` and ``{prefix}community`` (or ``community_path``)."""
    if scope.everything:
        return Q()
    condition = Q(pk__in=[])
    if scope.grid_ids:
        condition |= Q(**{f"{prefix}grid_id__in": scope.grid_ids})
    if scope.community_ids:
        condition |= Q(**{f"{community_path or prefix + 'community_id'}__in": scope.community_ids})
    return condition


def visible_persons(user):
    scope = scope_of(user)
    if scope.empty:
        return Person.objects.none()
    return Person.objects.filter(_place_filter(scope, "household__house__building__"))


def visible_buildings(user):
    scope = scope_of(user)
    if scope.empty:
        return Building.objects.none()
    return Building.objects.filter(_place_filter(scope, ""))


def visible_households(user):
    scope = scope_of(user)
    if scope.empty:
        return Household.objects.none()
    return Household.objects.filter(_place_filter(scope, "house__building__"))


def visible_grids(user):
    scope = scope_of(user)
    grids = Grid.objects.select_related("community").order_by("code")
    if scope.everything:
        return grids
    if scope.empty:
        return grids.none()
    return grids.filter(Q(id__in=scope.grid_ids) | Q(community_id__in=scope.community_ids))


def active_tags():
    return list(CareTag.objects.filter(active=True).order_by("order", "code"))


# --- shaping a person for the reader ------------------------------------------------------


def age_on(birth_date, today):
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def address_of(person):
    household = person.household
    if household is None:
        return ""
    return str(household.house)


def person_out(person, *, unmasked=False, today=None):
    """The person as a reader sees them: identity number and phone masked unless ``unmasked``.
    No field beside a masked value may give it back: masked, the birth date (eight of the
    hidden digits of the identity number) is left out and only the age shown; the gender
    (one digit, shown anyway among the last four) stays."""
    today = today or timezone.localdate()
    household = person.household
    building = household.house.building if household else None
    grid = building.grid if building else None
    community = building.community if building else None
    return {
        "id": person.pk,
        "name": person.name,
        "gender": person.gender,
        "gender_label": person.get_gender_display() if person.gender else "",
        "birth_date": person.birth_date if unmasked else None,
        "age": age_on(person.birth_date, today),
        "id_number": person.id_number if unmasked else mask_id_number(person.id_number),
        "phone": person.phone if unmasked else mask_phone(person.phone),
        "masked": not unmasked,
        "status": person.status,
        "status_label": person.get_status_display(),
        "relation": person.relation,
        "relation_label": person.get_relation_display() if person.relation else "",
        "household": household.number if household else "",
        "household_id": household.pk if household else None,
        "address": address_of(person),
        "community": community.name if community else "",
        "grid": grid.code if grid else "",
        "grid_name": str(grid) if grid else "",
        "tags": [t.name for t in person.tags.all()],
        "confirmed_at": person.confirmed_at,
    }


def reveal(user, person, purpose):
    """The person unmasked, for a user who may see it; the view is written to the access log."""
    if not may_unmask(user, person):
        raise NotAllowed(_("您无权查看此人的完整身份证号和手机号。"))
    shown = [name for name in ("id_number", "phone") if getattr(person, name)]
    if shown:
        log_unmasked_view(user, person, shown, purpose=purpose)
    return person_out(person, unmasked=True)


def _persons_with_places(qs):
    return qs.select_related(*PERSON_RELATED).prefetch_related("tags")


def person_for(user, person_id):
    require_read(user)
    person = _persons_with_places(visible_persons(user)).filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("人员档案不存在或您无权查看。"))
    return person


# --- lists with keyset pagination ---------------------------------------------------------

_CURSOR = Cursor(RowId)  # [id of the last person shown]


def _grid_or_error(user, code):
    grid = visible_grids(user).filter(code=code).first()
    if grid is None:
        raise ValidationFailed("grid", _("网格“%(code)s”不存在或不在您的范围内。") % {"code": code})
    return grid


def _tag_or_error(value):
    tag = CareTag.objects.filter(Q(code=value) | Q(name=value)).first()
    if tag is None:
        raise ValidationFailed("tag", _("关怀标签“%(tag)s”不存在。") % {"tag": value})
    return tag


# --- exact look-ups by identity number or phone (精确查找) ----------------------------------
#
# A look-up by a complete number confirms that the number belongs to someone, which is what
# a masked value hides (with the first three and last four characters shown, a phone has
# 10,000 candidates). So only those who may unmask a person may look them up by number —
# administrators, and grid workers among the persons of their own grids — and each look-up
# is written to the access log (the kind of number, how many persons it found and which,
# never the number); the page and the API also limit how often (registry.lookups). Anyone
# else who types a number is told plainly that they may not search by it (403): an empty
# list would read as "not registered" and invite a duplicate record, and the refusal does
# not depend on whether the number exists. A name search never touches the keyed hashes.

LOOKUP_REFUSED = gettext_noop("只有系统管理员和本网格的网格员可以按完整的身份证号或手机号查找人员，请按姓名查找。")


@dataclass(frozen=True)
class Lookup:
    """A complete identity number or phone named by a search: ``kind`` is ``id_number`` or
    ``phone``, ``value`` the number as stored."""

    kind: str
    value: str


def lookup_in(q):
    """The identity number or phone that a search names, in any writing (spaces, dashes,
    full-width digits, +86), or None for a name search."""
    q = (q or "").strip()
    if not q:
        return None
    found = find_personal_numbers(q)
    if len(found) > 1:
        raise ValidationFailed("q", _("一次只能按一个身份证号或手机号查找。"))
    if found:
        return Lookup("id_number" if found[0].kind == "id_number" else "phone", found[0].value)
    id_number = validation.normalise_id_number(q)
    if len(id_number) == 18 and id_number[:17].isdigit():
        return Lookup("id_number", id_number)
    phone = validation.normalise_phone(q)
    if validation.MOBILE.match(phone):
        return Lookup("phone", phone)
    return None


def may_look_up(user) -> bool:
    """Whether the user may look persons up by a complete number: those who may unmask."""
    if user is None or not user.is_authenticated:
        return False
    return user.has_role("admin") or (user.has_role("grid") and bool(scope_of(user).grid_ids))


def require_look_up(user):
    if not may_look_up(user):
        raise NotAllowed(_(LOOKUP_REFUSED))


def _lookup_filter(user, lookup):
    """The persons with that number among those the user may unmask (``may_unmask``)."""
    index = blind_index(lookup.value)
    condition = Q(id_index=index) if lookup.kind == "id_number" else Q(phone_index=index)
    if not user.has_role("admin"):
        condition &= Q(household__house__building__grid_id__in=scope_of(user).grid_ids)
    return condition


def person_list(user, *, grid=None, tag=None, q=None, cursor=None, limit=50):
    """A page of persons the user may see, in id order. Returns ``(persons, next_cursor)``;
    a fixed number of queries whatever the page size. ``q`` is part of a name, or a complete
    identity number or phone: an exact look-up, refused (NotAllowed) to those who may not
    unmask and written to the access log for the others."""
    require_read(user)
    lookup = lookup_in(q)
    if lookup is not None:
        require_look_up(user)
    qs = visible_persons(user)
    if grid:
        qs = qs.filter(household__house__building__grid=_grid_or_error(user, grid))
    if tag:
        qs = qs.filter(tags=_tag_or_error(tag))
    if lookup is not None:
        qs = qs.filter(_lookup_filter(user, lookup))
    elif q:
        qs = qs.filter(name__contains=params.search_text(q))
    if cursor:
        (last_id,) = _CURSOR.decode(cursor)
        qs = qs.filter(id__gt=last_id)
    limit = max(1, min(int(limit), 200))
    rows = list(_persons_with_places(qs.order_by("id"))[: limit + 1])
    next_cursor = _CURSOR.encode(rows[limit - 1].pk) if len(rows) > limit else None
    rows = rows[:limit]
    if lookup is not None:
        log_lookup(user, Person, lookup.kind, [person.pk for person in rows])
    return rows, next_cursor


# --- one person, one household ---------------------------------------------------------

FIELD_LABELS = {
    "name": gettext_noop("姓名"),
    "gender": gettext_noop("性别"),
    "birth_date": gettext_noop("出生日期"),
    "id_number": gettext_noop("身份证号"),
    "phone": gettext_noop("手机号"),
    "household": gettext_noop("所在户"),
    "relation": gettext_noop("与户主关系"),
    "status": gettext_noop("居住状态"),
    "note": gettext_noop("备注"),
    "address": gettext_noop("地址"),
    "community": gettext_noop("社区"),
    "grid": gettext_noop("网格"),
    "lat": gettext_noop("纬度"),
    "lng": gettext_noop("经度"),
    "floors": gettext_noop("层数"),
    "head": gettext_noop("楼栋长"),
    "floor": gettext_noop("楼层"),
    "use": gettext_noop("房屋用途"),
    "tags": gettext_noop("关怀标签"),
}


def field_label(name):
    return _(FIELD_LABELS.get(name, name))


def sources_of(record):
    """[{field, label, source, by, at}] from the record's field sources, in a stable order."""
    rows = []
    for name, entry in sorted(
        (record.sources or {}).items(),
        key=lambda item: list(FIELD_LABELS).index(item[0]) if item[0] in FIELD_LABELS else 99,
    ):
        at = entry.get("at")
        rows.append(
            {
                "field": name,
                "label": field_label(name),
                "source": entry.get("source", ""),
                "by": entry.get("by", ""),
                "at": dt.datetime.fromisoformat(at) if at else None,
            }
        )
    return rows


def visits_of(person, limit=50):
    return list(person.visits.select_related("worker").order_by("-at")[:limit])


def household_for(user, household_id):
    require_read(user)
    household = (
        visible_households(user)
        .select_related("house__building__grid__community", "head")
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise NotFound(_("户档案不存在或您无权查看。"))
    return household


def members_of(household):
    return list(household.members.select_related(*PERSON_RELATED).prefetch_related("tags").order_by("id"))


# --- conflicts -----------------------------------------------------------------------------


def _pending_conflicts(user):
    require_read(user)
    scope = scope_of(user)
    qs = MergeConflict.objects.filter(choice="")
    if not user.has_role("admin"):
        places = Q(pk__in=[])
        if scope.grid_ids:
            places |= (
                Q(person__household__house__building__grid_id__in=scope.grid_ids)
                | Q(house__building__grid_id__in=scope.grid_ids)
                | Q(building__grid_id__in=scope.grid_ids)
            )
        if scope.community_ids:
            places |= (
                Q(person__household__house__building__community_id__in=scope.community_ids)
                | Q(house__building__community_id__in=scope.community_ids)
                | Q(building__community_id__in=scope.community_ids)
            )
        qs = qs.filter(places)
    return qs


def pending_conflicts(user, limit=200):
    """Conflicts waiting for a decision on records the user may edit, oldest first."""
    qs = _pending_conflicts(user).select_related(
        "person__household__house__building", "house__building", "building", "import_run"
    )
    return list(qs.order_by("created_at", "id")[:limit])


def pending_conflict_count(user):
    return _pending_conflicts(user).count()


def conflict_place(conflict):
    """(grid id, community id) of the record a conflict is about."""
    if conflict.person_id:
        return _place_of_person(conflict.person)
    building = conflict.building if conflict.building_id else conflict.house.building
    return building.grid_id, building.community_id


def display_value(conflict_field, value, unmasked=False):
    """A conflict's stored value as a reader sees it: labels for codes, phones masked, a
    birth date as an age unless ``unmasked``."""
    if value in (None, ""):
        return ""
    if conflict_field == "phone" and not unmasked:
        return mask_phone(value)
    if conflict_field == "birth_date" and not unmasked:
        try:
            age = age_on(dt.date.fromisoformat(value), timezone.localdate())
        except ValueError:
            return "****"
        return _("%(age)s岁") % {"age": age}
    choices = {"gender": Person.Gender, "relation": Person.Relation, "status": Person.Status, "use": House.Use}
    if conflict_field in choices:
        return str(dict(choices[conflict_field].choices).get(value, value))
    if conflict_field == "household":
        household = Household.objects.filter(number=value).select_related("house__building").first()
        return f"{value}（{household.house}）" if household else value
    return value


# --- assistance list (帮扶清单) and the visit measure --------------------------------------------


def _cared(qs, tags=None):
    qs = qs.filter(status__in=CARED_STATUSES)
    if tags:
        return qs.filter(Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag__in=tags)))
    return qs.filter(Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag__active=True)))


def _parse_selection(user, grids, tags):
    grid_objs = [_grid_or_error(user, code) for code in grids or [] if code]
    tag_objs = [_tag_or_error(value) for value in tags or [] if value]
    return grid_objs, tag_objs


def assistance_list(user, *, grids=None, tags=None, now=None):
    """帮扶清单: the special-care persons (living or away, with at least one of ``tags`` —
    any active tag when none is chosen) of the chosen ``grids`` (grid codes; all the
    user's grids when none), each with their visits in the last four weeks."""
    require_read(user)
    now = now or timezone.now()
    grid_objs, tag_objs = _parse_selection(user, grids, tags)
    qs = _cared(visible_persons(user), tag_objs)
    if grid_objs:
        qs = qs.filter(household__house__building__grid__in=grid_objs)
    since = now - dt.timedelta(days=RECENT_VISIT_DAYS)
    qs = qs.annotate(
        recent_visits=Count("visits", filter=Q(visits__at__gte=since, visits__at__lt=now)),
        last_visit=Max("visits__at", filter=Q(visits__at__lt=now)),
    )
    qs = qs.select_related(*PERSON_RELATED).prefetch_related(
        Prefetch("tags", queryset=CareTag.objects.filter(active=True).order_by("order", "code"))
    )
    return (
        list(
            qs.order_by(
                "household__house__building__grid__code",
                "household__house__building__code",
                "household__house__unit",
                "household__house__room",
                "id",
            )
        ),
        grid_objs,
        tag_objs,
    )


def assistance_rows(user, persons, *, unmask=False, purpose="assistance list"):
    """The list's rows for the reader. With ``unmask`` (only for those allowed) each person
    shown in full is written to the access log."""
    today = timezone.localdate()
    rows = []
    for person in persons:
        full = unmask and may_unmask(user, person)
        if full:
            shown = [name for name in ("id_number", "phone") if getattr(person, name)]
            if shown:
                log_unmasked_view(user, person, shown, purpose=purpose)
        row = person_out(person, unmasked=full, today=today)
        row["recent_visits"] = getattr(person, "recent_visits", 0)
        last = getattr(person, "last_visit", None)
        row["last_visit"] = timezone.localtime(last).strftime("%Y-%m-%d %H:%M") if last else ""
        rows.append(row)
    return rows


@dataclass
class VisitRate:
    visits: int
    persons: int
    weeks: float
    start: dt.datetime
    end: dt.datetime

    @property
    def rate(self):
        """Visits per special-care person per week, or None when nobody is on the list."""
        if not self.persons or not self.weeks:
            return None
        return self.visits / self.persons / self.weeks

    def as_dict(self):
        rate = self.rate
        return {
            "visits": self.visits,
            "persons": self.persons,
            "weeks": self.weeks,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "visits_per_person_per_week": None if rate is None else round(rate, 2),
        }


def visits_per_week(user, *, grids=None, tags=None, weeks=4, end=None):
    """探访频次: visits to special-care persons in the ``weeks`` before ``end``, divided by
    the number of special-care persons (living or away, tagged today) and by the weeks.
    Visits to persons who are no longer on the list do not count."""
    require_read(user)
    end = end or timezone.now()
    if not 1 <= weeks <= 104:
        raise ValidationFailed("weeks", _("周数应在1到104之间。"))
    start = end - dt.timedelta(weeks=weeks)
    grid_objs, tag_objs = _parse_selection(user, grids, tags)
    persons = _cared(visible_persons(user), tag_objs)
    if grid_objs:
        persons = persons.filter(household__house__building__grid__in=grid_objs)
    person_ids = persons.values("pk")
    visits = Visit.objects.filter(person_id__in=person_ids, at__gte=start, at__lt=end).count()
    return VisitRate(visits=visits, persons=persons.count(), weeks=weeks, start=start, end=end)


def weekly_visit_rates(user, *, grids=None, tags=None, weeks=12, end=None):
    """The visit measure for each of the last ``weeks`` weeks (oldest first)."""
    end = end or timezone.now()
    return [
        visits_per_week(user, grids=grids, tags=tags, weeks=1, end=end - dt.timedelta(weeks=back))
        for back in range(weeks - 1, -1, -1)
    ]


# --- data freshness (数据鲜活度) ---------------------------------------------------------


@dataclass
class Freshness:
    kind: str
    label: str
    total: int
    fresh: int

    @property
    def share(self):
        return self.fresh / self.total if self.total else None

    def as_dict(self):
        share = self.share
        return {
            "kind": self.kind,
            "label": self.label,
            "total": self.total,
            "fresh": self.fresh,
            "share": None if share is None else round(share, 4),
        }


def freshness(user, *, days=DEFAULT_FRESH_DAYS, now=None):
    """Share of records confirmed by a source within ``days`` days, per kind and overall."""
    require_read(user)
    if not 1 <= days <= 3650:
        raise ValidationFailed("days", _("天数应在1到3650之间。"))
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    scope = scope_of(user)
    kinds = [
        ("buildings", _("楼栋"), visible_buildings(user)),
        ("households", _("户"), visible_households(user)),
        ("persons", _("人员"), visible_persons(user)),
        ("enterprises", _("企业/法人"), Enterprise.objects.filter(_place_filter(scope, "", "grid__community_id"))),
        ("facilities", _("部件"), Facility.objects.filter(_place_filter(scope, "", "grid__community_id"))),
    ]
    rows = []
    for kind, label, qs in kinds:
        counts = qs.aggregate(total=Count("pk"), fresh=Count("pk", filter=Q(confirmed_at__gte=since)))
        rows.append(Freshness(kind, str(label), counts["total"], counts["fresh"]))
    total = Freshness("all", _("合计"), sum(r.total for r in rows), sum(r.fresh for r in rows))
    return rows, total


# --- visits and imports ------------------------------------------------------------------------


def visit_candidates(user, limit=500):
    """The special-care persons a user may record visits for (their grids / community)."""
    require_read(user)
    persons = _cared(visible_persons(user))
    if scope_of(user).everything and not user.has_role("admin"):
        return []
    return list(_persons_with_places(persons).order_by("household__house__building__code", "id")[:limit])


def recent_visits_by(user, limit=10):
    return list(Visit.objects.filter(worker=user).select_related("person").order_by("-at")[:limit])


def import_runs(user, limit=20):
    if not may_import(user):
        return []
    return list(ImportRun.objects.select_related("user").order_by("-created_at")[:limit])


def import_run_for(user, run_id):
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None or not (may_import(user) and (run.user_id == user.pk or user.has_role("admin"))):
        raise NotFound(_("导入记录不存在。"))
    return run


def building_for(user, code):
    building = visible_buildings(user).select_related("grid", "community").filter(code=code).first()
    if building is None:
        raise NotFound(_("楼栋不存在或您无权查看。"))
    return building


def house_households(house):
    return list(Household.objects.filter(house=house))


def describe_counts(kind, counts):
    """One line that says what an import did."""
    values = {
        k: counts.get(k, 0)
        for k in (
            "rows",
            "created",
            "updated",
            "confirmed",
            "conflicts",
            "houses_created",
            "households_created",
            "tags_added",
        )
    }
    if kind == "buildings":
        text = _(
            "共%(rows)d行：新建楼栋%(created)d个，补全%(updated)d个，确认%(confirmed)d个；待决定的冲突%(conflicts)d处。"
        )
    elif kind == "households":
        text = _(
            "共%(rows)d行：新建户%(households_created)d户、房屋%(houses_created)d套；户主新建档案%(created)d人，"
            "补全%(updated)d人，确认%(confirmed)d人；待决定的冲突%(conflicts)d处。"
        )
    else:
        text = _(
            "共%(rows)d行：新建档案%(created)d人，补全%(updated)d人，确认%(confirmed)d人，"
            "新增关怀标记%(tags_added)d个，新建户%(households_created)d户；待决定的冲突%(conflicts)d处。"
        )
    return text % values


# --- addresses → points ---------------------------------------------------------

_ADDRESS_TTL = 30.0
_addresses = {}


def _building_addresses():
    """[(address without spaces, lat, lng)] of the buildings with a position, longest first;
    cached per process and reloaded when the buildings change or after ``_ADDRESS_TTL``."""
    import time

    from .models import Building

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
