"""Background work of 应急管理, run by ``jiedao worker``: the sensor sweep (silent devices,
meters without use by noon, complaint surges) and the escalation of unacknowledged emergencies
to the next on the duty roster, both at every deadline sweep (every minute)."""

import datetime as dt
import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.ops.selectors import pending_rounds

from . import services

logger = logging.getLogger("jiedao.worker")
STALE_AFTER = dt.timedelta(minutes=10)


def describe_sensor_sweep(counts: dict) -> str:
    return _("感知巡检：离线预警 %(offline)d 个，中午前无用电预警 %(no_use)d 个，诉求激增预警 %(surge)d 个。") % {
        "offline": counts.get("offline", 0),
        "no_use": counts.get("no_use", 0),
        "surge": counts.get("surge", 0),
    }


@task()
def sweep_sensors_task():
    counts = services.sweep_sensors()
    logger.info(describe_sensor_sweep(counts))
    return counts


def enqueue_sensor_sweep_if_idle(now=None, stale_after=STALE_AFTER):
    """Queue one sensor sweep unless one is already waiting or running. Returns the result or None."""

    if pending_rounds(sweep_sensors_task, now=now or timezone.now(), stale_after=stale_after).exists():
        return None
    return sweep_sensors_task.enqueue()


@task()
def escalate_unacknowledged_task():
    steps = services.escalate_unacknowledged()
    if steps:
        logger.info(_("接警升级：%(steps)d 起突发事件已通知下一位值班人员或街道领导。") % {"steps": steps})
    return steps


def enqueue_escalation_if_idle(now=None, stale_after=STALE_AFTER):
    """Queue one escalation round unless one is already waiting or running. Returns the result or None."""

    if pending_rounds(escalate_unacknowledged_task, now=now or timezone.now(), stale_after=stale_after).exists():
        return None
    return escalate_unacknowledged_task.enqueue()
