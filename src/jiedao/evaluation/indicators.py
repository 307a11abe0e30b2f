"""The indicator library (指标库): every measure named in the mission, with its code,
Chinese name, definition, the selector that computes it, unit, direction, baseline,
target and the scopes it applies to.

Each indicator's ``compute(period, scope_kind, run)`` returns ``{scope_code: Value}`` for
every scope of that kind with data (street: the street's code; a measure another module
computes for the installation as a whole gives the code ``""``, which belongs to the street
when the installation has one street and to none in a city). Case measures are one
grouped query per scope kind, with the same definitions as ``jiedao.cases.measures``
(tests check that a month gives the same figures); other modules' measures are called
through their own selectors. An indicator whose module does not exist yet raises
``NotComputable`` and is shown as "尚不可计算" — never a number.
"""

import datetime as dt
import importlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from jiedao.cases import measures as case_measures
from jiedao.cases import rules as case_rules
from jiedao.cases.grid_measures import settled_at_grid_level
from jiedao.cases.models import NOT_MATTERS, Case, CaseEvent, Category, Channel, Rating, Status
from jiedao.duties.selectors import list_started_on, reduction
from jiedao.emergency import selectors as emergency_selectors
from jiedao.emergency.models import Alert, Emergency, Stock
from jiedao.emergency.selectors import drill_coverage as coverage
from jiedao.hall import selectors as hall_selectors
from jiedao.org.models import Community, Unit
from jiedao.registry.models import Person, Visit
from jiedao.registry.selectors import cared
from jiedao.workcal.calendar import SHANGHAI, workdays_between

from . import accountability, person_measures
from .grouping import by_scope
from .models import EvidenceScore
from .periods import months_in

HIGHER, LOWER = "higher", "lower"
ALL_CASE_SCOPES = ("street", "community", "grid", "unit")
PLACE_SCOPES = ("street", "community", "grid")


class NotComputable(Exception):
    """The module that records this measure is not installed yet."""


@dataclass(frozen=True)
class Value:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


@dataclass
class Run:
    """One computation: the moment it is done as of, and a memo shared by indicators."""

    now: object
    memo: dict = field(default_factory=dict)

    def once(self, key, fn):
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    family: str
    definition: str
    source: str
    unit: str
    direction: str
    baseline: float | None
    target: float | None
    scopes: tuple
    compute: object
    kind: str = "rate"  # rate (0..1), count, amount (hours, minutes …), score (0..100)
    resident: bool = False  # resident evaluation (群众评价): 满意率, 好差评, 解决率 as the resident says
    snapshot: bool = False  # a state "now" (no history): computed only for the current period
    note: str = ""

    def computable(self):
        """False when the module or function the indicator needs does not import."""
        module, _sep, name = self.source.rpartition(".")
        try:
            return callable(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            return False


def _ratio(num, den):
    return None if not den else num / den


def _rate(num, den):
    return Value(_ratio(num, den), num, den)


# --- grouping ---------------------------------------------------------------------------------

CASE_GROUP = {"street": "street__code", "community": "community__code", "grid": "grid__code", "unit": "unit__code"}
RATING_GROUP = {
    "street": "case__street__code",
    "community": "case__community__code",
    "grid": "case__grid__code",
    "unit": "unit__code",
}


def _grouped(qs, group, **aggregates):
    """{scope code: aggregates} — one query (GROUP BY the scope's code, or no grouping for the street)."""
    if group is None:
        return {"": qs.aggregate(**aggregates)}
    return {row[group]: row for row in qs.order_by().values(group).annotate(**aggregates) if row[group]}


def _cases(period, on="dispatched_at"):

    return Case.objects.filter(**{f"{on}__gte": period.start, f"{on}__lt": period.end})


def _ratings(period):

    return Rating.objects.filter(rated_at__gte=period.start, rated_at__lt=period.end)


def _hours(delta):
    if delta is None:
        return None
    if hasattr(delta, "total_seconds"):
        return delta.total_seconds() / 3600
    return delta / 3_600_000_000  # microseconds (SQLite)


# --- 接诉即办 ------------------------------------------------------------------------------------


def _desk_counted(period, scope, run) -> dict:
    """Calls settled at the desk in the period that the 三率 count by the setting
    ``DESK_OUTCOMES_IN_RATES`` (as responded on time and resolved), per place; never for a unit:
    no unit handled them (the same rule as ``cases.measures``)."""
    counted = case_measures.desk_counted_outcomes()
    if scope == "unit" or not counted:
        return {}

    def count():
        qs = _cases(period, "closed_at").filter(outcome__in=counted)
        return {code: r["n"] for code, r in by_scope(run, qs, scope, n=Count("id")).items()}

    return run.once(("desk", period.key, scope), count)


def response_rate(period, scope, run):
    qs = _cases(period).filter(Q(responded_at__isnull=False) | Q(response_due__lt=run.now))
    rows = by_scope(run, qs, scope, n=Count("id"), k=Count("id", filter=Q(responded_at__lte=F("response_due"))))
    desk = _desk_counted(period, scope, run)
    return {
        code: _rate(
            rows.get(code, {}).get("k", 0) + desk.get(code, 0), rows.get(code, {}).get("n", 0) + desk.get(code, 0)
        )
        for code in set(rows) | set(desk)
    }


def _rating_counts(period, scope, run):

    def count():
        return by_scope(
            run,
            _ratings(period),
            scope,
            ratings=True,
            n=Count("id"),
            resolved_n=Count("id", filter=Q(resolved=True)),
            satisfied_n=Count("id", filter=Q(satisfaction=Rating.Satisfaction.SATISFIED)),
            basic_n=Count("id", filter=Q(satisfaction=Rating.Satisfaction.BASIC)),
            reopened_n=Count("id", filter=Q(resolved=False) | Q(satisfaction=Rating.Satisfaction.UNSATISFIED)),
        )

    return run.once(("ratings", period.key, scope), count)


def resolution_rate(period, scope, run):
    rows, desk = _rating_counts(period, scope, run), _desk_counted(period, scope, run)
    return {
        c: _rate(rows.get(c, {}).get("resolved_n", 0) + desk.get(c, 0), rows.get(c, {}).get("n", 0) + desk.get(c, 0))
        for c in set(rows) | set(desk)
    }


def basic_satisfied_weight() -> float:
    """How much a 基本满意 rating counts in 满意率: the cases' one setting (``cases.rules``)."""
    return case_rules.basic_satisfied_weight()


def satisfaction_rate(period, scope, run):
    weight = basic_satisfied_weight()
    return {
        c: _rate(r["satisfied_n"] + weight * r["basic_n"], r["n"])
        for c, r in _rating_counts(period, scope, run).items()
    }


def _satisfaction_definition() -> str:
    return _("（满意 + %(weight)s × 基本满意）/ 本期全部回访评价。基本满意按 %(weight)s 计，是系统设定值。") % {
        "weight": f"{basic_satisfied_weight():g}"
    }


def rework_rate(period, scope, run):
    return {c: _rate(r["reopened_n"], r["n"]) for c, r in _rating_counts(period, scope, run).items()}


def composite(period, scope, run):

    weights = settings.JIEDAO["THREE_RATE_WEIGHTS"]
    parts = [
        (run.once(("response", period.key, scope), lambda: response_rate(period, scope, run)), weights["response"]),
        (resolution_rate(period, scope, run), weights["resolution"]),
        (satisfaction_rate(period, scope, run), weights["satisfaction"]),
    ]
    total = sum(w for _values, w in parts)
    result = {}
    for code in set().union(*(values for values, _w in parts)):
        values = [(values.get(code, Value(None)).value, w) for values, w in parts]
        if any(v is None for v, _w in values):
            result[code] = Value(None)
        else:
            result[code] = Value(sum(v * w for v, w in values) / total)
    return result


def _mean_hours(run, qs, scope, start_field, end_field):
    span = ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField())
    rows = by_scope(run, qs, scope, n=Count("id"), total=Sum(span))
    return {
        c: Value(_hours(r["total"] / r["n"]) if r["n"] and r["total"] is not None else None, None, r["n"])
        for c, r in rows.items()
    }


