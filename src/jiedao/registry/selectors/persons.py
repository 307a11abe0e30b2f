"""Persons and households as a reader sees them: masked unless the reader asked to unmask and
may, with their age instead of the birth date when masked; the person list with its keyset
pages and the exact look-up by a complete identity number or phone; the sources of a record's
fields; a household with its members."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiedao.common import params
from jiedao.common.audit import log_lookup, log_unmasked_view
from jiedao.common.crypto import blind_index
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.common.masking import find_personal_numbers, mask_id_number, mask_phone
from jiedao.common.params import Cursor, RowId

from .. import validation
from ..models import Household, Person
from .scope import (
    grid_or_error,
    may_unmask,
    require_read,
    scope_of,
    tag_or_error,
    visible_buildings,
    visible_households,
    visible_persons,
)

PERSON_RELATED = ("household__house__building__grid__community", "household__house__building__community")


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


def persons_with_places(qs):
    return qs.select_related(*PERSON_RELATED).prefetch_related("tags")


def person_for(user, person_id):
    require_read(user)
    person = persons_with_places(visible_persons(user)).filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("人员档案不存在或您无权查看。"))
    return person


# --- lists with keyset pagination ---------------------------------------------------------

_CURSOR = Cursor(RowId)  # [id of the last person shown]


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
        qs = qs.filter(household__house__building__grid=grid_or_error(user, grid))
    if tag:
        qs = qs.filter(tags=tag_or_error(tag))
    if lookup is not None:
        qs = qs.filter(_lookup_filter(user, lookup))
    elif q:
        qs = qs.filter(name__contains=params.search_text(q))
    if cursor:
        (last_id,) = _CURSOR.decode(cursor)
        qs = qs.filter(id__gt=last_id)
    limit = max(1, min(int(limit), 200))
    rows = list(persons_with_places(qs.order_by("id"))[: limit + 1])
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


def building_for(user, code):
    building = visible_buildings(user).select_related("grid", "community").filter(code=code).first()
    if building is None:
        raise NotFound(_("楼栋不存在或您无权查看。"))
    return building


def house_households(house):
    return list(Household.objects.filter(house=house))
