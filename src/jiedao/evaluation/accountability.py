"""Accountability measures (吹哨报到 and repeat complaints) for the indicator library.

Each function takes ``(period, scope, run)`` like the library's own and answers
``{scope code: (counted, out of)}``; ``indicators.py`` turns the pairs into rates. What each
counts, so that a figure cannot mislead:

- 报到率 (``report_rate``): the units summoned to a case — by a whistle (吹哨) or as a
  co-handling unit the responsibility list names (协办) — whose report deadline (报到时限) fell
  in the period and has passed, or who have reported; counted: those that reported by the
  deadline. A summons whose deadline is still ahead and that has not reported is not counted
  either way. By street, community and grid of the case, and by the summoned unit.
- 协同完成率 (``cohandle_completion``): the cases with at least one whistle or co-handling task
  whose completion deadline (办结时限) fell in the period and has passed, or that have been
  resolved; counted: those resolved (办结) by the deadline. By the case's street, community and
  grid, and for a unit by every case the unit was summoned to (each case once per unit).
- 重复投诉率 (``repeat_complaints``): the cases received in the period (merged duplicates and
  void calls left out) that repeat an earlier closed case (``jiedao.cases.repeats``) / the cases
  received. Lower is better.
"""

from django.db.models import Count, F, Q, QuerySet

from jiedao.cases.models import NOT_MATTERS, Case, Whistle, WhistleSummons
from jiedao.cases.repeats import with_repeat

from .grouping import by_scope

Pairs = dict[str, tuple[int, int]]

CASE_GROUP = {"street": "street__code", "community": "community__code", "grid": "grid__code", "unit": "unit__code"}
SUMMONS_GROUP = {
    "street": "whistle__case__street__code",
    "community": "whistle__case__community__code",
    "grid": "whistle__case__grid__code",
    "unit": "unit__code",
}


def _pairs(qs: QuerySet, group: str, counted: Q) -> Pairs:
    """{scope code: (rows matching ``counted``, rows)} grouped by ``group``, in one query."""
    rows = (
        qs.order_by().values(group).annotate(n=Count("id", distinct=True), k=Count("id", distinct=True, filter=counted))
    )
    return {row[group]: (row["k"], row["n"]) for row in rows if row[group]}


def report_rate(period, scope, run) -> Pairs:
    """报到率: summonses due in the period (deadline passed, or reported) and reported on time."""
    due = WhistleSummons.objects.filter(
        whistle__report_due__gte=period.start, whistle__report_due__lt=period.end
    ).filter(Q(whistle__report_due__lt=run.now) | Q(reported_at__isnull=False))
    return _pairs(due, SUMMONS_GROUP[scope], Q(reported_at__lte=F("whistle__report_due")))


def cohandle_completion(period, scope, run) -> Pairs:
    """协同完成率: cases with a whistle or co-handling task, due in the period (deadline passed,
    or resolved), resolved by their completion deadline."""
    whistled = Whistle.objects.filter(kind__in=Whistle.Kind.values).values("case_id")
    cases = (
        Case.objects.filter(pk__in=whistled, completion_due__gte=period.start, completion_due__lt=period.end)
        .exclude(status__in=NOT_MATTERS)
        .filter(Q(completion_due__lt=run.now) | Q(resolved_at__isnull=False))
    )
    on_time = Q(resolved_at__isnull=False, resolved_at__lte=F("completion_due"))
    if scope == "unit":
        return _pairs(cases, "whistles__summonses__unit__code", on_time)
    return _pairs(cases, CASE_GROUP[scope], on_time)


def repeat_complaints(period, scope, run) -> Pairs:
    """重复投诉率: cases received in the period that repeat an earlier closed case / cases received."""
    received = Case.objects.filter(created_at__gte=period.start, created_at__lt=period.end).exclude(
        status__in=NOT_MATTERS
    )
    rows = by_scope(run, with_repeat(received), scope, n=Count("id"), k=Count("id", filter=Q(repeats=True)))
    return {code: (r["k"], r["n"]) for code, r in rows.items()}
