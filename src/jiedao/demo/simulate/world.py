"""What the simulation reads once and every step shares: the demo street's people and places,
the category tree and its monthly mix, the units' behaviour, the random source and the clock
of working people (daytime, office hours, delays that vary like real ones)."""

import datetime as dt
import math
import random
from collections import defaultdict

from django.utils import timezone

from jiedao.cases.bulk import Routes
from jiedao.cases.models import Category
from jiedao.workcal.calendar import SHANGHAI, is_workday

from .. import places
from .behaviour import behaviour_of
from .rhythm import category_mix, local

UTC = dt.UTC
DAY = dt.timedelta(days=1)


class World:
    def __init__(self, demo, seed, now=None, days=365):
        self.demo = demo
        self.rng = rng = random.Random(seed)
        self.now = (now or timezone.now()).astimezone(UTC)
        self.start = self.now - dt.timedelta(days=days)
        self.counts = defaultdict(int)
        self.routes = Routes()

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
        self.behaviour = behaviour_of(self.units)

        self.street_id = demo.street.pk
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
        children = defaultdict(list)
        for c in categories.values():
            if c.parent_id:
                children[c.parent_id].append(c)
        leaves = [c for c in categories.values() if c.pk not in children]
        self.siblings = {c.pk: [s for s in children[c.parent_id] if s.pk != c.pk] for c in leaves}
        self.leaf_key = {c.pk: (categories[c.parent_id].name, c.name) for c in leaves}
        self.mix = category_mix(leaves, self.leaf_key)

    # --- people's time ------------------------------------------------------------------------
    def lognormal_hours(self, median, sigma=0.9):
        return dt.timedelta(hours=median * math.exp(self.rng.gauss(0, sigma)))

    def daytime(self, at, begin=8, end=20):
        """Moves a time at night to the next morning (people work in daytime)."""
        moment = local(at)
        if begin <= moment.hour < end:
            return at
        day = moment.date() if moment.hour < begin else moment.date() + DAY
        morning = dt.datetime(day.year, day.month, day.day, begin, 0, tzinfo=SHANGHAI)
        return (morning + dt.timedelta(minutes=self.rng.randrange(30, 120))).astimezone(UTC)

    def office(self, at):
        """Moves a time into office hours (09:00–18:00) of a working day."""
        moment = local(at)
        for _ in range(40):
            if is_workday(moment.date()):
                if moment.hour < 9:
                    moment = moment.replace(hour=9, minute=self.rng.randrange(60))
                if moment.hour < 18:
                    return moment.astimezone(UTC)
            nxt = moment.date() + DAY
            moment = dt.datetime(nxt.year, nxt.month, nxt.day, 9, self.rng.randrange(60), tzinfo=SHANGHAI)
        return moment.astimezone(UTC)

    def handler(self, unit_id):
        """One of the unit's handlers."""
        return self.rng.choice(self.handlers[unit_id])
