"""The 三率 and times per unit and month. One selector per measure; pages, the API,
exports and tests all call these. Definitions (also in docs/measures.md):

- dispatched: cases whose (last) dispatch fell in the month, counted for the unit now
  holding them.
- 响应率 response rate = cases responded on time / dispatched cases whose response
  is due (responded, or the response limit has passed).
- 解决率 resolution rate = ratings with "resolved" / ratings, for ratings given in
  the month to the unit that handled that round.
- 满意率 satisfaction rate = (满意 + w × 基本满意) / ratings, w the setting BASIC_SATISFIED_WEIGHT (0.9).
- composite = weighted sum of the three (weights in settings, default 10/50/40).
- average response hours = mean of (responded − dispatched) over responded cases
  dispatched in the month.
- average handling working days = mean working days from dispatch to the unit's
  result, over cases resolved in the month.
- overdue rate = dispatched cases resolved after their completion limit, or still
  unresolved past it / dispatched cases.
- return rate = returns by the unit in the month / dispatches to the unit in the month.
- rework rate = ratings that reopened the case / ratings.
- calls settled at the desk (三事分流: 直接答复, 私事告知, 无效来电) are counted apart
  (``desk_outcomes``). No unit handled them, so no unit's rates count them; the street-wide
  response and resolution rates count the answered and advised ones as responded on time and
  resolved only where the setting ``DESK_OUTCOMES_IN_RATES`` says so (default: not counted).
  Void calls never count.

Rates are ``None`` when their denominator is zero ("no data"), never 0 or 100 %.
"""

from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from jiedao.common import params
from jiedao.common.errors import ValidationFailed
from jiedao.org.models import Unit
from jiedao.workcal.calendar import SHANGHAI, start_of_day, workdays_between

from .models import DESK_OUTCOMES, Case, CaseEvent, Rating
from .rules import basic_satisfied_weight


def month_bounds(month: str):
    """'2026-11' → (start, end) as aware datetimes in Shanghai time; a month that is not
    ``YYYY-MM`` in the supported years is refused on ``month``."""
    first, after = params.month_bounds(month, "month")
    return start_of_day(first), start_of_day(after)


def _ratio(num, den):
    return None if not den else num / den


def _units(unit_code):
    qs = Unit.objects.all()
    if unit_code:
        qs = qs.filter(code=unit_code)
        if not qs.exists():
            raise ValidationFailed("unit", f"承办单位代码“{unit_code}”不存在。")
    return qs


def response_rate(month, unit=None, now=None, street=None):
    start, end = month_bounds(month)
    now = now or timezone.now()
    qs = Case.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
    if unit:
        qs = qs.filter(unit__code=unit)
    if street:
        qs = qs.filter(street_id=street)
    due = qs.filter(Q(responded_at__isnull=False) | Q(response_due__lt=now))
    agg = due.aggregate(total=Count("id"), on_time=Count("id", filter=Q(responded_at__lte=F_("response_due"))))
    desk = 0 if unit else desk_counted(month, street)
    return _ratio(agg["on_time"] + desk, agg["total"] + desk)


def desk_outcomes(month, street=None) -> dict[str, int]:
    """Calls settled at the desk in the month (三事分流), by outcome: answered, advised, voided.
    The small matters grid workers fixed on the spot (已自行处置) are no desk's: they count in
    小事不出网格 (``grid_measures``), not here."""
    start, end = month_bounds(month)
    qs = Case.objects.filter(closed_at__gte=start, closed_at__lt=end, outcome__in=DESK_OUTCOMES)
    if street:
        qs = qs.filter(street_id=street)
    counts = dict(qs.values_list("outcome").annotate(n=Count("id")).order_by())
    return {outcome.value: counts.get(outcome.value, 0) for outcome in DESK_OUTCOMES}


