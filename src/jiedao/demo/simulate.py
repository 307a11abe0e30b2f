"""Twelve months of history for the demo street, as the services would have written it.

Cases arrive with a weekday and hour-of-day rhythm and a summer bump; each case is
played through its whole life (dispatch, return, response, notes, extension,
whistle, supervision, result, verification, rating, rework) by units that behave
differently, and stops where "now" cuts it, so that recent cases stay open in every
state. Rows are built in Python and written with ``bulk_create`` in batches: the
same fields, deadlines (``services.deadlines_for`` and the working calendar),
events (consecutive ``seq``, from/to states of ``states.TRANSITIONS``), ratings,
extensions, whistles and case numbers as the services produce.
"""

import datetime as dt
import math
import random
import sys
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from jiedao.cases import services
from jiedao.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseNumberCounter,
    Category,
    Channel,
    Extension,
    Rating,
    RoutingRule,
    Status,
    Urgency,
    Whistle,
    WhistleSummons,
)
from jiedao.common.crypto import EncryptedTextField, blind_index
from jiedao.duties.selectors import route_for
from jiedao.workcal.calendar import SHANGHAI, add_workdays, is_workday

from . import places, texts
from .builder import RESIDENT_PHONE, demo_street

UTC = dt.UTC
S = Status
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
SWEEP = dt.timedelta(minutes=10)  # the worker sweeps deadlines every ten minutes
BATCH = 1000

HOUR_CURVE = [
    0.3,
    0.2,
    0.15,
    0.1,
    0.1,
    0.2,
    0.5,
    1.2,
    2.5,
    4.0,
    4.6,
    4.0,
    2.4,
    2.2,
    3.6,
    4.1,
    3.6,
    2.8,
    2.0,
    1.8,
    1.6,
    1.3,
    0.9,
    0.5,
]
CHANNELS = [
    (Channel.HOTLINE_12345, 42),
    (Channel.PORTAL, 16),
    (Channel.GRID, 14),
    (Channel.PHONE, 9),
    (Channel.WINDOW, 7),
    (Channel.QR, 6),
    (Channel.LETTER, 3),
    (Channel.LEADER_MAILBOX, 3),
]
OPERATOR_CHANNELS = {Channel.HOTLINE_12345, Channel.PHONE, Channel.WINDOW, Channel.LETTER, Channel.LEADER_MAILBOX}
# Share of cases whose category the intake already set (the rest wait for the dispatcher).
CLASSIFIED_AT_INTAKE = {Channel.HOTLINE_12345: 0.9, Channel.PHONE: 0.7, Channel.WINDOW: 0.7, Channel.GRID: 0.95}
HAS_LOCATION = {
    Channel.GRID: 1.0,
    Channel.PORTAL: 0.9,
    Channel.QR: 0.95,
    Channel.HOTLINE_12345: 0.75,
    Channel.PHONE: 0.6,
    Channel.WINDOW: 0.5,
    Channel.LETTER: 0.3,
    Channel.LEADER_MAILBOX: 0.3,
}
# What grid workers find on patrol.
PATROL_LEAVES = {
    ("城市建设和市政管理", "环境卫生"),
    ("城市建设和市政管理", "城管执法"),
    ("城市建设和市政管理", "城市公共设施"),
    ("城市建设和市政管理", "基础设施"),
    ("城市建设和市政管理", "小区管理"),
    ("城乡规划", "违章建筑"),
    ("社会治安", "消防安全"),
    ("城市建设和市政管理", "园林绿化环卫"),
    ("环境污染", "大气污染"),
    ("安全生产", "安全隐患"),
}


@dataclass(frozen=True)
class Behaviour:
    """How a unit works: response delay, returns, extensions, speed, quality."""

    response_median_hours: float
    return_share: float
    extension_share: float
    work_share: float  # mean share of the allowed time used
    overdue_share: float
    resolved_share: float  # first-round ratings with "resolved"
    satisfied_share: float  # 满意 among resolved
    verify_fail_share: float = 0.05


BEHAVIOUR = {
    "ZHZF": Behaviour(0.8, 0.03, 0.05, 0.45, 0.06, 0.93, 0.80),
    "GGFW": Behaviour(1.0, 0.02, 0.03, 0.35, 0.03, 0.96, 0.86),
    "SQZL": Behaviour(1.2, 0.05, 0.04, 0.50, 0.05, 0.92, 0.78),
    "YJGL": Behaviour(0.4, 0.02, 0.02, 0.30, 0.02, 0.97, 0.88, 0.03),
    "PAJS": Behaviour(1.5, 0.04, 0.06, 0.50, 0.07, 0.90, 0.75),
    "CG": Behaviour(2.5, 0.08, 0.08, 0.60, 0.12, 0.86, 0.68, 0.08),
    "MZ": Behaviour(1.8, 0.06, 0.05, 0.50, 0.06, 0.91, 0.80),
    "ZJ": Behaviour(3.5, 0.10, 0.12, 0.70, 0.16, 0.82, 0.62, 0.10),
    "SCJG": Behaviour(1.5, 0.05, 0.05, 0.45, 0.06, 0.92, 0.78),
    "STHJ": Behaviour(2.8, 0.09, 0.09, 0.60, 0.11, 0.85, 0.66, 0.08),
    "WJ": Behaviour(1.6, 0.05, 0.04, 0.45, 0.05, 0.93, 0.80),
}
COMMITTEE_BEHAVIOUR = [
    Behaviour(0.5, 0.03, 0.02, 0.35, 0.02, 0.97, 0.90, 0.03),
    Behaviour(0.9, 0.03, 0.02, 0.40, 0.04, 0.95, 0.85),
    Behaviour(1.6, 0.04, 0.03, 0.55, 0.08, 0.90, 0.74),
    Behaviour(0.7, 0.02, 0.02, 0.38, 0.03, 0.96, 0.87),
    Behaviour(2.0, 0.05, 0.04, 0.60, 0.10, 0.88, 0.70, 0.08),
    Behaviour(1.1, 0.03, 0.03, 0.45, 0.05, 0.94, 0.82),
    Behaviour(0.8, 0.03, 0.02, 0.40, 0.03, 0.95, 0.86),
    Behaviour(1.4, 0.04, 0.03, 0.50, 0.06, 0.92, 0.78),
]
# Where a dispatcher sends a case that a unit returned.
ALTERNATIVES = {
    "CG": ["ZHZF", "ZJ"],
    "ZJ": ["CG", "SQZL"],
    "ZHZF": ["CG", "SQZL"],
    "STHJ": ["ZHZF", "CG"],
    "SCJG": ["WJ", "ZHZF"],
    "WJ": ["SCJG", "GGFW"],
    "MZ": ["SQZL", "GGFW"],
    "PAJS": ["SQZL", "YJGL"],
    "YJGL": ["ZHZF", "PAJS"],
    "GGFW": ["SQZL", "MZ"],
    "SQZL": ["GGFW", "PAJS"],
}


