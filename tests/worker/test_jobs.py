"""The worker's schedule: each app declares its periodic jobs on its AppConfig, and the worker
asks them — those of every round at every turn of its loop, the others at every sweep, a job
with a period with that period — without importing any domain app."""

import ast
import datetime as dt
import threading
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django_tasks_db.models import DBTaskResult

import jiedao
from jiedao.ops.jobs import DAILY, ROUND, SWEEP, PeriodicJob, registered_jobs
from jiedao.ops.management.commands import worker

pytestmark = pytest.mark.django_db

ASKED = []


def ask_round():
    ASKED.append("round")


def ask_sweep():
    ASKED.append("sweep")


def ask_daily(every):
    ASKED.append(("daily", every))


class StopAfter:
    """Stands in for the queue runner: stops the worker after ``rounds`` turns of its loop."""

    def __init__(self, command, rounds):
        self.command, self.rounds, self.running = command, rounds, False

    def run(self):
        self.rounds -= 1
        if self.rounds == 0:
            self.command.stopping = True


def run_loop(jobs, rounds, interval=60.0):
    command = worker.Command()
    command.stopping = False
    command._wake = threading.Event()
    command.worker = StopAfter(command, rounds)
    command._loop(interval, jobs)


@pytest.fixture
def asked(monkeypatch):
    monkeypatch.setattr(worker, "POLL_SECONDS", 0.01)
    ASKED.clear()
    yield ASKED
    ASKED.clear()


def test_jobs_of_every_round_are_asked_each_turn_the_others_at_each_sweep(asked):
    jobs = [
        PeriodicJob("test.sweep", f"{__name__}.ask_sweep", every=SWEEP),
        PeriodicJob("test.daily", f"{__name__}.ask_daily", every=DAILY),
        PeriodicJob("test.round", f"{__name__}.ask_round", every=ROUND),
    ]
    run_loop(jobs, rounds=3)
    assert asked == ["sweep", ("daily", dt.timedelta(days=1)), "round", "round", "round"]


def test_the_first_sweep_queues_the_work_every_app_declares():
    run_loop(registered_jobs(), rounds=1)
    queued = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued == {
        "jiedao.cases.tasks.sweep_deadlines_task",
        "jiedao.cases.tasks.anonymise_task",
        "jiedao.hall.tasks.remind_materials_task",
        "jiedao.hall.tasks.anonymise_task",
        "jiedao.emergency.tasks.sweep_sensors_task",
        "jiedao.emergency.tasks.escalate_unacknowledged_task",
        "jiedao.evaluation.tasks.evaluation_task",
        "jiedao.participation.tasks.remind_overdue_actions_task",
    }  # no backup (scheduled backups are off), no webhook round (no webhook), no sending round (no message)
    # The next sweep queues nothing new: each task waits, or is not due for its period.
    run_loop(registered_jobs(), rounds=1)
    assert DBTaskResult.objects.count() == len(queued)


def test_the_schedule_is_what_the_apps_declare():
    schedule = {job.name: job.every for job in registered_jobs()}
    assert schedule == {
        "cases.sweep_deadlines": SWEEP,
        "cases.anonymise": DAILY,
        "messaging.send_outbox": ROUND,
        "open311.deliver_webhooks": ROUND,
        "open311.sync_upstreams": SWEEP,
        "hall.remind_materials": dt.timedelta(hours=1),
        "hall.anonymise": DAILY,
        "emergency.sweep_sensors": SWEEP,
        "emergency.escalate": SWEEP,
        "evaluation.compute": SWEEP,
        "participation.remind_overdue_actions": DAILY,
        "ops.backup": SWEEP,
    }
    assert [job.name for job in registered_jobs() if job.once] == ["cases.sweep_deadlines"]
    for job in registered_jobs():
        job.check()


def test_a_job_that_leads_nowhere_stops_the_worker_at_once(monkeypatch):
    with pytest.raises(ImproperlyConfigured):
        PeriodicJob("hall.nothing", "jiedao.hall.tasks.no_such_function").check()
    with pytest.raises(ImproperlyConfigured):
        PeriodicJob("hall.weekly", "jiedao.hall.tasks.enqueue_reminders_if_due", every="weekly")
    hall = apps.get_app_config("hall")
    monkeypatch.setattr(hall, "periodic_jobs", (*hall.periodic_jobs, PeriodicJob("cases.anonymise", "x.y")))
    with pytest.raises(ImproperlyConfigured, match=r"cases\.anonymise"):
        registered_jobs()


def test_the_worker_imports_no_domain_app():
    ops = Path(jiedao.__file__).parent / "ops"
    for path in (ops / "jobs.py", ops / "management" / "commands" / "worker.py"):
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        ours = {name for name in imported if name.startswith("jiedao.")}
        assert ours <= {"jiedao.common", "jiedao.ops.jobs", "jiedao.ops.services"}, path
