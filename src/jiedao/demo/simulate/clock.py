"""Steps in time: each step of a case comes after the one before, a step that would fall
after "now" stops the case where it is, and between two steps the worker's deadline sweeps
(every ten minutes) turn the case yellow or red as they would have."""

import datetime as dt

from django.conf import settings

from jiedao.cases.models import Status
from jiedao.cases.services import urgency_at

UTC = dt.UTC
SWEEP = dt.timedelta(minutes=10)  # the worker sweeps deadlines every ten minutes


class Stop(Exception):
    """The next step of a case would happen after 'now'."""


def step_at(world, case, proposed):
    """The time of the case's next step (after the previous one); stops the case if it is in
    the future. The sweeps until then are recorded first."""
    at = proposed
    if at <= case.last_at:
        at = case.last_at + dt.timedelta(seconds=world.rng.randrange(20, 300))
    if at > world.now:
        raise Stop
    sweep(world, case, at)
    return at


def sweep(world, case, until):
    """The deadline sweeps the worker would have run between the last step and ``until``."""
    if case.status not in (Status.DISPATCHED, Status.IN_PROGRESS) or case.dispatched_at is None:
        return
    start = case.last_at
    points = [start]
    if case.completion_due is not None:
        total = case.completion_due - case.dispatched_at
        points += [case.completion_due - total * settings.JIEDAO["YELLOW_SHARE"], case.completion_due]
    if case.status == Status.DISPATCHED and case.response_due is not None:
        points.append(case.response_due)
    ticks = set()
    for point in points:
        if point < start:
            continue
        seconds = point.timestamp()
        tick = dt.datetime.fromtimestamp((seconds // SWEEP.total_seconds() + 1) * SWEEP.total_seconds(), UTC)
        if start < tick < until and tick <= world.now:
            ticks.add(tick)
    for tick in sorted(ticks):
        reopened_at = max((r[-1] for r in case.ratings if r[-1] <= tick), default=None)
        level = urgency_at(case, now=tick, reopened_at=reopened_at)
        if level != case.urgency:
            case.sweep(level, at=tick)
