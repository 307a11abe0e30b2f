"""A worker killed in the middle of a task: the task is run again by the next worker, once."""

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiedao.cases.tasks import sweep_deadlines_task
from jiedao.ops import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_tasks_left_running_by_a_dead_worker_go_back_to_the_queue_once(database_queue):
    abandoned = sweep_deadlines_task.enqueue()
    finished = sweep_deadlines_task.enqueue()
    DBTaskResult.objects.filter(id=abandoned.id).update(status=TaskResultStatus.RUNNING)
    DBTaskResult.objects.filter(id=finished.id).update(status=TaskResultStatus.SUCCESSFUL)

    assert services.requeue_interrupted_tasks() == 1
    row = DBTaskResult.objects.get(id=abandoned.id)
    assert row.status == TaskResultStatus.READY and row.started_at is None
    assert DBTaskResult.objects.get(id=finished.id).status == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.filter(task_path=sweep_deadlines_task.module_path).count() == 2  # not duplicated
    assert services.requeue_interrupted_tasks() == 0
