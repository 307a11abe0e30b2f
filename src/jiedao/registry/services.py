"""Every write of the registry: persons, households, tags, visits, conflicts and imports.

"一数一源" — the merge rules, the same for a form, the API and an imported file:

- a person is found by identity number (its keyed hash); the same number exists once;
- a field that is empty on the record is filled from the incoming source;
- a field whose value equals the incoming one has its confirmation time refreshed;
- a field whose value differs is left alone and a :class:`MergeConflict` is listed for
  a person to decide (:func:`resolve_conflict`: keep the current value or take the new);
- every field remembers the source that gave it and when it was last confirmed, and
  every record when any source last confirmed it (data freshness is measured on that).

Imports are all or nothing per file: every row is checked first and the file is
refused with a row-by-row report if any row breaks a rule; only a clean file is
written, in one transaction.
"""

import datetime as dt
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.crypto import blind_index
from jiedao.common.errors import FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, Grid, User

from . import selectors, sheets, validation
from .models import (
    Building,
    CareTag,
    House,
    Household,
    ImportRun,
    MergeConflict,
    Person,
    PersonTag,
    Visit,
)

logger = logging.getLogger("jiedao.registry")

MAX_SOURCE = 100
# Files with more data rows than this are imported by the worker, with progress shown.
SYNC_IMPORT_ROWS = 2000
PROGRESS_EVERY = 200
MAX_KEPT_ERRORS = 2000
BATCH = 500
VISIT_NOTE_MAX = 2000
# A visit may be logged up to this long after it happened.
VISIT_BACKDATE_DAYS = 31

GENDERS = {
    "男": Person.Gender.MALE,
    "女": Person.Gender.FEMALE,
    "male": Person.Gender.MALE,
    "female": Person.Gender.FEMALE,
    "m": Person.Gender.MALE,
    "f": Person.Gender.FEMALE,
}
RELATIONS = {str(label): code for code, label in Person.Relation.choices}
RELATIONS.update(
    {
        "本人": Person.Relation.HEAD,
        "妻子": Person.Relation.SPOUSE,
        "丈夫": Person.Relation.SPOUSE,
        "儿子": Person.Relation.CHILD,
        "女儿": Person.Relation.CHILD,
        "孙子": Person.Relation.GRANDCHILD,
        "孙女": Person.Relation.GRANDCHILD,
        "外孙": Person.Relation.GRANDCHILD,
        "外孙女": Person.Relation.GRANDCHILD,
        "父亲": Person.Relation.PARENT,
        "母亲": Person.Relation.PARENT,
    }
)
RELATIONS.update({code: code for code in Person.Relation.values})
STATUSES = {str(label): code for code, label in Person.Status.choices}
STATUSES.update({code: code for code in Person.Status.values})
USES = {str(label): code for code, label in House.Use.choices}
USES.update({code: code for code in House.Use.values})
TAG_SEPARATORS = "、,，;；/ "

PERSON_FIELDS = ("name", "gender", "birth_date", "phone", "household", "relation", "status", "note")
HOUSE_FIELDS = ("floor", "use")
BUILDING_FIELDS = ("name", "address", "community", "grid", "lat", "lng", "floors", "head")
# A special conflict field: a source names a different 户主 for the household.
HEAD_FIELD = "household_head"


def _now_iso(now):
    return now.astimezone(dt.UTC).isoformat()


def _clean_source(source, fallback):
    source = (source or "").strip() or fallback
    if len(source) > MAX_SOURCE:
        raise ValidationFailed("source", _("数据来源不能超过%(max)d个字。") % {"max": MAX_SOURCE})
    return source


def _manual_source(user):
    return _("手工录入（%(user)s）") % {"user": user.username}


# --- canonical values and the merge -----------------------------------------------------------


class Resolver:
    """Looks up what canonical values name (household numbers, grid codes …), with a cache."""

    def __init__(self):
        self.households, self.communities, self.grids, self.users = {}, {}, {}, {}

    def household(self, number):
        if number not in self.households:
            self.households[number] = Household.objects.filter(number=number).first()
        return self.households[number]

    def community(self, code):
        if code not in self.communities:
            self.communities[code] = Community.objects.filter(code=code).first()
        return self.communities[code]

    def grid(self, code):
        if code not in self.grids:
            self.grids[code] = Grid.objects.filter(code=code).first()
        return self.grids[code]

    def user(self, username):
        if username not in self.users:
            self.users[username] = User.objects.filter(username=username).first()
        return self.users[username]


def _float_text(value):
    return "" if value is None else f"{float(value):.6f}"


def canonical(obj, name, resolver=None):
    """A field of a record as text, for comparison with an incoming value."""
    if isinstance(obj, Person):
        if name == "birth_date":
            return obj.birth_date.isoformat() if obj.birth_date else ""
        if name == "household":
            if obj.household_id is None:
                return ""
            return obj.household.number
        return getattr(obj, name) or ""
    if isinstance(obj, House):
        if name == "floor":
            return "" if obj.floor is None else str(obj.floor)
        return obj.use or ""
    if isinstance(obj, Building):
        if name == "community":
            return obj.community.code if obj.community_id else ""
        if name == "grid":
            return obj.grid.code if obj.grid_id else ""
        if name in ("lat", "lng"):
            return _float_text(getattr(obj, name))
        if name == "floors":
            return "" if obj.floors is None else str(obj.floors)
        if name == "head":
            return obj.head.username if obj.head_id else ""
        return getattr(obj, name) or ""
    raise TypeError(obj)


def assign(obj, name, value, resolver):
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
            obj.community = resolver.community(value)
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


def merge(obj, incoming, source, now, resolver, *, pending=frozenset(), run=None):
    """Merges ``incoming`` (field → canonical text; empty values are ignored) into ``obj``
    by the rules above. Does not save; returns what was filled, confirmed and which
    conflicts (unsaved) arose. ``pending`` holds (field, value) pairs already waiting
    for a decision on this record, so that importing the same file twice lists a
    disagreement once."""
    result = MergeResult()
    at = _now_iso(now)
    sources = dict(obj.sources or {})
    for name, value in incoming.items():
        if value in (None, ""):
            continue
        current = canonical(obj, name, resolver)
        if current == "":
            assign(obj, name, value, resolver)
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