class _Stop(Exception):
    """The next step of a case would happen after 'now'."""


class _Event:
    """One row of the event log before it is written."""

    __slots__ = (
        "action",
        "actor_id",
        "actor_unit_id",
        "at",
        "case_id",
        "data",
        "from_status",
        "note",
        "seq",
        "to_status",
        "unit_id",
    )

    def __init__(self, **kwargs):
        self.seq = 0
        for name, value in kwargs.items():
            setattr(self, name, value)


class _Life:
    """The state of one case while it is being played."""

    __slots__ = (
        "address",
        "category",
        "channel",
        "closed_at",
        "community",
        "completion_due",
        "created_at",
        "created_by",
        "description",
        "dispatched_at",
        "duty_version",
        "events",
        "extension_count",
        "extensions",
        "grid",
        "id",
        "last_at",
        "lat",
        "leaf_key",
        "lng",
        "master_id",
        "number",
        "ratings",
        "reporter",
        "reporter_name",
        "reporter_phone",
        "resolved_at",
        "responded_at",
        "response_due",
        "return_count",
        "rework_count",
        "routed_by",
        "status",
        "supervised",
        "unit",
        "urgency",
        "whistles",
    )

    def __init__(self, **kwargs):
        for name in self.__slots__:
            setattr(self, name, kwargs.get(name))
        self.status = S.NEW
        self.urgency = Urgency.GREEN
        self.supervised = False
        self.return_count = self.rework_count = self.extension_count = 0
        self.events, self.ratings, self.extensions, self.whistles = [], [], [], []

    def status_at(self, at):
        status, unit_id = "", None
        for event in self.events:
            if event.at > at:
                break
            status, unit_id = event.to_status, event.unit_id
        return status, unit_id


class Progress:
    """A progress line: rewritten in place on a terminal, every 10 % otherwise."""

    def __init__(self, total, out=None, label="生成历史工单"):
        self.total, self.label = max(total, 1), label
        self.out = out if out is not None else sys.stdout
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.last_decile = -1

    def _write(self, text):
        try:
            self.out.write(text, ending="")  # Django's OutputWrapper
        except TypeError:
            self.out.write(text)
        self.out.flush()

    def update(self, done, events):
        share = done / self.total
        line = f"{self.label} {share:4.0%}  {done:,}/{self.total:,} 件工单 · {events:,} 条流转记录"
        if self.tty:
            self._write("\r" + line)
        elif int(share * 10) > self.last_decile:
            self.last_decile = int(share * 10)
            self._write(line + "\n")

    def finish(self):
        if self.tty:
            self._write("\n")


def _iso(value):
    return value.isoformat() if value else None


def _local(at):
    return at.astimezone(SHANGHAI)


