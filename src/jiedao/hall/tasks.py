"""Background work of the service hall, run by ``jiedao worker``: reminders for missing
(容缺) materials whose supply limit ends within a day, and the anonymisation of applicants
on applications finished long ago."""

import datetime as dt
import logging

from django.conf import settings
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


# --- anonymisation of finished applications, once a day ------------------------------------

ANONYMISE_EVERY = dt.timedelta(days=1)


def describe_anonymise(counts: dict) -> str:
    return _("申请人信息匿名化：办结满 %(days)d 天的办件 %(count)d 件，已删除申请人姓名、身份证号和联系电话。") % {
        "days": settings.JIEDAO.get("ANONYMISE_AFTER_DAYS", 365),
        "count": counts.get("anonymised", 0),
    }


@task()
def anonymise_task():
    """Erase the applicant's personal data from applications finished long enough ago."""
    counts = services.anonymise_finished_applications()
    logger.info(describe_anonymise(counts))
    return counts


def enqueue_anonymise_if_due(now=None, every=ANONYMISE_EVERY):
    """Queue one anonymisation unless one was queued in the last day. Returns the result or None."""
    return enqueue_unless_queued_within(anonymise_task, every, now)