def _pending_pairs(conflicts):
    """{target id: {(field, incoming value)}} of pending conflicts (values decrypted)."""
    pairs = {}
    for conflict in conflicts:
        target = conflict.person_id or conflict.house_id or conflict.building_id
        pairs.setdefault(target, set()).add((conflict.field, conflict.incoming_value))
    return pairs


def _new_sources(values, source, now):
    at = _now_iso(now)
    return {name: {"source": source, "at": at} for name, value in values.items() if value not in (None, "")}


# --- persons, households, tags ----------------------------------------------------------------


def _person_or_404(user, person_id):
    try:
        return selectors.person_for(user, person_id)
    except NotFound:
        raise
    except NotAllowed:
        raise NotFound(_("人员档案不存在或您无权查看。")) from None


def _require_edit(user, person):
    if not selectors.may_edit(user, person):
        raise NotAllowed(_("只有本网格的网格员、本社区工作人员和管理员可以修改此人的档案。"))


def _check_person_values(errors, values, *, creating):
    """Checks form/API values of a person; returns canonical values (only the keys given)."""
    out = {}
    if "name" in values or creating:
        name = (values.get("name") or "").strip()
        if not name:
            errors.add("name", _("姓名必须填写。"))
        elif len(name) > 50:
            errors.add("name", _("姓名不能超过50个字。"))
        out["name"] = name
    id_number = ""
    if "id_number" in values:
        id_number = validation.check_id_number(errors, "id_number", values.get("id_number"))
        out["id_number"] = id_number
    id_ok = len(id_number) == 18 and not any(e["field"] == "id_number" for e in errors.errors)
    if "gender" in values:
        raw = (values.get("gender") or "").strip()
        gender = GENDERS.get(raw.lower()) if raw else ""
        if gender is None:
            errors.add("gender", _("性别应为“男”或“女”。"))
            gender = ""
        if gender and id_ok and gender != validation.id_gender(id_number):
            errors.add("gender", _("性别与身份证号第17位不符。"))
        out["gender"] = gender
    elif id_ok and creating:
        out["gender"] = validation.id_gender(id_number)
    if "birth_date" in values:
        birth = validation.parse_date(errors, "birth_date", values.get("birth_date"), _("出生日期"))
        if birth and id_ok and birth != validation.id_birth_date(id_number):
            errors.add("birth_date", _("出生日期与身份证号第7至14位不符。"))
        out["birth_date"] = birth.isoformat() if birth else ""
    elif id_ok and creating:
        out["birth_date"] = validation.id_birth_date(id_number).isoformat()
    if "phone" in values:
        out["phone"] = validation.check_mobile(errors, "phone", values.get("phone"))
    if "relation" in values:
        raw = (values.get("relation") or "").strip()
        relation = RELATIONS.get(raw) if raw else ""
        if relation is None:
            errors.add(
                "relation",
                _("与户主关系应为：%(choices)s。")
                % {"choices": "、".join(str(label) for _c, label in Person.Relation.choices)},
            )
            relation = ""
        out["relation"] = relation
    if "status" in values:
        raw = (values.get("status") or "").strip()
        status = STATUSES.get(raw) if raw else Person.Status.LIVING
        if status is None:
            errors.add(
                "status",
                _("居住状态应为：%(choices)s。")
                % {"choices": "、".join(str(label) for _c, label in Person.Status.choices)},
            )
            status = Person.Status.LIVING
        out["status"] = status
    if "note" in values:
        note = (values.get("note") or "").strip()
        if len(note) > 200:
            errors.add("note", _("备注不能超过200个字。"))
        out["note"] = note
    return out


@transaction.atomic
def create_person(user, *, household=None, source=None, **values):
    """A new person by hand (form or API). ``household``: a household number. The person
    must not exist yet (same identity number): then the error names the existing record."""
    permissions.require(user, "registry.edit")
    errors = FieldErrors()
    clean = _check_person_values(errors, values, creating=True)
    target = None
    if household:
        target = Household.objects.select_related("house__building").filter(number=household).first()
        if target is None:
            errors.add("household", _("户编号“%(number)s”不存在。") % {"number": household})
    errors.raise_if_any()
    building = target.house.building if target else None
    if not selectors.may_edit_place(
        user, building.grid_id if building else None, building.community_id if building else None
    ):
        raise NotAllowed(_("只能为本人负责的网格或社区建档（不属于任何户的人员只能由管理员建档）。"))
    id_number = clean.pop("id_number", "")
    if id_number and Person.objects.filter(id_index=blind_index(id_number)).exists():
        raise ValidationFailed("id_number", _("该身份证号的人员已建档，同一人只能有一个档案；请在原档案上修改。"))
    now = timezone.now()
    source = _clean_source(source, _manual_source(user))
    person = Person(
        id_number=id_number, id_index=blind_index(id_number) if id_number else "", created_at=now, confirmed_at=now
    )
    resolver = Resolver()
    incoming = {k: v for k, v in clean.items() if v not in (None, "")}
    if target:
        resolver.households[target.number] = target
        incoming["household"] = target.number
    for name, value in incoming.items():
        assign(person, name, value, resolver)
    sources = _new_sources(incoming, source, now)
    if id_number:
        sources["id_number"] = {"source": source, "at": _now_iso(now)}
    person.sources = sources
    person.save()
    if target and person.relation == Person.Relation.HEAD and target.head_id is None:
        target.head = person
        target.save(update_fields=["head"])
    return person


@transaction.atomic
def update_person(user, person_id, *, source=None, **values):
    """Changes fields by hand. A person who may edit decides, so the values are set
    (not listed as conflicts) and their source is the editor."""
    permissions.require(user, "registry.edit")
    person = _person_or_404(user, person_id)
    _require_edit(user, person)
    if "id_number" in values:
        raise ValidationFailed("id_number", _("身份证号是档案的唯一标识，不能修改；号码有误请由管理员处理。"))
    errors = FieldErrors()
    clean = _check_person_values(errors, values, creating=False)
    errors.raise_if_any()
    if (
        "birth_date" in clean
        and person.id_number
        and clean["birth_date"]
        and dt.date.fromisoformat(clean["birth_date"]) != validation.id_birth_date(person.id_number)
    ):
        raise ValidationFailed("birth_date", _("出生日期与身份证号第7至14位不符。"))
    now = timezone.now()
    source = _clean_source(source, _manual_source(user))
    sources = dict(person.sources or {})
    resolver = Resolver()
    for name, value in clean.items():
        assign(person, name, value, resolver)
        sources[name] = {"source": source, "at": _now_iso(now)}
    person.sources = sources
    person.confirmed_at = now
    person.save()
    return person


