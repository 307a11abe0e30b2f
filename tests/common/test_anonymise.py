"""Reporter contact data on cases closed or merged for longer than the retention period
(JIEDAO["ANONYMISE_AFTER_DAYS"], 365 by default) is erased by the worker, with one event
per case, and nothing that the measures count changes."""

import dataclasses
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jiedao.cases import measures, selectors, services, states, tasks
from jiedao.cases.models import Case, CaseEvent, Rating
from jiedao.common.errors import NotFound
from jiedao.common.models import AccessLog
from jiedao.workcal.calendar import SHANGHAI
from tests.factories import PASSWORD, WEDNESDAY

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
REPORTER = {"reporter_name": "张三丰", "reporter_phone": "13812345678", "address": "东湖小区3号楼2单元501"}


def closed_case(street, at=WEDNESDAY, satisfaction="satisfied", **reporter):
    """A case registered by the operator, handled by the community committee and rated by
    callback three hours after ``at`` (closed, unless 不满意 reopens it)."""
    u = street.users
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="垃圾桶满了没人清运",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        dispatch=True,
        at=at,
        **{**REPORTER, **reporter},
    )
    services.respond(u.handler_committee, number=case.number, at=at + HOUR)
    services.resolve(u.handler_committee, number=case.number, result="已清运", at=at + 2 * HOUR)
    return services.rate(u.operator, number=case.number, resolved=True, satisfaction=satisfaction, at=at + 3 * HOUR)


def month_of(moment):
    return f"{moment.astimezone(SHANGHAI):%Y-%m}"


def measures_snapshot(month, now):
    return (
        [dataclasses.asdict(row) for row in measures.three_rates_by_unit(month, now=now)],
        dataclasses.asdict(measures.three_rates(month, now=now)),
        list(Rating.objects.order_by("id").values_list("case_id", "unit_id", "resolved", "satisfaction", "rated_at")),
    )


def test_contact_data_is_erased_a_year_after_closing_and_the_measures_stay(street):
    case = closed_case(street)
    other = closed_case(street, satisfaction="basic", reporter_phone="13912345679")
    unresolved = closed_case(street, satisfaction="unsatisfied")
    assert unresolved.status == "in_progress"  # reopened: still open
    month = month_of(case.closed_at)
    later = case.closed_at + dt.timedelta(days=365, minutes=5)
    before = measures_snapshot(month, later)
    assert before[1]["rated"] == 3

    assert services.anonymise_closed_cases(now=later) == {"anonymised": 2}

    for item in (case, other):
        fresh = Case.objects.get(pk=item.pk)
        assert (fresh.reporter_name, fresh.reporter_phone, fresh.address, fresh.reporter_phone_index) == ("",) * 4
        assert fresh.anonymised_at == later
        assert (fresh.description, fresh.status, fresh.closed_at, fresh.unit_id) == (
            item.description,
            "closed",
            item.closed_at,
            item.unit_id,
        )
        [event] = CaseEvent.objects.filter(case=fresh, action="anonymise")
        assert event.actor is None and event.at == later
        assert event.from_status == event.to_status == "closed"
        assert set(event.data["fields"]) == {"reporter_name", "reporter_phone", "address"}
    assert Case.objects.get(pk=unresolved.pk).reporter_phone == REPORTER["reporter_phone"]
    assert measures_snapshot(month, later) == before
    assert str(states.action_label("anonymise")) == "诉求人信息匿名化"


def test_nothing_is_erased_before_the_period_ends(street):
    case = closed_case(street)
    almost = case.closed_at + dt.timedelta(days=364, hours=23)
    assert services.anonymise_closed_cases(now=almost) == {"anonymised": 0}
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.reporter_phone == REPORTER["reporter_phone"] and fresh.anonymised_at is None
    assert not CaseEvent.objects.filter(action="anonymise").exists()
    assert selectors.public_case(case.number, REPORTER["reporter_phone"]).pk == case.pk


def test_the_period_is_a_setting(street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "ANONYMISE_AFTER_DAYS": 30}
    case = closed_case(street)
    assert services.anonymise_closed_cases(now=case.closed_at + dt.timedelta(days=29))["anonymised"] == 0
    assert services.anonymise_closed_cases(now=case.closed_at + dt.timedelta(days=31))["anonymised"] == 1


def test_merged_cases_are_erased_and_open_ones_never(street):
    u = street.users
    master, _ = services.submit_case(u.operator, channel="phone", description="路灯不亮", at=WEDNESDAY, **REPORTER)
    duplicate, _ = services.submit_case(
        u.operator,
        channel="phone",
        description="路灯又不亮了",
        at=WEDNESDAY,
        reporter_name="李四",
        reporter_phone="13700000000",
    )
    services.merge(u.dispatcher, number=duplicate.number, master_number=master.number, at=WEDNESDAY + HOUR)
    counts = services.anonymise_closed_cases(now=WEDNESDAY + dt.timedelta(days=800))
    assert counts == {"anonymised": 1}
    assert Case.objects.get(pk=duplicate.pk).reporter_phone == ""
    assert Case.objects.get(pk=master.pk).reporter_phone == REPORTER["reporter_phone"]  # still open


