"""Webhook deliveries and the pulls of the upstream platforms, run by ``jiedao worker`` through
Django's tasks API."""

import datetime as dt
import logging

from django.db import OperationalError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.ops.selectors import pending_rounds

from . import services, upstreams
from .models import Delivery

logger = logging.getLogger("jiedao.worker")

# A delivery round still RUNNING after this long was left by a worker that died.
STALE_AFTER = dt.timedelta(minutes=5)


def describe(counts: dict) -> str:
    return _("Webhook 推送：送达 %(delivered)d，待重试 %(retry)d，放弃 %(failed)d。") % {
        "delivered": counts.get("delivered", 0),
        "retry": counts.get("retry", 0),
        "failed": counts.get("failed", 0),
    }


@task()
def deliver_webhooks_task():
    """Send the webhook deliveries that are due (signed, retried with back-off)."""
    counts = services.deliver_due()
    if any(counts.values()):
        logger.info(describe(counts))
    return counts


def deliveries_due(now=None):
    now = now or timezone.now()
    return Delivery.objects.filter(status=Delivery.Status.PENDING, next_try_at__lte=now, webhook__active=True)


def enqueue_deliveries_if_due(now=None, stale_after=STALE_AFTER):
    """Queue one delivery round when a delivery is due or new case events wait for an
    active webhook, and no round is waiting or running. The worker asks every second;
    the questions are small indexed queries (none when no webhook is registered)."""

    now = now or timezone.now()
    try:
        if not (deliveries_due(now).exists() or services.new_events_waiting()):
            return None
        if pending_rounds(deliver_webhooks_task, now=now, stale_after=stale_after).exists():
            return None
        return deliver_webhooks_task.enqueue()
    except OperationalError as error:  # the database is busy: the next round asks again
        logger.warning(_("Webhook 推送排队失败，稍后重试：%(error)s") % {"error": error})
        return None


# --- pulling the district or city platform's requests (upstreams) ------------------------------


def describe_sync(counts: dict) -> str:
    return _("上级平台同步：%(upstreams)d 个平台，新建工单 %(created)d 件，失败 %(failed)d 个。") % {
        "upstreams": counts.get("upstreams", 0),
        "created": counts.get("created", 0),
        "failed": counts.get("failed", 0),
    }


@task()
def sync_upstreams_task():
    """Pull the new requests of every upstream platform that is due."""
    counts = upstreams.sync_due()
    if any(counts.values()):
        logger.info(describe_sync(counts))
    return counts


def enqueue_sync_if_due(now=None, stale_after=STALE_AFTER):
    """Queue one pull round when an enabled platform's interval has passed and no round is
    waiting or running. The worker asks at every sweep."""
    now = now or timezone.now()
    try:
        if not upstreams.due_upstreams(now):
            return None
        if pending_rounds(sync_upstreams_task, now=now, stale_after=stale_after).exists():
            return None
        return sync_upstreams_task.enqueue()
    except OperationalError as error:  # the database is busy: the next sweep asks again
        logger.warning(_("上级平台同步排队失败，稍后重试：%(error)s") % {"error": error})
        return None
