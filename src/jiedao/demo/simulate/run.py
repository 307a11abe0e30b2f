"""The simulation's loop: arrivals in time order, each case played through its life at once,
written through the cases' bulk writer a thousand at a time (a duplicate is merged only into
a case of its own batch)."""

from collections import defaultdict

from jiedao.cases.bulk import CaseBatch
from jiedao.cases.models import Status

from ..builder import demo_street
from .clock import SWEEP, Stop, sweep
from .handling import play
from .intake import new_case
from .progress import Progress
from .rhythm import arrivals
from .world import World

BATCH = 1000


class Simulator:
    def __init__(self, demo, cases=20000, seed=20261122, now=None, out=None, days=365):
        self.total = cases
        self.world = World(demo, seed, now=now, days=days)
        self.progress = Progress(cases, out)
        self.batch = CaseBatch(batch_size=None)

    def case(self, at, pool):
        """One case, played until it closes or "now" stops it; an open one joins the pool of
        cases a later report of the same matter and grid may be merged into."""
        world = self.world
        case, category = new_case(world, at)
        try:
            play(world, case, category, pool)
        except Stop:
            sweep(world, case, world.now + SWEEP)
        if case.grid is not None and case.status != Status.MERGED:
            pool[(category.pk, case.grid.pk)].append(case)
        return case

    def _flush(self):
        for case in self.batch.pending:
            self.world.counts[str(case.status)] += 1
        self.batch.flush()

    def run(self) -> dict:
        world, batch, progress = self.world, self.batch, self.progress
        pool = defaultdict(list)
        done = 0
        progress.update(0, 0)
        for at in arrivals(world.rng, world.start, world.now, self.total):
            batch.add(self.case(at, pool))
            pending = len(batch.pending)
            if pending % 200 == 0 and progress.tty:
                progress.update(done + pending, batch.counts["events"])
            if pending >= BATCH:
                done += pending
                self._flush()
                pool = defaultdict(list)
                progress.update(done, batch.counts["events"])
        if batch.pending:
            done += len(batch.pending)
            self._flush()
        progress.update(done, batch.counts["events"])
        progress.finish()
        counts = dict(world.counts)
        for name in ("cases", "events", "ratings", "extensions", "summonses"):
            counts[name] = batch.counts[name]
        return counts


def simulate(cases=20000, seed=20261122, now=None, out=None, days=365):
    """Fills the demo street with ``cases`` cases of the last ``days`` days (12 months). Returns counts."""
    demo = demo_street()
    if demo is None:
        raise RuntimeError("build the demo street first")
    return Simulator(demo, cases=cases, seed=seed, now=now, out=out, days=days).run()
