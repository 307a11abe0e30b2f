"""The deadline sweep: yellow when less than 20 % of the time is left, red when overdue,
each change recorded as an ``sla`` event with a message to the unit, and nothing new
when nothing changed."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiedao.cases import services, tasks
from jiedao.cases.models import Case, CaseEvent, Urgency
from jiedao.messaging.models import Notification
from jiedao.workcal.calendar import SHANGHAI
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db


def bj(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def dispatched_case(street, at=WEDNESDAY, respond=True):
    """环境卫生 in 东湖社区 → the community committee; dispatched Wednesday 18 Nov 09:30,
    due Monday 23 Nov 23:59:59 (3 working days); 2 hours to respond."""
    u = street.users
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="垃圾桶满了没人清运",
        reporter_phone="13800138000",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        dispatch=True,
        at=at,
    )
    if respond:
        services.respond(u.handler_committee, number=case.number, at=at + dt.timedelta(minutes=30))
    return Case.objects.get(pk=case.pk)


def colours(counts):
    """The sweep's counts of the colours (its reminders are tested in tests/cases/test_reminders.py)."""
    return {key: counts[key] for key in ("checked", "yellow", "red")}


def sla_trail(case):
    events = CaseEvent.objects.filter(case=case, action="sla").order_by("seq")
    notes = Notification.objects.filter(link=f"/cases/{case.number}/", kind__startswith="sla").order_by("id")
    return ([(e.data["from"], e.data["urgency"]) for e in events], [(n.unit.code, n.kind) for n in notes])


def test_yellow_then_red_once_each(street):
    case = dispatched_case(street)
    assert case.completion_due.astimezone(SHANGHAI) == bj("2026-11-23 23:59:59")
    # Allowed time: 18 Nov 09:30 → 23 Nov 23:59:59, about 134.5 h; 20 % is about 26.9 h,
    # so it turns yellow from about 22 Nov 21:06.
    counts = services.sweep_deadlines(bj("2026-11-22 20:00"))
    assert colours(counts) == {"checked": 1, "yellow": 0, "red": 0}
    assert Case.objects.get(pk=case.pk).urgency == Urgency.GREEN
    assert sla_trail(case) == ([], [])

    counts = services.sweep_deadlines(bj("2026-11-23 08:00"))
    assert colours(counts) == {"checked": 1, "yellow": 1, "red": 0}
    assert Case.objects.get(pk=case.pk).urgency == Urgency.YELLOW
    assert sla_trail(case) == ([("green", "yellow")], [("JWH01", "sla_yellow")])

    # The same sweep again changes nothing.
    assert colours(services.sweep_deadlines(bj("2026-11-23 09:00"))) == {"checked": 1, "yellow": 0, "red": 0}
    assert sla_trail(case) == ([("green", "yellow")], [("JWH01", "sla_yellow")])

    counts = services.sweep_deadlines(bj("2026-11-24 00:30"))
    assert colours(counts) == {"checked": 1, "yellow": 0, "red": 1}
    assert counts["overdue"] == 1  # the unit and the dispatchers are chased once
    case = Case.objects.get(pk=case.pk)
    assert case.urgency == Urgency.RED
    assert sla_trail(case) == ([("green", "yellow"), ("yellow", "red")], [("JWH01", "sla_yellow")])
    # Turning red, the unit is told once, by the overdue reminder (with the limit passed).
    red = Notification.objects.get(link=f"/cases/{case.number}/", kind="overdue", unit__isnull=False)
    assert red.unit.code == "JWH01" and case.number in red.message and "超过办结时限" in red.message

    assert colours(services.sweep_deadlines(bj("2026-11-25 10:00"))) == {"checked": 1, "yellow": 0, "red": 0}
    assert len(sla_trail(case)[0]) == 2
    # The red case now stands out for the leader.
    from jiedao.cases.selectors import attention_cases

    assert case in attention_cases(street.users.leader)


def test_unanswered_case_is_red_once_the_response_limit_passes(street):
    case = dispatched_case(street, respond=False)
    assert services.sweep_deadlines(WEDNESDAY + dt.timedelta(hours=1))["red"] == 0
    assert services.sweep_deadlines(WEDNESDAY + dt.timedelta(hours=3))["red"] == 1
    assert Case.objects.get(pk=case.pk).urgency == Urgency.RED


def test_finished_cases_are_left_alone(street):
    case = dispatched_case(street)
    services.resolve(
        street.users.handler_committee, number=case.number, result="已清运", at=WEDNESDAY + dt.timedelta(hours=2)
    )
    counts = services.sweep_deadlines(bj("2026-12-01 10:00"))
    assert counts["checked"] == 0
    assert Case.objects.get(pk=case.pk).urgency == Urgency.GREEN