class Simulator:
    def __init__(self, demo, cases=20000, seed=20261122, now=None, out=None, days=365):
        self.demo = demo
        self.total = cases
        self.rng = random.Random(seed)
        self.now = (now or timezone.now()).astimezone(UTC)
        self.start = self.now - dt.timedelta(days=days)
        self.progress = Progress(cases, out)
        self.counts = defaultdict(int)
        self._load()

    # --- set-up -----------------------------------------------------------------
    def _load(self):
        demo, rng = self.demo, self.rng
        users = demo.users
        self.operator = users["operator"]
        self.dispatcher = users["dispatcher"]
        self.leader = users["leader"]
        self.resident = users["resident"]
        self.units = demo.units
        self.handlers = defaultdict(list)
        for user in users.values():
            if user.unit_id and user.username.startswith("handler"):
                self.handlers[user.unit_id].append(user)
        self.grid_workers = defaultdict(list)
        through = type(self.operator).grids.through
        by_id = {u.pk: u for u in users.values()}
        for user_id, grid_id in through.objects.filter(user_id__in=by_id).values_list("user_id", "grid_id"):
            self.grid_workers[grid_id].append(by_id[user_id])
        self.behaviour = {}
        for code, unit in self.units.items():
            if code in BEHAVIOUR:
                self.behaviour[unit.pk] = BEHAVIOUR[code]
            elif unit.kind != "community":
                self.behaviour[unit.pk] = BEHAVIOUR["ZJ"]
            else:
                self.behaviour[unit.pk] = COMMITTEE_BEHAVIOUR[(int(code[-2:]) - 1) % len(COMMITTEE_BEHAVIOUR)]

        self.grids = demo.grids
        self.grid_weights = [rng.uniform(0.5, 1.6) for _ in self.grids]
        self.grid_rects = {}
        for grid in self.grids:
            ring = grid.boundary["coordinates"][0]
            lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
            self.grid_rects[grid.pk] = (min(lngs), min(lats), max(lngs), max(lats))
        self.community_info = {}
        for community, (_suffix, _name, estates, roads) in zip(demo.communities, places.COMMUNITIES, strict=False):
            self.community_info[community.pk] = (estates, roads)

        categories = {c.pk: c for c in Category.objects.all()}
        self.categories = categories
        children = defaultdict(list)
        for c in categories.values():
            if c.parent_id:
                children[c.parent_id].append(c)
        self.leaves = [c for c in categories.values() if c.pk not in children]
        self.siblings = {c.pk: [s for s in children[c.parent_id] if s.pk != c.pk] for c in self.leaves}
        self.chain = {}
        for c in categories.values():
            chain, node = [], c
            while node is not None:
                chain.append(node.pk)
                node = categories.get(node.parent_id)
            self.chain[c.pk] = chain
        self.leaf_key = {c.pk: (categories[c.parent_id].name, c.name) for c in self.leaves}
        self.rules = list(
            RoutingRule.objects.filter(active=True, unit__active=True).select_related("unit").order_by("priority", "id")
        )
        self.default_unit = demo.street.default_unit
        self.duty_routes = {}

        known = dict(texts.MIX.items())
        self.mix = {}
        special = [c for c in self.leaves if self.leaf_key[c.pk] in known]
        others = [c for c in self.leaves if self.leaf_key[c.pk] not in known]
        other_weight = texts.OTHER_WEIGHT / max(len(others), 1)
        for month in range(1, 13):
            for patrol in (False, True):
                weights = []
                for c in special + others:
                    key = self.leaf_key[c.pk]
                    weight, season, _ = known.get(key, (other_weight, "flat", None))
                    weight *= self._season(season, month)
                    if patrol:
                        weight *= 4.0 if key in PATROL_LEAVES else 0.1
                    weights.append(weight)
                cumulative, running = [], 0.0
                for w in weights:
                    running += w
                    cumulative.append(running)
                self.mix[(month, patrol)] = (special + others, cumulative)

        self.counters = dict(CaseNumberCounter.objects.values_list("day", "last"))
        self.next_case_id = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        self.next_extension_id = (Extension.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        self.next_whistle_id = (Whistle.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1

    @staticmethod
    def _season(profile, month):
        if profile == "summer":
            return {6: 1.5, 7: 1.7, 8: 1.5, 5: 1.2, 9: 1.15}.get(month, 1.0)
        if profile == "winter_heat":
            return {11: 3.0, 12: 3.5, 1: 3.5, 2: 2.5, 3: 1.0}.get(month, 0.02)
        return 1.0

    # --- arrivals -----------------------------------------------------------------
    def arrivals(self):
        """``total`` arrival times between start and now, sorted."""
        rng = self.rng
        first = _local(self.start).date()
        last = _local(self.now).date()
        days, weights = [], []
        day = first
        span = (last - first).days or 1
        while day <= last:
            weight = 1.0 if is_workday(day) else (0.6 if day.weekday() < 5 else 0.55)
            doy = day.timetuple().tm_yday
            weight *= 1.0 + 0.3 * math.exp(-(((doy - 200) / 40.0) ** 2))  # summer bump
            weight *= 0.92 + 0.16 * (day - first).days / span  # the platform is used more and more
            days.append(day)
            weights.append(weight)
            day += DAY
        hours = list(range(24))
        times = []
        while len(times) < self.total:
            need = self.total - len(times)
            for day, hour in zip(
                rng.choices(days, weights, k=need), rng.choices(hours, HOUR_CURVE, k=need), strict=False
            ):
                local = dt.datetime(
                    day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=SHANGHAI
                )
                at = local.astimezone(UTC)
                if self.start <= at <= self.now:
                    times.append(at)
        times.sort()
        return times

    # --- helpers ------------------------------------------------------------------
    def _lognormal_hours(self, median, sigma=0.9):
        return dt.timedelta(hours=median * math.exp(self.rng.gauss(0, sigma)))

    def _daytime(self, at, begin=8, end=20):
        """Moves a time at night to the next morning (people work in daytime)."""
        local = _local(at)
        if begin <= local.hour < end:
            return at
        day = local.date() if local.hour < begin else local.date() + DAY
        morning = dt.datetime(day.year, day.month, day.day, begin, 0, tzinfo=SHANGHAI)
        return (morning + dt.timedelta(minutes=self.rng.randrange(30, 120))).astimezone(UTC)

    def _office(self, at):
        """Moves a time into office hours (09:00–18:00) of a working day."""
        local = _local(at)
        for _ in range(40):
            if is_workday(local.date()):
                if local.hour < 9:
                    local = local.replace(hour=9, minute=self.rng.randrange(60))
                if local.hour < 18:
                    return local.astimezone(UTC)
            nxt = local.date() + DAY
            local = dt.datetime(nxt.year, nxt.month, nxt.day, 9, self.rng.randrange(60), tzinfo=SHANGHAI)
        return local.astimezone(UTC)

    def _handler(self, unit_id):
        return self.rng.choice(self.handlers[unit_id])

    def _route(self, life):
        """As services.route_decision: override rules, then the responsibility list, then the
        default unit. Returns (unit, reason, rule id, duty version, collaborators, manual)."""
        chain = self.chain[life.category.pk]
        community_id = life.community.pk if life.community else None
        grid_id = life.grid.pk if life.grid else None
        for rule in self.rules:
            if rule.category_id is not None and rule.category_id not in chain:
                continue
            if rule.community_id is not None and rule.community_id != community_id:
                continue
            if rule.grid_id is not None and rule.grid_id != grid_id:
                continue
            return rule.unit, f"派单规则 #{rule.pk} {rule.name}", rule.pk, None, [], False
        key = (life.category.pk, community_id)
        if key not in self.duty_routes:
            self.duty_routes[key] = route_for(life.category, community_id)
        duty = self.duty_routes[key]
        if duty.blocked and duty.negative.responsible_unit is not None:
            # The dispatcher sends it up to the district department the negative list names.
            return (duty.negative.responsible_unit, f"上报区级部门：{duty.reason}", None, duty.version, [], True)
        if duty.unit is not None:
            return duty.unit, duty.reason, None, duty.version, duty.collaborators, False
        return self.default_unit, "无匹配规则，派给街道默认承办单位", None, None, [], False

    def _number(self, at):
        day = _local(at).date()
        self.counters[day] = self.counters.get(day, 0) + 1
        self.touched_days.add(day)
        return f"{settings.JIEDAO['CASE_NUMBER_PREFIX']}{day:%Y%m%d}{self.counters[day]:05d}"

    # --- the event log --------------------------------------------------------------
    def _at(self, life, proposed):
        """The time of the next step (after the previous one); stops the case if it is in the future."""
        at = proposed
        if at <= life.last_at:
            at = life.last_at + dt.timedelta(seconds=self.rng.randrange(20, 300))
        if at > self.now:
            raise _Stop
        self._sweep(life, at)
        return at

    def _record(self, life, action, at, actor, before, note="", data=None, actor_unit=0, unit=0):
        if actor_unit == 0:
            actor_unit_id = actor.unit_id if actor is not None else None
        else:
            actor_unit_id = actor_unit.pk if actor_unit is not None else None
        unit_id = (life.unit.pk if life.unit else None) if unit == 0 else unit
        life.events.append(
            _Event(
                case_id=life.id,
                at=at,
                actor_id=actor.pk if actor is not None else None,
                actor_unit_id=actor_unit_id,
                unit_id=unit_id,
                action=action,
                from_status=before or "",
                to_status=life.status,
                note=note or "",
                data=data or {},
            )
        )
        life.last_at = at

    def _sweep(self, life, until):
        """The deadline sweeps the worker would have run between the last step and ``until``."""
        if life.status not in (S.DISPATCHED, S.IN_PROGRESS) or life.dispatched_at is None:
            return
        start = life.last_at
        points = [start]
        if life.completion_due is not None:
            total = life.completion_due - life.dispatched_at
            points += [life.completion_due - total * settings.JIEDAO["YELLOW_SHARE"], life.completion_due]
        if life.status == S.DISPATCHED and life.response_due is not None:
            points.append(life.response_due)
        ticks = set()
        for point in points:
            if point < start:
                continue
            seconds = point.timestamp()
            tick = dt.datetime.fromtimestamp((seconds // SWEEP.total_seconds() + 1) * SWEEP.total_seconds(), UTC)
            if start < tick < until and tick <= self.now:
                ticks.add(tick)
        for tick in sorted(ticks):
            reopened_at = max((r[-1] for r in life.ratings if r[-1] <= tick), default=None)
            level = services.urgency_at(life, tick, reopened_at)
            if level != life.urgency:
                before = life.urgency
                life.urgency = level
                self._record(life, "sla", tick, None, life.status, data={"from": before, "urgency": level})

    # --- one case ---------------------------------------------------------------------
    def new_case(self, at, pool):
        rng = self.rng
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        local = _local(at)
        workday = is_workday(local.date())
        if channel in (Channel.WINDOW, Channel.LETTER, Channel.LEADER_MAILBOX) and not (
            workday and 9 <= local.hour < 17
        ):
            channel = Channel.HOTLINE_12345
        if channel == Channel.GRID and not (8 <= local.hour < 19):
            channel = Channel.HOTLINE_12345
        patrol = channel == Channel.GRID
        leaves, cumulative = self.mix[(local.month, patrol)]
        category = rng.choices(leaves, cum_weights=cumulative)[0]
        key = self.leaf_key[category.pk]

        grid = rng.choices(self.grids, self.grid_weights)[0]
        community = grid.community
        estates, roads = self.community_info[community.pk]
        estate, road = rng.choice(estates), rng.choice(roads)
        building = f"{estate}{rng.randint(1, 24)}号楼"
        fill = {
            "place": building,
            "estate": estate,
            "road": road,
            "spot": rng.choice(places.PUBLIC_PLACES),
            "n": rng.randint(2, 9),
            "days": rng.randint(2, 7),
            "leaf": category.name,
        }
        templates = texts.MIX.get(key, (0, "", texts.GENERIC))[2] or texts.GENERIC
        description = rng.choice(templates).format(**fill)

        lat = lng = None
        if rng.random() < HAS_LOCATION[channel]:
            west, south, east, north = self.grid_rects[grid.pk]
            margin_x, margin_y = (east - west) * 0.05, (north - south) * 0.05
            lng = round(rng.uniform(west + margin_x, east - margin_x), 6)
            lat = round(rng.uniform(south + margin_y, north - margin_y), 6)
        elif channel in OPERATOR_CHANNELS and rng.random() < 0.6:
            grid = None  # the operator knows the community, not the grid
        else:
            grid = community = None
        address = (
            f"{road}{rng.randint(1, 120)}号{building}{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}"
            if rng.random() < 0.8
            else f"{road}{fill['spot']}"
        )

        reporter = None
        created_by = None
        name = phone = ""
        if channel in OPERATOR_CHANNELS:
            created_by = self.operator
        elif channel == Channel.GRID:
            workers = self.grid_workers.get(grid.pk) if grid else None
            created_by = rng.choice(workers) if workers else None
        resident_share = 0.05 if self.now - at < dt.timedelta(days=20) else 0.012
        if channel == Channel.PORTAL and rng.random() < resident_share:
            reporter = created_by = self.resident
            name, phone = self.resident.display_name, RESIDENT_PHONE
            grid = self.grids[0]
            community = grid.community
            west, south, east, north = self.grid_rects[grid.pk]
            lng, lat = (
                round(rng.uniform(west + 0.0002, east - 0.0002), 6),
                round(rng.uniform(south + 0.0002, north - 0.0002), 6),
            )
        elif channel != Channel.GRID:
            surname = rng.choice(places.SURNAMES)
            if rng.random() < 0.7:
                name = surname + rng.choice(["女士", "先生"])
            else:
                name = surname + "".join(rng.choice(places.GIVEN_CHARS) for _ in range(rng.randint(1, 2)))
            phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))

        classified = rng.random() < CLASSIFIED_AT_INTAKE.get(channel, 0.0)
        life = _Life(
            id=self.next_case_id,
            number=self._number(at),
            channel=channel,
            category=category if classified else None,
            leaf_key=key,
            description=description,
            reporter_name=name,
            reporter_phone=phone,
            reporter=reporter,
            address=address,
            lat=lat,
            lng=lng,
            community=community,
            grid=grid,
            created_by=created_by,
            created_at=at,
            last_at=at,
        )
        self.next_case_id += 1
        self._record(
            life,
            "create",
            at,
            created_by,
            "",
            data={
                "channel": str(channel),
                "category": category.code if classified else None,
                "grid": grid.code if grid else None,
                "community": community.code if community else None,
                "photos": 0,
            },
        )
        try:
            self._play(life, category, pool)
        except _Stop:
            self._sweep(life, self.now + SWEEP)
        if life.grid is not None and life.status != S.MERGED:
            pool[(category.pk, life.grid.pk)].append(life)
        return life

    def _play(self, life, category, pool):
        rng = self.rng
        # 并案: a second report of the same matter in the same grid within three days.
        if life.grid is not None and rng.random() < 0.3:
            for master in reversed(pool.get((category.pk, life.grid.pk), [])):
                if life.created_at - master.created_at > dt.timedelta(days=3):
                    break
                at = life.created_at + dt.timedelta(minutes=rng.randint(10, 120))
                status, unit_id = master.status_at(at)
                if status in OPEN_STATUSES and status != S.MERGED and at <= self.now:
                    self._merge(life, master, at, status, unit_id)
                    return

        night = not (7 <= _local(life.created_at).hour < 22)
        at = life.created_at + self._lognormal_hours(0.6 if night else 0.25, 0.8)
        if life.category is None:
            at = self._at(life, at)
            life.category = category
            self._record(
                life, "classify", at, self.dispatcher, life.status, data={"from": None, "category": category.code}
            )
            at += dt.timedelta(minutes=rng.randint(1, 10))
        unit, reason, rule, version, collaborators, manual = self._route(life)
        self._dispatch(life, unit, reason, at, manual=manual, rule=rule, version=version, collaborators=collaborators)
        self._handle(life)

    def _merge(self, life, master, at, master_status, master_unit_id):
        at = self._at(life, at)
        before = life.status
        life.master_id = master.id
        life.status = S.MERGED
        life.closed_at = at
        life.category = life.category or master.category
        self._record(life, "merge", at, self.dispatcher, before, data={"master": master.number})
        master.events.append(
            _Event(
                case_id=master.id,
                at=at,
                actor_id=self.dispatcher.pk,
                actor_unit_id=None,
                unit_id=master_unit_id,
                action="absorb",
                from_status=master_status,
                to_status=master_status,
                note="",
                data={"duplicate": life.number},
            )
        )
        master.events.sort(key=lambda e: e.at)
        self.counts["merged"] += 1

    def _dispatch(self, life, unit, reason, at, manual, rule=None, version=None, collaborators=()):
        at = self._at(life, at)
        before = life.status
        life.unit = unit
        life.routed_by = reason[:200]
        life.duty_version = version
        life.dispatched_at = at
        life.response_due, life.completion_due = services.deadlines_for(life.category, at, version)
        life.responded_at = None
        life.urgency = Urgency.GREEN
        life.status = S.DISPATCHED
        self._record(
            life,
            "dispatch",
            at,
            self.dispatcher,
            before,
            data={
                "unit": unit.code,
                "routed_by": life.routed_by,
                "rule": rule,
                "duty": version.item.code if version else None,
                "duty_version": version.number if version else None,
                "collaborators": [u.code for u in collaborators],
                "response_due": _iso(life.response_due),
                "completion_due": _iso(life.completion_due),
                "manual": manual,
            },
        )
        if collaborators:
            self._cohandle(life, at, unit, collaborators)

    def _cohandle(self, life, at, unit, collaborators):
        """The co-handling task the list gives at dispatch, and each collaborator's report."""
        whistle = Whistle(
            id=self.next_whistle_id,
            case_id=life.id,
            kind=Whistle.Kind.COHANDLE,
            blown_by_id=self.dispatcher.pk,
            blown_at=at,
            report_due=life.response_due,
            reason=f"权责清单协办：{life.routed_by}",
        )
        self.next_whistle_id += 1
        self.counts["cohandles"] += 1
        summonses = [WhistleSummons(whistle_id=whistle.pk, unit_id=c.pk) for c in collaborators]
        life.whistles.append((whistle, summonses))
        pending = []
        for summons in summonses:
            pending.append((self._daytime(at + self._lognormal_hours(3, 0.8)), summons))
        for report_at, summons in sorted(pending, key=lambda r: r[0]):
            report_at = self._at(life, report_at)
            handler = self._handler(summons.unit_id)
            part = self.rng.choice(texts.REPORT_PARTS)
            summons.reported_at, summons.reported_by_id, summons.part = report_at, handler.pk, part
            self._record(
                life,
                "report",
                report_at,
                handler,
                life.status,
                note=part,
                data={"whistle": whistle.pk, "on_time": report_at <= whistle.report_due},
            )

    def _handle(self, life):
        rng = self.rng
        # 退单: the unit finds the case is not theirs, within the return window.
        for _ in range(2):
            behaviour = self.behaviour[life.unit.pk]
            if rng.random() >= behaviour.return_share * (1 if life.return_count == 0 else 0.3):
                break
            delay = min(
                self._lognormal_hours(2.0, 0.8), dt.timedelta(hours=settings.JIEDAO["RETURN_WINDOW_HOURS"] - 0.5)
            )
            at = self._at(life, life.dispatched_at + delay)
            unit = life.unit
            other = rng.choice([c for c in ALTERNATIVES.get(unit.code, ["GGFW", "SQZL"]) if c != unit.code])
            before = life.status
            life.status = S.RETURNED
            life.return_count += 1
            life.unit = None
            reason = rng.choice(texts.RETURN_REASONS).format(other=self.units[other].name)
            self._record(
                life,
                "return",
                at,
                self._handler(unit.pk),
                before,
                note=reason,
                actor_unit=unit,
                data={"unit": unit.code},
            )
            at += self._lognormal_hours(1.0, 0.7)
            if rng.random() < 0.3 and self.siblings.get(life.category.pk):
                at = self._at(life, at)
                old = life.category
                life.category = rng.choice(self.siblings[old.pk])
                self._record(
                    life,
                    "classify",
                    at,
                    self.dispatcher,
                    life.status,
                    data={"from": old.code, "category": life.category.code},
                )
                at += dt.timedelta(minutes=rng.randint(1, 10))
            self._dispatch(life, self.units[other], "派单员指定", at, manual=True)

        behaviour = self.behaviour[life.unit.pk]
        at = life.dispatched_at + self._lognormal_hours(behaviour.response_median_hours)
        at = self._at(life, self._daytime(at, 7, 22))
        before = life.status
        life.status = S.IN_PROGRESS
        life.responded_at = at
        handler = self._handler(life.unit.pk)
        on_time = life.response_due is None or at <= life.response_due
        self._record(
            life, "respond", at, handler, before, note=rng.choice(texts.RESPOND_NOTES), data={"on_time": on_time}
        )

        whistle_share = 0.08 if life.leaf_key in texts.WHISTLE_PARTNERS else 0.002
        if rng.random() < whistle_share:
            self._whistle(life, at + self._lognormal_hours(6, 0.8))

        for round_number in range(1, 4):
            self._work_until_result(life, behaviour, round_number)
            if life.status == S.VERIFYING:
                self._verify(life, behaviour)
            if self._rate(life, behaviour, round_number):
                return

    def _work_until_result(self, life, behaviour, round_number):
        rng = self.rng
        start = life.last_at
        while True:
            allowed = life.completion_due - start
            share = rng.betavariate(2.0, 2.0 * (1 - behaviour.work_share) / behaviour.work_share)
            target = start + allowed * share if allowed.total_seconds() > 0 else start + self._lognormal_hours(6)
            late = rng.random() < behaviour.overdue_share * (0.6 if round_number > 1 else 1.0)
            stuck = rng.random() < 0.006
            if late or stuck:
                target = life.completion_due + (
                    dt.timedelta(days=rng.uniform(10, 40)) if stuck else dt.timedelta(days=rng.uniform(0.3, 5))
                )
            target = self._office(target) if rng.random() < 0.7 else self._daytime(target)

            # 延期: asked for before the limit, decided by a leader.
            if rng.random() < behaviour.extension_share and life.extension_count < 2:
                ask = start + max(allowed * rng.uniform(0.5, 0.85), dt.timedelta(hours=1))
                if ask < target:
                    approved = self._extension(life, ask)
                    if approved and late and rng.random() < 0.7:
                        target = min(target, life.completion_due - dt.timedelta(hours=rng.uniform(2, 30)))
                        target = max(target, life.last_at + dt.timedelta(hours=1))

            # 办理进展
            notes = rng.choices([0, 1, 2], [0.6, 0.3, 0.1])[0]
            for _i in range(notes):
                note_at = life.last_at + (target - life.last_at) * rng.uniform(0.2, 0.8)
                if note_at > life.last_at:
                    note_at = self._at(life, self._daytime(note_at))
                    self._record(
                        life,
                        "note",
                        note_at,
                        self._handler(life.unit.pk),
                        life.status,
                        note=rng.choice(texts.PROGRESS_NOTES),
                    )

            # 督办: an overdue case draws the leader's attention.
            if target > life.completion_due and not life.supervised and rng.random() < 0.55:
                supervise_at = self._daytime(life.completion_due + dt.timedelta(hours=rng.uniform(2, 30)))
                if supervise_at < target:
                    supervise_at = self._at(life, supervise_at)
                    life.supervised = True
                    self._record(
                        life,
                        "supervise",
                        supervise_at,
                        rng.choice([self.leader, self.dispatcher]),
                        life.status,
                        note=rng.choice(texts.SUPERVISE_NOTES),
                    )
                    target = min(target, self._daytime(supervise_at + dt.timedelta(hours=rng.uniform(4, 60))))

            at = self._at(life, target)
            before = life.status
            life.status = S.VERIFYING if life.category.needs_verification else S.RATING
            life.resolved_at = at
            life.urgency = Urgency.GREEN
            self._record(
                life,
                "resolve",
                at,
                self._handler(life.unit.pk),
                before,
                note=rng.choice(texts.RESULTS),
                data={"on_time": at <= life.completion_due, "photos": 0},
            )
            return

    def _extension(self, life, ask):
        rng = self.rng
        at = self._at(life, self._office(ask))
        extra = rng.choice([2, 3, 3, 5, 5, 7])
        reason = rng.choice(texts.EXTENSION_REASONS)
        handler = self._handler(life.unit.pk)
        ext = Extension(
            id=self.next_extension_id,
            case_id=life.id,
            requested_by_id=handler.pk,
            requested_at=at,
            extra_workdays=extra,
            reason=reason,
        )
        self.next_extension_id += 1
        life.extensions.append(ext)
        self._record(
            life,
            "request_extension",
            at,
            handler,
            life.status,
            note=reason,
            data={"extension": ext.pk, "extra_workdays": extra},
        )
        decide = self._at(life, self._office(at + self._lognormal_hours(4, 0.8)))
        approve = rng.random() < 0.8
        ext.decision = Extension.Decision.APPROVED if approve else Extension.Decision.REFUSED
        ext.decided_by_id = self.leader.pk
        ext.decided_at = decide
        note = "" if approve else rng.choice(texts.REFUSE_NOTES)
        ext.decision_note = note
        data = {"extension": ext.pk}
        if approve:
            old_due = life.completion_due
            base = _local(old_due).date() if old_due else _local(decide).date()
            new_date = add_workdays(base, extra)
            life.completion_due = dt.datetime.combine(new_date, dt.time(23, 59, 59), SHANGHAI).astimezone(UTC)
            life.extension_count += 1
            life.urgency = Urgency.GREEN
            data.update({"completion_due_before": _iso(old_due), "completion_due": _iso(life.completion_due)})
        self._record(
            life,
            "approve_extension" if approve else "refuse_extension",
            decide,
            self.leader,
            life.status,
            note=note,
            data=data,
        )
        return approve

    def _whistle(self, life, proposed):
        rng = self.rng
        at = self._at(life, self._daytime(proposed))
        partners = [
            c for c in texts.WHISTLE_PARTNERS.get(life.leaf_key, ["ZHZF", "SQZL", "PAJS"]) if c != life.unit.code
        ]
        codes = rng.sample(partners, k=min(len(partners), rng.choice([2, 2, 3])))
        hours = rng.choice([24, 24, 48])
        blower = rng.choice([self.dispatcher, self.dispatcher, self.leader])
        reason = rng.choice(texts.WHISTLE_REASONS)
        whistle = Whistle(
            id=self.next_whistle_id,
            case_id=life.id,
            blown_by_id=blower.pk,
            blown_at=at,
            report_due=at + dt.timedelta(hours=hours),
            reason=reason,
        )
        self.next_whistle_id += 1
        summonses = [WhistleSummons(whistle_id=whistle.pk, unit_id=self.units[c].pk) for c in codes]
        life.whistles.append((whistle, summonses))
        self._record(
            life,
            "whistle",
            at,
            blower,
            life.status,
            note=reason,
            data={"whistle": whistle.pk, "units": codes, "report_due": _iso(whistle.report_due)},
        )
        self.counts["whistles"] += 1
        reports = []
        for summons in summonses:
            delay = self._lognormal_hours(hours * 0.25, 0.9)
            reports.append((self._daytime(at + delay), summons))
        for report_at, summons in sorted(reports, key=lambda r: r[0]):
            report_at = self._at(life, report_at)
            handler = self._handler(summons.unit_id)
            part = rng.choice(texts.REPORT_PARTS)
            summons.reported_at, summons.reported_by_id, summons.part = report_at, handler.pk, part
            self._record(
                life,
                "report",
                report_at,
                handler,
                life.status,
                note=part,
                data={"whistle": whistle.pk, "on_time": report_at <= whistle.report_due},
            )

    def _verify(self, life, behaviour):
        rng = self.rng
        for _ in range(3):
            at = self._at(life, self._daytime(life.last_at + self._lognormal_hours(5, 0.8)))
            workers = self.grid_workers.get(life.grid.pk) if life.grid else None
            actor = rng.choice(workers) if workers else self.dispatcher
            passed = rng.random() >= behaviour.verify_fail_share
            before = life.status
            note = "" if passed else rng.choice(texts.VERIFY_FAIL_NOTES)
            life.status = S.RATING if passed else S.IN_PROGRESS
            if not passed:
                life.resolved_at = None
            self._record(life, "verify_pass" if passed else "verify_fail", at, actor, before, note=note)
            if passed:
                return
            redo = self._daytime(at + dt.timedelta(hours=rng.uniform(6, 72)))
            redo = self._at(life, redo)
            life.status = S.VERIFYING if life.category.needs_verification else S.RATING
            life.resolved_at = redo
            self._record(
                life,
                "resolve",
                redo,
                self._handler(life.unit.pk),
                S.IN_PROGRESS,
                note=rng.choice(texts.RESULTS),
                data={"on_time": redo <= life.completion_due, "photos": 0},
            )

    def _rate(self, life, behaviour, round_number):
        """回访: returns True when the case is closed, False when it was reopened."""
        rng = self.rng
        at = self._at(life, self._daytime(life.last_at + dt.timedelta(hours=rng.uniform(4, 72)), 9, 20))
        proactive = life.channel == Channel.GRID and not life.reporter_phone
        if rng.random() < (0.4 if proactive else 0.03):
            before = life.status
            life.status = S.CLOSED
            life.closed_at = at
            note = "网格员主动发现事件，现场核查通过后结案。" if proactive else rng.choice(texts.CLOSE_NOTES)
            self._record(life, "close", at, self.dispatcher, before, note=note)
            return True
        resolved_share = behaviour.resolved_share
        if round_number > 1:
            resolved_share += (1 - resolved_share) * 0.6
        late = life.resolved_at is not None and life.resolved_at > life.completion_due
        satisfied_share = behaviour.satisfied_share - (0.2 if late else 0.0)
        if round_number >= 3:
            resolved = True
            satisfaction = rng.choice([Rating.Satisfaction.SATISFIED, Rating.Satisfaction.BASIC])
        elif rng.random() < resolved_share:
            resolved = True
            roll = rng.random()
            satisfaction = (
                Rating.Satisfaction.SATISFIED
                if roll < satisfied_share
                else Rating.Satisfaction.BASIC
                if roll < satisfied_share + (1 - satisfied_share) * 0.8
                else Rating.Satisfaction.UNSATISFIED
            )
        else:
            resolved = False
            satisfaction = rng.choices(
                [Rating.Satisfaction.UNSATISFIED, Rating.Satisfaction.BASIC, Rating.Satisfaction.SATISFIED],
                [0.55, 0.35, 0.10],
            )[0]
        if life.reporter is not None:
            actor, source = life.reporter, Rating.Source.RESIDENT
        elif life.reporter_phone and rng.random() < 0.3:
            actor, source = None, Rating.Source.RESIDENT  # by case number and phone
        else:
            actor, source = self.operator, Rating.Source.CALLBACK
        reopen = (not resolved) or satisfaction == Rating.Satisfaction.UNSATISFIED
        comment = rng.choice(texts.RATING_COMMENTS_BAD if reopen else texts.RATING_COMMENTS_GOOD)
        rating_round = len(life.ratings) + 1
        life.ratings.append(
            (life.id, life.unit.pk, rating_round, resolved, str(satisfaction), str(source), comment, at)
        )
        data = {
            "resolved": resolved,
            "satisfaction": str(satisfaction),
            "source": str(source),
            "round": rating_round,
            "reopen": reopen,
        }
        before = life.status
        if reopen:
            life.status = S.IN_PROGRESS
            life.rework_count += 1
            life.resolved_at = None
            life.response_due, life.completion_due = services.deadlines_for(life.category, at, life.duty_version)
            life.urgency = Urgency.GREEN
            data.update({"response_due": _iso(life.response_due), "completion_due": _iso(life.completion_due)})
        else:
            life.status = S.CLOSED
            life.closed_at = at
        self._record(life, "rate", at, actor, before, note=comment, data=data)
        return not reopen

    # --- writing ----------------------------------------------------------------------
    CASE_COLUMNS = (
        "id",
        "number",
        "channel",
        "status",
        "category_id",
        "description",
        "reporter_name",
        "reporter_phone",
        "reporter_phone_index",
        "reporter_id",
        "address",
        "lat",
        "lng",
        "community_id",
        "grid_id",
        "unit_id",
        "routed_by",
        "dispatched_at",
        "response_due",
        "completion_due",
        "responded_at",
        "resolved_at",
        "closed_at",
        "urgency",
        "supervised",
        "return_count",
        "rework_count",
        "extension_count",
        "master_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "duty_version_id",
        "street_id",
    )
    EVENT_COLUMNS = (
        "case_id",
        "seq",
        "at",
        "actor_id",
        "actor_unit_id",
        "unit_id",
        "action",
        "from_status",
        "to_status",
        "note",
        "data",
    )
    RATING_COLUMNS = ("case_id", "unit_id", "round", "resolved", "satisfaction", "source", "comment", "rated_at")

    def _case_row(self, life):
        phone = life.reporter_phone or ""
        return (
            life.id,
            life.number,
            str(life.channel),
            str(life.status),
            life.category.pk if life.category else None,
            life.description,
            life.reporter_name or "",
            phone,
            blind_index(phone) if phone else "",
            life.reporter.pk if life.reporter else None,
            life.address or "",
            life.lat,
            life.lng,
            life.community.pk if life.community else None,
            life.grid.pk if life.grid else None,
            life.unit.pk if life.unit else None,
            life.routed_by or "",
            life.dispatched_at,
            life.response_due,
            life.completion_due,
            life.responded_at,
            life.resolved_at,
            life.closed_at,
            str(life.urgency),
            life.supervised,
            life.return_count,
            life.rework_count,
            life.extension_count,
            life.master_id,
            life.created_by.pk if life.created_by else None,
            life.created_at,
            life.events[-1].at,
            life.duty_version.pk if life.duty_version else None,
            self.demo.street.pk,
        )

    @staticmethod
    def _insert(model, columns, rows, chunk=2000):
        """INSERTs rows of column values, each prepared by its field exactly as the ORM would
        (datetimes adapted, personal data encrypted, JSON encoded), without building model objects."""
        if not rows:
            return
        fields = [model._meta.get_field(name) for name in columns]
        preparers = []
        for field in fields:
            if field.get_internal_type() == "DateTimeField":
                preparers.append(connection.ops.adapt_datetimefield_value)
            elif field.get_internal_type() in ("JSONField",) or isinstance(field, EncryptedTextField):
                preparers.append(lambda value, field=field: field.get_db_prep_save(value, connection))
            else:
                preparers.append(None)
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        prepared = [(i, p) for i, p in enumerate(preparers) if p is not None]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), chunk):
                batch = []
                for row in rows[start : start + chunk]:
                    values = list(row)
                    for i, prepare in prepared:
                        if values[i] is not None:
                            values[i] = prepare(values[i])
                    batch.append(values)
                cursor.executemany(sql, batch)

    def _flush(self, lives):
        cases, events, ratings, extensions, whistles, summonses = [], [], [], [], [], []
        for life in lives:
            cases.append(self._case_row(life))
            for seq, e in enumerate(life.events, start=1):
                events.append(
                    (
                        e.case_id,
                        seq,
                        e.at,
                        e.actor_id,
                        e.actor_unit_id,
                        e.unit_id,
                        e.action,
                        str(e.from_status),
                        str(e.to_status),
                        e.note,
                        e.data,
                    )
                )
            ratings.extend(life.ratings)
            extensions.extend(life.extensions)
            for whistle, members in life.whistles:
                whistles.append(whistle)
                summonses.extend(members)
            self.counts[str(life.status)] += 1
        with transaction.atomic():
            self._insert(Case, self.CASE_COLUMNS, cases)
            Extension.objects.bulk_create(extensions, batch_size=500)
            Whistle.objects.bulk_create(whistles, batch_size=500)
            WhistleSummons.objects.bulk_create(summonses, batch_size=500)
            self._insert(Rating, self.RATING_COLUMNS, ratings)
            self._insert(CaseEvent, self.EVENT_COLUMNS, events)
        self.counts["cases"] += len(cases)
        self.counts["events"] += len(events)
        self.counts["ratings"] += len(ratings)
        self.counts["extensions"] += len(extensions)
        self.counts["summonses"] += len(summonses)

    def run(self):
        self.touched_days = set()
        pool = defaultdict(list)
        pending = []
        done = 0
        self.progress.update(0, 0)
        for at in self.arrivals():
            pending.append(self.new_case(at, pool))
            if len(pending) % 200 == 0 and self.progress.tty:
                self.progress.update(done + len(pending), self.counts["events"])
            if len(pending) >= BATCH:
                done += len(pending)
                self._flush(pending)
                pending, pool = [], defaultdict(list)
                self.progress.update(done, self.counts["events"])
        if pending:
            done += len(pending)
            self._flush(pending)
        self.progress.update(done, self.counts["events"])
        self.progress.finish()
        with transaction.atomic():
            CaseNumberCounter.objects.bulk_create(
                [CaseNumberCounter(day=day, last=self.counters[day]) for day in sorted(self.touched_days)],
                update_conflicts=True,
                unique_fields=["day"],
                update_fields=["last"],
                batch_size=500,
            )
            # Rows were written with explicit ids: move the sequences past them (PostgreSQL).
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), [Case, Extension, Whistle]):
                    cursor.execute(statement)
        return dict(self.counts)


def simulate(cases=20000, seed=20261122, now=None, out=None, days=365):
    """Fills the demo street with ``cases`` cases of the last ``days`` days (12 months). Returns counts."""
    demo = demo_street()
    if demo is None:
        raise RuntimeError("build the demo street first")
    return Simulator(demo, cases=cases, seed=seed, now=now, out=out, days=days).run()