def average_response_hours(period, scope, run):
    return _mean_hours(run, _cases(period).filter(responded_at__isnull=False), scope, "dispatched_at", "responded_at")


def average_handling_hours(period, scope, run):
    qs = _cases(period, "resolved_at").filter(dispatched_at__isnull=False)
    return _mean_hours(run, qs, scope, "dispatched_at", "resolved_at")


def _handling_days(period, run):
    """[(unit, community, grid, street, working days)] of the cases resolved in the period (computed once)."""

    def load():
        qs = _cases(period, "resolved_at").filter(dispatched_at__isnull=False)
        cache, rows = {}, []
        for unit, community, grid, street, dispatched, resolved in qs.values_list(
            "unit__code", "community__code", "grid__code", "street__code", "dispatched_at", "resolved_at"
        ).iterator():
            pair = (dispatched.astimezone(SHANGHAI).date(), resolved.astimezone(SHANGHAI).date())
            if pair not in cache:
                cache[pair] = workdays_between(*pair)
            rows.append((unit, community, grid, street, cache[pair]))
        return rows

    return run.once(("handling_days", period.key), load)


def average_handling_workdays(period, scope, run):
    index = {"street": 3, "unit": 0, "community": 1, "grid": 2}[scope]
    days = {}
    for row in _handling_days(period, run):
        code = row[index]
        if code is not None:
            days.setdefault(code, []).append(row[4])
    return {c: Value(sum(d) / len(d), sum(d), len(d)) for c, d in days.items()}


def overdue_rate(period, scope, run):
    qs = _cases(period).filter(completion_due__isnull=False)
    rows = by_scope(
        run,
        qs,
        scope,
        n=Count("id"),
        k=Count(
            "id",
            filter=Q(resolved_at__gt=F("completion_due")) | Q(resolved_at__isnull=True, completion_due__lt=run.now),
        ),
    )
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def disposal_rate(period, scope, run):
    qs = (
        _cases(period)
        .filter(completion_due__isnull=False)
        .filter(Q(resolved_at__isnull=False) | Q(completion_due__lt=run.now))
    )
    rows = by_scope(run, qs, scope, n=Count("id"), k=Count("id", filter=Q(resolved_at__lte=F("completion_due"))))
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def return_rate(period, scope, run):

    events = CaseEvent.objects.filter(at__gte=period.start, at__lt=period.end)
    group = {
        "street": ("case__street__code", "case__street__code"),
        "unit": ("unit__code", "actor_unit__code"),
        "community": ("case__community__code", "case__community__code"),
    }[scope]
    sent = _grouped(events.filter(action="dispatch"), group[0], n=Count("id"))
    back = _grouped(events.filter(action="return"), group[1], n=Count("id"))
    return {c: _rate(back.get(c, {"n": 0})["n"], r["n"]) for c, r in sent.items()}


ROUTING_ACTIONS = ("dispatch", "return", "classify")


def _dispatch_unit(event) -> str | None:
    return (event["data"] or {}).get("unit") or event["unit__code"]