@transaction.atomic
def add_to_household(user, person_id, household_number, relation, source=None):
    """Moves a person into a household with a relation to its head (户主 only when the
    household has none yet)."""
    permissions.require(user, "registry.edit")
    person = _person_or_404(user, person_id)
    if person.household_id is not None:
        _require_edit(user, person)
    household = Household.objects.select_related("house__building").filter(number=household_number).first()
    if household is None:
        raise ValidationFailed("household", _("户编号“%(number)s”不存在。") % {"number": household_number})
    building = household.house.building
    if not selectors.may_edit_place(user, building.grid_id, building.community_id):
        raise NotAllowed(_("只能把人员加入本人负责的网格或社区的户。"))
    errors = FieldErrors()
    clean = _check_person_values(errors, {"relation": relation}, creating=False)
    if not clean["relation"]:
        errors.add("relation", _("请选择与户主的关系。"))
    errors.raise_if_any()
    if clean["relation"] == Person.Relation.HEAD and household.head_id not in (None, person.pk):
        raise ValidationFailed(
            "relation", _("该户已有户主（%(name)s）；请先更改原户主的关系。") % {"name": household.head.name}
        )
    now = timezone.now()
    source = _clean_source(source, _manual_source(user))
    person.household = household
    person.relation = clean["relation"]
    sources = dict(person.sources or {})
    for name in ("household", "relation"):
        sources[name] = {"source": source, "at": _now_iso(now)}
    person.sources = sources
    person.confirmed_at = now
    person.save()
    if person.relation == Person.Relation.HEAD:
        household.head = person
        household.save(update_fields=["head"])
    return person


def _tag(value):
    tag = (
        CareTag.objects.filter(active=True).filter(code=value).first()
        or CareTag.objects.filter(active=True, name=value).first()
    )
    if tag is None:
        raise ValidationFailed("tag", _("关怀标签“%(tag)s”不存在或已停用。") % {"tag": value})
    return tag


@transaction.atomic
def tag_person(user, person_id, tag, source=None):
    permissions.require(user, "registry.edit")
    person = _person_or_404(user, person_id)
    _require_edit(user, person)
    care = _tag(tag)
    PersonTag.objects.get_or_create(
        person=person,
        tag=care,
        defaults={"added_by": user, "source": _clean_source(source, _manual_source(user)), "added_at": timezone.now()},
    )
    return person


@transaction.atomic
def untag_person(user, person_id, tag):
    permissions.require(user, "registry.edit")
    person = _person_or_404(user, person_id)
    _require_edit(user, person)
    care = CareTag.objects.filter(code=tag).first() or CareTag.objects.filter(name=tag).first()
    if care is None:
        raise ValidationFailed("tag", _("关怀标签“%(tag)s”不存在。") % {"tag": tag})
    PersonTag.objects.filter(person=person, tag=care).delete()
    return person


DEFAULT_TAGS = [
    ("alone_elderly", "独居老人", "独自居住的60岁以上老人", 10),
    ("empty_nest", "空巢老人", "子女不在身边的老人家庭", 20),
    ("disabled", "残疾人", "持残疾人证", 30),
    ("subsistence", "低保", "享受最低生活保障", 40),
    ("chronic", "慢性病", "需定期随访的慢性病患者", 50),
    ("key_person", "重点人员", "需重点关注的人员", 60),
    ("left_behind_child", "留守儿童", "父母外出、由他人照看的未成年人", 70),
    ("special_hardship", "特困供养", "特困人员救助供养对象", 80),
    ("veteran", "优抚对象", "退役军人及其他优抚对象", 90),
]


def ensure_default_tags():
    """The special-care groups a street starts with (also written by the migration)."""
    for code, name, description, order in DEFAULT_TAGS:
        CareTag.objects.get_or_create(code=code, defaults={"name": name, "description": description, "order": order})
    return {t.code: t for t in CareTag.objects.all()}


def stamp_admin_change(user, obj, changed_fields):
    """Records the administrator as the source of the fields changed in the admin (the
    admin then saves the record)."""
    now = timezone.now()
    source = _("系统管理（%(user)s）") % {"user": user.username}
    sources = dict(obj.sources or {})
    for name in changed_fields:
        sources[name] = {"source": source, "at": _now_iso(now)}
    obj.sources = sources
    obj.confirmed_at = now
    return obj


# --- visits (探访) ------------------------------------------------------------------------------


@transaction.atomic
def record_visit(user, person_id, *, kind, at=None, note=""):
    """A visit by a grid worker (or the community's staff) to a person of their area."""
    permissions.require(user, "registry.visit")
    person = _person_or_404(user, person_id)
    if not selectors.may_edit(user, person):
        raise NotAllowed(_("只有本网格的网格员、本社区工作人员和管理员可以登记对此人的探访。"))
    errors = FieldErrors()
    if kind not in Visit.Kind.values:
        errors.add("kind", _("探访方式应为“上门”或“电话”。"))
    now = timezone.now()
    at = at or now
    if isinstance(at, str):
        try:
            at = dt.datetime.fromisoformat(at)
        except ValueError:
            errors.add("at", _("探访时间格式不正确，应如 2026-11-18T09:30。"))
            at = now
    try:
        params.check_datetime(at, "at")
    except ValidationFailed as exc:
        errors.add("at", exc.errors[0]["message"])
        at = now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        errors.add("at", _("探访时间不能晚于现在。"))
    elif at < now - dt.timedelta(days=VISIT_BACKDATE_DAYS):
        errors.add("at", _("只能补登%(days)d天内的探访。") % {"days": VISIT_BACKDATE_DAYS})
    note = (note or "").strip()
    if len(note) > VISIT_NOTE_MAX:
        errors.add("note", _("情况记录不能超过%(max)d个字。") % {"max": VISIT_NOTE_MAX})
    errors.raise_if_any()
    return Visit.objects.create(person=person, worker=user, at=at, kind=kind, note=note, created_at=now)


# --- conflicts --------------------------------------------------------------------------------


