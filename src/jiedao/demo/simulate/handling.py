"""A case's way through its unit: a duplicate merged into an open case of the same matter and
grid (并案), otherwise classified if the intake did not, routed by the services' own rules
(``cases.routing``) and dispatched; returned now and then to the dispatcher, who may classify
it again and names another unit; answered, worked on with progress notes, maybe escalated,
supervised when overdue, resolved — up to three rounds of checks and ratings."""

import datetime as dt

from django.conf import settings

from jiedao.cases.models import OPEN_STATUSES, Status
from jiedao.cases.routing import RouteDecision, named_unit
from jiedao.duties.selectors import district_units

from .. import texts
from .behaviour import ALTERNATIVES
from .clock import step_at
from .escalation import blow_whistle, cohandle_reports, extension
from .rating import rate, verify
from .rhythm import local


def play(world, case, category, pool):
    """Everything that happens to the case until it closes or "now" stops it."""
    rng = world.rng
    # 并案: a second report of the same matter in the same grid within three days.
    if case.grid is not None and rng.random() < 0.3:
        for master in reversed(pool.get((category.pk, case.grid.pk), [])):
            if case.created_at - master.created_at > dt.timedelta(days=3):
                break
            at = case.created_at + dt.timedelta(minutes=rng.randint(10, 120))
            status, _unit_id = master.status_at(at)
            if status in OPEN_STATUSES and status != Status.MERGED and at <= world.now:
                case.merge(master, at=step_at(world, case, at), actor=world.dispatcher)
                world.counts["merged"] += 1
                return

    night = not (7 <= local(case.created_at).hour < 22)
    at = case.created_at + world.lognormal_hours(0.6 if night else 0.25, 0.8)
    if case.category is None:
        at = step_at(world, case, at)
        case.classify(category, at=at, actor=world.dispatcher)
        at += dt.timedelta(minutes=rng.randint(1, 10))
    decision, manual = route(world, case)
    dispatch(world, case, decision, at, manual)
    handle(world, case)


def route(world, case) -> tuple:
    """``(decision, manual)``: where the routing sends the case; a case the negative list keeps
    from the street goes up to the district department the list names (the dispatcher's
    choice, as on the dispatch page)."""
    decision = world.routes.decision(case)
    if decision.unit is not None:
        return decision, False
    district = decision.negative.responsible_unit if decision.negative is not None else None
    return named_unit(decision, district or district_units()[0]), True


def dispatch(world, case, decision: RouteDecision, at, manual):
    at = step_at(world, case, at)
    cohandle = case.dispatch(decision, at=at, actor=world.dispatcher, manual=manual)
    if cohandle is not None:
        world.counts["cohandles"] += 1
        cohandle_reports(world, case, cohandle, at)


def handle(world, case):
    rng = world.rng
    # 退单: the unit finds the case is not theirs, within the return window.
    for _ in range(2):
        behaviour = world.behaviour[case.unit.pk]
        if rng.random() >= behaviour.return_share * (1 if case.return_count == 0 else 0.3):
            break
        delay = min(world.lognormal_hours(2.0, 0.8), dt.timedelta(hours=settings.JIEDAO["RETURN_WINDOW_HOURS"] - 0.5))
        at = step_at(world, case, case.dispatched_at + delay)
        unit = case.unit
        other = rng.choice([c for c in ALTERNATIVES.get(unit.code, ["GGFW", "SQZL"]) if c != unit.code])
        reason = rng.choice(texts.RETURN_REASONS).format(other=world.units[other].name)
        case.return_(at=at, actor=world.handler(unit.pk), reason=reason)
        at += world.lognormal_hours(1.0, 0.7)
        if rng.random() < 0.3 and world.siblings.get(case.category.pk):
            at = step_at(world, case, at)
            case.classify(rng.choice(world.siblings[case.category.pk]), at=at, actor=world.dispatcher)
            at += dt.timedelta(minutes=rng.randint(1, 10))
        dispatch(world, case, named_unit(world.routes.decision(case), world.units[other]), at, manual=True)

    behaviour = world.behaviour[case.unit.pk]
    at = case.dispatched_at + world.lognormal_hours(behaviour.response_median_hours)
    at = step_at(world, case, world.daytime(at, 7, 22))
    handler = world.handler(case.unit.pk)
    case.respond(at=at, actor=handler, note=rng.choice(texts.RESPOND_NOTES))

    whistle_share = 0.08 if case.leaf_key in texts.WHISTLE_PARTNERS else 0.002
    if rng.random() < whistle_share:
        blow_whistle(world, case, at + world.lognormal_hours(6, 0.8))

    for round_number in range(1, 4):
        work_until_result(world, case, behaviour, round_number)
        if case.status == Status.VERIFYING:
            verify(world, case, behaviour)
        if rate(world, case, behaviour, round_number):
            return


def work_until_result(world, case, behaviour, round_number):
    """One round of work: a share of the allowed time (late now and then, stuck rarely), maybe
    an extension, progress notes, the leader's supervision when overdue, then the result."""
    rng = world.rng
    start = case.last_at
    allowed = case.completion_due - start
    share = rng.betavariate(2.0, 2.0 * (1 - behaviour.work_share) / behaviour.work_share)
    target = start + allowed * share if allowed.total_seconds() > 0 else start + world.lognormal_hours(6)
    late = rng.random() < behaviour.overdue_share * (0.6 if round_number > 1 else 1.0)
    stuck = rng.random() < 0.006
    if late or stuck:
        target = case.completion_due + (
            dt.timedelta(days=rng.uniform(10, 40)) if stuck else dt.timedelta(days=rng.uniform(0.3, 5))
        )
    target = world.office(target) if rng.random() < 0.7 else world.daytime(target)

    # 延期: asked for before the limit, decided by a leader.
    if rng.random() < behaviour.extension_share and case.extension_count < 2:
        ask = start + max(allowed * rng.uniform(0.5, 0.85), dt.timedelta(hours=1))
        if ask < target:
            approved = extension(world, case, ask)
            if approved and late and rng.random() < 0.7:
                target = min(target, case.completion_due - dt.timedelta(hours=rng.uniform(2, 30)))
                target = max(target, case.last_at + dt.timedelta(hours=1))

    # 办理进展
    notes = rng.choices([0, 1, 2], [0.6, 0.3, 0.1])[0]
    for _i in range(notes):
        note_at = case.last_at + (target - case.last_at) * rng.uniform(0.2, 0.8)
        if note_at > case.last_at:
            note_at = step_at(world, case, world.daytime(note_at))
            case.note(at=note_at, actor=world.handler(case.unit.pk), note=rng.choice(texts.PROGRESS_NOTES))

    # 督办: an overdue case draws the leader's attention.
    if target > case.completion_due and not case.supervised and rng.random() < 0.55:
        supervise_at = world.daytime(case.completion_due + dt.timedelta(hours=rng.uniform(2, 30)))
        if supervise_at < target:
            supervise_at = step_at(world, case, supervise_at)
            actor = rng.choice([world.leader, world.dispatcher])
            case.supervise(at=supervise_at, actor=actor, note=rng.choice(texts.SUPERVISE_NOTES))
            target = min(target, world.daytime(supervise_at + dt.timedelta(hours=rng.uniform(4, 60))))

    at = step_at(world, case, target)
    case.resolve(at=at, actor=world.handler(case.unit.pk), result=rng.choice(texts.RESULTS))
