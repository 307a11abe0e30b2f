"""The period computation: every computable indicator for every scope of a period, written
to ``Result`` rows in one transaction; and the rollups the cockpit reads (cases per day, and
the heat map's cases per day and map cell).

Recomputing a period replaces its rows with the same values (the definitions depend only
on records dated inside the period, and on deadlines that have passed)."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from jiedao.cases.maps import cell_counts
from jiedao.cases.selectors import received_cases
from jiedao.geo.models import HeatCell
from jiedao.org.models import Community, Grid, Street, Unit

from . import indicators as lib
from . import periods
from .models import DailyCount, Result

PERSON_ROLES = ("grid", "handler", "operator")


def scope_names(kind):
    """{code: display name} of every scope of ``kind``."""
    if kind == "street":
        return dict(Street.objects.order_by("code").values_list("code", "name"))
    if kind == "community":
        return dict(Community.objects.order_by("code").values_list("code", "name"))
    if kind == "grid":
        grids = Grid.objects.select_related("community").order_by("code")
        return {g.code: f"{g.community.name}{g.name}" for g in grids}
    if kind == "unit":
        return dict(Unit.objects.filter(active=True).order_by("code").values_list("code", "name"))
    if kind == "person":
        # Grid workers, handlers (seconded staff among them) and window clerks.
        users = get_user_model().objects.filter(groups__name__in=PERSON_ROLES).distinct().order_by("username")
        return {u.username: str(u) for u in users}
    return {}


def compute_values(period, now=None, codes=None, scopes=None):
    """[(indicator, scope kind, scope code, Value)] for the period, without writing."""
    run = lib.Run(now=now or timezone.now())
    rows = []
    for indicator in lib.INDICATORS:
        if codes and indicator.code not in codes:
            continue
        for kind in indicator.scopes:
            if scopes and kind not in scopes:
                continue
            try:
                values = indicator.compute(period, kind, run)
            except lib.NotComputable:
                break
            names = run.once(("names", kind), lambda kind=kind: scope_names(kind))
            if kind == "street" and "" in values:
                # Measured for the installation as a whole: that is the street when there is
                # one; in a city no street gets it (never another street's figure).
                whole, values = values[""], {c: v for c, v in values.items() if c != ""}
                if len(names) == 1:
                    values[next(iter(names))] = whole
            for code in names:
                value = values.get(code)
                if value is None:
                    value = lib.Value(0, 0, None) if indicator.kind == "count" else lib.Value(None)
                rows.append((indicator, kind, code, names[code], value))
    return rows


@transaction.atomic
def compute_period(period, now=None, codes=None, scopes=None):
    """Compute and store a period's results; returns the number of rows written.

    A snapshot indicator (a state with no history, e.g. 储备达标率) is computed only while its
    period is current; afterwards its stored value is kept."""
    now = now or timezone.now()
    ended = period.end <= now
    rows = [r for r in compute_values(period, now, codes, scopes) if not (r[0].snapshot and ended)]
    keep_snapshots = [i.code for i in lib.INDICATORS if i.snapshot] if ended else []
    old = Result.objects.filter(period_kind=period.kind, period_key=period.key).exclude(indicator__in=keep_snapshots)
    if codes:
        old = old.filter(indicator__in=codes)
    if scopes:
        old = old.filter(scope_kind__in=scopes)
    old.delete()
    Result.objects.bulk_create(
        [
            Result(
                indicator=ind.code,
                scope_kind=kind,
                scope_code=code,
                scope_name=name[:80],
                period_kind=period.kind,
                period_key=period.key,
                value=v.value,
                numerator=v.numerator,
                denominator=v.denominator,
                computed_at=now,
            )
            for ind, kind, code, name, v in rows
        ],
        batch_size=1000,
    )
    return len(rows)


@transaction.atomic
def refresh_daily_counts(start_day, end_day):
    """Rebuild the rollup for the days [start_day, end_day) (Beijing dates)."""
    DailyCount.objects.filter(day__gte=start_day, day__lt=end_day).delete()
    rows = (
        received_cases(start_day, end_day)
        .values("day", "street_id", "community_id", "category_id")
        .annotate(n=Count("id"))
    )
    DailyCount.objects.bulk_create(
        [
            DailyCount(
                day=r["day"],
                street_id=r["street_id"],
                community_id=r["community_id"],
                category_id=r["category_id"],
                received=r["n"],
            )
            for r in rows
        ],
        batch_size=1000,
    )
    return len(rows)


def compute_many(kind, first_key, last_key, now=None, out=None):
    """Back-fill every period of ``kind`` from ``first_key`` to ``last_key`` (inclusive)."""
    period, last = periods.parse(first_key, kind), periods.parse(last_key, kind)
    done = []
    while period.start <= last.start:
        count = compute_period(period, now)
        done.append((period.key, count))
        if out:
            out(period.key, count)
        period = period.next()
    return done


@transaction.atomic
def refresh_heat_cells(start_day, end_day):
    """Rebuild the heat-map rollup (``HeatCell``) for the days [start_day, end_day) (Beijing
    dates): the cases received each day per street and map cell, merged duplicates left out.
    The worker rebuilds the days of the heat layer before today on every run (a case merged
    or imported late is then counted right); ``jiedao evaluation compute`` rebuilds the
    periods it is given. Returns the number of cells written."""
    HeatCell.objects.filter(day__gte=start_day, day__lt=end_day).delete()
    cells = [
        HeatCell(day=day, street_id=street_id, lat_cell=lat_cell, lng_cell=lng_cell, received=n)
        for day, street_id, lat_cell, lng_cell, n in cell_counts(received_cases(start_day, end_day), "day", "street_id")
    ]
    HeatCell.objects.bulk_create(cells, batch_size=2000)
    return len(cells)