@transaction.atomic
def resolve_conflict(user, conflict_id, choice):
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
        assign(target, conflict.field, conflict.incoming_value, Resolver())
        sources[conflict.field] = {"source": conflict.source, "at": _now_iso(now), "by": decider}
    else:
        entry = dict(sources.get(conflict.field) or {"source": ""})
        entry.update(at=_now_iso(now), by=decider)
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


# --- imports ---------------------------------------------------------------------------------


class RowErrors:
    """Collects the errors of one row as ``第N行 列名: 规则`` entries."""

    def __init__(self, kind, row, sink):
        self.kind, self.row, self.sink, self.count = kind, row, sink, 0

    def add(self, fieldname, message):
        column = sheets.column_label(self.kind, fieldname)
        self.sink.append(
            {"row": self.row, "column": column, "field": f"第{self.row}行 {column}", "message": str(message)}
        )
        self.count += 1

    def __bool__(self):
        return bool(self.count)


def _text(value):
    return validation.cell_text(value)


def _too_long(errors, fieldname, text, limit):
    if len(text) > limit:
        errors.add(fieldname, _("不能超过%(max)d个字。") % {"max": limit})
        return True
    return False


class Progress:
    def __init__(self, callback, total):
        self.callback, self.total = callback, total

    def __call__(self, phase, done, force=False):
        if self.callback and (force or done % PROGRESS_EVERY == 0):
            self.callback(phase, done, self.total)


def _address_key(building_code, unit, room):
    return (building_code, unit, room)


@dataclass
class PersonRow:
    row: int
    id_number: str
    values: dict  # canonical person values except household
    tags: list
    building_code: str = ""
    unit: str = ""
    room: str = ""
    floor: str = ""
    household_number: str = ""


def _split_tags(text):
    for separator in TAG_SEPARATORS[1:]:
        text = text.replace(separator, TAG_SEPARATORS[0])
    return [t for t in (part.strip() for part in text.split(TAG_SEPARATORS[0])) if t]


def _check_common_person(e, row, today):
    """Name, identity number, gender, birth date and phone of a person row (persons or households)."""
    values = {}
    name = _text(row.get("name"))
    if not name:
        e.add("name", _("必须填写。"))
    else:
        _too_long(e, "name", name, 50)
    values["name"] = name
    before = e.count
    id_number = validation.check_id_number(e, "id_number", row.get("id_number"), label="", required=True, today=today)
    id_ok = bool(id_number) and e.count == before
    gender_text = _text(row.get("gender"))
    gender = GENDERS.get(gender_text.lower()) if gender_text else ""
    if gender is None:
        e.add("gender", _("应为“男”或“女”。"))
    elif gender and id_ok and gender != validation.id_gender(id_number):
        e.add("gender", _("与身份证号第17位（奇数为男、偶数为女）不符。"))
    if id_ok and not gender:
        gender = validation.id_gender(id_number)
    values["gender"] = gender or ""
    birth = validation.parse_date(e, "birth_date", row.get("birth_date"), "")
    if birth and id_ok and birth != validation.id_birth_date(id_number):
        e.add("birth_date", _("与身份证号第7至14位的出生日期不符。"))
    if id_ok and not birth:
        birth = validation.id_birth_date(id_number)
    values["birth_date"] = birth.isoformat() if birth else ""
    values["phone"] = validation.check_mobile(e, "phone", row.get("phone"), label="")
    return id_number, id_ok, values


def _check_persons(rows, progress, today):
    errors = []
    building_codes = {_text(r.get("building_code")) for r in rows} - {""}
    numbers = {_text(r.get("household_number")) for r in rows} - {""}
    buildings = set(Building.objects.filter(code__in=building_codes).values_list("code", flat=True))
    households = {h.number: h for h in Household.objects.filter(number__in=numbers).select_related("house__building")}
    tags = {t.name: t for t in CareTag.objects.filter(active=True)}
    tag_names = "、".join(tags)
    seen, heads, prepared = {}, {}, []
    for done, row in enumerate(rows, start=1):
        e = RowErrors("persons", row["row"], errors)
        id_number, id_ok, values = _check_common_person(e, row, today)
        if id_ok:
            if id_number in seen:
                e.add("id_number", _("与第%(row)d行是同一个身份证号，同一人只能出现一次。") % {"row": seen[id_number]})
            else:
                seen[id_number] = row["row"]
        number = _text(row.get("household_number"))
        code = _text(row.get("building_code"))
        unit = _text(row.get("unit"))
        room = _text(row.get("room"))
        floor = validation.parse_int(e, "floor", row.get("floor"), "", -10, 200)
        _too_long(e, "household_number", number, 40)
        _too_long(e, "unit", unit, 10)
        _too_long(e, "room", room, 20)
        if code:
            if code not in buildings:
                e.add("building_code", _("楼栋“%(code)s”未登记，请先导入楼栋。") % {"code": code})
            if not room:
                e.add("room", _("填写了楼栋编码时必须填写房号。"))
            existing = households.get(number) if number else None
            if existing is not None and (existing.house.building.code, existing.house.unit, existing.house.room) != (
                code,
                unit,
                room,
            ):
                e.add(
                    "household_number",
                    _("该户编号已登记在%(house)s，与本行的楼栋、单元、房号不一致。") % {"house": existing.house},
                )
        elif room or unit:
            e.add("building_code", _("填写了单元或房号时必须填写楼栋编码。"))
        elif number and number not in households:
            e.add(
                "household_number", _("户编号“%(number)s”不存在；新户请同时填写楼栋编码和房号。") % {"number": number}
            )
        relation_text = _text(row.get("relation"))
        relation = RELATIONS.get(relation_text) if relation_text else ""
        if relation is None:
            e.add(
                "relation",
                _("应为：%(choices)s。") % {"choices": "、".join(str(label) for _c, label in Person.Relation.choices)},
            )
        elif relation and not (code or number):
            e.add("relation", _("填写与户主关系时须同时填写户编号或楼栋、房号。"))
        values["relation"] = relation or ""
        status_text = _text(row.get("status"))
        status = STATUSES.get(status_text) if status_text else ""
        if status is None:
            e.add(
                "status",
                _("应为：%(choices)s。") % {"choices": "、".join(str(label) for _c, label in Person.Status.choices)},
            )
        values["status"] = status or ""
        note = _text(row.get("note"))
        _too_long(e, "note", note, 200)
        values["note"] = note
        row_tags = []
        for tag_name in _split_tags(_text(row.get("tags"))):
            if tag_name not in tags:
                e.add("tags", _("标签“%(tag)s”不存在，可用的标签：%(tags)s。") % {"tag": tag_name, "tags": tag_names})
            else:
                row_tags.append(tags[tag_name])
        if relation == Person.Relation.HEAD:
            key = number or _address_key(code, unit, room)
            if key in heads:
                e.add("relation", _("与第%(row)d行同属一户，一户只能有一位户主。") % {"row": heads[key]})
            else:
                heads[key] = row["row"]
        if not e:
            prepared.append(
                PersonRow(
                    row=row["row"],
                    id_number=id_number,
                    values=values,
                    tags=row_tags,
                    building_code=code,
                    unit=unit,
                    room=room,
                    floor="" if floor is None else str(floor),
                    household_number=number,
                )
            )
        progress("check", done)
    if errors:
        raise ValidationFailed(errors=errors)
    return prepared


