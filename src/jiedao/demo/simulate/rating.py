"""The end of a round: the grid worker's check on site (核查) where the category asks for one,
then the callback or the resident's own rating (回访评价) — resolved or not, satisfied or not,
worse when the unit was late — which closes the case or reopens it (重办); now and then the
dispatcher closes a case without a rating (a grid worker's own finding, a caller never
reached)."""

import datetime as dt

from jiedao.cases.models import Channel, Rating, Status

from .. import texts
from .clock import step_at


def verify(world, case, behaviour):
    """Up to three checks; a failed one sends the unit back to work and it resolves again. The
    third passes (a case goes on to its rating from a passed check only)."""
    rng = world.rng
    for attempt in range(3):
        at = step_at(world, case, world.daytime(case.last_at + world.lognormal_hours(5, 0.8)))
        workers = world.grid_workers.get(case.grid.pk) if case.grid else None
        actor = rng.choice(workers) if workers else world.dispatcher
        passed = rng.random() >= behaviour.verify_fail_share or attempt == 2
        note = "" if passed else rng.choice(texts.VERIFY_FAIL_NOTES)
        case.verify(passed=passed, at=at, actor=actor, note=note)
        if passed:
            return
        redo = step_at(world, case, world.daytime(at + dt.timedelta(hours=rng.uniform(6, 72))))
        case.resolve(at=redo, actor=world.handler(case.unit.pk), result=rng.choice(texts.RESULTS))


def rate(world, case, behaviour, round_number) -> bool:
    """回访: returns True when the case is closed, False when it was reopened."""
    rng = world.rng
    at = step_at(world, case, world.daytime(case.last_at + dt.timedelta(hours=rng.uniform(4, 72)), 9, 20))
    proactive = case.channel == Channel.GRID and not case.reporter_phone
    if rng.random() < (0.4 if proactive else 0.03):
        note = "网格员主动发现事件，现场核查通过后结案。" if proactive else rng.choice(texts.CLOSE_NOTES)
        case.close(at=at, actor=world.dispatcher, note=note)
        return True
    resolved_share = behaviour.resolved_share
    if round_number > 1:
        resolved_share += (1 - resolved_share) * 0.6
    late = case.resolved_at is not None and case.resolved_at > case.completion_due
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
    if case.reporter is not None:
        actor, source = case.reporter, Rating.Source.RESIDENT
    elif case.reporter_phone and rng.random() < 0.3:
        actor, source = None, Rating.Source.RESIDENT  # by case number and phone
    else:
        actor, source = world.operator, Rating.Source.CALLBACK
    reopen = (not resolved) or satisfaction == Rating.Satisfaction.UNSATISFIED
    comment = rng.choice(texts.RATING_COMMENTS_BAD if reopen else texts.RATING_COMMENTS_GOOD)
    case.rate(at=at, actor=actor, resolved=resolved, satisfaction=satisfaction, source=source, comment=comment)
    return case.status == Status.CLOSED
