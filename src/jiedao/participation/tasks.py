"""Background work of 多元共治, for ``jiedao worker``: remind responsible units of adopted
actions past their due date (once a day each)."""

import datetime as dt
import logging

from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.common.tasks import enqueue_unless_queued_within

from . import services

logger = logging.getLogger("jiedao.worker")


@task()
def remind_overdue_actions_task():
    sent = services.remind_overdue_actions()
    logger.info(_("议事落实事项逾期提醒：%(n)d 条。") % {"n": sent})
    return sent


def enqueue_reminders_if_due(now=None, every=dt.timedelta(days=1)):
    """Queue the reminder round unless one was queued in the last day. Returns the result or None."""
    return enqueue_unless_queued_within(remind_overdue_actions_task, every, now)
