"""一户一档 for the demo street: buildings inside each grid's polygon, houses, about
3,000 households with synthetic persons (identity numbers with correct check
characters, mobile phones), enterprises, facilities (部件), special-care tags on about
8 % of the persons, and twelve weeks of visit history by the grids' workers.

Rows are built in Python and written with ``bulk_create``; identity numbers and phones
are encrypted on the way in (Fernet, about 8 µs a value: a few hundredths of a second
for the whole street), so the build takes a few seconds.

    build_registry(street, grids, now, out=None, households=3000, seed=20261122) -> dict
"""

import datetime as dt
import math
import random

from django.db import transaction
from shapely.geometry import Point, shape

from jiedao.common.crypto import blind_index
from jiedao.demo import places
from jiedao.org.models import Unit, User

from .models import Building, Enterprise, Facility, House, Household, Person, PersonTag, Visit
from .services import ensure_default_tags
from .validation import CREDIT_CHARS, credit_check_char, id_check_char

UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FLOORS, UNITS, ROOMS_PER_FLOOR = 6, 2, 2
OCCUPANCY = 0.92
BATCH = 1000
WEEKS = 12

POLICE = "公安人口库"
VISITING = "社区走访"
CIVIL = "民政救助系统"
DISABILITY = "残联名册"
MARKET = "市场监管登记"
SURVEY = "部件普查"

# (kind, share): the make-up of households.
HOUSEHOLD_KINDS = [
    ("alone_elderly", 10),
    ("elderly_couple", 14),
    ("young_couple", 13),
    ("family", 35),
    ("three_generations", 15),
    ("single", 13),
]
FACILITIES = [  # (kind, per grid, code prefix, owner unit code)
    (Facility.Kind.MANHOLE, 8, "JG", "CG"),
    (Facility.Kind.STREET_LAMP, 8, "LD", "CG"),
    (Facility.Kind.HYDRANT, 3, "XF", "YJGL"),
    (Facility.Kind.BIN, 6, "LJ", "CG"),
    (Facility.Kind.CAMERA, 2, "JK", "PAJS"),
    (Facility.Kind.FITNESS, 1, "JS", "SQZL"),
]
ENTERPRISE_KINDS = [
    ("便利店", "零售业"),
    ("餐饮有限公司", "餐饮业"),
    ("物业服务有限公司", "物业管理"),
    ("美容美发店", "居民服务业"),
    ("药房", "医药零售"),
    ("培训中心", "教育"),
    ("快递服务部", "邮政快递"),
    ("家政服务有限公司", "居民服务业"),
]
VISIT_NOTES = [
    "身体状况良好，精神不错。",
    "血压偏高，已提醒按时服药。",
    "家中燃气、电器检查正常。",
    "反映楼道灯不亮，已上报。",
    "子女本周来探望过。",
    "需要代购药品，已联系社区卫生服务站。",
    "独自在家，情绪稳定。",
    "提醒近期天气变化注意保暖。",
    "",
    "",
    "",
]


def _point_in(polygon, rng):
    west, south, east, north = polygon.bounds
    for _attempt in range(100):
        point = Point(rng.uniform(west, east), rng.uniform(south, north))
        if polygon.contains(point):
            return point.y, point.x
    point = polygon.representative_point()
    return point.y, point.x


class _Ids:
    """Unique synthetic identity numbers and phones."""

    def __init__(self, rng, region):
        self.rng, self.region = rng, region
        self.ids, self.phones = set(), set()

    def id_number(self, birth, gender):
        while True:
            seq = self.rng.randrange(0, 100)
            sex_digit = self.rng.choice((1, 3, 5, 7, 9) if gender == Person.Gender.MALE else (0, 2, 4, 6, 8))
            first17 = f"{self.region}{birth:%Y%m%d}{seq:02d}{sex_digit}"
            value = first17 + id_check_char(first17)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def phone(self):
        while True:
            value = self.rng.choice("3456789")
            value = "1" + value + "".join(self.rng.choice("0123456789") for _ in range(9))
            if value not in self.phones:
                self.phones.add(value)
                return value


