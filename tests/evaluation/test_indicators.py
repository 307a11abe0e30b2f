"""Hand-computed values of each indicator family on the November example (see conftest),
the same figures as jiedao.cases.measures for a month, other periods and scopes, and
indicators whose module is missing shown as not computable, never as a number."""

import pytest

from jiedao.cases import measures
from jiedao.evaluation import compute, periods
from jiedao.evaluation import indicators as lib
from jiedao.evaluation.models import Result

from .conftest import MONTH_END

pytestmark = pytest.mark.django_db


def values(code, key, scope, now=MONTH_END):
    period = periods.parse(key)
    return {c: v.value for c, v in lib.get(code).compute(period, scope, lib.Run(now=now)).items()}


def test_case_rates_by_unit_match_the_case_loops_measures(november):
    for unit in ("ZHZF", "ZJ"):
        month = measures.three_rates("2026-11", unit, now=MONTH_END)
        for code, expected in [
            ("response_rate", month.response_rate),
            ("resolution_rate", month.resolution_rate),
            ("satisfaction_rate", month.satisfaction_rate),
            ("rework_rate", month.rework_rate),
            ("overdue_rate", month.overdue_rate),
            ("return_rate", month.return_rate),
            ("three_rate_composite", month.composite),
            ("average_response_hours", month.average_response_hours),
            ("average_handling_workdays", month.average_handling_workdays),
        ]:
            got = values(code, "2026-11", "unit").get(unit)
            assert got == pytest.approx(expected) if expected is not None else got is None, (code, unit)


def test_hand_computed_month_for_the_enforcement_team(november):
    assert values("response_rate", "2026-11", "unit")["ZHZF"] == pytest.approx(2 / 3)  # A, C on time; B late
    assert values("response_rate", "2026-11", "unit")["ZJ"] == 0  # D never answered, limit passed
    assert values("resolution_rate", "2026-11", "unit")["ZHZF"] == pytest.approx(2 / 3)
    assert values("satisfaction_rate", "2026-11", "unit")["ZHZF"] == pytest.approx(1.9 / 3)
    assert values("rework_rate", "2026-11", "unit")["ZHZF"] == pytest.approx(1 / 3)
    # Response hours of A, B, C: 1, 3, 0.5.
    assert values("average_response_hours", "2026-11", "unit")["ZHZF"] == pytest.approx(1.5)


def test_hand_computed_street_and_communities(november):
    assert values("response_rate", "2026-11", "street")["110105001"] == pytest.approx(2 / 4)
    by_community = values("satisfaction_rate", "2026-11", "community")
    assert by_community["11010500101"] == pytest.approx(1.9 / 2)  # A 满意, B 基本满意
    assert by_community["11010500102"] == 0  # C 不满意
    grids = values("resolution_rate", "2026-11", "grid")
    assert grids == {"1101050010101": 1.0, "1101050010201": 0.0}
    received = values("cases_received", "2026-11", "community")
    assert received == {"11010500101": 2, "11010500102": 2}


def test_weeks_and_quarters_cut_the_same_records_by_their_own_dates(november):
    # Week 45 (2–8 Nov) holds the ratings of A and C; B was rated on 10 Nov (week 46).
    assert values("resolution_rate", "2026-W45", "unit")["ZHZF"] == pytest.approx(1 / 2)
    assert values("satisfaction_rate", "2026-W45", "unit")["ZHZF"] == pytest.approx(1 / 2)
    assert values("satisfaction_rate", "2026-W46", "unit")["ZHZF"] == pytest.approx(0.9)
    assert values("satisfaction_rate", "2026-Q4", "unit")["ZHZF"] == pytest.approx(1.9 / 3)
    assert values("satisfaction_rate", "2026", "unit")["ZHZF"] == pytest.approx(1.9 / 3)
    # Nothing in October: no data, not zero.
    assert values("satisfaction_rate", "2026-10", "unit") == {}


def test_grid_family_counts_grid_reports(november, street):
    from jiedao.cases import services

    from .conftest import bj

    g12 = street.grids[1]
    services.submit_case(
        street.users.grid,
        channel="grid",
        description="井盖缺失",
        category_code="010101",
        community_code=g12.community.code,
        grid_code=g12.code,
        at=bj("2026-11-20 09:00"),
    )
    assert values("active_discovery_rate", "2026-11", "street")["110105001"] == pytest.approx(1 / 5)
    assert values("grid_reports", "2026-11", "person") == {"grid": 1}
    assert values("grid_reports", "2026-11", "grid") == {"1101050010102": 1}


def test_missing_modules_are_not_computable_and_never_stored(november, monkeypatch):
    import importlib

    real_import = importlib.import_module

    def without_participation(name, *args):
        if name.startswith("jiedao.participation"):
            raise ImportError(name)
        return real_import(name, *args)

    monkeypatch.setattr(lib.importlib, "import_module", without_participation)
    adoption = lib.get("adoption_rate")
    assert not adoption.computable()
    compute.compute_period(periods.parse("2026-11"), now=MONTH_END)
    assert not Result.objects.filter(indicator="adoption_rate").exists()
    assert Result.objects.filter(
        indicator="response_rate", scope_kind="street", period_key="2026-11"
    ).get().value == pytest.approx(0.5)


def test_every_indicator_is_fully_described():
    mission_measures = {
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "average_response_hours",
        "average_handling_hours",
        "overdue_rate",
        "return_rate",
        "rework_rate",
        "active_discovery_rate",
        "grid_level_share",
        "dispute_resolution_rate",
        "grid_completion_rate",
        "visits_per_week",
        "duties_reduction",
        "hall_one_visit_rate",
        "hall_on_the_spot_rate",
        "hall_wait_minutes",
        "hall_service_minutes",
        "hall_materials_per_item",
        "hall_online_rate",
        "hall_satisfaction",
        "adoption_rate",
        "self_nominated_share",
        "participants_count",
        "emergency_on_time_rate",
        "depot_compliance_rate",
        "drill_coverage_rate",
        "alert_accuracy",
        "innovation_index",
        "routing_accuracy",
    }
    assert mission_measures <= set(lib.BY_CODE)
    for indicator in lib.INDICATORS:
        assert indicator.name and indicator.definition and indicator.unit and indicator.scopes
        assert indicator.direction in (lib.HIGHER, lib.LOWER)
        assert indicator.source.count(".") >= 2


def test_recomputing_a_past_period_gives_the_same_values(november, street):
    from jiedao.cases import services

    from .conftest import bj, make_case

    period = periods.parse("2026-11")
    compute.compute_period(period, now=MONTH_END)
    first = sorted(
        Result.objects.filter(period_key="2026-11").values_list(
            "indicator", "scope_kind", "scope_code", "value", "numerator", "denominator"
        )
    )
    # Later activity in December must not move November's figures.
    e = make_case(street, "E 垃圾清运", bj("2026-12-03 08:50"), *street.communities[:1], street.grids[0])
    services.dispatch(street.users.dispatcher, number=e.number, unit_code="ZHZF", at=bj("2026-12-03 09:00"))
    services.respond(street.users.handler, number=e.number, at=bj("2026-12-03 09:10"))
    compute.compute_period(period, now=bj("2026-12-20 12:00"))
    again = sorted(
        Result.objects.filter(period_key="2026-11").values_list(
            "indicator", "scope_kind", "scope_code", "value", "numerator", "denominator"
        )
    )
    assert again == first
    assert len(first) > 100
