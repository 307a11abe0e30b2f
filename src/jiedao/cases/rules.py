"""Who may act on which case: the scopes of the case lifecycle's table (``states.py``).

A row of the table names ``(role, scope)`` pairs; the role comes from the permission table,
the scope says which cases of that role's holder the row covers. ``any`` (every case of the
streets the user answers for) and ``public`` (the reporter who proved it with the case's
phone) are the engine's own (``common.lifecycle``); the cases' own scopes are:

- ``own_unit``: the user's unit holds the case;
- ``summoned_unit``: the user's unit was summoned to the case (a whistle or a co-handling task);
- ``own_report``: the user reported the case;
- ``own_grid``: the case lies in one of the user's grids (or in no grid).

Each check is ``check(user, case, context) -> bool`` for a signed-in user who holds the row's
role. Nothing here writes: services (which refuse) and selectors (which offer the actions a
page shows) both ask these rules.

The deadline rule is here too, for the same reason: ``urgency_at`` says whether a case the
unit still owes is green, yellow (临期: less than ``JIEDAO["YELLOW_SHARE"]`` of its time
left) or red (超期: past its response limit while waiting for the response, or past its
completion limit). The case page's badge, the deadline sweep and the unit's workbench
counts all ask it, so 临期 and 超期 mean the same on every one of them.

Its twins in SQL, for figures over many cases: ``overdue_q(now)`` keeps exactly the cases
``urgency_at`` calls red, and ``urgency_expression(now)`` gives every case the level
``urgency_at`` would give it. Every live count and colour (the overview, the cockpit, the map,
``/metrics``, the API's filter) reads one of the three, never the ``urgency`` column the
deadline sweep stores (which is only as fresh as the last sweep); docs/measures.md
("超期 and 临期, live") has the definition.
"""

import datetime as dt
from typing import cast

from django.conf import settings
from django.db.models import Case as Choose
from django.db.models import DateTimeField, ExpressionWrapper, F, FloatField, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import ASin, Coalesce, Cos, Greatest, Power, Radians, Sin, Sqrt
from django.db.models.lookups import Exact, GreaterThan, IsNull, LessThan, LessThanOrEqual

from jiedao.common.lifecycle import Context, ScopeCheck

from .models import WORKING_STATUSES, Case, Rating, Status, Urgency, WhistleSummons
from .validation import EARTH_RADIUS_M, distance_m

OWN_UNIT = "own_unit"
SUMMONED = "summoned_unit"
OWN_REPORT = "own_report"
OWN_GRID = "own_grid"


def holds_case(user, case, context: Context) -> bool:
    """The user's unit is the unit holding the case."""
    return user.unit_id is not None and user.unit_id == case.unit_id


def summoned_to_case(user, case, context: Context) -> bool:
    """The user's unit was summoned to the case by a whistle or a co-handling task."""
    return user.unit_id is not None and WhistleSummons.objects.filter(whistle__case=case, unit_id=user.unit_id).exists()


def reported_case(user, case, context: Context) -> bool:
    """The user reported the case."""
    return case.reporter_id is not None and case.reporter_id == user.pk


def case_in_own_grid(user, case, context: Context) -> bool:
    """The case lies in one of the user's grids, or in no grid at all."""
    return case.grid_id is None or user.grids.filter(pk=case.grid_id).exists()


SCOPES: dict[str, ScopeCheck] = {
    OWN_UNIT: holds_case,
    SUMMONED: summoned_to_case,
    OWN_REPORT: reported_case,
    OWN_GRID: case_in_own_grid,
}


def urgency_at(case: Case, *, now: dt.datetime, reopened_at: dt.datetime | None = None) -> str:
    """green / yellow (< 20 % of the time left) / red (overdue) for a case the unit still owes.

    Red (超期) is read from the limits alone: waiting for the response (待响应) past the response
    limit, or past the completion limit. Yellow needs the dispatch time too (the share of the
    time left is of the time from the dispatch).

    ``reopened_at``: when the last reopening rating was given, if the caller knows it
    (otherwise it is read from the ratings)."""
    if case.status not in WORKING_STATUSES:
        return Urgency.GREEN
    due = case.completion_due
    if case.status == Status.DISPATCHED and case.response_due is not None and now > case.response_due:
        return Urgency.RED
    if due is not None and now > due:
        return Urgency.RED
    if due is None or case.dispatched_at is None:
        return Urgency.GREEN
    # The share of time left is of the current allowance: after a reopening (重办) the
    # clock restarted at the rating that reopened the case, not at the first dispatch.
    start = case.dispatched_at
    if case.rework_count:
        if reopened_at is None:
            reopened_at = (
                Rating.objects.filter(case_id=case.pk).order_by("-rated_at").values_list("rated_at", flat=True).first()
            )
        start = max(start, reopened_at) if reopened_at else start
    total = (due - start).total_seconds()
    left = (due - now).total_seconds()
    if total > 0 and left / total < cast(float, settings.JIEDAO["YELLOW_SHARE"]):
        return Urgency.YELLOW
    return Urgency.GREEN