def _credit_code(rng, region):
    body = "91" + region + "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    return body + credit_check_char(body)


class _Builder:
    def __init__(self, street, grids, now, out, households, seed):
        self.street, self.grids, self.now, self.out = street, list(grids), now, out
        self.rng = random.Random(seed)
        region = street.district.code if len(street.district.code) == 6 and street.district.code.isdigit() else "110105"
        self.region = region
        self.ids = _Ids(self.rng, region)
        self.target = households
        self.today = now.astimezone(SHANGHAI).date()
        self.counts = {
            "buildings": 0,
            "houses": 0,
            "households": 0,
            "persons": 0,
            "tagged": 0,
            "visits": 0,
            "facilities": 0,
            "enterprises": 0,
        }

    def say(self, text):
        if self.out is not None:
            self.out.write(text)

    # --- time helpers ---------------------------------------------------------------
    def confirmed(self):
        """When a record was last confirmed: most within half a year, some older."""
        days = self.rng.random() ** 1.6 * 420
        return self.now - dt.timedelta(days=days, minutes=self.rng.randrange(600))

    def birth(self, low, high):
        age_days = self.rng.randint(low * 365 + 1, high * 365 + 300)
        return self.today - dt.timedelta(days=age_days)

    def name(self, surname=None):
        surname = surname or self.rng.choice(places.SURNAMES)
        given = "".join(self.rng.choice(places.GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))
        return surname + given

    # --- places ----------------------------------------------------------------------
    def estates_of(self, community):
        for _suffix, name, estates, roads in places.COMMUNITIES:
            if name == community.name:
                return estates, roads
        return [f"{community.name[:2]}家园"], [f"{community.name[:2]}路"]

    def buildings(self):
        per_grid = math.ceil(self.target / max(1, len(self.grids)))
        per_building = FLOORS * UNITS * ROOMS_PER_FLOOR
        count = max(1, math.ceil(per_grid / OCCUPANCY / per_building))
        buildings = []
        numbers = {}
        for grid in self.grids:
            polygon = shape(grid.boundary) if grid.boundary else None
            estates, roads = self.estates_of(grid.community)
            for index in range(count):
                estate = estates[(self.grids.index(grid) + index) % len(estates)]
                numbers[estate] = numbers.get(estate, 0) + 1
                lat, lng = _point_in(polygon, self.rng) if polygon is not None else (None, None)
                at = self.confirmed()
                buildings.append(
                    Building(
                        code=f"{grid.code}{index + 1:02d}",
                        name=f"{estate}{numbers[estate]}号楼",
                        address=f"{self.rng.choice(roads)}{self.rng.randint(1, 199)}号",
                        community=grid.community,
                        grid=grid,
                        lat=lat,
                        lng=lng,
                        floors=FLOORS,
                        created_at=at,
                        confirmed_at=at,
                        sources={
                            k: {"source": "住建房屋库", "at": at.isoformat()}
                            for k in ("name", "address", "community", "grid", "lat", "lng", "floors")
                        },
                    )
                )
        Building.objects.bulk_create(buildings, batch_size=BATCH)
        self.counts["buildings"] = len(buildings)
        houses = []
        for building in buildings:
            for unit in range(1, UNITS + 1):
                for floor in range(1, FLOORS + 1):
                    for room in range(1, ROOMS_PER_FLOOR + 1):
                        at = building.confirmed_at
                        houses.append(
                            House(
                                building=building,
                                unit=str(unit),
                                floor=floor,
                                room=f"{floor}{room:02d}",
                                use=House.Use.OWN,
                                created_at=at,
                                confirmed_at=at,
                                sources={"floor": {"source": "住建房屋库", "at": at.isoformat()}},
                            )
                        )
        House.objects.bulk_create(houses, batch_size=BATCH)
        self.counts["houses"] = len(houses)
        return buildings, houses

    # --- people ----------------------------------------------------------------------
    def person(self, household, name, relation, low, high, gender=None, status=None):
        gender = gender or self.rng.choice((Person.Gender.MALE, Person.Gender.FEMALE))
        birth = self.birth(low, high)
        id_number = self.ids.id_number(birth, gender)
        age = (self.today - birth).days // 365
        phone = self.ids.phone() if 16 <= age <= 85 and self.rng.random() < 0.92 else ""
        if status is None:
            roll = self.rng.random()
            status = (
                Person.Status.LIVING if roll < 0.96 else (Person.Status.AWAY if roll < 0.99 else Person.Status.MOVED)
            )
        police_at, visit_at = self.confirmed(), self.confirmed()
        sources = {
            k: {"source": POLICE, "at": police_at.isoformat()} for k in ("id_number", "name", "gender", "birth_date")
        }
        for key in ("household", "relation", "status") + (("phone",) if phone else ()):
            sources[key] = {"source": VISITING, "at": visit_at.isoformat()}
        return Person(
            name=name,
            gender=gender,
            birth_date=birth,
            id_number=id_number,
            id_index=blind_index(id_number),
            phone=phone,
            phone_index=blind_index(phone) if phone else "",
            household=household,
            relation=relation,
            status=status,
            sources=sources,
            created_at=min(police_at, visit_at),
            confirmed_at=max(police_at, visit_at),
        )

    def members(self, household, kind):
        """The persons of one household, head first, and the tags they carry."""
        R = Person.Relation
        surname = self.rng.choice(places.SURNAMES)
        head_gender = self.rng.choice((Person.Gender.MALE, Person.Gender.FEMALE))
        other = Person.Gender.FEMALE if head_gender == Person.Gender.MALE else Person.Gender.MALE
        people, tags = [], []
        if kind == "alone_elderly":
            head = self.person(household, self.name(surname), R.HEAD, 68, 93, head_gender, Person.Status.LIVING)
            people.append(head)
            if self.rng.random() < 0.85:
                tags.append((head, "alone_elderly"))
        elif kind == "elderly_couple":
            head = self.person(household, self.name(surname), R.HEAD, 62, 88, head_gender)
            spouse = self.person(household, self.name(), R.SPOUSE, 60, 86, other)
            people += [head, spouse]
            if self.rng.random() < 0.15:
                tags += [(head, "empty_nest"), (spouse, "empty_nest")]
        elif kind == "young_couple":
            people += [
                self.person(household, self.name(surname), R.HEAD, 25, 40, head_gender),
                self.person(household, self.name(), R.SPOUSE, 24, 40, other),
            ]
        elif kind == "family":
            people += [
                self.person(household, self.name(surname), R.HEAD, 32, 55, head_gender),
                self.person(household, self.name(), R.SPOUSE, 30, 54, other),
            ]
            for _child in range(self.rng.choice((1, 1, 2))):
                people.append(self.person(household, self.name(surname), R.CHILD, 1, 24))
        elif kind == "three_generations":
            people += [
                self.person(household, self.name(surname), R.HEAD, 35, 55, head_gender),
                self.person(household, self.name(), R.SPOUSE, 33, 55, other),
                self.person(household, self.name(surname), R.CHILD, 2, 20),
            ]
            for _parent in range(self.rng.choice((1, 2))):
                people.append(self.person(household, self.name(surname), R.PARENT, 62, 90))
        else:
            people.append(self.person(household, self.name(surname), R.HEAD, 22, 60, head_gender))
        for person in people:
            age = (self.today - person.birth_date).days // 365
            roll = self.rng.random()
            if roll < 0.012:
                tags.append((person, "disabled"))
            elif roll < 0.017:
                tags.append((person, "key_person"))
            elif age >= 60 and roll < 0.07:
                tags.append((person, "chronic"))
        if self.rng.random() < 0.02:
            tags.append((people[0], "subsistence"))
        return people, tags

    def households(self, houses):
        rng = self.rng
        kinds = [k for k, weight in HOUSEHOLD_KINDS for _ in range(weight)]
        by_grid = {}
        for house in houses:
            by_grid.setdefault(house.building.grid_id, []).append(house)
        per_grid = math.ceil(self.target / max(1, len(by_grid)))
        occupied = []
        for grid_houses in by_grid.values():
            occupied += sorted(
                rng.sample(grid_houses, min(per_grid, len(grid_houses))),
                key=lambda h: (h.building.code, h.unit, h.room),
            )
        occupied = occupied[: self.target]
        households = []
        for house in occupied:
            at = self.confirmed()
            households.append(
                Household(
                    number=f"{house.building.code}-{house.unit}-{house.room}",
                    house=house,
                    created_at=at,
                    confirmed_at=at,
                    sources={"house": {"source": VISITING, "at": at.isoformat()}},
                )
            )
        Household.objects.bulk_create(households, batch_size=BATCH)
        persons, tag_pairs, heads = [], [], []
        for household in households:
            people, tags = self.members(household, rng.choice(kinds))
            persons += people
            tag_pairs += tags
            heads.append((household, people[0]))
        Person.objects.bulk_create(persons, batch_size=BATCH)
        for household, head in heads:
            household.head = head
        Household.objects.bulk_update(households, ["head"], batch_size=BATCH)
        tags = ensure_default_tags()
        seen, person_tags = set(), []
        for person, code in tag_pairs:
            if (person.pk, code) in seen:
                continue
            seen.add((person.pk, code))
            source = {"subsistence": CIVIL, "disabled": DISABILITY}.get(code, VISITING)
            person_tags.append(PersonTag(person=person, tag=tags[code], added_at=person.confirmed_at, source=source))
        PersonTag.objects.bulk_create(person_tags, batch_size=BATCH)
        self.counts.update(households=len(households), persons=len(persons), tagged=len({p.pk for p, _c in tag_pairs}))
        return persons, {p.pk for p, _c in tag_pairs}

    # --- visits ---------------------------------------------------------------------------
    def visits(self, persons, tagged):
        workers = {}
        for user in User.objects.filter(groups__name="grid").prefetch_related("grids"):
            for grid in user.grids.all():
                workers.setdefault(grid.pk, []).append(user)
        fallback = User.objects.filter(groups__name="grid").first()
        rng = self.rng
        visits = []
        start = self.now - dt.timedelta(weeks=WEEKS)
        by_pk = {p.pk: p for p in persons}
        grid_of = {}
        for household in Household.objects.filter(members__pk__in=list(tagged)).select_related("house__building"):
            grid_of[household.pk] = household.house.building.grid_id
        for pk in sorted(tagged):
            person = by_pk[pk]
            if person.status not in (Person.Status.LIVING, Person.Status.AWAY):
                continue
            people = workers.get(grid_of.get(person.household_id)) or ([fallback] if fallback else [])
            if not people:
                continue
            diligence = rng.uniform(0.6, 1.4)
            for week in range(WEEKS):
                # The visit rhythm rises over the twelve weeks (from about 1.2 to 3 a week).
                expected = (1.2 + 1.8 * week / (WEEKS - 1)) * diligence
                count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
                for _visit in range(count):
                    day = start + dt.timedelta(weeks=week, days=rng.randrange(7))
                    local = day.astimezone(SHANGHAI).replace(
                        hour=rng.randint(8, 17), minute=rng.randrange(60), second=0, microsecond=0
                    )
                    at = local.astimezone(UTC)
                    if not start <= at < self.now:
                        continue
                    visits.append(
                        Visit(
                            person=person,
                            worker=rng.choice(people),
                            at=at,
                            kind=Visit.Kind.HOME if rng.random() < 0.7 else Visit.Kind.PHONE,
                            note=rng.choice(VISIT_NOTES),
                            created_at=at,
                        )
                    )
        Visit.objects.bulk_create(visits, batch_size=BATCH)
        self.counts["visits"] = len(visits)

    # --- enterprises and facilities --------------------------------------------------------
    def facilities_and_enterprises(self, buildings):
        rng = self.rng
        units = {u.code: u for u in Unit.objects.filter(street=self.street)}
        facilities, enterprises = [], []
        by_grid = {}
        for building in buildings:
            by_grid.setdefault(building.grid_id, []).append(building)
        credit_codes = set()
        for grid in self.grids:
            polygon = shape(grid.boundary) if grid.boundary else None
            if polygon is None:
                continue
            for kind, per_grid, prefix, owner in FACILITIES:
                for index in range(per_grid):
                    lat, lng = _point_in(polygon, rng)
                    at = self.confirmed()
                    roll = rng.random()
                    condition = (
                        Facility.Condition.OK
                        if roll < 0.94
                        else Facility.Condition.DAMAGED
                        if roll < 0.98
                        else Facility.Condition.MISSING
                    )
                    facilities.append(
                        Facility(
                            kind=kind,
                            code=f"{grid.code}-{prefix}{index + 1:03d}",
                            lat=lat,
                            lng=lng,
                            grid=grid,
                            name=f"{grid.community.name}{grid.name}{Facility.Kind(kind).label}{index + 1}",
                            owner=units.get(owner, self.street.default_unit),
                            condition=condition,
                            created_at=at,
                            confirmed_at=at,
                            sources={
                                k: {"source": SURVEY, "at": at.isoformat()} for k in ("kind", "lat", "lng", "owner")
                            },
                        )
                    )
            _estates, roads = self.estates_of(grid.community)
            for index in range(5):
                suffix, industry = rng.choice(ENTERPRISE_KINDS)
                while True:
                    code = _credit_code(rng, self.region)
                    if code not in credit_codes:
                        credit_codes.add(code)
                        break
                building = rng.choice(by_grid.get(grid.pk) or [None])
                phone = self.ids.phone()
                at = self.confirmed()
                enterprises.append(
                    Enterprise(
                        name=f"{grid.community.name[:2]}{rng.choice(roads)[-2:]}{suffix}{index + 1}",
                        credit_code=code,
                        legal_representative=self.name(),
                        industry=industry,
                        address=f"{rng.choice(roads)}{rng.randint(1, 199)}号",
                        building=building,
                        grid=grid,
                        contact_name=self.name(),
                        contact_phone=phone,
                        contact_phone_index=blind_index(phone),
                        created_at=at,
                        confirmed_at=at,
                        sources={
                            k: {"source": MARKET, "at": at.isoformat()}
                            for k in ("name", "credit_code", "legal_representative", "industry", "address")
                        },
                    )
                )
        Facility.objects.bulk_create(facilities, batch_size=BATCH)
        Enterprise.objects.bulk_create(enterprises, batch_size=BATCH)
        self.counts.update(facilities=len(facilities), enterprises=len(enterprises))

    def run(self):
        with transaction.atomic():
            buildings, houses = self.buildings()
            persons, tagged = self.households(houses)
            self.visits(persons, tagged)
            self.facilities_and_enterprises(buildings)
        return self.counts


def build_registry(street, grids, now, out=None, households=3000, seed=20261122):
    """Fills 一户一档 for ``grids`` of ``street`` as of ``now`` (timezone-aware). Does nothing
    if the grids already have buildings. ``out``: a stream for one line of progress.
    Returns counts (buildings, houses, households, persons, tagged, visits, facilities,
    enterprises)."""
    grids = list(grids)
    if Building.objects.filter(grid__in=grids).exists():
        return {"skipped": True}
    builder = _Builder(street, grids, now, out, households, seed)
    counts = builder.run()
    builder.say(
        f"一户一档：{counts['buildings']:,} 栋楼、{counts['households']:,} 户、{counts['persons']:,} 人"
        f"（关怀对象 {counts['tagged']:,} 人）、{counts['visits']:,} 次探访、{counts['facilities']:,} 个部件、"
        f"{counts['enterprises']:,} 家企业。\n"
    )
    return counts