@dataclass
class HouseholdRow:
    row: int
    number: str
    building_code: str
    unit: str
    room: str
    floor: str
    use: str
    head: dict = None  # {"id_number", "values"} or None


def _check_households(rows, progress, today):
    errors = []
    codes = {_text(r.get("building_code")) for r in rows} - {""}
    numbers = {_text(r.get("household_number")) for r in rows} - {""}
    buildings = set(Building.objects.filter(code__in=codes).values_list("code", flat=True))
    households = {h.number: h for h in Household.objects.filter(number__in=numbers).select_related("house__building")}
    seen_numbers, seen_places, seen_ids, prepared = {}, {}, {}, []
    for done, row in enumerate(rows, start=1):
        e = RowErrors("households", row["row"], errors)
        number = _text(row.get("household_number"))
        code = _text(row.get("building_code"))
        unit = _text(row.get("unit"))
        room = _text(row.get("room"))
        _too_long(e, "household_number", number, 40)
        _too_long(e, "unit", unit, 10)
        _too_long(e, "room", room, 20)
        if not code:
            e.add("building_code", _("必须填写。"))
        elif code not in buildings:
            e.add("building_code", _("楼栋“%(code)s”未登记，请先导入楼栋。") % {"code": code})
        if not room:
            e.add("room", _("必须填写。"))
        floor = validation.parse_int(e, "floor", row.get("floor"), "", -10, 200)
        use_text = _text(row.get("use"))
        use = USES.get(use_text) if use_text else ""
        if use is None:
            e.add(
                "use", _("应为：%(choices)s。") % {"choices": "、".join(str(label) for _c, label in House.Use.choices)}
            )
        existing = households.get(number) if number else None
        if existing is not None and (existing.house.building.code, existing.house.unit, existing.house.room) != (
            code,
            unit,
            room,
        ):
            e.add(
                "household_number",
                _("该户编号已登记在%(house)s，与本行的楼栋、单元、房号不一致。") % {"house": existing.house},
            )
        if number:
            if number in seen_numbers:
                e.add("household_number", _("与第%(row)d行的户编号重复。") % {"row": seen_numbers[number]})
            seen_numbers.setdefault(number, row["row"])
        else:
            place = (code, unit, room)
            if place in seen_places:
                e.add("room", _("与第%(row)d行是同一房屋；一房多户时请填写户编号。") % {"row": seen_places[place]})
            seen_places.setdefault(place, row["row"])
        head = None
        head_values = {
            "name": row.get("head_name"),
            "id_number": row.get("head_id_number"),
            "phone": row.get("head_phone"),
        }
        if any(_text(v) for v in head_values.values()):
            sub = _HeadErrors(e)
            id_number, id_ok, values = _check_common_person(sub, head_values, today)
            if id_ok:
                if id_number in seen_ids:
                    e.add("head_id_number", _("与第%(row)d行的户主是同一个身份证号。") % {"row": seen_ids[id_number]})
                seen_ids.setdefault(id_number, row["row"])
            values["relation"] = Person.Relation.HEAD
            head = {"id_number": id_number, "values": values}
        if not e:
            prepared.append(
                HouseholdRow(
                    row=row["row"],
                    number=number,
                    building_code=code,
                    unit=unit,
                    room=room,
                    floor="" if floor is None else str(floor),
                    use=use or "",
                    head=head,
                )
            )
        progress("check", done)
    if errors:
        raise ValidationFailed(errors=errors)
    return prepared


class _HeadErrors:
    """Maps the person checks (name, id_number, phone) to the households sheet's head columns."""

    NAMES = {
        "name": "head_name",
        "id_number": "head_id_number",
        "phone": "head_phone",
        "gender": "head_id_number",
        "birth_date": "head_id_number",
    }

    def __init__(self, row_errors):
        self.row_errors = row_errors

    @property
    def count(self):
        return self.row_errors.count

    def add(self, fieldname, message):
        self.row_errors.add(self.NAMES.get(fieldname, fieldname), message)


def _grid_id_at(lat, lng):
    from jiedao.geo.locate import grid_id_at

    return grid_id_at(lat, lng)