def _kept(dispatch, later) -> bool:
    """Whether the unit a dispatch sent the case to kept it, by what the case's log says
    after it: no dispatch to another unit since (an accepted return, or any re-dispatch), no
    change of category since, and no return by that unit still waiting (the case not sent back
    to it)."""
    unit = _dispatch_unit(dispatch)
    waiting_return = False
    for event in later:
        data = event["data"] or {}
        if event["action"] == "dispatch":
            if _dispatch_unit(event) != unit:
                return False
            waiting_return = False  # sent back to the same unit: its return was refused
        elif event["action"] == "classify" and data.get("category") != data.get("from"):
            return False
        elif event["action"] == "return" and (data.get("unit") or event["actor_unit__code"]) == unit:
            waiting_return = True
    return not waiting_return


def routing_accuracy(period, scope, run):
    """分拨准确率: of the dispatches in the period, automatic and manual alike, the share the unit
    kept (``_kept``), judged by the case's log up to the moment of the computation."""

    def judged():
        dispatched = CaseEvent.objects.filter(action="dispatch", at__gte=period.start, at__lt=period.end)
        events = (
            CaseEvent.objects.filter(
                case_id__in=dispatched.values("case_id"), action__in=ROUTING_ACTIONS, at__lt=run.now
            )
            .order_by("case_id", "seq")
            .values("case_id", "seq", "at", "action", "data", "unit__code", "actor_unit__code", "case__street__code")
        )
        by_case: dict = {}
        for event in events.iterator():
            by_case.setdefault(event["case_id"], []).append(event)
        rows = []
        for log in by_case.values():
            for i, event in enumerate(log):
                if event["action"] == "dispatch" and period.start <= event["at"] < period.end:
                    rows.append((event["case__street__code"], _dispatch_unit(event), _kept(event, log[i + 1 :])))
        return rows

    index = {"street": 0, "unit": 1}[scope]
    counts: dict = {}
    for row in run.once(("routing", period.key), judged):
        code = row[index]
        if code:
            n, k = counts.get(code, (0, 0))
            counts[code] = (n + 1, k + int(row[2]))
    return {c: _rate(k, n) for c, (n, k) in counts.items()}


def dispute_resolution(period, scope, run):
    """矛盾纠纷化解率: 解决率 over the cases of the categories an administrator marked 矛盾纠纷类
    (``Category.is_dispute``) and their children."""

    ids = set()
    for category in Category.objects.filter(is_dispute=True):
        ids |= {category.pk} | set(
            Category.objects.filter(Q(parent=category) | Q(parent__parent=category)).values_list("pk", flat=True)
        )
    qs = _ratings(period).filter(case__category_id__in=ids)
    rows = by_scope(run, qs, scope, ratings=True, n=Count("id"), k=Count("id", filter=Q(resolved=True)))
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def cases_received(period, scope, run):

    rows = by_scope(run, _cases(period, "created_at").exclude(status__in=NOT_MATTERS), scope, n=Count("id"))
    return {c: Value(r["n"], r["n"], None) for c, r in rows.items()}


# --- 网格化管理 ---------------------------------------------------------------------------------


def active_discovery(period, scope, run):

    qs = _cases(period, "created_at").exclude(status__in=NOT_MATTERS)
    rows = by_scope(run, qs, scope, n=Count("id"), k=Count("id", filter=Q(channel=Channel.GRID)))
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def grid_level_share(period, scope, run):

    qs = _cases(period, "closed_at").filter(status=Status.CLOSED)
    rows = by_scope(run, qs, scope, n=Count("id"), k=Count("id", filter=settled_at_grid_level()))
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def grid_completion(period, scope, run):

    qs = (
        _cases(period, "completion_due")
        .filter(channel=Channel.GRID)
        .filter(Q(completion_due__lt=run.now) | Q(resolved_at__isnull=False))
    )
    rows = by_scope(
        run,
        qs,
        scope,
        n=Count("id"),
        k=Count("id", filter=Q(resolved_at__isnull=False, resolved_at__lte=F("completion_due"))),
    )
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def grid_reports(period, scope, run):

    group = {**CASE_GROUP, "person": "created_by__username"}[scope]
    rows = _grouped(_cases(period, "created_at").filter(channel=Channel.GRID), group, n=Count("id"))
    return {c: Value(r["n"], r["n"], None) for c, r in rows.items()}


# --- 一户一档 --------------------------------------------------------------------------------


def elapsed_weeks(period, now) -> float:
    """The weeks of ``period`` gone by at ``now``: the whole period once it is over, up to
    ``now`` while it runs, and never less than one day (so a period just begun divides by a day)."""
    end = min(period.end, max(now, period.start))
    return max(end - period.start, dt.timedelta(days=1)).total_seconds() / (7 * 86400)


def visits_per_week(period, scope, run):
    """探访频次: visits to special-care persons in the period / special-care persons / weeks
    elapsed of the period (a period not over yet counts up to now, at least one day)."""

    weeks = elapsed_weeks(period, run.now)
    place = {
        "street": None,
        "community": "household__house__building__community__code",
        "grid": "household__house__building__grid__code",
    }[scope]
    persons = cared(Person.objects.all())
    counted = _grouped(persons, place, n=Count("id"))
    visit_place = None if place is None else "person__" + place
    visits = _grouped(
        Visit.objects.filter(person__in=persons.values("pk"), at__gte=period.start, at__lt=period.end),
        visit_place,
        n=Count("id"),
    )
    return {
        c: Value(_ratio(visits.get(c, {"n": 0})["n"], r["n"] * weeks), visits.get(c, {"n": 0})["n"], r["n"])
        for c, r in counted.items()
    }


def visits_done(period, scope, run):

    rows = _grouped(Visit.objects.filter(at__gte=period.start, at__lt=period.end), "worker__username", n=Count("id"))
    return {c: Value(r["n"], r["n"], None) for c, r in rows.items()}


