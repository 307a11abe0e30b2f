"""Background work on cases, run by ``jiedao worker`` through Django's tasks API."""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.common.tasks import enqueue_unless_queued_within
from jiedao.ops.selectors import pending_rounds

from . import services

logger = logging.getLogger("jiedao.worker")

# A sweep still marked RUNNING after this long was left behind by a worker that died;
# it no longer blocks the next one.
STALE_AFTER = dt.timedelta(minutes=10)


def describe_sweep(counts: dict) -> str:
    """One line for the log: how many open cases were checked and how many turned yellow or red."""
    return _("时限巡检：检查在办工单 %(checked)d 件，新临期(黄) %(yellow)d 件，新超期(红) %(red)d 件。") % {
        "checked": counts.get("checked", 0),
        "yellow": counts.get("yellow", 0),
        "red": counts.get("red", 0),
    }


@task()
def sweep_deadlines_task():
    """Mark open cases yellow (less than 20 % of the time left) or red (overdue) and notify their units."""
    counts = services.sweep_deadlines()
    logger.info(describe_sweep(counts))
    return counts


def sweep_now() -> str:
    """One sweep at once, without the queue (``jiedao worker --once``): its line for the operator."""
    return describe_sweep(services.sweep_deadlines())


def pending_sweeps(now=None, stale_after=STALE_AFTER):
    """Sweeps waiting in the queue or being run now (those running for too long are ignored)."""

    return pending_rounds(sweep_deadlines_task, now=now or timezone.now(), stale_after=stale_after)


def enqueue_sweep_if_idle(now=None, stale_after=STALE_AFTER):
    """Queue one sweep unless one is already waiting or running. Returns the result or None."""
    if pending_sweeps(now, stale_after).exists():
        return None
    return sweep_deadlines_task.enqueue()


# --- anonymisation of closed cases, once a day -------------------------------------------

ANONYMISE_EVERY = dt.timedelta(days=1)


def describe_anonymise(counts: dict) -> str:
    return _("诉求人信息匿名化：结案或并案满 %(days)d 天的工单 %(count)d 件，已删除诉求人姓名、电话和地址。") % {
        "days": settings.JIEDAO.get("ANONYMISE_AFTER_DAYS", 365),
        "count": counts.get("anonymised", 0),
    }


@task()
def anonymise_task():
    """Erase the reporter's contact data from cases closed or merged long enough ago."""
    counts = services.anonymise_closed_cases()
    logger.info(describe_anonymise(counts))
    return counts


def enqueue_anonymise_if_due(now=None, every=ANONYMISE_EVERY):
    """Queue one anonymisation unless one was queued in the last day (waiting, running or
    done): the worker asks at every sweep, the queue remembers across restarts and workers.
    Returns the result or None."""
    return enqueue_unless_queued_within(anonymise_task, every, now)