def _check_buildings(rows, progress, today):
    errors = []
    communities = {}
    for community in Community.objects.all():
        communities[community.code] = community
        communities.setdefault(community.name, community)
    grids = {g.code: g for g in Grid.objects.select_related("community")}
    grids_by_id = {g.pk: g for g in grids.values()}
    heads = {_text(r.get("head")) for r in rows} - {""}
    users = set(User.objects.filter(username__in=heads).values_list("username", flat=True))
    seen, prepared = {}, []
    for done, row in enumerate(rows, start=1):
        e = RowErrors("buildings", row["row"], errors)
        code = _text(row.get("code"))
        name = _text(row.get("name"))
        address = _text(row.get("address"))
        for fieldname, text, limit in (("code", code, 30), ("name", name, 60), ("address", address, 200)):
            if not text:
                e.add(fieldname, _("必须填写。"))
            else:
                _too_long(e, fieldname, text, limit)
        if code:
            if code in seen:
                e.add("code", _("与第%(row)d行的楼栋编码重复。") % {"row": seen[code]})
            seen.setdefault(code, row["row"])
        community_text = _text(row.get("community"))
        community = communities.get(community_text)
        if not community_text:
            e.add("community", _("必须填写。"))
        elif community is None:
            e.add("community", _("社区“%(name)s”不存在。") % {"name": community_text})
        lat = validation.parse_float(e, "lat", row.get("lat"), "", -90, 90)
        lng = validation.parse_float(e, "lng", row.get("lng"), "", -180, 180)
        if (lat is None) != (lng is None) and not e:
            e.add("lat" if lat is None else "lng", _("纬度和经度须同时填写。"))
        grid_code = _text(row.get("grid"))
        grid = None
        if grid_code:
            grid = grids.get(grid_code)
            if grid is None:
                e.add("grid", _("网格“%(code)s”不存在。") % {"code": grid_code})
            elif community is not None and grid.community_id != community.pk:
                e.add("grid", _("网格“%(code)s”不属于%(community)s。") % {"code": grid_code, "community": community})
        elif lat is not None and lng is not None:
            grid = grids_by_id.get(_grid_id_at(lat, lng))
            if grid is not None and community is not None and grid.community_id != community.pk:
                e.add(
                    "grid",
                    _("按经纬度落在%(grid)s，不属于%(community)s；请核对经纬度或填写网格编码。")
                    % {"grid": grid, "community": community},
                )
        floors = validation.parse_int(e, "floors", row.get("floors"), "", 1, 200)
        head = _text(row.get("head"))
        if head and head not in users:
            e.add("head", _("账号“%(user)s”不存在。") % {"user": head})
        if not e:
            prepared.append(
                {
                    "row": row["row"],
                    "code": code,
                    "values": {
                        "name": name,
                        "address": address,
                        "community": community.code,
                        "grid": grid.code if grid else "",
                        "lat": _float_text(lat),
                        "lng": _float_text(lng),
                        "floors": "" if floors is None else str(floors),
                        "head": head,
                    },
                }
            )
        progress("check", done)
    if errors:
        raise ValidationFailed(errors=errors)
    return prepared


# --- writing a clean file -----------------------------------------------------------------------


def bulk_set(model, objects, fields):
    """``UPDATE … SET fields WHERE id = …`` for many rows in one ``executemany`` (values
    prepared as the fields would save them: encrypted, JSON, UTC). Django's bulk_update
    builds a CASE expression per field and row, which is far slower for thousands of rows."""
    if not objects:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(c.column)} = %s" for c in columns)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    params = [[c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns] + [obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        for start in range(0, len(params), BATCH):
            cursor.executemany(sql, params[start : start + BATCH])


@dataclass
class Writer:
    """What one import writes; keeps caches of the records it touches."""

    source: str
    now: dt.datetime
    run: ImportRun
    resolver: Resolver = field(default_factory=Resolver)
    counts: dict = field(
        default_factory=lambda: {
            "rows": 0,
            "created": 0,
            "updated": 0,
            "confirmed": 0,
            "conflicts": 0,
            "houses_created": 0,
            "households_created": 0,
            "tags_added": 0,
        }
    )
    conflicts: list = field(default_factory=list)
    houses: dict = field(default_factory=dict)
    buildings: dict = field(default_factory=dict)
    taken_numbers: set = field(default_factory=set)

    def load_places(self, codes, numbers):
        self.buildings = {b.code: b for b in Building.objects.filter(code__in=codes)}
        for house in House.objects.filter(building__code__in=codes).select_related("building"):
            self.houses[(house.building.code, house.unit, house.room)] = house
        for household in Household.objects.filter(house__building__code__in=codes).select_related("house"):
            self.resolver.households[household.number] = household
        for household in Household.objects.filter(number__in=numbers).select_related("house"):
            self.resolver.households[household.number] = household
        # Automatic numbers start with the building code: know every number that could collide.
        codes = sorted(codes)
        for start in range(0, len(codes), BATCH):
            prefixes = Q(pk__in=[])
            for code in codes[start : start + BATCH]:
                prefixes |= Q(number__startswith=code)
            self.taken_numbers.update(Household.objects.filter(prefixes).values_list("number", flat=True))
        self.households_by_house = {}
        for household in self.resolver.households.values():
            if household is not None:
                self.households_by_house.setdefault(household.house_id, []).append(household)
        self.pending_houses = _pending_pairs(MergeConflict.objects.filter(choice="", house__building__code__in=codes))

    def place_all(self, items):
        """The household of each item ``(building code, unit, room, floor, use, household
        number)``, in order: houses are found or created (their floor and use merged by
        the rules), then households by number, else the house's only household, else a
        new one. New rows are written in bulk."""
        new_houses, dirty = [], {}
        for code, unit, room, floor, use, _number in items:
            key = (code, unit, room)
            incoming = {"floor": floor, "use": use}
            house = self.houses.get(key)
            if house is None:
                house = House(
                    building=self.buildings[code],
                    unit=unit,
                    room=room,
                    created_at=self.now,
                    confirmed_at=self.now,
                    sources=_new_sources(incoming, self.source, self.now),
                )
                for name, value in incoming.items():
                    if value:
                        assign(house, name, value, self.resolver)
                self.houses[key] = house
                new_houses.append(house)
                continue
            result = merge(
                house,
                incoming,
                self.source,
                self.now,
                self.resolver,
                pending=self.pending_houses.get(house.pk, frozenset()),
                run=self.run,
            )
            self._note_conflicts(result)
            if house.pk is not None:
                dirty[house.pk] = house
        House.objects.bulk_create(new_houses, batch_size=BATCH)
        bulk_set(House, list(dirty.values()), ["floor", "use", "sources", "confirmed_at"])
        self.counts["houses_created"] += len(new_houses)

        households, new_households = [], []
        for code, unit, room, _floor, _use, number in items:
            house = self.houses[(code, unit, room)]
            household = self.resolver.households.get(number) if number else None
            if household is None and not number:
                existing = self.households_by_house.get(house.pk, [])
                if len(existing) > 1:
                    raise ValidationFailed("file", _("房屋%(house)s登记有多户，请填写户编号。") % {"house": house})
                household = existing[0] if existing else None
                number = None if household else self._free_number(house)
            if household is None:
                household = Household(
                    number=number,
                    house=house,
                    created_at=self.now,
                    confirmed_at=self.now,
                    sources={"house": {"source": self.source, "at": _now_iso(self.now)}},
                )
                self.resolver.households[number] = household
                self.households_by_house.setdefault(house.pk, []).append(household)
                new_households.append(household)
            households.append(household)
        Household.objects.bulk_create(new_households, batch_size=BATCH)
        self.counts["households_created"] += len(new_households)
        self.new_households = {h.pk for h in new_households}
        return households

    def _free_number(self, house):
        base = "-".join(part for part in (house.building.code, house.unit, house.room) if part)
        number, suffix = base, 2
        while number in self.taken_numbers or self.resolver.households.get(number) is not None:
            number = f"{base}-{suffix}"
            suffix += 1
        self.taken_numbers.add(number)
        return number

    def _note_conflicts(self, result):
        self.conflicts.extend(result.conflicts)
        self.counts["conflicts"] += len(result.conflicts)

    def flush_conflicts(self):
        MergeConflict.objects.bulk_create(self.conflicts, batch_size=BATCH)