def test_it_runs_once_per_case(street):
    case = closed_case(street)
    later = case.closed_at + dt.timedelta(days=400)
    assert services.anonymise_closed_cases(now=later)["anonymised"] == 1
    assert services.anonymise_closed_cases(now=later + dt.timedelta(days=1))["anonymised"] == 0
    assert CaseEvent.objects.filter(case=case, action="anonymise").count() == 1


def test_the_resident_keeps_the_account_and_the_case_but_not_the_copy(street, client):
    u = street.users
    case, _ = services.submit_case(
        u.resident,
        channel="portal",
        description="楼道堆物",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        dispatch=False,
        at=WEDNESDAY,
        address="东湖小区5号楼1单元101",
    )
    services.dispatch(u.dispatcher, number=case.number, at=WEDNESDAY)
    services.respond(u.handler_committee, number=case.number, at=WEDNESDAY + HOUR)
    services.resolve(u.handler_committee, number=case.number, result="已清理", at=WEDNESDAY + 2 * HOUR)
    services.rate(u.resident, number=case.number, resolved=True, satisfaction="satisfied", at=WEDNESDAY + 3 * HOUR)
    services.anonymise_closed_cases(now=WEDNESDAY + dt.timedelta(days=400))
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.reporter_id == u.resident.pk and fresh.reporter_phone == ""
    u.resident.refresh_from_db()
    assert u.resident.phone == "13800138000"  # the account is the resident's own
    # The case no longer answers to the phone; the page shows the erasure and logs nothing.
    with pytest.raises(NotFound):
        selectors.public_case(case.number, "13800138000")
    AccessLog.objects.all().delete()
    assert client.login(username=u.dispatcher.username, password=PASSWORD)
    page = client.get(reverse("cases:case", args=[case.number])).content.decode()
    assert "13800138000" not in page and "东湖小区5号楼" not in page and "已按保存期限删除联系方式" in page
    assert "诉求人信息匿名化" in page
    assert not AccessLog.objects.exists()


# --- the worker ----------------------------------------------------------------------------


def test_the_task_erases_cases_closed_long_ago(street):
    old = closed_case(street, at=timezone.now() - dt.timedelta(days=400))
    recent = closed_case(street, at=timezone.now() - dt.timedelta(days=30))
    assert tasks.anonymise_task.call() == {"anonymised": 1}
    assert Case.objects.get(pk=old.pk).reporter_phone == ""
    assert Case.objects.get(pk=recent.pk).reporter_phone == REPORTER["reporter_phone"]


def test_the_worker_queues_it_once_a_day():
    now = timezone.now()
    assert tasks.enqueue_anonymise_if_due(now=now) is not None
    assert tasks.enqueue_anonymise_if_due(now=now + dt.timedelta(hours=23)) is None
    assert DBTaskResult.objects.filter(task_path=tasks.anonymise_task.module_path).count() == 1
    assert tasks.enqueue_anonymise_if_due(now=now + dt.timedelta(hours=25)) is not None
    assert DBTaskResult.objects.filter(task_path=tasks.anonymise_task.module_path).count() == 2


REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SETUP = """
import datetime as dt
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.utils import timezone
from tests.common.test_anonymise import closed_case
from tests.factories import build_street

street = build_street()
print(closed_case(street, at=timezone.now() - dt.timedelta(days=400)).number)
"""


def test_the_running_worker_erases_them_on_its_own(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "JIEDAO_TASK_BACKEND",
            "JIEDAO_FIELD_KEYS",
            "JIEDAO_FIELD_KEY",
            "JIEDAO_INDEX_KEY",
            "JIEDAO_KEY_DIR",
        )
    }
    env.update({"JIEDAO_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "jiedao.settings", "PYTHONPATH": str(REPO)})
    subprocess.run([str(BIN / "jiedao"), "migrate", "-v", "0"], env=env, check=True, timeout=300)
    made = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=REPO, check=True, timeout=120, capture_output=True, text=True
    )
    number = made.stdout.strip().splitlines()[-1]
    db_path = tmp_path / "jiedao.sqlite3"

    def phone_column():
        with sqlite3.connect(db_path, timeout=10) as db:
            return db.execute("SELECT reporter_phone FROM cases_case WHERE number = ?", (number,)).fetchone()[0]

    assert phone_column().startswith("gAAAA")  # encrypted, not yet erased
    worker = subprocess.Popen(
        [str(BIN / "jiedao"), "worker", "--interval", "1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and phone_column() != "":
            assert worker.poll() is None, "the worker stopped by itself"
            time.sleep(0.2)
        assert phone_column() == ""
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
