"""The 三率 and times per unit and month. One selector per measure; pages, the API,
exports and tests all call these. Definitions (also in docs/measures.md):

- dispatched: cases whose (last) dispatch fell in the month, counted for the unit now
  holding them.
- 响应率 response rate = cases responded on time / dispatched cases whose response
  is due (responded, or the response limit has passed).
- 解决率 resolution rate = ratings with "resolved" / ratings, for ratings given in
  the month to the unit that handled that round.
- 满意率 satisfaction rate = (满意 + 0.9 × 基本满意) / ratings.
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

from .models import Case, CaseEvent, Outcome, Rating


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
    """Calls settled at the desk in the month (三事分流), by outcome: answered, advised, voided."""
    start, end = month_bounds(month)
    qs = Case.objects.filter(closed_at__gte=start, closed_at__lt=end).exclude(outcome="")
    if street:
        qs = qs.filter(street_id=street)
    counts = dict(qs.values_list("outcome").annotate(n=Count("id")).order_by())
    return {outcome: counts.get(outcome, 0) for outcome in Outcome.values}


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
    return _ratio(c["satisfied"] + 0.9 * c["basic"], c["total"])


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
    days = [
        workdays_between(d.astimezone(SHANGHAI).date(), r.astimezone(SHANGHAI).date())
        for d, r in qs.values_list("dispatched_at", "resolved_at")
    ]
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
    """The measures for every active unit (of ``street`` when given) with cases that month,
    best composite first."""
    start, end = month_bounds(month)
    cases = Case.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
    ratings = Rating.objects.filter(rated_at__gte=start, rated_at__lt=end)
    if street is not None:
        cases, ratings = cases.filter(unit__street=street), ratings.filter(unit__street=street)
    codes = set(cases.values_list("unit__code", flat=True).distinct())
    codes |= set(ratings.values_list("unit__code", flat=True).distinct())
    rows = [three_rates(month, code, now) for code in sorted(c for c in codes if c)]
    rows.sort(key=lambda r: (r.composite is None, -(r.composite or 0), r.unit_code))
    return rows


def current_month(now=None):
    now = (now or timezone.now()).astimezone(SHANGHAI)
    return f"{now:%Y-%m}"
