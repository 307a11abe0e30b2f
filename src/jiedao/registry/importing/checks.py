"""Checking the rows of an imported file, every row before anything is written.

Each ``check_<kind>`` reads the rows of a persons, households or buildings sheet (dicts of
field → cell, with the sheet's row number) and returns them prepared for the writer, or
raises ValidationFailed with one error per bad cell, ``第N行 列名: 规则`` (``RowErrors``).
The rules, besides those of each value (``validation``, ``values``):

- a person's identity number appears once in a file; gender and birth date agree with it
  and are taken from it when empty;
- a building named by a row must be registered already (buildings are imported first); a
  house is named by building, unit and room; a household number already registered must
  name the same house;
- one head (户主) per household in a file; care tags must exist and be active;
- a building's grid is its grid code, else the grid its coordinates fall in, and it must
  belong to the building's community.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.geo.locate import grid_id_at
from jiedao.org.models import Community, Grid, User

from .. import sheets, validation
from ..models import Building, CareTag, House, Household, Person
from ..services.merging import float_text
from ..values import GENDERS, RELATIONS, STATUSES, TAG_SEPARATORS, USES, choices_text


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


def check_persons(rows, progress, today):
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
                _("应为：%(choices)s。") % {"choices": choices_text(Person.Relation.choices)},
            )
        elif relation and not (code or number):
            e.add("relation", _("填写与户主关系时须同时填写户编号或楼栋、房号。"))
        values["relation"] = relation or ""
        status_text = _text(row.get("status"))
        status = STATUSES.get(status_text) if status_text else ""
        if status is None:
            e.add(
                "status",
                _("应为：%(choices)s。") % {"choices": choices_text(Person.Status.choices)},
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
    head: dict | None = None  # {"id_number", "values"} or None


def check_households(rows, progress, today):
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
            e.add("use", _("应为：%(choices)s。") % {"choices": choices_text(House.Use.choices)})
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


def check_buildings(rows, progress, today):
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
            grid = grids_by_id.get(grid_id_at(lat, lng))
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
                        "lat": float_text(lat),
                        "lng": float_text(lng),
                        "floors": "" if floors is None else str(floors),
                        "head": head,
                    },
                }
            )
        progress("check", done)
    if errors:
        raise ValidationFailed(errors=errors)
    return prepared
