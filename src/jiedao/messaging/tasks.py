"""The outbox's sender, run by ``jiedao worker``: a sending round whenever a message is due."""

import datetime as dt
import logging

from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.ops.selectors import pending_rounds

from . import outbox
from .models import OutboxMessage

logger = logging.getLogger("jiedao.worker")

# A sending round still RUNNING after this long was left by a worker that died.
STALE_AFTER = dt.timedelta(minutes=5)


@task()
def send_outbox_task():
    """Send the outgoing messages that are due (retried with back-off)."""
    counts = outbox.send_due()
    if any(counts.values()):
        logger.info(outbox.describe(counts))
    return counts


def messages_due(now=None):
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        Q(state=OutboxMessage.State.QUEUED) | Q(state=OutboxMessage.State.SENDING), next_attempt_at__lte=now
    )


def enqueue_outbox_if_due(now=None, stale_after=STALE_AFTER):
    """Queue one sending round when a message is due and no round is waiting or running. The
    worker asks every second; the question is one indexed query."""
    now = now or timezone.now()
    try:
        if not messages_due(now).exists():
            return None
        if pending_rounds(send_outbox_task, now=now, stale_after=stale_after).exists():
            return None
        return send_outbox_task.enqueue()
    except OperationalError as error:  # the database is busy: the next round asks again
        logger.warning(_("消息发送排队失败，稍后重试：%(error)s") % {"error": error})
        return None