# --- the same rule in SQL ----------------------------------------------------------------


class Seconds(Func):
    """A stored time as seconds since 1970-01-01 UTC, on SQLite and PostgreSQL alike."""

    output_field = FloatField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite keeps times as UTC text; julianday() reads it, to the millisecond and better.
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def overdue_q(now: dt.datetime) -> Q:
    """The cases ``urgency_at`` calls red (超期) at ``now``: held by a unit that still owes work
    (待响应 or 办理中), and either still waiting for the response (待响应) past the response
    limit, or past the completion limit. It names only columns of the case row, so a count
    needs no join."""
    return Q(status__in=WORKING_STATUSES) & (
        Q(status=Status.DISPATCHED, response_due__lt=now) | Q(completion_due__lt=now)
    )


def reopened_at_subquery() -> Subquery:
    """When the case was last rated (the rating that reopened it, for a case being handled
    again), for ``OuterRef("pk")``."""
    return Subquery(Rating.objects.filter(case_id=OuterRef("pk")).order_by("-rated_at").values("rated_at")[:1])


def due_soon_q(now: dt.datetime) -> Q:
    """The cases ``urgency_at`` calls yellow (临期) at ``now``: owing work, not overdue, with less
    than ``YELLOW_SHARE`` of the time from the dispatch (or from the rating that reopened the
    case) to the completion limit left."""
    share = cast(float, settings.JIEDAO["YELLOW_SHARE"])
    due = Seconds(F("completion_due"))
    dispatched = Seconds(F("dispatched_at"))
    # After a reopening (重办) the clock restarted at the rating that reopened the case.
    reopened = Coalesce(Seconds(reopened_at_subquery()), dispatched)
    start = Choose(
        When(rework_count__gt=0, then=Greatest(dispatched, reopened, output_field=FloatField())),
        default=dispatched,
        output_field=FloatField(),
    )
    return (
        Q(status__in=WORKING_STATUSES, dispatched_at__isnull=False, completion_due__isnull=False)
        & ~overdue_q(now)
        # left / total < share, with total > 0: due − now < share × (due − start)
        & Q(
            GreaterThan(due, start),
            LessThan(due - Value(now.timestamp()), Value(share) * (due - start)),
        )
    )


def urgency_expression(now: dt.datetime) -> Choose:
    """The level ``urgency_at`` gives each case at ``now``, as an SQL expression: "red", "yellow"
    or "green"."""
    return Choose(
        When(overdue_q(now), then=Value(Urgency.RED)),
        When(due_soon_q(now), then=Value(Urgency.YELLOW)),
        default=Value(Urgency.GREEN),
    )


# --- 重复投诉 (a case that repeats a case closed lately) ----------------------------------------
#
# A case repeats an earlier case when the earlier one was closed (结案) within
# ``JIEDAO["REPEAT_DAYS"]`` days before this one was received, and either came from the same
# reporter (the same phone, by its blind index, or the same account), or was of the same
# category and lay within ``JIEDAO["REPEAT_METERS"]`` metres. ``repeat_reason`` decides it for
# two cases in hand; ``repeat_branches`` is its twin in SQL, for finding the earlier case and for
# counting repeats over many cases (``repeats.py``). docs/measures.md ("重复投诉率") has the
# definition.

REPEAT_REPORTER = "reporter"
REPEAT_PLACE = "place"


def repeat_days() -> int:
    return int(settings.JIEDAO.get("REPEAT_DAYS", 30))


def repeat_meters() -> int:
    return int(settings.JIEDAO.get("REPEAT_METERS", 100))