def desk_counted_outcomes() -> list[str]:
    """The desk outcomes the street-wide 三率 count, by the setting."""
    return [outcome for outcome, counted in settings.JIEDAO["DESK_OUTCOMES_IN_RATES"].items() if counted]


def desk_counted(month, street=None) -> int:
    """Calls settled at the desk in the month that the street-wide 三率 count (setting)."""
    counted = desk_counted_outcomes()
    if not counted:
        return 0
    outcomes = desk_outcomes(month, street)
    return sum(outcomes[o] for o in counted)


def F_(name):

    return F(name)


def _ratings(month, unit, street=None):
    start, end = month_bounds(month)
    qs = Rating.objects.filter(rated_at__gte=start, rated_at__lt=end)
    if unit:
        qs = qs.filter(unit__code=unit)
    if street:
        qs = qs.filter(case__street_id=street)
    return qs


def rating_counts(month, unit=None, street=None):
    # Aliases must not shadow the model's fields (an alias "resolved" would hide the
    # field "resolved" in the later filters), so count under n_* and rename.
    counts = _ratings(month, unit, street).aggregate(
        n_total=Count("id"),
        n_resolved=Count("id", filter=Q(resolved=True)),
        n_satisfied=Count("id", filter=Q(satisfaction=Rating.Satisfaction.SATISFIED)),
        n_basic=Count("id", filter=Q(satisfaction=Rating.Satisfaction.BASIC)),
        n_reopened=Count("id", filter=Q(resolved=False) | Q(satisfaction=Rating.Satisfaction.UNSATISFIED)),
    )
    return {key[2:]: value for key, value in counts.items()}


def resolution_rate(month, unit=None, street=None):
    c = rating_counts(month, unit, street)
    desk = 0 if unit else desk_counted(month, street)
    return _ratio(c["resolved"] + desk, c["total"] + desk)


def satisfaction_rate(month, unit=None, street=None):
    c = rating_counts(month, unit, street)
    return _ratio(c["satisfied"] + basic_satisfied_weight() * c["basic"], c["total"])


def rework_rate(month, unit=None, street=None):
    c = rating_counts(month, unit, street)
    return _ratio(c["reopened"], c["total"])


def composite(response, resolution, satisfaction):
    weights = settings.JIEDAO["THREE_RATE_WEIGHTS"]
    parts = [
        (response, weights["response"]),
        (resolution, weights["resolution"]),
        (satisfaction, weights["satisfaction"]),
    ]
    if any(value is None for value, _ in parts):
        return None
    return sum(value * weight for value, weight in parts) / sum(weight for _, weight in parts)


def average_response_hours(month, unit=None, street=None):
    start, end = month_bounds(month)
    qs = Case.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end, responded_at__isnull=False)
    if unit:
        qs = qs.filter(unit__code=unit)
    if street:
        qs = qs.filter(street_id=street)
    spans = [(r - d).total_seconds() / 3600 for d, r in qs.values_list("dispatched_at", "responded_at")]
    return sum(spans) / len(spans) if spans else None


def average_handling_workdays(month, unit=None, street=None):
    start, end = month_bounds(month)
    qs = Case.objects.filter(resolved_at__gte=start, resolved_at__lt=end, dispatched_at__isnull=False)
    if unit:
        qs = qs.filter(unit__code=unit)
    if street:
        qs = qs.filter(street_id=street)
    spans: dict[tuple, int] = {}  # many cases share their dates: each pair is counted once
    days = []
    for d, r in qs.values_list("dispatched_at", "resolved_at"):
        pair = (d.astimezone(SHANGHAI).date(), r.astimezone(SHANGHAI).date())
        if pair not in spans:
            spans[pair] = workdays_between(*pair)
        days.append(spans[pair])
    return sum(days) / len(days) if days else None


