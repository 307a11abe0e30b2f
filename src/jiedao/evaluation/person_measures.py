"""Person-scope measures (个人): what a handler (承办人, the district departments' seconded staff
among them), a window clerk (窗口受理员) and a grid worker (网格员) did in a period, each keyed by
the person's user name. Like ``accountability``, rates answer ``{user name: (counted, out of)}``
and counts ``{user name: (count, None)}``; ``indicators.py`` registers them.

- 办结工单数 ``cases_resolved``: the cases whose result (办结反馈) the person gave last, with
  that result in the period.
- 按期办结率 ``on_time``: of those cases with a completion deadline, the share resolved by it.
- 办件满意率 ``case_satisfaction``: the callback ratings of the period of cases whose last
  result before the rating the person gave: (满意 + weight × 基本满意) / ratings, the weight
  being the cases' setting, as in 满意率.
- 受理办件数 ``applications_accepted``: service-hall applications the person accepted (受理) in
  the period.
- 窗口按时办结率 ``applications_on_time``: applications the person accepted, issued (出件) in the
  period with a promised deadline, issued by it.
- 窗口好差评满意率 ``hall_satisfaction``: 好差评 given in the period on applications the person
  accepted (ratings an upheld appeal excluded left out), rated 基本满意 or better.
- 网格群众满意率 ``grid_satisfaction``: the callback ratings of the period of cases in the grids
  the grid worker looks after, as 满意率: (满意 + weight × 基本满意) / ratings.
- 网格自行处置数 ``grid_self_resolved``: cases closed in the period that the grid worker
  reported (网格上报) and settled at grid level (``cases.grid_measures``).
- 网格问题解决率 ``grid_resolution``: the callback ratings of the period of cases in the grids
  the grid worker looks after, the share where the resident said the problem was solved.
- 巡查次数 ``grid_patrols``: the patrols the grid worker started (开始巡查) in the period.
- 差评整改认可率 ``hall_rectified``: the 差评 on applications the window clerk accepted whose
  rectification was called back in the period: the share where the applicant accepted the fix.
"""

from django.db.models import Count, F, OuterRef, Q, Subquery

from jiedao.cases.grid_measures import settled_at_grid_level
from jiedao.cases.models import Case, CaseEvent, Channel, Rating, Status
from jiedao.cases.rules import basic_satisfied_weight
from jiedao.geo.models import PatrolCheckIn
from jiedao.hall.models import Application, Level
from jiedao.hall.models import Rating as HallRating
from jiedao.hall.models import Rectification as HallRectification
from jiedao.hall.models import Status as HallStatus

Pairs = dict[str, tuple[float, float | None]]


def _last_resolver(case_path: str, before: str | None = None):
    """The user name of the person who gave the case's last result (before ``before``, a field)."""
    events = CaseEvent.objects.filter(case_id=OuterRef(case_path), action="resolve")
    if before:
        events = events.filter(at__lte=OuterRef(before))
    return Subquery(events.order_by("-seq").values("actor__username")[:1])


def _resolved(period):
    return Case.objects.filter(resolved_at__gte=period.start, resolved_at__lt=period.end).annotate(
        resolver=_last_resolver("pk")
    )


def cases_resolved(period, scope, run) -> Pairs:
    rows = _resolved(period).order_by().values("resolver").annotate(n=Count("id"))
    return {r["resolver"]: (r["n"], None) for r in rows if r["resolver"]}


def on_time(period, scope, run) -> Pairs:
    rows = (
        _resolved(period)
        .filter(completion_due__isnull=False)
        .order_by()
        .values("resolver")
        .annotate(n=Count("id"), k=Count("id", filter=Q(resolved_at__lte=F("completion_due"))))
    )
    return {r["resolver"]: (r["k"], r["n"]) for r in rows if r["resolver"]}


def case_satisfaction(period, scope, run) -> Pairs:
    weight = basic_satisfied_weight()
    rows = (
        Rating.objects.filter(rated_at__gte=period.start, rated_at__lt=period.end)
        .annotate(resolver=_last_resolver("case_id", "rated_at"))
        .order_by()
        .values("resolver")
        .annotate(
            n=Count("id"),
            satisfied=Count("id", filter=Q(satisfaction=Rating.Satisfaction.SATISFIED)),
            basic=Count("id", filter=Q(satisfaction=Rating.Satisfaction.BASIC)),
        )
    )
    return {r["resolver"]: (r["satisfied"] + weight * r["basic"], r["n"]) for r in rows if r["resolver"]}