def _write_persons(writer, rows, progress, heads_only=False):
    """Merges person rows ({id_number, values, household, tags}) and returns nothing;
    counts go to the writer."""
    indexes = {blind_index(r["id_number"]): r for r in rows}
    existing = {}
    keys = list(indexes)
    for start in range(0, len(keys), BATCH):
        for person in Person.objects.filter(id_index__in=keys[start : start + BATCH]).select_related("household"):
            existing[person.id_index] = person
    pending = {}
    ids = [p.pk for p in existing.values()]
    for start in range(0, len(ids), BATCH):
        pending.update(
            _pending_pairs(MergeConflict.objects.filter(choice="", person_id__in=ids[start : start + BATCH]))
        )
    new, changed, head_claims, tag_pairs = [], [], [], []
    for done, (index, row) in enumerate(indexes.items(), start=1):
        household = row.get("household")
        incoming = dict(row["values"])
        if household is not None:
            writer.resolver.households[household.number] = household
            incoming["household"] = household.number
        claims_head = incoming.get("relation") == Person.Relation.HEAD
        person = existing.get(index)
        if person is None:
            person = Person(id_number=row["id_number"], id_index=index, created_at=writer.now, confirmed_at=writer.now)
            for name, value in incoming.items():
                if value not in (None, ""):
                    assign(person, name, value, writer.resolver)
            if not person.status:
                person.status = Person.Status.LIVING
            person.sources = _new_sources(incoming, writer.source, writer.now)
            person.sources["id_number"] = {"source": writer.source, "at": _now_iso(writer.now)}
            new.append(person)
            writer.counts["created"] += 1
        else:
            head = household.head if claims_head and household is not None and household.head_id else None
            if head is not None and head.pk != person.pk:
                # Another person is this household's head: a person decides (户主变更).
                incoming.pop("relation")
                if (HEAD_FIELD, person.name) not in pending.get(person.pk, set()):
                    writer.conflicts.append(
                        MergeConflict(
                            person=person,
                            field=HEAD_FIELD,
                            current_value=head.name,
                            incoming_value=person.name,
                            source=writer.source,
                            import_run=writer.run,
                            created_at=writer.now,
                        )
                    )
                    writer.counts["conflicts"] += 1
            sources_before = dict(person.sources or {})
            sources_before.setdefault("id_number", {"source": writer.source})
            sources_before["id_number"] = {**sources_before["id_number"], "at": _now_iso(writer.now)}
            person.sources = sources_before
            result = merge(
                person,
                incoming,
                writer.source,
                writer.now,
                writer.resolver,
                pending=pending.get(person.pk, frozenset()),
                run=writer.run,
            )
            writer._note_conflicts(result)
            writer.counts["updated" if result.filled else "confirmed"] += 1
            changed.append(person)
        if claims_head and household is not None and household.head_id is None:
            head_claims.append((household, person))
        for tag in row.get("tags", []):
            tag_pairs.append((person, tag))
        progress("write", done)
    Person.objects.bulk_create(new, batch_size=BATCH)
    bulk_set(
        Person,
        changed,
        [
            "name",
            "gender",
            "birth_date",
            "phone",
            "phone_index",
            "household",
            "relation",
            "status",
            "note",
            "sources",
            "confirmed_at",
        ],
    )
    for household, person in head_claims:
        if household.head_id is None:
            household.head = person
            household.save(update_fields=["head"])
    if tag_pairs:
        person_ids = sorted({p.pk for p, _t in tag_pairs})
        have = set()
        for start in range(0, len(person_ids), BATCH):
            have.update(
                PersonTag.objects.filter(person_id__in=person_ids[start : start + BATCH]).values_list(
                    "person_id", "tag_id"
                )
            )
        fresh = {}
        for person, tag in tag_pairs:
            if (person.pk, tag.pk) not in have:
                fresh[(person.pk, tag.pk)] = PersonTag(
                    person=person, tag=tag, added_at=writer.now, source=writer.source
                )
        PersonTag.objects.bulk_create(list(fresh.values()), batch_size=BATCH)
        writer.counts["tags_added"] += len(fresh)


def _apply_persons(prepared, writer, progress):
    codes = {r.building_code for r in prepared} - {""}
    numbers = {r.household_number for r in prepared} - {""}
    writer.load_places(codes, numbers)
    placed = [r for r in prepared if r.building_code]
    households = dict(
        zip(
            (r.row for r in placed),
            writer.place_all([(r.building_code, r.unit, r.room, r.floor, "", r.household_number) for r in placed]),
            strict=False,
        )
    )
    rows = []
    for item in prepared:
        household = households.get(item.row)
        if household is None and item.household_number:
            household = writer.resolver.household(item.household_number)
        rows.append({"id_number": item.id_number, "values": item.values, "household": household, "tags": item.tags})
    _write_persons(writer, rows, progress)
    writer.counts["rows"] = len(prepared)


def _apply_households(prepared, writer, progress):
    """Counts: households and houses created; the heads' person records created, updated
    (a field filled) or confirmed."""
    codes = {r.building_code for r in prepared}
    numbers = {r.number for r in prepared} - {""}
    writer.load_places(codes, numbers)
    households = writer.place_all([(r.building_code, r.unit, r.room, r.floor, r.use, r.number) for r in prepared])
    confirmed, people = {}, []
    for done, (item, household) in enumerate(zip(prepared, households, strict=False), start=1):
        if household.pk not in writer.new_households:
            household.confirmed_at = writer.now
            confirmed[household.pk] = household
        if item.head:
            people.append(
                {"id_number": item.head["id_number"], "values": item.head["values"], "household": household, "tags": []}
            )
        progress("write", done)
    bulk_set(Household, list(confirmed.values()), ["confirmed_at"])
    _write_persons(writer, people, Progress(None, 0))
    writer.counts["rows"] = len(prepared)


