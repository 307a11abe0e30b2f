"""Background work of the service hall, run by ``jiedao worker``: reminders for missing
(容缺) materials whose supply limit ends within a day."""

import datetime as dt
import logging

from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.common.tasks import enqueue_unless_queued_within

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
    return enqueue_unless_queued_within(remind_materials_task, every, now)
