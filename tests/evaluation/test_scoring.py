"""Scores, grades and ranks: the documents' 40/30/30 scheme against targets, best/worst
normalisation, missing data, the change of rank against last month, and the rule that
resident evaluation carries at least half of a scheme's weight."""

import pytest
from django.utils import timezone

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.evaluation import periods, scoring, selectors, services
from jiedao.evaluation.models import Result, Scheme

pytestmark = pytest.mark.django_db

EAST, WEST = "11010500101", "11010500102"


def put(month, indicator, code, value, name):
    Result.objects.update_or_create(
        indicator=indicator,
        scope_kind="community",
        scope_code=code,
        period_kind="month",
        period_key=month,
        defaults={"value": value, "scope_name": name, "computed_at": timezone.now()},
    )


def month_of(month, east, west):
    for (sat, res, inno), code, name in ((east, EAST, "东湖社区"), (west, WEST, "西园社区")):
        put(month, "satisfaction_rate", code, sat, name)
        put(month, "resolution_rate", code, res, name)
        if inno is not None:
            put(month, "innovation_index", code, inno, name)


def test_mass_satisfaction_scheme_against_targets_with_change(street):
    scheme = Scheme.objects.get(code="mass-satisfaction")
    month_of("2026-10", east=(0.50, 0.50, 50), west=(0.95, 0.95, 90))
    # Targets: 满意率 95 %, 解决率 95 %, 创新指数 90.
    month_of("2026-11", east=(0.95, 0.95, 90), west=(0.475, 0.475, 45))
    rows = {r.scope_code: r for r in scoring.ranking(scheme, periods.parse("2026-11"), "community")}
    assert rows[EAST].score == 100 and rows[EAST].grade == "excellent" and rows[EAST].rank == 1
    # 0.4 × 50 + 0.3 × 50 + 0.3 × 50 = 50 → 待改进 (below 60)
    assert rows[WEST].score == 50 and rows[WEST].grade == "improve" and rows[WEST].rank == 2
    assert (rows[EAST].previous_rank, rows[EAST].change) == (2, 1)
    assert (rows[WEST].previous_rank, rows[WEST].change) == (1, -1)


def test_missing_values_rescale_and_too_little_data_gives_no_score(street):
    scheme = Scheme.objects.get(code="mass-satisfaction")
    month_of("2026-11", east=(0.95, 0.76, None), west=(None, None, 90))
    rows = {r.scope_code: r for r in scoring.ranking(scheme, periods.parse("2026-11"), "community")}
    # (0.4 × 100 + 0.3 × 80) / 0.7 = 91.43 → 优秀
    assert rows[EAST].score == pytest.approx(91.43) and rows[EAST].grade == "excellent"
    # only 30 % of the weight has data: no score, no rank
    assert rows[WEST].score is None and rows[WEST].rank is None and rows[WEST].grade_label == "数据不足"


def test_best_worst_normalisation(street):
    scheme = Scheme.objects.get(code="balanced-scorecard")
    month_of("2026-11", east=(0.9, 0.9, 80), west=(0.6, 0.7, 40))
    rows = {r.scope_code: r for r in scoring.ranking(scheme, periods.parse("2026-11"), "community")}
    assert rows[EAST].score == 100 and rows[WEST].score == 0


def test_built_in_schemes_give_residents_at_least_half(street):
    for scheme in Scheme.objects.all():
        share = scoring.resident_share([(i.indicator, i.weight) for i in scheme.items.all()])
        assert share >= 0.5, scheme.code
    assert {s.code for s in Scheme.objects.all()} >= {"mass-satisfaction", "balanced-scorecard"}


def test_administrators_define_schemes_within_the_rule(street, evaluator):
    with pytest.raises(ValidationFailed):
        services.define_scheme(
            street.users.admin,
            code="speed",
            name="速度优先",
            items=[("response_rate", 0.7, ""), ("satisfaction_rate", 0.3, "")],
        )
    with pytest.raises(NotAllowed):
        services.define_scheme(street.users.handler, code="x", name="x", items=[("satisfaction_rate", 1, "")])
    scheme = services.define_scheme(
        street.users.admin,
        code="resident",
        name="群众评价优先",
        items=[("satisfaction_rate", 0.6, "群众"), ("response_rate", 0.4, "流程")],
    )
    assert selectors.rankings(evaluator, scheme.code, "2026-11", "unit")["scheme"]["name"] == "群众评价优先"


def test_innovation_index_comes_from_evaluators_scored_evidence(street, evaluator):
    with pytest.raises(ValidationFailed):
        services.enter_evidence_score(
            evaluator, scope_kind="community", scope_code=EAST, month="2026-11", score=80, evidence=""
        )
    with pytest.raises(ValidationFailed):
        services.enter_evidence_score(
            evaluator, scope_kind="community", scope_code=EAST, month="2026-11", score=120, evidence="开展楼门议事会"
        )
    with pytest.raises(NotAllowed):
        services.enter_evidence_score(
            street.users.leader,
            scope_kind="community",
            scope_code=EAST,
            month="2026-11",
            score=80,
            evidence="开展楼门议事会",
        )
    services.enter_evidence_score(
        evaluator, scope_kind="community", scope_code=EAST, month="2026-11", score=70, evidence="开展楼门议事会"
    )
    services.enter_evidence_score(
        evaluator,
        scope_kind="community",
        scope_code=EAST,
        month="2026-11",
        score=85,
        evidence="开展楼门议事会，补充照片",
    )
    services.enter_evidence_score(
        evaluator, scope_kind="community", scope_code=EAST, month="2026-12", score=65, evidence="建立共享工具屋"
    )
    value = Result.objects.get(indicator="innovation_index", scope_code=EAST, period_key="2026-11").value
    assert value == 85  # the latest entry of the month counts
    from jiedao.evaluation import compute

    compute.compute_period(periods.parse("2026-Q4"), codes=["innovation_index"])
    assert Result.objects.get(indicator="innovation_index", scope_code=EAST, period_key="2026-Q4").value == 75


def test_admin_refuses_a_scheme_that_gives_residents_less_than_half(street, client):
    from django.urls import reverse

    from tests.factories import PASSWORD

    assert client.login(username="admin", password=PASSWORD)
    street.users.admin.is_staff = street.users.admin.is_superuser = True
    street.users.admin.save()

    def post(weights):
        data = {
            "code": "speed",
            "name": "速度优先",
            "description": "",
            "normalisation": "target",
            "excellent_from": "90",
            "pass_from": "60",
            "active": "on",
            "order": "100",
            "items-TOTAL_FORMS": str(len(weights)),
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
        }
        for i, (code, weight) in enumerate(weights):
            data.update(
                {
                    f"items-{i}-indicator": code,
                    f"items-{i}-weight": str(weight),
                    f"items-{i}-perspective": "",
                    f"items-{i}-label": "",
                }
            )
        return client.post(reverse("admin:evaluation_scheme_add"), data)

    response = post([("response_rate", 0.7), ("satisfaction_rate", 0.3)])
    assert response.status_code == 200 and "不少于一半" in response.content.decode()
    assert not Scheme.objects.filter(code="speed").exists()
    assert post([("response_rate", 0.4), ("satisfaction_rate", 0.6)]).status_code == 302
    assert Scheme.objects.get(code="speed").items.count() == 2
