"""Warnings: two weeks below baseline turn a scope yellow and issue a rectification task,
three turn it red, a week back at baseline recovers it; the task runs to closure with
evidence, each step an append-only event. A complaint surge (×3 against the 4-week
baseline) raises a yellow warning that recovers when the surge is over."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.evaluation import compute, periods, services
from jiedao.evaluation.models import Rectification, RectificationEvent, Result, Warning
from jiedao.messaging.models import Notification

from .conftest import bj, make_case

pytestmark = pytest.mark.django_db


def week_result(key, value, indicator="satisfaction_rate", scope_kind="unit", code="ZHZF"):
    Result.objects.update_or_create(
        indicator=indicator,
        scope_kind=scope_kind,
        scope_code=code,
        period_kind="week",
        period_key=key,
        defaults={"value": value, "scope_name": "综合执法队", "computed_at": timezone.now()},
    )


def evaluate(key):
    return services.evaluate_indicator_warnings(periods.parse(key), now=periods.parse(key).end)


def test_escalation_rectification_and_recovery(street, evaluator):
    # Baseline of 满意率 is 85 %.
    week_result("2026-W40", 0.90)
    week_result("2026-W41", 0.80)
    assert evaluate("2026-W41") == {"opened": 0, "escalated": 0, "recovered": 0}
    assert not Warning.objects.exists()

    week_result("2026-W42", 0.70)
    assert evaluate("2026-W42")["opened"] == 1
    warning = Warning.objects.get()
    assert (warning.level, warning.weeks, warning.scope_code) == ("yellow", 2, "ZHZF")
    task = Rectification.objects.get()
    assert task.unit.code == "ZHZF" and task.status == "issued" and task.warning == warning
    assert task.due_at > warning.opened_at
    assert Notification.objects.filter(unit__code="ZHZF", kind="rectification").exists()
    assert evaluate("2026-W42")["opened"] == 0  # the same week again changes nothing

    week_result("2026-W43", 0.60)
    assert evaluate("2026-W43")["escalated"] == 1
    warning.refresh_from_db()
    assert (warning.level, warning.weeks) == ("red", 3)
    assert list(task.events.values_list("action", flat=True)) == ["issue", "escalate"]

    week_result("2026-W44", 0.90)
    assert evaluate("2026-W44")["recovered"] == 1
    warning.refresh_from_db()
    assert warning.status == "recovered" and warning.recovered_at is not None
    assert Rectification.objects.count() == 1  # the task stays until it is closed with evidence


def test_lower_is_better_indicators_warn_when_above_baseline(street):
    for key, value in (("2026-W41", 0.30), ("2026-W42", 0.25)):  # 超期率 baseline 10 %
        week_result(key, value, indicator="overdue_rate", scope_kind="community", code="11010500102")
    evaluate("2026-W42")
    task = Rectification.objects.get()
    assert task.unit.code == "GGFW"  # 西园 has no committee unit: the street's default unit
    week_result("2026-W41", 0.30, indicator="overdue_rate", scope_kind="community", code="11010500101")
    week_result("2026-W42", 0.30, indicator="overdue_rate", scope_kind="community", code="11010500101")
    evaluate("2026-W42")
    assert Rectification.objects.filter(unit__code="JWH01").exists()  # 东湖 → its residents' committee


def test_rectification_lifecycle_with_evidence(street, evaluator):
    u = street.users
    task = services.issue_rectification(
        evaluator, unit=street.units.enforcement, title="满意率偏低", requirement="分析原因并整改"
    )
    with pytest.raises(NotAllowed):
        services.act_on_rectification(u.handler_housing, number=task.number, action="accept")
    with pytest.raises(InvalidTransition):
        services.act_on_rectification(u.handler, number=task.number, action="submit", evidence="x")
    services.act_on_rectification(u.handler, number=task.number, action="accept")
    with pytest.raises(ValidationFailed):
        services.act_on_rectification(u.handler, number=task.number, action="submit", evidence="  ")
    services.act_on_rectification(u.handler, number=task.number, action="submit", evidence="增加清运班次，回访满意")
    with pytest.raises(NotAllowed):
        services.act_on_rectification(u.handler, number=task.number, action="approve")
    with pytest.raises(ValidationFailed):
        services.act_on_rectification(evaluator, number=task.number, action="reject")
    services.act_on_rectification(evaluator, number=task.number, action="reject", note="缺少回访记录")
    services.act_on_rectification(u.handler, number=task.number, action="submit", evidence="附回访记录20份")
    task = services.act_on_rectification(u.leader, number=task.number, action="approve")
    assert task.status == "closed" and task.closed_at is not None and task.evidence == "附回访记录20份"
    assert list(task.events.values_list("action", "to_status")) == [
        ("issue", "issued"),
        ("accept", "in_progress"),
        ("submit", "submitted"),
        ("reject", "in_progress"),
        ("submit", "submitted"),
        ("approve", "closed"),
    ]
    with pytest.raises(RuntimeError):
        RectificationEvent.objects.first().delete()
    with pytest.raises(NotAllowed):
        services.issue_rectification(u.handler, unit=street.units.enforcement, title="x", requirement="y")


def test_rectification_answers_come_in_the_engines_order(street, evaluator):
    u = street.users
    task = services.issue_rectification(
        evaluator, unit=street.units.enforcement, title="超期率偏高", requirement="分析原因"
    )
    # An action the lifecycle does not have names the field, whatever the number.
    for number in (task.number, "ZG000"):
        with pytest.raises(ValidationFailed) as unknown:
            services.act_on_rectification(u.handler, number=number, action="fly")
        assert unknown.value.errors[0]["field"] == "action"
    # A role the permission table does not name for the step is refused before the look-up.
    with pytest.raises(NotAllowed):
        services.act_on_rectification(u.handler, number="ZG000", action="approve")
    # The state comes before the unit: another unit's handler hears that the task cannot be submitted yet.
    with pytest.raises(InvalidTransition):
        services.act_on_rectification(u.handler_housing, number=task.number, action="submit", evidence="已整改")
    services.act_on_rectification(u.handler, number=task.number, action="accept")
    with pytest.raises(NotAllowed):
        services.act_on_rectification(u.handler_housing, number=task.number, action="submit", evidence="已整改")
    # A submission without evidence names the evidence; a sending back without a reason, the note.
    with pytest.raises(ValidationFailed) as no_evidence:
        services.act_on_rectification(u.handler, number=task.number, action="submit", evidence=" ")
    assert no_evidence.value.errors[0]["field"] == "evidence"
    services.act_on_rectification(u.handler, number=task.number, action="submit", evidence="增派人手")
    with pytest.raises(ValidationFailed) as no_reason:
        services.act_on_rectification(evaluator, number=task.number, action="reject")
    assert no_reason.value.errors[0]["field"] == "note"
    assert [e.seq for e in task.events.all()] == [1, 2, 3]


def test_a_complaint_surge_warns_and_recovers(street):
    c1 = street.communities[0]
    g11 = street.grids[0]
    # One case a week for the four weeks before, then six in the last seven days.
    for days_back in (10, 17, 24, 31):
        make_case(street, "垃圾没人清运", bj("2026-11-30 10:00") - dt.timedelta(days=days_back), c1, g11)
    for hour in range(6):
        make_case(street, "垃圾没人清运", bj(f"2026-11-28 0{hour + 1}:00"), c1, g11)
    now = bj("2026-11-30 12:00")
    compute.refresh_daily_counts(dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    result = services.check_surges(now)
    assert result["surges"] == 1
    warning = Warning.objects.get(kind="surge")
    assert warning.level == "yellow" and warning.community == c1 and warning.category.code == "010101"
    assert "6" in warning.detail and warning.url.startswith("/evaluation/records/")
    assert services.check_surges(now)["surges"] == 0  # still surging: the same warning
    later = bj("2026-12-20 12:00")
    compute.refresh_daily_counts(dt.date(2026, 12, 1), dt.date(2026, 12, 21))
    assert services.check_surges(later)["surges_recovered"] == 1
    assert Warning.objects.get(kind="surge").status == "recovered"


def test_a_small_rise_is_not_a_surge(street):
    c1, g11 = street.communities[0], street.grids[0]
    for days_back in (10, 11, 17, 18, 24, 25, 31, 32):
        make_case(street, "路灯不亮", bj("2026-11-30 10:00") - dt.timedelta(days=days_back), c1, g11)
    for hour in range(5):  # 5 against 2 a week: +150 %
        make_case(street, "路灯不亮", bj(f"2026-11-28 0{hour + 1}:00"), c1, g11)
    compute.refresh_daily_counts(dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    assert services.check_surges(bj("2026-11-30 12:00"))["surges"] == 0


def test_the_worker_tick_computes_current_periods_and_checks(november):
    counts = services.tick(now=bj("2026-11-20 12:00"))
    assert counts["results"] > 0
    assert Result.objects.filter(
        period_kind="month", period_key="2026-11", indicator="response_rate", scope_kind="street"
    ).exists()
    assert Result.objects.filter(period_kind="week", period_key="2026-W46").exists()
    assert Result.objects.filter(period_kind="year", period_key="2026").exists()
    from jiedao.evaluation.models import Snapshot

    # With the intelligence app installed, the street-wide hot issues are kept for the cockpit.
    assert Snapshot.objects.filter(key="hot_issues:110105001").exists()


def test_the_worker_queues_one_evaluation_at_a_time(db):
    from jiedao.evaluation.tasks import enqueue_evaluation_if_due

    assert enqueue_evaluation_if_due() is not None
    assert enqueue_evaluation_if_due() is None
