"""Scheduled backups, queued by ``jiedao worker`` when one is due."""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.common.tasks import enqueue_unless_queued_within

from . import selectors, services

logger = logging.getLogger("jiedao.worker")


@task()
def backup_task():
    """Take one encrypted backup and keep only the configured number of the newest."""
    result = services.take_scheduled_backup()
    logger.info(
        _("自动备份完成：%(path)s（%(rows)d 行），删除旧备份 %(removed)d 份。")
        % {"path": result["path"], "rows": result["rows"], "removed": len(result["removed"])}
    )
    return result


def enqueue_backup_if_due(now=None):
    """Queue a backup when scheduled backups are on (BACKUP_EVERY_HOURS > 0), the newest backup
    is older than that, and none was queued within that time. Returns the result or None."""
    hours = float(settings.JIEDAO.get("BACKUP_EVERY_HOURS", 0) or 0)
    if hours <= 0:
        return None
    now = now or timezone.now()
    age = selectors.newest_backup_age_hours(now)
    if age is not None and age < hours:
        return None
    return enqueue_unless_queued_within(backup_task, dt.timedelta(hours=hours), now)
