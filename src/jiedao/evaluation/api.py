"""The evaluation API: the indicator library, values, rankings, warnings and the cockpit's
figures. The cockpit page draws exactly what these endpoints return."""

import datetime as dt

from ninja import Router, Schema

from jiedao.common.schemas import ErrorsOut

from . import periods, selectors

router = Router(tags=["evaluation"])
ERRORS = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 422: ErrorsOut}


class IndicatorOut(Schema):
    code: str
    name: str
    family: str
    definition: str
    selector: str
    unit: str
    kind: str
    direction: str
    baseline: float | None
    target: float | None
    scopes: list[str]
    resident: bool
    computable: bool
    status: str
    status_label: str
    note: str
    latest: float | None = None


class ValueOut(Schema):
    period_kind: str
    period_key: str
    scope_kind: str
    scope_code: str
    scope_name: str
    value: float | None
    numerator: float | None
    denominator: float | None
    display: str
    computed_at: dt.datetime


class ValuesOut(Schema):
    indicator: IndicatorOut
    periods: list[str]
    values: list[ValueOut]


class RankingRowOut(Schema):
    scope_code: str
    scope_name: str
    score: float | None
    grade: str
    grade_label: str
    rank: int | None
    previous_rank: int | None
    previous_score: float | None
    change: int | None
    parts: list[dict]


class RankingsOut(Schema):
    scheme: dict
    period: str
    previous_period: str
    scope: str
    rows: list[RankingRowOut]


class WarningOut(Schema):
    id: int
    kind: str
    kind_label: str
    level: str
    level_label: str
    status: str
    title: str
    detail: str
    scope_kind: str
    scope_code: str
    scope_name: str
    indicator: str
    weeks: int
    url: str
    opened_at: dt.datetime
    recovered_at: dt.datetime | None


class RectificationOut(Schema):
    number: str
    title: str
    unit: str
    unit_code: str
    status: str
    status_label: str
    due_at: dt.datetime
    overdue: bool
    issued_at: dt.datetime
    closed_at: dt.datetime | None
    warning: int | None
    url: str


@router.get(
    "/indicators",
    url_name="evaluation_indicators",
    response={200: list[IndicatorOut], **ERRORS},
    summary="The indicator library (指标库) with each street value this month",
)
def indicators(request, period: str = "", street: str = ""):
    """``street``: a district user's choice of street (code); others see their own street."""
    period = periods.parse(period) if period else None
    return [
        {k: v for k, v in row.items() if not k.startswith("display")}
        for row in selectors.indicator_list(request.user, period, street=street or None)
    ]


@router.get(
    "/indicators/{code}/values",
    url_name="evaluation_values",
    response={200: ValuesOut, **ERRORS},
    summary="Values of an indicator per scope and period",
)
def indicator_values(
    request, code: str, scope: str = "street", period: str = "month", last: int = 12, street: str = ""
):
    """``scope``: street, community, grid, unit, person, or one of them as ``community:CODE``.
    ``period``: a key (2026-10, 2026-W44, 2026-Q4, 2026) for that period, or a kind (week, month,
    quarter, year) for the last ``last`` periods. An indicator that is not computable yet has
    ``computable: false`` and no values. Only the scopes of the viewer's street are returned
    (``street``: a district user's choice)."""
    return selectors.values(request.user, code, scope=scope, period=period, last=last, street=street or None)


@router.get(
    "/rankings",
    url_name="evaluation_rankings",
    response={200: RankingsOut, **ERRORS},
    summary="Scores, grades and ranks of a scheme, with the change against the previous period",
)
def rankings(request, scheme: str = "", period: str = "", scope: str = "community", street: str = ""):
    """``scope``: community, unit or grid of the viewer's street, or ``street``: the streets a
    district user sees, ranked (街道排名)."""
    return selectors.rankings(request.user, scheme or None, period or None, scope, street=street or None)


class StreetRankingRowOut(Schema):
    street: str
    name: str
    rank: int | None
    previous_rank: int | None
    change: int | None
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    three_rate_composite: float | None
    url: str


class StreetRankingOut(Schema):
    period: str
    previous_period: str
    rows: list[StreetRankingRowOut]


@router.get(
    "/rankings/streets",
    url_name="evaluation_street_ranking",
    response={200: StreetRankingOut, **ERRORS},
    summary="街道排名: the month's 三率 of every street the user sees, by composite",
)
def street_ranking(request, period: str = ""):
    """A district user gets the streets of their district; a street's staff their own street."""
    return selectors.street_ranking(request.user, period or None)


@router.get(
    "/warnings",
    url_name="evaluation_warnings",
    response={200: list[WarningOut], **ERRORS},
    summary="Warnings (预警): indicators below baseline, complaint surges, fast-growing hot issues",
)
def warnings(request, active: bool = True, street: str = ""):
    return [
        selectors.warning_out(w) for w in selectors.warnings(request.user, active_only=active, street=street or None)
    ]


@router.get(
    "/rectifications",
    url_name="evaluation_rectifications",
    response={200: list[RectificationOut], **ERRORS},
    summary="Rectification tasks (整改指令)",
)
def rectifications(request, open: bool = False):
    return [selectors.rectification_out(t) for t in selectors.rectifications(request.user, open_only=open)]


@router.get(
    "/cockpit/live",
    url_name="evaluation_live",
    response={200: dict, **ERRORS},
    summary="Cockpit counters: today's cases, open, overdue, the three rates this month",
)
def live(request, street: str = ""):
    return selectors.cockpit_live(request.user, street=street or None)


@router.get(
    "/cockpit/categories",
    url_name="evaluation_categories",
    response={200: dict, **ERRORS},
    summary="Cases received per top-level category in a period (rollup)",
)
def categories(request, period: str = "", street: str = ""):
    return selectors.category_breakdown(request.user, period or None, street=street or None)


@router.get(
    "/cockpit/trend",
    url_name="evaluation_trend",
    response={200: list[dict], **ERRORS},
    summary="Cases received per day (rollup)",
)
def trend(request, days: int = 30, street: str = ""):
    return selectors.daily_trend(request.user, days, street=street or None)


@router.get(
    "/cockpit/hot-issues",
    url_name="evaluation_hot",
    response={200: dict, **ERRORS},
    summary="Hot issues (热点问题), when the intelligence module is installed",
)
def hot(request, street: str = ""):
    return selectors.hot_issues(request.user, street=street or None)
