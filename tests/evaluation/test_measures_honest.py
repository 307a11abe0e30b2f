"""Measures that do not mislead: 探访频次 over the weeks gone by of a period still running,
分拨准确率 from what became of each dispatch (automatic and manual alike), the weight of
基本满意 as a setting said on the measures page, and the 40/30/30 scheme naming what it
measures — each against a hand-computed example."""

import datetime as dt
import importlib

import pytest
from django.apps import apps

from jiedao.cases import services as case_services
from jiedao.cases.models import Case
from jiedao.evaluation import compute, periods
from jiedao.evaluation import indicators as lib
from jiedao.evaluation.models import Result, Scheme, SchemeItem
from jiedao.registry.models import Visit
from jiedao.workcal.calendar import SHANGHAI
from tests.cases.lifecycle import HOUR, LAMPS, drive, new_case
from tests.factories import WEDNESDAY
from tests.registry.conftest import registry  # noqa: F401 (the registry fixture)

pytestmark = pytest.mark.django_db


def bj(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def result(indicator, period, scope_kind, code):
    return Result.objects.get(indicator=indicator, period_key=period, scope_kind=scope_kind, scope_code=code)


# --- 探访频次 -----------------------------------------------------------------------------------


def visit(person, worker, at):
    Visit.objects.create(person=person, worker=worker, at=at, kind=Visit.Kind.HOME)


def test_visits_per_week_divides_by_the_weeks_gone_by_of_a_period_still_running(registry, street):  # noqa: F811
    people, worker, code = registry.people, street.users.grid, street.street.code
    # Three special-care persons (张桂兰, 李建国, 王秀英). November: 6 visits over its 30 days.
    for day in (2, 9, 16, 23):
        visit(people["张桂兰"], worker, bj(f"2026-11-{day:02d} 10:00"))
    visit(people["李建国"], worker, bj("2026-11-11 10:00"))
    visit(people["王秀英"], worker, bj("2026-11-25 10:00"))
    # December, 7 days gone at 8 Dec 00:00: 6 visits — the same pace per week as 2 visits a day.
    for day in (1, 2, 3, 4, 5, 7):
        visit(people["张桂兰" if day % 2 else "李建国"], worker, bj(f"2026-12-{day:02d} 10:00"))

    now = bj("2026-12-08 00:00")
    compute.compute_period(periods.parse("2026-11"), now=now)
    compute.compute_period(periods.parse("2026-12"), now=now)
    november = result("visits_per_week", "2026-11", "street", code)
    december = result("visits_per_week", "2026-12", "street", code)
    # November is over: 6 / 3 persons / (30 / 7 weeks) = 0.4667.
    assert november.value == pytest.approx(6 / 3 / (30 / 7))
    # December so far: 6 / 3 persons / 1 week = 2.0 (not 6 / 3 / (31 / 7) = 0.45).
    assert december.value == pytest.approx(2.0)
    assert (december.numerator, december.denominator) == (6, 3)


def test_a_period_just_begun_counts_at_least_one_day(registry, street):  # noqa: F811
    people, worker = registry.people, street.users.grid
    visit(people["张桂兰"], worker, bj("2026-12-01 01:00"))
    run = lib.Run(now=bj("2026-12-01 06:00"))
    value = lib.visits_per_week(periods.parse("2026-12"), "street", run)[""]  # the installation's street
    # 6 hours gone, counted as one day: 1 visit / 3 persons / (1 / 7 week) = 2.33.
    assert value.value == pytest.approx(1 / 3 / (1 / 7))


# --- 分拨准确率 -----------------------------------------------------------------------------------


def test_routing_accuracy_counts_what_the_unit_kept_after_each_dispatch(street):
    u = street.users
    at = WEDNESDAY
    # A: routed to the 东湖 committee (JWH01), which responds — kept.
    a = drive(street, "in_progress", at=at)
    # B: to JWH01, returned, the return accepted: sent to ZHZF — JWH01 wrong, ZHZF kept.
    b = drive(street, "returned", at=at)
    case_services.dispatch(u.dispatcher, number=b.number, unit_code="ZHZF", at=at + 2 * HOUR)
    # C: to JWH01, returned, the return refused: sent back to JWH01 — both dispatches kept.
    c = drive(street, "returned", at=at)
    case_services.dispatch(u.dispatcher, number=c.number, unit_code="JWH01", note="属于本单位", at=at + 2 * HOUR)
    # D: by hand to ZJ, returned, re-classified to 城市公共设施 and sent to ZJ again — first
    # dispatch wrong (the category changed), second kept.
    d = new_case(street, at=at)
    case_services.dispatch(u.dispatcher, number=d.number, unit_code="ZJ", at=at)
    case_services.return_case(u.handler_housing, number=d.number, reason="分类不对", at=at + HOUR)
    case_services.classify(u.dispatcher, number=d.number, category_code=LAMPS, at=at + 2 * HOUR)
    case_services.dispatch(u.dispatcher, number=d.number, unit_code="ZJ", at=at + 3 * HOUR)
    # E: to JWH01, returned, still waiting for the dispatcher — not kept.
    e = drive(street, "returned", at=at)
    assert Case.objects.get(pk=e.pk).status == "returned" and a.status == "in_progress"

    compute.compute_period(periods.parse("2026-11"), now=at + 4 * HOUR)
    # 8 dispatches, 5 kept (A, B's second, both of C, D's second).
    street_value = result("routing_accuracy", "2026-11", "street", street.street.code)
    assert (street_value.numerator, street_value.denominator) == (5, 8)
    assert street_value.value == pytest.approx(5 / 8)
    # Per unit: JWH01 3 of 5 (A, C twice; not B, E), ZHZF 1 of 1, ZJ 1 of 2.
    assert result("routing_accuracy", "2026-11", "unit", "JWH01").value == pytest.approx(3 / 5)
    assert result("routing_accuracy", "2026-11", "unit", "ZHZF").value == pytest.approx(1)
    assert result("routing_accuracy", "2026-11", "unit", "ZJ").value == pytest.approx(1 / 2)

    # Judged by the log up to the moment of the computation: half an hour after the first five
    # dispatches nothing had been returned yet — 5 of 5 kept.
    early = lib.routing_accuracy(periods.parse("2026-11"), "street", lib.Run(now=at + HOUR / 2))
    assert (early[street.street.code].numerator, early[street.street.code].denominator) == (5, 5)


def test_the_measures_page_defines_routing_accuracy_by_what_happened_after_dispatch(street, login):
    page = login(street.users.leader).get("/evaluation/indicators/routing_accuracy/").content.decode()
    assert "自动派单与人工派单一样计算" in page and "退单" in page and "改派" in page


# --- 满意率: the weight of 基本满意 -------------------------------------------------------------------


def rated(street, satisfaction, at):
    case = drive(street, "rating", at=at)
    return case_services.rate(
        street.users.resident, number=case.number, resolved=True, satisfaction=satisfaction, at=at + 4 * HOUR
    )


def test_the_basic_satisfied_weight_is_a_setting_that_moves_the_figure_and_the_page(street, settings, login):
    rated(street, "satisfied", WEDNESDAY)
    rated(street, "basic", WEDNESDAY)
    rated(street, "basic", WEDNESDAY)
    period, code = periods.parse("2026-11"), street.street.code
    run = lib.Run(now=WEDNESDAY + dt.timedelta(days=1))

    # Default 0.9: (1 + 0.9 × 2) / 3 = 0.9333.
    assert lib.satisfaction_rate(period, "street", run)[code].value == pytest.approx((1 + 0.9 * 2) / 3)
    settings.JIEDAO = {**settings.JIEDAO, "BASIC_SATISFIED_WEIGHT": 0.6}
    # 0.6: (1 + 0.6 × 2) / 3 = 0.7333.
    assert lib.satisfaction_rate(period, "street", run)[code].value == pytest.approx((1 + 0.6 * 2) / 3)

    page = login(street.users.leader).get("/evaluation/indicators/satisfaction_rate/").content.decode()
    assert "（满意 + 0.6 × 基本满意）" in page and "基本满意按 0.6 计" in page
    library = login(street.users.leader).get("/evaluation/").content.decode()
    assert "0.6 × 基本满意" in library and "0.9 × 基本满意" not in library


# --- the 40/30/30 scheme --------------------------------------------------------------------


def test_the_40_30_30_scheme_names_the_resolution_rate_it_measures(street):
    scheme = Scheme.objects.get(code="mass-satisfaction")
    labels = {item.indicator: item.label for item in scheme.items.all()}
    assert labels["resolution_rate"] == "问题解决率"
    assert "事件处置率" not in scheme.description
    # No label of a built-in scheme is the name of another indicator of the library.
    names = {i.name: i.code for i in lib.INDICATORS}
    for item in SchemeItem.objects.filter(scheme__builtin=True).exclude(label=""):
        assert names.get(item.label, item.indicator) == item.indicator, item.label


def test_the_migration_relabels_an_installed_scheme(street):
    scheme = Scheme.objects.get(code="mass-satisfaction")
    item = scheme.items.get(indicator="resolution_rate")
    old = importlib.import_module("jiedao.evaluation.migrations.0007_scheme_label_matches_measure")
    Scheme.objects.filter(pk=scheme.pk).update(description=old.OLD_DESCRIPTION)
    SchemeItem.objects.filter(pk=item.pk).update(label="事件处置率", perspective="事件处置")
    old.relabel(apps, None)
    item.refresh_from_db()
    scheme.refresh_from_db()
    assert (item.label, item.perspective) == ("问题解决率", "问题解决")
    assert scheme.description == old.NEW_DESCRIPTION