def overdue_rate(month, unit=None, now=None, street=None):
    start, end = month_bounds(month)
    now = now or timezone.now()
    qs = Case.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end, completion_due__isnull=False)
    if unit:
        qs = qs.filter(unit__code=unit)
    if street:
        qs = qs.filter(street_id=street)
    agg = qs.aggregate(
        total=Count("id"),
        overdue=Count(
            "id", filter=Q(resolved_at__gt=F_("completion_due")) | Q(resolved_at__isnull=True, completion_due__lt=now)
        ),
    )
    return _ratio(agg["overdue"], agg["total"])


def return_rate(month, unit=None, street=None):
    start, end = month_bounds(month)
    events = CaseEvent.objects.filter(at__gte=start, at__lt=end)
    dispatches = events.filter(action="dispatch")
    returns = events.filter(action="return")
    if unit:
        dispatches = dispatches.filter(unit__code=unit)
        returns = returns.filter(actor_unit__code=unit)
    if street:
        dispatches = dispatches.filter(case__street_id=street)
        returns = returns.filter(case__street_id=street)
    return _ratio(returns.count(), dispatches.count())


def dispatched_count(month, unit=None, street=None):
    start, end = month_bounds(month)
    qs = Case.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
    if unit:
        qs = qs.filter(unit__code=unit)
    if street:
        qs = qs.filter(street_id=street)
    return qs.count()


@dataclass
class UnitMonth:
    unit_code: str
    unit_name: str
    month: str
    dispatched: int
    rated: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    composite: float | None
    average_response_hours: float | None
    average_handling_workdays: float | None
    overdue_rate: float | None
    return_rate: float | None
    rework_rate: float | None

    def as_dict(self):
        return asdict(self)


def three_rates(month, unit=None, now=None, street=None) -> UnitMonth:
    """All measures of one unit (or of the whole street ``street`` — a Street — when ``unit`` is
    None; of the whole installation when neither is given) for a month."""
    name = street.name if street is not None else "全街道"
    if unit:
        name = _units(unit).get().name
    sid = street.pk if street is not None and not unit else None
    response = response_rate(month, unit, now, street=sid)
    resolution = resolution_rate(month, unit, street=sid)
    satisfaction = satisfaction_rate(month, unit, street=sid)
    return UnitMonth(
        unit_code=unit or "",
        unit_name=name,
        month=month,
        dispatched=dispatched_count(month, unit, street=sid),
        rated=rating_counts(month, unit, street=sid)["total"],
        response_rate=response,
        resolution_rate=resolution,
        satisfaction_rate=satisfaction,
        composite=composite(response, resolution, satisfaction),
        average_response_hours=average_response_hours(month, unit, street=sid),
        average_handling_workdays=average_handling_workdays(month, unit, street=sid),
        overdue_rate=overdue_rate(month, unit, now, street=sid),
        return_rate=return_rate(month, unit, street=sid),
        rework_rate=rework_rate(month, unit, street=sid),
    )


