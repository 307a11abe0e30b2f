"""Background work of the service hall, run by ``jiedao worker``: reminders for missing
(容缺) materials whose supply limit ends within a day."""

import datetime as dt
import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from . import services

logger = logging.getLogger("jiedao.worker")

REMIND_EVERY = dt.timedelta(hours=1)


@task()
def remind_materials_task():
    count = services.remind_missing_materials()
    logger.info(_("容缺材料补正提醒：%(count)d 项。") % {"count": count})
    return count


def enqueue_reminders_if_due(now=None, every=REMIND_EVERY):
    """Queue one reminder round unless one was queued in the last hour. Returns the result or None."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    if DBTaskResult.objects.filter(task_path=remind_materials_task.module_path, enqueued_at__gt=now - every).exists():
        return None
    return remind_materials_task.enqueue()