def _apply_buildings(prepared, writer, progress):
    codes = [r["code"] for r in prepared]
    existing = {b.code: b for b in Building.objects.filter(code__in=codes).select_related("community", "grid", "head")}
    pending = _pending_pairs(MergeConflict.objects.filter(choice="", building__code__in=codes))
    for done, item in enumerate(prepared, start=1):
        building = existing.get(item["code"])
        if building is None:
            building = Building(code=item["code"], created_at=writer.now, confirmed_at=writer.now)
            for name, value in item["values"].items():
                if value not in (None, ""):
                    assign(building, name, value, writer.resolver)
            building.sources = _new_sources(item["values"], writer.source, writer.now)
            building.save()
            writer.counts["created"] += 1
        else:
            result = merge(
                building,
                item["values"],
                writer.source,
                writer.now,
                writer.resolver,
                pending=pending.get(building.pk, frozenset()),
                run=writer.run,
            )
            building.save()
            writer._note_conflicts(result)
            writer.counts["updated" if result.filled else "confirmed"] += 1
        progress("write", done)
    writer.counts["rows"] = len(prepared)


CHECKS = {"persons": _check_persons, "households": _check_households, "buildings": _check_buildings}
APPLY = {"persons": _apply_persons, "households": _apply_households, "buildings": _apply_buildings}


def _read_input(file):
    if isinstance(file, (bytes, bytearray)):
        return bytes(file), ""
    if isinstance(file, (str, Path)):
        path = Path(file)
        try:
            return path.read_bytes(), path.name
        except FileNotFoundError:
            raise ValidationFailed("file", _("文件不存在：%(path)s") % {"path": path}) from None
    if hasattr(file, "seek"):
        file.seek(0)
    return file.read(), os.path.basename(getattr(file, "name", "") or "")


def _check_import_args(user, kind):
    permissions.require(user, "registry.import", _("只有系统管理员可以导入基础数据。"))
    if kind not in CHECKS:
        raise ValidationFailed("kind", _("导入类型应为 persons（人员）、households（户）或 buildings（楼栋）。"))


def import_file(kind, file, user, source=None, *, filename=None, progress=None, run=None):
    """Imports a persons / households / buildings file (.xlsx or .csv), all or nothing.

    ``file`` is a path, bytes or a file object; ``source`` names where the data comes
    from (公安人口库, 社区走访 …; the file name when empty). ``progress(phase, done,
    total)`` is called as rows are checked (phase ``check``) and written (``write``).
    Returns the finished :class:`ImportRun`; raises ValidationFailed with one error
    per bad cell (``第N行 列名``) and writes nothing but the refused run."""
    _check_import_args(user, kind)
    data, name = _read_input(file)
    filename = os.path.basename(filename or name or "upload")
    source = _clean_source(source, filename)
    if run is None:
        run = ImportRun.objects.create(
            kind=kind, filename=filename[:200], source=source, user=user, state=ImportRun.State.RUNNING
        )
    today = timezone.localdate()
    try:
        rows = sheets.read_rows(kind, data, filename)
        run.total_rows = len(rows)
        report = Progress(progress, len(rows))
        report("check", 0, force=True)
        prepared = CHECKS[kind](rows, report, today)
        report("check", len(rows), force=True)
        now = timezone.now()
        with transaction.atomic():
            writer = Writer(source=source, now=now, run=run)
            report("write", 0, force=True)
            APPLY[kind](prepared, writer, report)
            writer.flush_conflicts()
            report("write", len(rows), force=True)
            run.counts = writer.counts
            run.state = ImportRun.State.DONE
            run.done_rows = len(rows)
            run.finished_at = timezone.now()
            run.errors = []
            run.save()
    except ValidationFailed as exc:
        _refuse(run, exc.errors)
        raise
    except IntegrityError:
        logger.exception("registry import %s failed", run.pk)
        error = {
            "row": None,
            "column": "",
            "field": "file",
            "message": _("导入时数据被其他操作同时修改，未写入任何数据，请重新导入。"),
        }
        _refuse(run, [error])
        raise ValidationFailed(errors=[error]) from None
    except Exception:
        run.state = ImportRun.State.FAILED
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "finished_at"])
        raise
    return run


def _refuse(run, errors):
    run.state = ImportRun.State.REFUSED
    run.errors = list(errors)[:MAX_KEPT_ERRORS]
    run.counts = {"error_count": len(errors)}
    run.finished_at = timezone.now()
    run.save()


def imports_dir():
    """Where files wait for the worker: inside the data folder, never under the public media folder."""
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_import(user, kind, upload, source=None):
    """The import page: small files are imported at once; larger ones are queued for
    the worker (``jiedao worker``), whose progress the page shows. Returns the run."""
    _check_import_args(user, kind)
    data, name = _read_input(upload)
    filename = os.path.basename(name or "upload")
    source = _clean_source(source, filename)
    rows = sheets.read_rows(kind, data, filename)
    if len(rows) <= SYNC_IMPORT_ROWS:
        return import_file(kind, data, user, source, filename=filename)
    stored = imports_dir() / f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}"
    stored.write_bytes(data)
    os.chmod(stored, 0o600)
    run = ImportRun.objects.create(
        kind=kind,
        filename=filename[:200],
        source=source,
        user=user,
        state=ImportRun.State.QUEUED,
        total_rows=len(rows),
        stored_file=str(stored),
    )
    from .tasks import import_file_task

    transaction.on_commit(lambda: import_file_task.enqueue(run.pk))
    return run


def run_queued_import(run_id):
    """Runs a queued import (called by the worker). Returns the run, refused or done."""
    run = ImportRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None or run.state != ImportRun.State.QUEUED:
        return run
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.RUNNING, phase="check")
    run.state = ImportRun.State.RUNNING

    def progress(phase, done, total):
        ImportRun.objects.filter(pk=run.pk).update(phase=phase, done_rows=done)

    stored = Path(run.stored_file)
    try:
        import_file(run.kind, stored, run.user, run.source, filename=run.filename, progress=progress, run=run)
    except ValidationFailed:
        pass
    finally:
        stored.unlink(missing_ok=True)
        ImportRun.objects.filter(pk=run.pk).update(stored_file="")
    run.refresh_from_db()
    return run