def test_approved_extension_turns_a_red_case_green_again(street):
    u = street.users
    case = dispatched_case(street)
    services.sweep_deadlines(bj("2026-11-24 00:30"))
    services.request_extension(
        u.handler_committee,
        number=case.number,
        extra_workdays=5,
        reason="需要等待环卫车辆调度",
        at=bj("2026-11-24 09:00"),
    )
    case = services.decide_extension(u.leader, number=case.number, approve=True, at=bj("2026-11-24 10:00"))
    assert case.urgency == Urgency.GREEN
    assert colours(services.sweep_deadlines(bj("2026-11-24 11:00"))) == {"checked": 1, "yellow": 0, "red": 0}


# --- the task and the queue ------------------------------------------------------------


def test_the_task_runs_the_sweep_now(street):
    case = dispatched_case(street, at=timezone.now() - dt.timedelta(days=20))
    counts = tasks.sweep_deadlines_task.call()
    assert counts["red"] == 1
    assert Case.objects.get(pk=case.pk).urgency == Urgency.RED


def test_a_sweep_is_not_queued_while_another_waits_or_runs():
    first = tasks.enqueue_sweep_if_idle()
    assert first is not None
    assert tasks.enqueue_sweep_if_idle() is None
    row = DBTaskResult.objects.get()
    assert row.task_path == "jiedao.cases.tasks.sweep_deadlines_task"
    row.status, row.started_at = TaskResultStatus.RUNNING, timezone.now()
    row.save()
    assert tasks.enqueue_sweep_if_idle() is None
    row.status, row.finished_at = TaskResultStatus.SUCCESSFUL, timezone.now()
    row.save()
    assert tasks.enqueue_sweep_if_idle() is not None
    assert DBTaskResult.objects.count() == 2


def test_a_sweep_left_running_by_a_dead_worker_does_not_block_forever():
    tasks.enqueue_sweep_if_idle()
    row = DBTaskResult.objects.get()
    row.status, row.started_at = TaskResultStatus.RUNNING, timezone.now() - tasks.STALE_AFTER - dt.timedelta(minutes=1)
    row.save()
    assert tasks.enqueue_sweep_if_idle() is not None


def test_describe_sweep_is_one_chinese_line():
    line = tasks.describe_sweep({"checked": 12, "yellow": 2, "red": 1})
    assert "\n" not in line
    assert "12" in line and "黄" in line and "红" in line


# --- the command -------------------------------------------------------------------------


def test_worker_once_sweeps_and_prints_the_counts(street):
    case = dispatched_case(street, at=timezone.now() - dt.timedelta(days=20))
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "检查在办工单 1 件" in out.getvalue() and "新超期(红) 1 件" in out.getvalue()
    assert Case.objects.get(pk=case.pk).urgency == Urgency.RED
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "新超期(红) 0 件" in out.getvalue()


@pytest.mark.parametrize("interval", ["0", "-5", "soon", "999999"])
def test_worker_refuses_a_bad_interval(interval):
    with pytest.raises(CommandError) as error:
        call_command("worker", "--interval", interval, "--once")
    assert error.value.returncode == 2 and "--interval" in str(error.value)


def test_a_reopened_case_counts_its_share_of_time_from_the_reopening(street):
    """重办 gives the unit a fresh limit; 20 % is of that new allowance, not of the time since
    the first dispatch weeks ago."""
    u = street.users
    case = dispatched_case(street, at=bj("2026-11-02 09:30"))
    services.resolve(u.handler_committee, number=case.number, result="已清运", at=bj("2026-11-03 10:00"))
    services.rate(u.operator, number=case.number, resolved=False, satisfaction="unsatisfied", at=bj("2026-11-20 10:00"))
    case = Case.objects.get(pk=case.pk)
    # New limit: 3 working days after Friday 20 November → Wednesday 25 November, end of day.
    assert case.completion_due.astimezone(SHANGHAI) == bj("2026-11-25 23:59:59")
    # On Saturday morning about 4.5 of the 5.6 days are left: still green.
    assert colours(services.sweep_deadlines(bj("2026-11-21 10:00"))) == {"checked": 1, "yellow": 0, "red": 0}
    assert Case.objects.get(pk=case.pk).urgency == Urgency.GREEN
    # Less than a fifth is left from Wednesday morning on.
    assert services.sweep_deadlines(bj("2026-11-25 08:00"))["yellow"] == 1
