"""Background work of the evaluation app, run by ``jiedao worker``: every
``EVALUATION_EVERY_MINUTES`` (default 15) the results of the current periods are
recomputed, the daily rollup refreshed, warnings and surges checked (``services.tick``)."""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from . import services

logger = logging.getLogger("jiedao.worker")


def describe(counts):
    return _(
        "效能评价：写入指标结果 %(results)d 条；新预警 %(opened)d 个，升级 %(escalated)d 个，恢复 %(recovered)d 个；"
        "数量激增 %(surges)d 个；系统故障 %(system)d 个。"
    ) % {k: counts.get(k, 0) for k in ("results", "opened", "escalated", "recovered", "surges", "system")}


@task()
def evaluation_task():
    counts = services.tick()
    logger.info(describe(counts))
    return counts


def enqueue_evaluation_if_due(now=None):
    """Queue one evaluation run unless one is waiting, running, or was queued less than
    ``EVALUATION_EVERY_MINUTES`` ago. Returns the result or None."""

    now = now or timezone.now()
    every = dt.timedelta(minutes=settings.JIEDAO.get("EVALUATION_EVERY_MINUTES", 15))
    runs = DBTaskResult.objects.filter(task_path=evaluation_task.module_path)
    if runs.filter(status=TaskResultStatus.READY).exists() or runs.filter(enqueued_at__gt=now - every).exists():
        return None
    return evaluation_task.enqueue()
