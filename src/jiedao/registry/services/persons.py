"""Persons by hand (a form or the API): create, change, move into a household.

- A person is found by identity number (its keyed hash); the same number exists once, and
  the number is never changed by hand (it identifies the record).
- Gender and birth date must agree with the identity number; when only the number is
  given they are taken from it.
- A person who may edit decides: values typed by hand are set, not listed as conflicts,
  and their source is the editor (``手工录入（用户名）``).
- Only the grid workers of the person's grid, the community's staff and administrators
  edit a person (``selectors.may_edit``); a person outside the reader's view is not found.
- A household has one head (户主): a person becomes head only of a household without one.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.crypto import blind_index
from jiedao.common.errors import FieldErrors, NotAllowed, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import User

from .. import selectors, validation
from ..models import Household, Person
from ..values import GENDERS, RELATIONS, STATUSES, choices_text
from .merging import Resolver, assign, clean_source, manual_source, new_sources, now_iso


def person_or_404(user: User, *, person_id: int) -> Person:
    """The person, if the user may read them; else NotFound (never NotAllowed: a person
    outside the reader's view is not revealed)."""
    try:
        return selectors.person_for(user, person_id)
    except NotFound:
        raise
    except NotAllowed:
        raise NotFound(_("人员档案不存在或您无权查看。")) from None


def require_edit(user: User, *, person: Person) -> None:
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
                "relation", _("与户主关系应为：%(choices)s。") % {"choices": choices_text(Person.Relation.choices)}
            )
            relation = ""
        out["relation"] = relation
    if "status" in values:
        raw = (values.get("status") or "").strip()
        status = STATUSES.get(raw) if raw else Person.Status.LIVING
        if status is None:
            errors.add("status", _("居住状态应为：%(choices)s。") % {"choices": choices_text(Person.Status.choices)})
            status = Person.Status.LIVING
        out["status"] = status
    if "note" in values:
        note = (values.get("note") or "").strip()
        if len(note) > 200:
            errors.add("note", _("备注不能超过200个字。"))
        out["note"] = note
    return out


@transaction.atomic
def create_person(user: User, *, household: str | None = None, source: str | None = None, **values: str) -> Person:
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
    source = clean_source(source, fallback=manual_source(user))
    person = Person(
        id_number=id_number, id_index=blind_index(id_number) if id_number else "", created_at=now, confirmed_at=now
    )
    resolver = Resolver()
    incoming = {k: v for k, v in clean.items() if v not in (None, "")}
    if target:
        resolver.households[target.number] = target
        incoming["household"] = target.number
    for name, value in incoming.items():
        assign(person, name=name, value=value, resolver=resolver)
    sources = new_sources(incoming, source=source, now=now)
    if id_number:
        sources["id_number"] = {"source": source, "at": now_iso(now)}
    person.sources = sources
    person.save()
    if target and person.relation == Person.Relation.HEAD and target.head_id is None:
        target.head = person
        target.save(update_fields=["head"])
    return person


@transaction.atomic
def update_person(user: User, *, person_id: int, source: str | None = None, **values: str) -> Person:
    """Changes fields by hand. A person who may edit decides, so the values are set
    (not listed as conflicts) and their source is the editor."""
    permissions.require(user, "registry.edit")
    person = person_or_404(user, person_id=person_id)
    require_edit(user, person=person)
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
    source = clean_source(source, fallback=manual_source(user))
    sources = dict(person.sources or {})
    resolver = Resolver()
    for name, value in clean.items():
        assign(person, name=name, value=value, resolver=resolver)
        sources[name] = {"source": source, "at": now_iso(now)}
    person.sources = sources
    person.confirmed_at = now
    person.save()
    return person


@transaction.atomic
def add_to_household(
    user: User, *, person_id: int, household_number: str, relation: str, source: str | None = None
) -> Person:
    """Moves a person into a household with a relation to its head (户主 only when the
    household has none yet)."""
    permissions.require(user, "registry.edit")
    person = person_or_404(user, person_id=person_id)
    if person.household_id is not None:
        require_edit(user, person=person)
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
            "relation",
            _("该户已有户主（%(name)s）；请先更改原户主的关系。")
            % {"name": household.head.name if household.head else ""},
        )
    now = timezone.now()
    source = clean_source(source, fallback=manual_source(user))
    person.household = household
    person.relation = clean["relation"]
    sources = dict(person.sources or {})
    for name in ("household", "relation"):
        sources[name] = {"source": source, "at": now_iso(now)}
    person.sources = sources
    person.confirmed_at = now
    person.save()
    if person.relation == Person.Relation.HEAD:
        household.head = person
        household.save(update_fields=["head"])
    return person
