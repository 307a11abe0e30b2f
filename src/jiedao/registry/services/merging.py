"""一数一源: how a value from a source meets the value on the record, and how a person decides
a disagreement. The rules are the same for a form, the API and an imported file:

- a field that is empty on the record is filled from the incoming source;
- a field whose value equals the incoming one has its confirmation time refreshed;
- a field whose value differs is left alone and a :class:`MergeConflict` is listed for
  a person to decide (:func:`resolve_conflict`: keep the current value or take the new);
- every field remembers the source that gave it and when it was last confirmed, and
  every record when any source last confirmed it (data freshness is measured on that).

Values are compared as canonical text (:func:`canonical`): a household by its number, a
community or grid by its code, a building's head by the user name, numbers and dates as
written by :func:`assign`. A household's head named differently by a source is the special
conflict field ``HEAD_FIELD`` (户主变更)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.crypto import blind_index
from jiedao.common.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, Grid, User

from .. import selectors
from ..models import Building, House, Household, ImportRun, MergeConflict, Person, Sourced

MAX_SOURCE = 100
# A special conflict field: a source names a different 户主 for the household.
HEAD_FIELD = "household_head"


def now_iso(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).isoformat()


def clean_source(source: str | None, *, fallback: str) -> str:
    """The name of a source as given (at most ``MAX_SOURCE`` characters), else ``fallback``."""
    source = (source or "").strip() or fallback
    if len(source) > MAX_SOURCE:
        raise ValidationFailed("source", _("数据来源不能超过%(max)d个字。") % {"max": MAX_SOURCE})
    return source


def manual_source(user: User) -> str:
    return _("手工录入（%(user)s）") % {"user": user.username}


def new_sources(values: Mapping[str, object], *, source: str, now: dt.datetime) -> dict[str, dict[str, str]]:
    """The field sources of a new record: every non-empty value from ``source`` at ``now``."""
    at = now_iso(now)
    return {name: {"source": source, "at": at} for name, value in values.items() if value not in (None, "")}


# --- canonical values and the merge -----------------------------------------------------------


class Resolver:
    """Looks up what canonical values name (household numbers, grid codes …), with a cache."""

    def __init__(self):
        self.households, self.communities, self.grids, self.users = {}, {}, {}, {}

    def household(self, number: str) -> Household | None:
        if number not in self.households:
            self.households[number] = Household.objects.filter(number=number).first()
        return self.households[number]

    def community(self, code: str) -> Community | None:
        if code not in self.communities:
            self.communities[code] = Community.objects.filter(code=code).first()
        return self.communities[code]

    def grid(self, code: str) -> Grid | None:
        if code not in self.grids:
            self.grids[code] = Grid.objects.filter(code=code).first()
        return self.grids[code]

    def user(self, username: str) -> User | None:
        if username not in self.users:
            self.users[username] = User.objects.filter(username=username).first()
        return self.users[username]


def float_text(value: float | None) -> str:
    return "" if value is None else f"{float(value):.6f}"


def canonical(obj: Person | House | Building, *, name: str, resolver: Resolver | None = None) -> str:
    """A field of a record as text, for comparison with an incoming value."""
    if isinstance(obj, Person):
        if name == "birth_date":
            return obj.birth_date.isoformat() if obj.birth_date else ""
        if name == "household":
            if obj.household_id is None:
                return ""
            return cast(Household, obj.household).number
        return getattr(obj, name) or ""
    if isinstance(obj, House):
        if name == "floor":
            return "" if obj.floor is None else str(obj.floor)
        return obj.use or ""
    if isinstance(obj, Building):
        if name == "community":
            return obj.community.code if obj.community_id else ""
        if name == "grid":
            return cast(Grid, obj.grid).code if obj.grid_id else ""
        if name in ("lat", "lng"):
            return float_text(getattr(obj, name))
        if name == "floors":
            return "" if obj.floors is None else str(obj.floors)
        if name == "head":
            return cast(User, obj.head).username if obj.head_id else ""
        return getattr(obj, name) or ""
    raise TypeError(obj)


def assign(obj: Person | House | Building, *, name: str, value: str, resolver: Resolver) -> None:
    """Sets a field from its canonical text."""
    if isinstance(obj, Person):
        if name == "birth_date":
            obj.birth_date = dt.date.fromisoformat(value) if value else None
        elif name == "household":
            household = resolver.household(value)
            if household is None:
                raise ValidationFailed("household", _("户编号“%(number)s”不存在。") % {"number": value})
            obj.household = household
        elif name == "phone":
            obj.phone = value
            obj.phone_index = blind_index(value) if value else ""
        else:
            setattr(obj, name, value)
    elif isinstance(obj, House):
        if name == "floor":
            obj.floor = int(value) if value != "" else None
        else:
            obj.use = value
    elif isinstance(obj, Building):
        if name == "community":
            obj.community = cast(Community, resolver.community(value))  # a code checked when it came in
        elif name == "grid":
            obj.grid = resolver.grid(value) if value else None
        elif name in ("lat", "lng"):
            setattr(obj, name, float(value) if value != "" else None)
        elif name == "floors":
            obj.floors = int(value) if value != "" else None
        elif name == "head":
            obj.head = resolver.user(value) if value else None
        else:
            setattr(obj, name, value)
    else:
        raise TypeError(obj)


def _conflict_for(obj, **values):
    if isinstance(obj, Person):
        return MergeConflict(person=obj, **values)
    if isinstance(obj, House):
        return MergeConflict(house=obj, **values)
    return MergeConflict(building=obj, **values)


@dataclass
class MergeResult:
    filled: list = field(default_factory=list)
    confirmed: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)


def merge(
    obj: Person | House | Building,
    *,
    incoming: Mapping[str, str],
    source: str,
    now: dt.datetime,
    resolver: Resolver,
    pending: AbstractSet[tuple[str, str]] = frozenset(),
    run: ImportRun | None = None,
) -> MergeResult:
    """Merges ``incoming`` (field → canonical text; empty values are ignored) into ``obj``
    by the rules above. Does not save; returns what was filled, confirmed and which
    conflicts (unsaved) arose. ``pending`` holds (field, value) pairs already waiting
    for a decision on this record, so that importing the same file twice lists a
    disagreement once."""
    result = MergeResult()
    at = now_iso(now)
    sources = dict(obj.sources or {})
    for name, value in incoming.items():
        if value in (None, ""):
            continue
        current = canonical(obj, name=name, resolver=resolver)
        if current == "":
            assign(obj, name=name, value=value, resolver=resolver)
            sources[name] = {"source": source, "at": at}
            result.filled.append(name)
        elif current == value:
            entry = dict(sources.get(name) or {"source": source})
            entry["at"] = at
            if entry.get("source") != source:
                entry["by"] = source
            sources[name] = entry
            result.confirmed.append(name)
        elif (name, value) not in pending:
            result.conflicts.append(
                _conflict_for(
                    obj,
                    field=name,
                    current_value=current,
                    incoming_value=value,
                    source=source,
                    import_run=run,
                    created_at=now,
                )
            )
    obj.sources = sources
    obj.confirmed_at = now
    return result


def pending_pairs(conflicts: Iterable[MergeConflict]) -> dict[int, set[tuple[str, str]]]:
    """{target id: {(field, incoming value)}} of pending conflicts (values decrypted)."""
    pairs: dict[int, set[tuple[str, str]]] = {}
    for conflict in conflicts:
        target = cast(int, conflict.person_id or conflict.house_id or conflict.building_id)  # one of them is set
        pairs.setdefault(target, set()).add((conflict.field, conflict.incoming_value))
    return pairs


# --- deciding a conflict ------------------------------------------------------------------------


@transaction.atomic
def resolve_conflict(user: User, *, conflict_id: int, choice: str) -> MergeConflict:
    """Decides a conflict: ``keep`` the current value (confirmed now by the decider) or
    ``take`` the incoming value (its source becomes the field's source)."""
    permissions.require(user, "registry.edit")
    conflict = (
        MergeConflict.objects.select_for_update(of=("self",))
        .select_related("person__household__house__building", "house__building", "building")
        .filter(pk=conflict_id)
        .first()
    )
    if conflict is None:
        raise NotFound(_("冲突记录不存在。"))
    if not selectors.may_edit_place(user, *selectors.conflict_place(conflict)):
        raise NotAllowed(_("只有本网格的网格员、本社区工作人员和管理员可以决定此冲突。"))
    if conflict.choice:
        raise InvalidTransition(
            _("此冲突已由%(user)s于%(at)s决定。")
            % {"user": conflict.decided_by, "at": timezone.localtime(conflict.decided_at).strftime("%Y-%m-%d %H:%M")}
        )
    if choice not in (MergeConflict.Choice.KEEP, MergeConflict.Choice.TAKE):
        raise ValidationFailed("choice", _("请选择“保留现有值”或“采用新来源的值”。"))
    now = timezone.now()
    target = conflict.target
    sources = dict(target.sources or {})
    decider = _("人工决定（%(user)s）") % {"user": user.username}
    if conflict.field == HEAD_FIELD:
        if choice == MergeConflict.Choice.TAKE:
            _make_head(target)
    elif choice == MergeConflict.Choice.TAKE:
        assign(target, name=conflict.field, value=conflict.incoming_value, resolver=Resolver())
        sources[conflict.field] = {"source": conflict.source, "at": now_iso(now), "by": decider}
    else:
        entry = dict(sources.get(conflict.field) or {"source": ""})
        entry.update(at=now_iso(now), by=decider)
        sources[conflict.field] = entry
    target.sources = sources
    target.confirmed_at = now
    target.save()
    conflict.choice = choice
    conflict.decided_by = user
    conflict.decided_at = now
    conflict.save(update_fields=["choice", "decided_by", "decided_at"])
    return conflict


def _make_head(person):
    household = person.household
    if household is None:
        raise ValidationFailed("household", _("此人目前不属于任何户，无法设为户主。"))
    former = household.head
    if former is not None and former.pk != person.pk:
        former.relation = ""
        former.save(update_fields=["relation"])
    household.head = person
    household.save(update_fields=["head"])
    person.relation = Person.Relation.HEAD


def stamp_admin_change(user: User, *, obj: Sourced, changed_fields: list[str]) -> Sourced:
    """Records the administrator as the source of the fields changed in the admin (the
    admin then saves the record)."""
    now = timezone.now()
    source = _("系统管理（%(user)s）") % {"user": user.username}
    sources = dict(obj.sources or {})
    for name in changed_fields:
        sources[name] = {"source": source, "at": now_iso(now)}
    obj.sources = sources
    obj.confirmed_at = now
    return obj
