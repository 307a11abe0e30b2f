"""When a case needs more than its unit: the co-handling units (协办) the responsibility list
names reporting in, a whistle (吹哨报到) summoning the partners a matter needs, and a unit asking
a leader for more time (延期), approved or refused."""

from .. import texts
from .clock import step_at


def cohandle_reports(world, case, whistle, at):
    """Each collaborating unit reports to the co-handling task given at dispatch."""
    pending = []
    for summons in case.summonses_of(whistle):
        pending.append((world.daytime(at + world.lognormal_hours(3, 0.8)), summons))
    _reports(world, case, whistle, pending)


def blow_whistle(world, case, proposed):
    """A dispatcher or leader summons two or three partner units, who report within a day or two."""
    rng = world.rng
    at = step_at(world, case, world.daytime(proposed))
    partners = [c for c in texts.WHISTLE_PARTNERS.get(case.leaf_key, ["ZHZF", "SQZL", "PAJS"]) if c != case.unit.code]
    codes = rng.sample(partners, k=min(len(partners), rng.choice([2, 2, 3])))
    hours = rng.choice([24, 24, 48])
    blower = rng.choice([world.dispatcher, world.dispatcher, world.leader])
    reason = rng.choice(texts.WHISTLE_REASONS)
    whistle = case.whistle(
        at=at, actor=blower, units=[world.units[c] for c in codes], report_hours=hours, reason=reason
    )
    world.counts["whistles"] += 1
    reports = []
    for summons in case.summonses_of(whistle):
        delay = world.lognormal_hours(hours * 0.25, 0.9)
        reports.append((world.daytime(at + delay), summons))
    _reports(world, case, whistle, reports)


def _reports(world, case, whistle, pending):
    for report_at, summons in sorted(pending, key=lambda r: r[0]):
        report_at = step_at(world, case, report_at)
        handler = world.handler(summons.unit_id)
        case.report(whistle, at=report_at, actor=handler, part=world.rng.choice(texts.REPORT_PARTS))


def extension(world, case, ask) -> bool:
    """The unit asks for more working days before its limit; a leader decides within hours
    (four in five approved). Returns whether it was approved."""
    rng = world.rng
    at = step_at(world, case, world.office(ask))
    extra = rng.choice([2, 3, 3, 5, 5, 7])
    reason = rng.choice(texts.EXTENSION_REASONS)
    handler = world.handler(case.unit.pk)
    request = case.request_extension(at=at, actor=handler, extra_workdays=extra, reason=reason)
    decide = step_at(world, case, world.office(at + world.lognormal_hours(4, 0.8)))
    approve = rng.random() < 0.8
    note = "" if approve else rng.choice(texts.REFUSE_NOTES)
    case.decide_extension(request, approve=approve, at=decide, actor=world.leader, note=note)
    return approve