def applications_accepted(period, scope, run) -> Pairs:
    rows = (
        Application.objects.filter(accepted_at__gte=period.start, accepted_at__lt=period.end, accepted_by__isnull=False)
        .order_by()
        .values("accepted_by__username")
        .annotate(n=Count("id"))
    )
    return {r["accepted_by__username"]: (r["n"], None) for r in rows}


def applications_on_time(period, scope, run) -> Pairs:
    rows = (
        Application.objects.filter(
            status=HallStatus.ISSUED,
            issued_at__gte=period.start,
            issued_at__lt=period.end,
            due_at__isnull=False,
            accepted_by__isnull=False,
        )
        .order_by()
        .values("accepted_by__username")
        .annotate(n=Count("id"), k=Count("id", filter=Q(issued_at__lte=F("due_at"))))
    )
    return {r["accepted_by__username"]: (r["k"], r["n"]) for r in rows}


def hall_satisfaction(period, scope, run) -> Pairs:
    rows = (
        HallRating.objects.filter(
            at__gte=period.start, at__lt=period.end, excluded=False, application__accepted_by__isnull=False
        )
        .order_by()
        .values("application__accepted_by__username")
        .annotate(n=Count("id"), k=Count("id", filter=Q(level__gte=Level.FAIRLY_SATISFIED)))
    )
    return {r["application__accepted_by__username"]: (r["k"], r["n"]) for r in rows}


def grid_self_resolved(period, scope, run) -> Pairs:
    rows = (
        Case.objects.filter(
            status=Status.CLOSED, closed_at__gte=period.start, closed_at__lt=period.end, channel=Channel.GRID
        )
        .filter(settled_at_grid_level())
        .order_by()
        .values("created_by__username")
        .annotate(n=Count("id"))
    )
    return {r["created_by__username"]: (r["n"], None) for r in rows if r["created_by__username"]}


GRID_WORKERS = "case__grid__workers__username"


def _grid_ratings(period):
    """The period's callback ratings grouped by the grid workers of the cases' grids."""
    return (
        Rating.objects.filter(
            rated_at__gte=period.start, rated_at__lt=period.end, case__grid__workers__groups__name="grid"
        )
        .order_by()
        .values(GRID_WORKERS)
    )


def grid_satisfaction(period, scope, run) -> Pairs:
    weight = basic_satisfied_weight()
    rows = _grid_ratings(period).annotate(
        n=Count("id", distinct=True),
        satisfied=Count("id", filter=Q(satisfaction=Rating.Satisfaction.SATISFIED), distinct=True),
        basic=Count("id", filter=Q(satisfaction=Rating.Satisfaction.BASIC), distinct=True),
    )
    return {r[GRID_WORKERS]: (r["satisfied"] + weight * r["basic"], r["n"]) for r in rows if r[GRID_WORKERS]}


def grid_resolution(period, scope, run) -> Pairs:
    rows = _grid_ratings(period).annotate(
        n=Count("id", distinct=True), k=Count("id", filter=Q(resolved=True), distinct=True)
    )
    return {r[GRID_WORKERS]: (r["k"], r["n"]) for r in rows if r[GRID_WORKERS]}


def grid_patrols(period, scope, run) -> Pairs:
    rows = (
        PatrolCheckIn.objects.filter(kind=PatrolCheckIn.Kind.START, at__gte=period.start, at__lt=period.end)
        .order_by()
        .values("user__username")
        .annotate(n=Count("id"))
    )
    return {r["user__username"]: (r["n"], None) for r in rows}


def hall_rectified(period, scope, run) -> Pairs:
    clerk = "rating__application__accepted_by__username"
    rows = (
        HallRectification.objects.filter(
            callback_at__gte=period.start,
            callback_at__lt=period.end,
            callback_satisfied__isnull=False,
            rating__application__accepted_by__isnull=False,
        )
        .order_by()
        .values(clerk)
        .annotate(n=Count("id"), k=Count("id", filter=Q(callback_satisfied=True)))
    )
    return {r[clerk]: (r["k"], r["n"]) for r in rows}