# --- 权责清单 -------------------------------------------------------------------------------


def duties_reduction(period, scope, run):

    first = list_started_on()
    if first is None:
        return {"": Value(None)}
    last = min((period.end - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date(), run.now.astimezone(SHANGHAI).date())
    if last < first:
        return {"": Value(None)}
    before, after, share = reduction(first, last)
    return {"": Value(share, before - after, before)}


# --- 一窗受理 -------------------------------------------------------------------------------


def _hall(period, run):

    return run.once(("hall", period.key), lambda: hall_selectors.measures(period.start, period.end))


def _hall_measure(key, den_key=None):
    def compute(period, scope, run):
        data = _hall(period, run)
        return {"": Value(data[key], None, data.get(den_key) if den_key else None)}

    return compute


# --- 应急管理 -------------------------------------------------------------------------------


def _emergencies(period, scope):

    qs = Emergency.objects.filter(reported_at__gte=period.start, reported_at__lt=period.end).exclude(recovered_at=None)
    groups = {}
    for emergency in qs.select_related("community"):
        code = "" if scope == "street" else (emergency.community.code if emergency.community_id else None)
        if code is not None:
            groups.setdefault(code, []).append(emergency_selectors.measures(emergency))
    return groups


def emergency_on_time(period, scope, run):
    return {
        c: _rate(sum(1 for m in ms if m.disposal_on_time), len(ms)) for c, ms in _emergencies(period, scope).items()
    }


def emergency_minutes(period, scope, run):
    return {
        c: Value(sum(m.disposal_minutes for m in ms) / len(ms), None, len(ms))
        for c, ms in _emergencies(period, scope).items()
    }


def depot_compliance(period, scope, run):

    group = {"street": None, "community": "depot__community__code"}[scope]
    rows = _grouped(
        Stock.objects.filter(required__gt=0), group, n=Count("id"), k=Count("id", filter=Q(quantity__gte=F("required")))
    )
    return {c: _rate(r["k"], r["n"]) for c, r in rows.items()}


def drill_coverage(period, scope, run):

    data = coverage(period.start.year)
    return {"": Value(data["rate"], data["covered"], data["total"])}


def alert_accuracy(period, scope, run):

    qs = Alert.objects.exclude(status=Alert.Status.OPEN).filter(raised_at__gte=period.start, raised_at__lt=period.end)
    counts = qs.aggregate(n=Count("id"), k=Count("id", filter=Q(status=Alert.Status.CONFIRMED)))
    return {"": _rate(counts["k"], counts["n"])}


# --- 创新指数 (scored evidence) --------------------------------------------------------------


def innovation_index(period, scope, run):

    months = months_in(period)
    latest = {}
    rows = (
        EvidenceScore.objects.filter(indicator="innovation_index", scope_kind=scope, month__in=months)
        .order_by("entered_at", "id")
        .values_list("scope_code", "month", "score")
    )
    for code, month, score in rows:
        latest[(code, month)] = score
    by_scope = {}
    for (code, _month), score in latest.items():
        by_scope.setdefault(code, []).append(score)
    return {c: Value(sum(s) / len(s), sum(s), len(s)) for c, s in by_scope.items()}


# --- other modules' measures by dotted path -------------------------------------------------


def _external(source, scope_arg):
    """An indicator computed by another app's measure function ``fn(start, end, <scope>=None)``."""
    module_name, _sep, name = source.rpartition(".")

    def compute(period, scope, run):
        try:
            fn = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            raise NotComputable(source) from None
        if scope == "street":
            return {"": _wrap(fn(period.start, period.end))}

        model = Community if scope_arg == "community" else Unit
        return {obj.code: _wrap(fn(period.start, period.end, **{scope_arg: obj})) for obj in model.objects.all()}

    return compute


def _wrap(result):
    if isinstance(result, Value):
        return result
    return Value(None if result is None else float(result))


def _pair_rates(fn):
    """An indicator of ``accountability`` (``{scope code: (counted, out of)}``) as rates."""

    def compute(period, scope, run):
        return {c: _rate(k, n) for c, (k, n) in fn(period, scope, run).items()}

    return compute


def _person_counts(fn):
    """A count of ``person_measures`` (``{user name: (count, None)}``) as values."""

    def compute(period, scope, run):
        return {c: Value(n, n, None) for c, (n, _none) in fn(period, scope, run).items()}

    return compute


# --- the library -------------------------------------------------------------------------------

C = "jiedao.cases.measures"
PART = "jiedao.participation.measures"
INTEL = "jiedao.intelligence.measures"
SELF = "self"


def _i(code, name, family, definition, source, unit, direction, baseline, target, scopes, compute, **kw):
    if source == SELF:  # computed here, by the function named after it
        source = f"jiedao.evaluation.indicators.{compute.__name__}"
    return Indicator(
        code, name, family, definition, source, unit, direction, baseline, target, tuple(scopes), compute, **kw
    )


F_CASES, F_GRID, F_REGISTRY, F_DUTIES, F_HALL, F_PART, F_EMERGENCY, F_EVAL, F_INTEL = (
    _("接诉即办"),
    _("网格化管理"),
    _("一户一档"),
    _("权责清单"),
    _("一窗受理"),
    _("多元共治"),
    _("应急管理"),
    _("效能评价"),
    _("数字赋能"),
)

INDICATORS = [
    _i(
        "response_rate",
        _("响应率"),
        F_CASES,
        _("按时响应的工单 / 派单在本期且响应时限已到（或已响应）的工单。"),
        SELF,
        "%",
        HIGHER,
        0.90,
        1.0,
        ALL_CASE_SCOPES,
        response_rate,
        note=_("派单响应 ≤ 2 小时"),
    ),
    _i(
        "resolution_rate",
        _("解决率"),
        F_CASES,
        _("回访中居民答复“已解决”的评价 / 本期全部回访评价。"),
        SELF,
        "%",
        HIGHER,
        0.85,
        0.95,
        ALL_CASE_SCOPES,
        resolution_rate,
        resident=True,
    ),
    _i(
        "satisfaction_rate",
        _("满意率"),
        F_CASES,
        lazy(_satisfaction_definition, str)(),
        SELF,
        "%",
        HIGHER,
        0.85,
        0.95,
        ALL_CASE_SCOPES,
        satisfaction_rate,
        resident=True,
    ),
    _i(
        "three_rate_composite",
        _("三率综合"),
        F_CASES,
        _("响应率、解决率、满意率按设定权重（默认 10/50/40）加权。"),
        SELF,
        "%",
        HIGHER,
        0.85,
        0.95,
        ALL_CASE_SCOPES,
        composite,
    ),
    _i(
        "average_response_hours",
        _("平均响应时长"),
        F_CASES,
        _("已响应工单从派单到响应的平均小时数（派单在本期）。"),
        SELF,
        _("小时"),
        LOWER,
        48,
        12,
        ALL_CASE_SCOPES,
        average_response_hours,
        kind="amount",
        note=_("响应 48 小时 → 12 小时"),
    ),
    _i(
        "average_handling_hours",
        _("平均处置时长"),
        F_CASES,
        _("本期办结的工单从派单到办结的平均小时数。"),
        SELF,
        _("小时"),
        LOWER,
        72,
        8,
        ALL_CASE_SCOPES,
        average_handling_hours,
        kind="amount",
        note=_("平均处置时长 72 小时 → 8 小时"),
    ),
    _i(
        "average_handling_workdays",
        _("平均办理工作日"),
        F_CASES,
        _("本期办结的工单从派单次日到办结日的工作日数的平均值。"),
        SELF,
        _("工作日"),
        LOWER,
        None,
        None,
        ALL_CASE_SCOPES,
        average_handling_workdays,
        kind="amount",
    ),
    _i(
        "overdue_rate",
        _("超期率"),
        F_CASES,
        _("派单在本期的工单中超过办结时限才办结或仍未办结的比例。"),
        SELF,
        "%",
        LOWER,
        0.10,
        0.02,
        ALL_CASE_SCOPES,
        overdue_rate,
    ),
    _i(
        "disposal_rate",
        _("事件按期处置率"),
        F_CASES,
        _("派单在本期、办结时限已到或已办结的工单中，在时限内办结的比例。"),
        SELF,
        "%",
        HIGHER,
        0.90,
        0.98,
        ALL_CASE_SCOPES,
        disposal_rate,
    ),
    _i(
        "return_rate",
        _("退单率"),
        F_CASES,
        _("本期退单次数 / 本期派单次数（按流转记录）。"),
        SELF,
        "%",
        LOWER,
        0.15,
        0.05,
        ("street", "community", "unit"),
        return_rate,
    ),
    _i(
        "rework_rate",
        _("返工率"),
        F_CASES,
        _("导致重办的回访评价 / 本期全部回访评价。"),
        SELF,
        "%",
        LOWER,
        0.10,
        0.03,
        ALL_CASE_SCOPES,
        rework_rate,
    ),
    _i(
        "dispute_resolution_rate",
        _("矛盾纠纷化解率"),
        F_CASES,
        _("管理员标记为“矛盾纠纷类”的分类（及其下级）工单的解决率。"),
        SELF,
        "%",
        HIGHER,
        0.90,
        0.95,
        ALL_CASE_SCOPES,
        dispute_resolution,
        resident=True,
    ),
    _i(
        "cases_received",
        _("受理量"),
        F_CASES,
        _("本期受理的工单数（不含并案和无效来电）。"),
        SELF,
        _("件"),
        LOWER,
        None,
        None,
        ALL_CASE_SCOPES,
        cases_received,
        kind="count",
    ),
    _i(
        "active_discovery_rate",
        _("主动发现率"),
        F_GRID,
        _("网格员上报的工单 / 本期受理的全部工单（不含并案）。"),
        SELF,
        "%",
        HIGHER,
        0.20,
        0.40,
        PLACE_SCOPES,
        active_discovery,
    ),
    _i(
        "grid_level_share",
        _("小事不出网格率"),
        F_GRID,
        _("本期结案工单中在网格层级办结的比例：网格员当场自行处置的，或由事发社区居委会、本网格网格员办结的。"),
        SELF,
        "%",
        HIGHER,
        0.30,
        0.60,
        PLACE_SCOPES,
        grid_level_share,
    ),
    _i(
        "grid_completion_rate",
        _("网格事件办结率"),
        F_GRID,
        _("网格上报工单中在办结时限内办结的比例（时限在本期且已到，或已办结）。"),
        SELF,
        "%",
        HIGHER,
        0.90,
        0.96,
        PLACE_SCOPES,
        grid_completion,
        note=_("网格事件办结率 96%+"),
    ),
    _i(
        "grid_reports",
        _("网格员上报数"),
        F_GRID,
        _("本期网格员上报的工单数。"),
        SELF,
        _("件"),
        HIGHER,
        None,
        None,
        ("street", "community", "grid", "person"),
        grid_reports,
        kind="count",
    ),
    _i(
        "visits_per_week",
        _("探访频次"),
        F_REGISTRY,
        _("本期对特殊关爱人员的探访次数 / 特殊关爱人数 / 本期已过的周数（本期未结束时只算到当前，至少按一天计）。"),
        SELF,
        _("次/人/周"),
        HIGHER,
        1.2,
        3.5,
        PLACE_SCOPES,
        visits_per_week,
        kind="amount",
        note=_("探访 1.2 → 3.5 次/周"),
    ),
    _i(
        "visits_done",
        _("探访次数"),
        F_REGISTRY,
        _("本期网格员登记的探访次数。"),
        SELF,
        _("次"),
        HIGHER,
        None,
        None,
        ("person",),
        visits_done,
        kind="count",
    ),
    _i(
        "duties_reduction",
        _("权责清单精简率"),
        F_DUTIES,
        _("（清单建立时在册事项 − 本期末在册事项）/ 清单建立时在册事项（街道权责清单）。"),
        "jiedao.duties.selectors.reduction",
        "%",
        HIGHER,
        0.0,
        0.30,
        ("street",),
        duties_reduction,
        note=_("126 项 → 80 项，精简 ≥ 30%"),
    ),
    _i(
        "hall_one_visit_rate",
        _("最多跑一次率"),
        F_HALL,
        _("本期出件的办件中最多跑一次的比例。"),
        "jiedao.hall.selectors.measures",
        "%",
        HIGHER,
        0.80,
        0.95,
        ("street",),
        _hall_measure("one_visit", "issued"),
    ),
    _i(
        "hall_on_the_spot_rate",
        _("当场办结率"),
        F_HALL,
        _("本期出件的办件中当场办结的比例。"),
        "jiedao.hall.selectors.measures",
        "%",
        HIGHER,
        0.60,
        0.85,
        ("street",),
        _hall_measure("on_the_spot", "issued"),
    ),
    _i(
        "hall_wait_minutes",
        _("平均等候时长"),
        F_HALL,
        _("本期取号到叫号的平均分钟数。"),
        "jiedao.hall.selectors.measures",
        _("分钟"),
        LOWER,
        45,
        15,
        ("street",),
        _hall_measure("wait_avg", "tickets"),
        kind="amount",
        note=_("等候 45 分钟 → 15 分钟"),
    ),
    _i(
        "hall_service_minutes",
        _("平均办理时长"),
        F_HALL,
        _("本期叫号到办理完毕的平均分钟数。"),
        "jiedao.hall.selectors.measures",
        _("分钟"),
        LOWER,
        None,
        None,
        ("street",),
        _hall_measure("service_avg"),
        kind="amount",
        note=_("办理时长压缩 60%"),
    ),
    _i(
        "hall_in_time_rate",
        _("承诺时限内办结率"),
        F_HALL,
        _("本期出件的有时限办件中在承诺时限内出件的比例。"),
        "jiedao.hall.selectors.measures",
        "%",
        HIGHER,
        0.90,
        1.0,
        ("street",),
        _hall_measure("in_time"),
    ),
    _i(
        "hall_materials_per_item",
        _("每件提交材料数"),
        F_HALL,
        _("本期申请中需申请人提交的材料数 / 申请数（免提交不计）。"),
        "jiedao.hall.selectors.measures",
        _("份"),
        LOWER,
        5,
        2,
        ("street",),
        _hall_measure("materials_per_item"),
        kind="amount",
        note=_("材料 3-5 份 → 1-2 份"),
    ),
    _i(
        "hall_online_rate",
        _("网上办理率"),
        F_HALL,
        _("本期提交的申请中网上提交的比例。"),
        "jiedao.hall.selectors.measures",
        "%",
        HIGHER,
        0.50,
        0.85,
        ("street",),
        _hall_measure("online", "submitted"),
    ),
    _i(
        "hall_satisfaction",
        _("好差评满意率"),
        F_HALL,
        _("本期好差评中“基本满意”及以上的比例（申诉成立的除外）。"),
        "jiedao.hall.selectors.measures",
        "%",
        HIGHER,
        0.85,
        0.90,
        ("street",),
        _hall_measure("satisfaction", "ratings"),
        resident=True,
    ),
    _i(
        "proposals_count",
        _("议题/提案数"),
        F_PART,
        _("本期居民提出的议题和提案数。"),
        f"{PART}.proposals_count",
        _("件"),
        HIGHER,
        None,
        None,
        ("street", "community"),
        _external(f"{PART}.proposals_count", "community"),
        kind="count",
    ),
    _i(
        "adoption_rate",
        _("提案采纳率"),
        F_PART,
        _("本期作出决定的提案中被采纳的比例。"),
        f"{PART}.adoption_rate",
        "%",
        HIGHER,
        0.358,
        0.70,
        ("street", "community"),
        _external(f"{PART}.adoption_rate", "community"),
        note=_("35.8% → 70%"),
    ),
    _i(
        "self_nominated_share",
        _("自荐议事员占比"),
        F_PART,
        _("期末在任议事员中自荐产生的比例。"),
        f"{PART}.self_nominated_share",
        "%",
        HIGHER,
        0.15,
        0.50,
        ("street", "community"),
        _external(f"{PART}.self_nominated_share", "community"),
        note=_("15% → 50%"),
    ),
    _i(
        "participants_count",
        _("参与居民数"),
        F_PART,
        _("本期提议、附议、参会或投票的不同居民数。"),
        f"{PART}.participants_count",
        _("人"),
        HIGHER,
        None,
        None,
        ("street", "community"),
        _external(f"{PART}.participants_count", "community"),
        kind="count",
    ),
    _i(
        "actions_on_time_rate",
        _("决策执行按时率"),
        F_PART,
        _("本期到期的采纳事项中按时完成的比例。"),
        f"{PART}.actions_on_time_rate",
        "%",
        HIGHER,
        0.80,
        0.95,
        ("street", "community"),
        _external(f"{PART}.actions_on_time_rate", "community"),
    ),
    _i(
        "needs_matched_rate",
        _("需求匹配率"),
        F_PART,
        _("居民需求中已由服务项目覆盖的比例。"),
        f"{PART}.needs_matched_rate",
        "%",
        HIGHER,
        0.50,
        0.80,
        ("street", "community"),
        _external(f"{PART}.needs_matched_rate", "community"),
    ),
    _i(
        "volunteers_active",
        _("活跃志愿者数"),
        F_PART,
        _("本期有服务记录的志愿者人数。"),
        f"{PART}.volunteers_active",
        _("人"),
        HIGHER,
        None,
        None,
        ("street", "community"),
        _external(f"{PART}.volunteers_active", "community"),
        kind="count",
    ),
    _i(
        "volunteer_hours",
        _("志愿服务时长"),
        F_PART,
        _("本期经核实的志愿服务小时数。"),
        f"{PART}.volunteer_hours",
        _("小时"),
        HIGHER,
        None,
        None,
        ("street", "community"),
        _external(f"{PART}.volunteer_hours", "community"),
        kind="amount",
    ),
    _i(
        "points_issued",
        _("积分发放"),
        F_PART,
        _("本期发放的志愿服务积分。"),
        f"{PART}.points_issued",
        _("分"),
        HIGHER,
        None,
        None,
        ("street", "community"),
        _external(f"{PART}.points_issued", "community"),
        kind="count",
    ),
    _i(
        "points_redeemed",
        _("积分兑换"),
        F_PART,
        _("本期兑换使用的积分。"),
        f"{PART}.points_redeemed",
        _("分"),
        HIGHER,
        None,
        None,
        ("street", "community"),
        _external(f"{PART}.points_redeemed", "community"),
        kind="count",
    ),
    _i(
        "emergency_on_time_rate",
        _("60分钟处置率"),
        F_EMERGENCY,
        _("本期报告并已处置完毕的突发事件中在处置时限内完成的比例。"),
        SELF,
        "%",
        HIGHER,
        0.80,
        1.0,
        ("street", "community"),
        emergency_on_time,
        note=_("处置 120 分钟 → 60 分钟"),
    ),
    _i(
        "emergency_disposal_minutes",
        _("突发事件平均处置用时"),
        F_EMERGENCY,
        _("本期报告并已处置完毕的突发事件从报告到处置完毕的平均分钟数。"),
        SELF,
        _("分钟"),
        LOWER,
        120,
        60,
        ("street", "community"),
        emergency_minutes,
        kind="amount",
    ),
    _i(
        "depot_compliance_rate",
        _("储备达标率"),
        F_EMERGENCY,
        _("应急物资中库存达到应储数量的品目比例（当前状态）。"),
        SELF,
        "%",
        HIGHER,
        0.90,
        1.0,
        ("street", "community"),
        depot_compliance,
        snapshot=True,
    ),
    _i(
        "drill_coverage_rate",
        _("演练覆盖率"),
        F_EMERGENCY,
        _("本年度至少完成一次演练的社区 / 全部社区。"),
        "jiedao.emergency.selectors.drill_coverage",
        "%",
        HIGHER,
        0.80,
        1.0,
        ("street",),
        drill_coverage,
    ),
    _i(
        "alert_accuracy",
        _("预警准确率"),
        F_EMERGENCY,
        _("本期产生且已研判的预警中确认属实的比例。"),
        "jiedao.emergency.selectors.alert_accuracy",
        "%",
        HIGHER,
        0.70,
        0.85,
        ("street",),
        alert_accuracy,
    ),
    _i(
        "innovation_index",
        _("创新指数"),
        F_EVAL,
        _("考核评估员按佐证材料评定的创新工作得分（0–100，取本期各月最新评分的平均）。"),
        SELF,
        _("分"),
        HIGHER,
        60,
        90,
        ("community", "grid", "unit"),
        innovation_index,
        kind="score",
    ),
    _i(
        "routing_accuracy",
        _("分拨准确率"),
        F_INTEL,
        _(
            "本期派单（自动派单与人工派单一样计算）中承办单位留下工单的比例：派单后该单位没有退单"
            "（或退单未被接受、工单又派回该单位），没有改为其他分类，也没有改派其他单位。"
        ),
        SELF,
        "%",
        HIGHER,
        0.80,
        0.95,
        ("street", "unit"),
        routing_accuracy,
    ),
    _i(
        "auto_dispatch_share",
        _("自动派单占比"),
        F_INTEL,
        _("本期受理并已派单的工单中，无需人工确认自动派出的比例（话务台办结、无效来电和并案的不派单，不计入）。"),
        f"{INTEL}.auto_dispatch_share",
        "%",
        HIGHER,
        None,
        0.60,
        ("street", "unit"),
        _external(f"{INTEL}.auto_dispatch_share", "unit"),
    ),
    _i(
        "reply_flag_rate",
        _("答复质量问题率"),
        F_INTEL,
        _("被标记质量问题的答复 / 提交的答复。"),
        f"{INTEL}.reply_flag_rate",
        "%",
        LOWER,
        0.20,
        0.05,
        ("street", "unit"),
        _external(f"{INTEL}.reply_flag_rate", "unit"),
    ),
    _i(
        "report_rate",
        _("报到率"),
        F_CASES,
        _(
            "吹哨或协办召集的单位中，报到时限在本期且已到（或已报到）的 / 其中在报到时限内报到的比例；"
            "时限未到且尚未报到的不计入。"
        ),
        "jiedao.evaluation.accountability.report_rate",
        "%",
        HIGHER,
        0.90,
        1.0,
        ALL_CASE_SCOPES,
        _pair_rates(accountability.report_rate),
    ),
    _i(
        "cohandle_completion_rate",
        _("协同完成率"),
        F_CASES,
        _(
            "有吹哨或协办的工单中，办结时限在本期且已到（或已办结）的 / 其中在办结时限内办结的比例；"
            "按单位统计时，工单计入每个被召集的单位（每个单位一次）。"
        ),
        "jiedao.evaluation.accountability.cohandle_completion",
        "%",
        HIGHER,
        0.90,
        0.98,
        ALL_CASE_SCOPES,
        _pair_rates(accountability.cohandle_completion),
    ),
    _i(
        "repeat_complaint_rate",
        _("重复投诉率"),
        F_CASES,
        _(
            "本期受理的工单（不含并案和无效来电）中，重复此前已结案工单的比例：同一诉求人（同一电话或账号），"
            "或同一分类且位置相近，在前案结案后规定天数内再次反映。越低越好。"
        ),
        "jiedao.evaluation.accountability.repeat_complaints",
        "%",
        LOWER,
        0.10,
        0.05,
        ALL_CASE_SCOPES,
        _pair_rates(accountability.repeat_complaints),
    ),
    _i(
        "person_cases_resolved",
        _("办结工单数"),
        F_CASES,
        _("本期由本人给出办结反馈（以工单最后一次办结反馈为准）的工单数。"),
        "jiedao.evaluation.person_measures.cases_resolved",
        _("件"),
        HIGHER,
        None,
        None,
        ("person",),
        _person_counts(person_measures.cases_resolved),
        kind="count",
    ),
    _i(
        "person_on_time_rate",
        _("个人按期办结率"),
        F_CASES,
        _("本期由本人办结且有办结时限的工单中，在办结时限内办结的比例。"),
        "jiedao.evaluation.person_measures.on_time",
        "%",
        HIGHER,
        0.90,
        0.98,
        ("person",),
        _pair_rates(person_measures.on_time),
    ),
    _i(
        "person_satisfaction_rate",
        _("个人办件满意率"),
        F_CASES,
        _("本期回访评价中，评价前最后一次办结反馈由本人给出的：（满意 + 基本满意按系统设定值计）/ 评价数。"),
        "jiedao.evaluation.person_measures.case_satisfaction",
        "%",
        HIGHER,
        0.85,
        0.95,
        ("person",),
        _pair_rates(person_measures.case_satisfaction),
        resident=True,
    ),
    _i(
        "person_applications_accepted",
        _("受理办件数"),
        F_HALL,
        _("本期由本人受理的办件数。"),
        "jiedao.evaluation.person_measures.applications_accepted",
        _("件"),
        HIGHER,
        None,
        None,
        ("person",),
        _person_counts(person_measures.applications_accepted),
        kind="count",
    ),
    _i(
        "person_applications_on_time",
        _("窗口按时办结率"),
        F_HALL,
        _("本人受理、本期出件且有承诺期限的办件中，在承诺期限内出件的比例。"),
        "jiedao.evaluation.person_measures.applications_on_time",
        "%",
        HIGHER,
        0.95,
        1.0,
        ("person",),
        _pair_rates(person_measures.applications_on_time),
    ),
    _i(
        "person_hall_satisfaction",
        _("窗口好差评满意率"),
        F_HALL,
        _("本期对本人受理的办件的好差评中，基本满意及以上的比例（申诉成立的评价不计）。"),
        "jiedao.evaluation.person_measures.hall_satisfaction",
        "%",
        HIGHER,
        0.90,
        0.98,
        ("person",),
        _pair_rates(person_measures.hall_satisfaction),
        resident=True,
    ),
    _i(
        "person_grid_self_resolved",
        _("网格自行处置数"),
        F_GRID,
        _("本期结案的、由本人上报并在网格内处置的工单数。"),
        "jiedao.evaluation.person_measures.grid_self_resolved",
        _("件"),
        HIGHER,
        None,
        None,
        ("person",),
        _person_counts(person_measures.grid_self_resolved),
        kind="count",
    ),
    _i(
        "person_grid_satisfaction",
        _("网格群众满意率"),
        F_GRID,
        _("本期回访评价中，工单位于本人负责网格的：（满意 + 基本满意按系统设定值计）/ 评价数。"),
        "jiedao.evaluation.person_measures.grid_satisfaction",
        "%",
        HIGHER,
        0.85,
        0.95,
        ("person",),
        _pair_rates(person_measures.grid_satisfaction),
        resident=True,
    ),
    _i(
        "person_grid_resolution",
        _("网格问题解决率"),
        F_GRID,
        _("本期回访评价中，工单位于本人负责网格、居民表示问题已解决的比例。"),
        "jiedao.evaluation.person_measures.grid_resolution",
        "%",
        HIGHER,
        0.85,
        0.95,
        ("person",),
        _pair_rates(person_measures.grid_resolution),
        resident=True,
    ),
    _i(
        "person_grid_patrols",
        _("巡查次数"),
        F_GRID,
        _("本期本人开始的网格巡查次数（以“开始巡查”打卡计）。"),
        "jiedao.evaluation.person_measures.grid_patrols",
        _("次"),
        HIGHER,
        None,
        None,
        ("person",),
        _person_counts(person_measures.grid_patrols),
        kind="count",
    ),
    _i(
        "person_hall_rectified",
        _("差评整改认可率"),
        F_HALL,
        _("本人受理的办件所得差评中，本期完成整改回访的，申请人认可整改的比例。"),
        "jiedao.evaluation.person_measures.hall_rectified",
        "%",
        HIGHER,
        0.80,
        0.95,
        ("person",),
        _pair_rates(person_measures.hall_rectified),
        resident=True,
    ),
]

BY_CODE = {indicator.code: indicator for indicator in INDICATORS}


def get(code):
    return BY_CODE.get(code)