def repeat_reason(case: Case, earlier: Case, *, days: int, meters: float) -> str | None:
    """Why ``case`` repeats ``earlier`` ("reporter" or "place"), or None when it does not."""
    if earlier.pk == case.pk or earlier.status != Status.CLOSED or earlier.closed_at is None:
        return None
    if not (case.created_at - dt.timedelta(days=days) <= earlier.closed_at <= case.created_at):
        return None
    same_phone = bool(case.reporter_phone_index) and case.reporter_phone_index == earlier.reporter_phone_index
    same_account = case.reporter_id is not None and case.reporter_id == earlier.reporter_id
    if same_phone or same_account:
        return REPEAT_REPORTER
    if (
        case.category_id is not None
        and case.category_id == earlier.category_id
        and None not in (case.lat, case.lng, earlier.lat, earlier.lng)
        and distance_m(cast(float, case.lat), cast(float, case.lng), cast(float, earlier.lat), cast(float, earlier.lng))
        <= meters
    ):
        return REPEAT_PLACE
    return None


def _distance_sql(lat, lng) -> Func:
    """``validation.distance_m`` between a case row (``lat``, ``lng``) and the point given, in SQL."""
    half_lat = Radians(F("lat") - lat) / 2
    half_lng = Radians(F("lng") - lng) / 2
    a = Power(Sin(half_lat), 2) + Cos(Radians(lat)) * Cos(Radians(F("lat"))) * Power(Sin(half_lng), 2)
    return ASin(Sqrt(a)) * (2 * EARTH_RADIUS_M)


def repeat_branches(ref, *, days: int, meters: float) -> list[Q]:
    """The earlier cases a case repeats, as filters on the earlier cases, one per way of
    repeating (same phone, same account, same category near): ``ref(field)`` gives the later
    case's ``field`` (``OuterRef`` in a subquery, or a ``Value`` of a case in hand). Each filter
    reads its own index — (phone index, closed at), (reporter, closed at), (category, closed
    at) — so callers query them apart (or OR three subqueries), never one OR over all three.
    Closed is said as "has a closing time and is neither merged nor void": the cases with a
    closing time are the closed, merged and void ones, and a status equality would lead the
    database to the status index instead."""
    created = ref("created_at")
    window = Q(
        closed_at__lte=created,
        closed_at__gte=ExpressionWrapper(created - dt.timedelta(days=days), output_field=DateTimeField()),
    ) & ~Q(status__in=(Status.MERGED, Status.VOIDED))
    # A degree of latitude is at least 110.5 km long, so this band holds every point within
    # ``meters`` north or south; the band and the category narrow the rows the distance is computed on.
    degrees = meters / 110_000
    # What the later case lacks (no phone, no position) is also said of the later case itself, so
    # that the database skips that way of repeating at once instead of reading every closing of
    # the window to find that none fits.
    # (The earlier case's phone is said to be present too, though it follows: SQLite's planner
    # reads the phone index only with it.)
    same_phone = (
        Q(reporter_phone_index=ref("reporter_phone_index"))
        & ~Q(reporter_phone_index="")
        & ~Q(Exact(ref("reporter_phone_index"), ""))
    )
    same_account = Q(reporter=ref("reporter"), reporter__isnull=False)
    same_place = Q(
        IsNull(ref("lat"), False),
        IsNull(ref("lng"), False),
        category=ref("category"),
        lat__gte=ref("lat") - degrees,
        lat__lte=ref("lat") + degrees,
        lng__isnull=False,
    ) & Q(LessThanOrEqual(_distance_sql(ref("lat"), ref("lng")), meters))
    return [window & same_phone, window & same_account, window & same_place]


# --- 矛盾纠纷类 -----------------------------------------------------------------------------------

# The shipped categories marked 矛盾纠纷类 when the tree is loaded (the data migration marks the
# same): 邻里纠纷, 司法调解 and every name with 纠纷 or 矛盾 in it. Administrators change the
# mark in the admin.
DISPUTE_NAMES = ("邻里纠纷", "司法调解")
DISPUTE_WORDS = ("纠纷", "矛盾")


def is_dispute_name(name: str) -> bool:
    return name in DISPUTE_NAMES or any(word in name for word in DISPUTE_WORDS)


def basic_satisfied_weight() -> float:
    """How much a 基本满意 rating counts in 满意率 (a 满意 counts 1): the setting
    ``BASIC_SATISFIED_WEIGHT`` (environment ``JIEDAO_BASIC_SATISFIED_WEIGHT``, 0.9 by default).
    The leader's overview and the evaluation's indicator read it here."""
    return float(cast(float, settings.JIEDAO.get("BASIC_SATISFIED_WEIGHT", 0.9)))
