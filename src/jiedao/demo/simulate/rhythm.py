"""When cases arrive and what they are about: a weekday and hour-of-day rhythm with a summer
bump and a platform used a little more each month; the channels, and what each channel tends
to know (a category, a location); the category mix of each month, grid patrols finding other
matters than callers report."""

import datetime as dt
import math

from jiedao.cases.models import Channel
from jiedao.workcal.calendar import SHANGHAI, is_workday

from .. import texts

DAY = dt.timedelta(days=1)

# Relative arrivals per hour of the day, 00:00 to 23:00.
HOUR_CURVE = [
    *(0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 4.0, 4.6, 4.0),  # 00:00 to 11:00
    *(2.4, 2.2, 3.6, 4.1, 3.6, 2.8, 2.0, 1.8, 1.6, 1.3, 0.9, 0.5),  # 12:00 to 23:00
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


def local(at):
    return at.astimezone(SHANGHAI)


def season(profile, month):
    if profile == "summer":
        return {6: 1.5, 7: 1.7, 8: 1.5, 5: 1.2, 9: 1.15}.get(month, 1.0)
    if profile == "winter_heat":
        return {11: 3.0, 12: 3.5, 1: 3.5, 2: 2.5, 3: 1.0}.get(month, 0.02)
    return 1.0


def arrivals(rng, start, now, total):
    """``total`` arrival times between ``start`` and ``now``, sorted."""
    first = local(start).date()
    last = local(now).date()
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
    while len(times) < total:
        need = total - len(times)
        for day, hour in zip(rng.choices(days, weights, k=need), rng.choices(hours, HOUR_CURVE, k=need), strict=False):
            at = dt.datetime(
                day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=SHANGHAI
            ).astimezone(dt.UTC)
            if start <= at <= now:
                times.append(at)
    times.sort()
    return times


def category_mix(leaves, leaf_key):
    """``(month, patrol) → (leaves, cumulative weights)``: the texts' weights for the leaves
    they name (shared out for the others), by season, and on patrol the patrol matters."""
    known = dict(texts.MIX.items())
    special = [c for c in leaves if leaf_key[c.pk] in known]
    others = [c for c in leaves if leaf_key[c.pk] not in known]
    other_weight = texts.OTHER_WEIGHT / max(len(others), 1)
    mix = {}
    for month in range(1, 13):
        for patrol in (False, True):
            weights = []
            for c in special + others:
                key = leaf_key[c.pk]
                weight, profile, _ = known.get(key, (other_weight, "flat", None))
                weight *= season(profile, month)
                if patrol:
                    weight *= 4.0 if key in PATROL_LEAVES else 0.1
                weights.append(weight)
            cumulative, running = [], 0.0
            for w in weights:
                running += w
                cumulative.append(running)
            mix[(month, patrol)] = (special + others, cumulative)
    return mix