def three_rates_by_unit(month, now=None, street=None):
    """The measures for every unit (of ``street`` when given) with cases dispatched or ratings
    given that month, best composite first: for each unit the figures of
    ``three_rates(month, unit)``, read in one query per measure grouped by unit (a fixed number
    of queries however many units there are)."""
    start, end = month_bounds(month)
    now = now or timezone.now()
    cases = Case.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
    ratings = Rating.objects.filter(rated_at__gte=start, rated_at__lt=end)
    units = Unit.objects.filter(Q(pk__in=cases.values("unit_id")) | Q(pk__in=ratings.values("unit_id")))
    if street is not None:
        units = units.filter(street=street)
    labels = {pk: (code, name) for pk, code, name in units.values_list("pk", "code", "name").order_by()}
    if not labels:
        return []
    names = {pk: code for pk, (code, _name) in labels.items()}
    cases = cases.filter(unit_id__in=names).order_by()

    def by_unit(qs, **counts):
        return {row.pop("unit_id"): row for row in qs.values("unit_id").annotate(**counts)}

    dispatched = by_unit(
        cases,
        n=Count("id"),
        due=Count("id", filter=Q(responded_at__isnull=False) | Q(response_due__lt=now)),
        on_time=Count("id", filter=Q(responded_at__lte=F_("response_due"))),
        with_limit=Count("id", filter=Q(completion_due__isnull=False)),
        late=Count(
            "id",
            filter=Q(completion_due__isnull=False)
            & (Q(resolved_at__gt=F_("completion_due")) | Q(resolved_at__isnull=True, completion_due__lt=now)),
        ),
    )
    rated = by_unit(
        ratings.filter(unit_id__in=names).order_by(),
        n=Count("id"),
        resolved_n=Count("id", filter=Q(resolved=True)),
        satisfied_n=Count("id", filter=Q(satisfaction=Rating.Satisfaction.SATISFIED)),
        basic_n=Count("id", filter=Q(satisfaction=Rating.Satisfaction.BASIC)),
        reopened_n=Count("id", filter=Q(resolved=False) | Q(satisfaction=Rating.Satisfaction.UNSATISFIED)),
    )
    response_hours: dict[int, list[float]] = {}
    for unit_id, d, r in cases.filter(responded_at__isnull=False).values_list(
        "unit_id", "dispatched_at", "responded_at"
    ):
        response_hours.setdefault(unit_id, []).append((r - d).total_seconds() / 3600)
    handling: dict[int, list[int]] = {}
    spans: dict[tuple, int] = {}
    resolved = Case.objects.filter(
        resolved_at__gte=start, resolved_at__lt=end, dispatched_at__isnull=False, unit_id__in=names
    ).order_by()
    for unit_id, d, r in resolved.values_list("unit_id", "dispatched_at", "resolved_at"):
        pair = (d.astimezone(SHANGHAI).date(), r.astimezone(SHANGHAI).date())
        if pair not in spans:
            spans[pair] = workdays_between(*pair)
        handling.setdefault(unit_id, []).append(spans[pair])
    events = CaseEvent.objects.filter(at__gte=start, at__lt=end).order_by()
    sent = dict(events.filter(action="dispatch", unit_id__in=names).values_list("unit_id").annotate(n=Count("id")))
    returned = dict(
        events.filter(action="return", actor_unit_id__in=names).values_list("actor_unit_id").annotate(n=Count("id"))
    )

    def mean(values):
        return sum(values) / len(values) if values else None

    rows = []
    for unit_id, code in names.items():
        c = dispatched.get(unit_id, {"n": 0, "due": 0, "on_time": 0, "with_limit": 0, "late": 0})
        r = rated.get(unit_id, {"n": 0, "resolved_n": 0, "satisfied_n": 0, "basic_n": 0, "reopened_n": 0})
        response = _ratio(c["on_time"], c["due"])
        resolution = _ratio(r["resolved_n"], r["n"])
        satisfaction = _ratio(r["satisfied_n"] + basic_satisfied_weight() * r["basic_n"], r["n"])
        rows.append(
            UnitMonth(
                unit_code=code,
                unit_name=labels[unit_id][1],
                month=month,
                dispatched=c["n"],
                rated=r["n"],
                response_rate=response,
                resolution_rate=resolution,
                satisfaction_rate=satisfaction,
                composite=composite(response, resolution, satisfaction),
                average_response_hours=mean(response_hours.get(unit_id)),
                average_handling_workdays=mean(handling.get(unit_id)),
                overdue_rate=_ratio(c["late"], c["with_limit"]),
                return_rate=_ratio(returned.get(unit_id, 0), sent.get(unit_id, 0)),
                rework_rate=_ratio(r["reopened_n"], r["n"]),
            )
        )
    rows.sort(key=lambda r: (r.composite is None, -(r.composite or 0), r.unit_code))
    return rows


def current_month(now=None):
    now = (now or timezone.now()).astimezone(SHANGHAI)
    return f"{now:%Y-%m}"
