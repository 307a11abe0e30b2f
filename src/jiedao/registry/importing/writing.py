"""Writing a clean file: the merge rules of ``services.merging`` for thousands of rows at once.

The writer finds or creates houses (by building, unit and room) and households (by number,
else the house's only household, else a new one numbered after the house), creates new
persons and buildings, merges the values of those that exist (filling, confirming, or
listing a conflict — once, however often the same file comes again) and adds care tags.
New rows are inserted in bulk and changed rows updated with one statement per batch
(``bulk_set``); all of it runs inside the import's one transaction.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from jiedao.common.crypto import blind_index
from jiedao.common.errors import ValidationFailed

from ..models import Building, House, Household, ImportRun, MergeConflict, Person, PersonTag
from ..services.merging import HEAD_FIELD, Resolver, assign, merge, new_sources, now_iso, pending_pairs

BATCH = 500


def _quiet(phase, done, force=False):
    """The progress of a household's head is not reported on its own (its row is)."""


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
        self.pending_houses = pending_pairs(MergeConflict.objects.filter(choice="", house__building__code__in=codes))

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
                    sources=new_sources(incoming, source=self.source, now=self.now),
                )
                for name, value in incoming.items():
                    if value:
                        assign(house, name=name, value=value, resolver=self.resolver)
                self.houses[key] = house
                new_houses.append(house)
                continue
            result = merge(
                house,
                incoming=incoming,
                source=self.source,
                now=self.now,
                resolver=self.resolver,
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
                    sources={"house": {"source": self.source, "at": now_iso(self.now)}},
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


def _write_persons(writer, rows, progress):
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
        pending.update(pending_pairs(MergeConflict.objects.filter(choice="", person_id__in=ids[start : start + BATCH])))
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
                    assign(person, name=name, value=value, resolver=writer.resolver)
            person.sources = new_sources(incoming, source=writer.source, now=writer.now)
            person.sources["id_number"] = {"source": writer.source, "at": now_iso(writer.now)}
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
            sources_before["id_number"] = {**sources_before["id_number"], "at": now_iso(writer.now)}
            person.sources = sources_before
            result = merge(
                person,
                incoming=incoming,
                source=writer.source,
                now=writer.now,
                resolver=writer.resolver,
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


def apply_persons(prepared, writer, progress):
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


def apply_households(prepared, writer, progress):
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
    _write_persons(writer, people, _quiet)
    writer.counts["rows"] = len(prepared)


def apply_buildings(prepared, writer, progress):
    codes = [r["code"] for r in prepared]
    existing = {b.code: b for b in Building.objects.filter(code__in=codes).select_related("community", "grid", "head")}
    pending = pending_pairs(MergeConflict.objects.filter(choice="", building__code__in=codes))
    for done, item in enumerate(prepared, start=1):
        building = existing.get(item["code"])
        if building is None:
            building = Building(code=item["code"], created_at=writer.now, confirmed_at=writer.now)
            for name, value in item["values"].items():
                if value not in (None, ""):
                    assign(building, name=name, value=value, resolver=writer.resolver)
            building.sources = new_sources(item["values"], source=writer.source, now=writer.now)
            building.save()
            writer.counts["created"] += 1
        else:
            result = merge(
                building,
                incoming=item["values"],
                source=writer.source,
                now=writer.now,
                resolver=writer.resolver,
                pending=pending.get(building.pk, frozenset()),
                run=writer.run,
            )
            building.save()
            writer._note_conflicts(result)
            writer.counts["updated" if result.filled else "confirmed"] += 1
        progress("write", done)
    writer.counts["rows"] = len(prepared)
