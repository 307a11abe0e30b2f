"""Scoring and ranking (评分排名): a scheme's weighted indicators, normalised to 0–100
against the target or against the best and worst scope, summed, graded 优秀 / 合格 / 待改进.

Rules:
- an indicator without a value for a scope is left out and the other weights are scaled
  up; when less than half of the scheme's weight has values the score is None (数据不足);
- against target: higher-is-better scores value / target, lower-is-better target / value,
  both capped at 100; an indicator without a target is normalised best/worst instead;
- best/worst: (value − worst) / (best − worst) among the ranked scopes; all equal → 100.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from . import indicators as lib
from .models import IndicatorSetting, Result, Scheme

EXCELLENT, PASS, IMPROVE, NO_DATA = "excellent", "pass", "improve", "no_data"
GRADE_LABELS = {EXCELLENT: _("优秀"), PASS: _("合格"), IMPROVE: _("待改进"), NO_DATA: _("数据不足")}
MIN_WEIGHT_SHARE = 0.5


@dataclass
class Row:
    scope_code: str
    scope_name: str
    score: float | None
    grade: str
    parts: list = field(default_factory=list)
    rank: int | None = None
    previous_rank: int | None = None
    previous_score: float | None = None

    @property
    def grade_label(self):
        return str(GRADE_LABELS[self.grade])

    @property
    def change(self):
        """Places gained (+) or lost (−) since the previous period; None when not ranked then."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    def as_dict(self):
        return {
            "scope_code": self.scope_code,
            "scope_name": self.scope_name,
            "score": self.score,
            "grade": self.grade,
            "grade_label": self.grade_label,
            "rank": self.rank,
            "previous_rank": self.previous_rank,
            "previous_score": self.previous_score,
            "change": self.change,
            "parts": self.parts,
        }


def settings_of(indicator):
    """(baseline, target) of an indicator: the evaluator's setting, else the library's default."""

    setting = IndicatorSetting.objects.filter(code=indicator.code).first()
    if setting is None:
        return indicator.baseline, indicator.target
    return (
        setting.baseline if setting.baseline is not None else indicator.baseline,
        setting.target if setting.target is not None else indicator.target,
    )


def _against_target(indicator, value, target):
    if indicator.direction == lib.HIGHER:
        return 100.0 if target <= 0 else min(1.0, max(0.0, value / target)) * 100
    return 100.0 if value <= 0 else min(1.0, target / value) * 100


def _best_worst(indicator, value, values):
    best, worst = (max(values), min(values)) if indicator.direction == lib.HIGHER else (min(values), max(values))
    if best == worst:
        return 100.0
    return (value - worst) / (best - worst) * 100


def grade_of(scheme, score):
    if score is None:
        return NO_DATA
    if score >= scheme.excellent_from:
        return EXCELLENT
    if score >= scheme.pass_from:
        return PASS
    return IMPROVE


def score_rows(scheme, values, names):
    """Score every scope. ``values``: {indicator code: {scope code: value}}; ``names``: {scope code: name}."""
    items = list(scheme.items.all())
    total_weight = sum(item.weight for item in items) or 1.0
    rows = []
    for code, name in names.items():
        got, parts = 0.0, []
        weighted = 0.0
        for item in items:
            indicator = lib.get(item.indicator)
            value = values.get(item.indicator, {}).get(code)
            part = {
                "indicator": item.indicator,
                "label": item.label or (str(indicator.name) if indicator else ""),
                "perspective": item.perspective,
                "weight": item.weight,
                "value": value,
                "score": None,
            }
            if indicator is not None and value is not None:
                _baseline, target = settings_of(indicator)
                if scheme.normalisation == Scheme.Normalisation.TARGET and target is not None:
                    points = _against_target(indicator, value, target)
                else:
                    present = [v for v in values.get(item.indicator, {}).values() if v is not None]
                    points = _best_worst(indicator, value, present)
                part["score"] = round(points, 2)
                got += item.weight
                weighted += points * item.weight
            parts.append(part)
        score = round(weighted / got, 2) if got and got / total_weight >= MIN_WEIGHT_SHARE else None
        rows.append(Row(code, name, score, grade_of(scheme, score), parts))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.scope_code))
    rank = 0
    for position, row in enumerate(rows, start=1):
        if row.score is None:
            continue
        rank = position
        row.rank = rank
    return rows


def _results(scheme, period_kind, period_key, scope_kind, scopes=None):
    codes = [item.indicator for item in scheme.items.all()]
    values, names = {}, {}
    rows = Result.objects.filter(
        period_kind=period_kind, period_key=period_key, scope_kind=scope_kind, indicator__in=codes
    )
    if scopes is not None:
        rows = rows.filter(scope_code__in=sorted(scopes))
    rows = rows.values_list("indicator", "scope_code", "scope_name", "value")
    for indicator, code, name, value in rows:
        values.setdefault(indicator, {})[code] = value
        names[code] = name
    return values, dict(sorted(names.items()))


def ranking(scheme, period, scope_kind, codes=None):
    """The ranking of ``scope_kind`` (community, unit, grid, street) for a period — of the
    scopes in ``codes`` when given — with the change of rank against the previous period."""
    values, names = _results(scheme, period.kind, period.key, scope_kind, codes)
    rows = score_rows(scheme, values, names)
    previous = period.previous()
    before_values, before_names = _results(scheme, previous.kind, previous.key, scope_kind, codes)
    before = {r.scope_code: r for r in score_rows(scheme, before_values, before_names)}
    for row in rows:
        old = before.get(row.scope_code)
        if old is not None:
            row.previous_rank, row.previous_score = old.rank, old.score
    return rows


def resident_share(weights):
    """Share of the weight on resident evaluation. ``weights``: [(indicator code, weight)]."""
    total = sum(w for _c, w in weights)
    if not total:
        return 0.0
    return sum(w for c, w in weights if lib.get(c) is not None and lib.get(c).resident) / total
