"""The demo filler: results, evidence scores, warnings checked, fast, and run only once."""

import io

import pytest

from jiedao.evaluation.demo import build_evaluation
from jiedao.evaluation.models import EvidenceScore, Result

from .conftest import bj

pytestmark = pytest.mark.django_db


def test_demo_fills_results_once(november, evaluator):
    users = {u.username: u for u in (*vars(november.users).values(), evaluator)}
    units = vars(november.units)
    out = io.StringIO()
    build_evaluation(november.street, november.grids, units, users, now=bj("2026-11-25 12:00"), out=out)
    assert "指标结果" in out.getvalue()
    assert Result.objects.filter(
        period_kind="month", period_key="2026-11", indicator="response_rate", scope_kind="street"
    ).get().value == pytest.approx(0.5)
    assert Result.objects.filter(period_kind="month", period_key="2025-12").exists()
    assert Result.objects.filter(period_kind="week", period_key="2026-W48").exists()
    scores = EvidenceScore.objects.count()
    assert scores == 3 * (2 + 4)  # 3 months × (2 communities + 4 units)
    build_evaluation(november.street, november.grids, units, users, now=bj("2026-11-25 12:00"))
    assert EvidenceScore.objects.count() == scores
