"""Reading one's messages: a person sees the notifications addressed to them and to their
unit, newest first. And the outbox as the operations page (消息发送) and /metrics read it."""

import datetime as dt
import math

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.masking import mask_phone
from jiedao.org.models import User

from .channels import UnknownChannel, channel
from .models import CHANNEL_CHOICES, DeliveryRule, Notification, OutboxMessage


def _addressed_to(user):
    return Q(user=user) | Q(unit_id=user.unit_id) if user.unit_id else Q(user=user)


def notifications_for(user, unread_only=True, limit=20) -> list[Notification]:
    """The user's and their unit's notifications, newest first (only the unread by default)."""
    qs = Notification.objects.filter(_addressed_to(user))
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs[:limit])


def unread_notification_count(user) -> int:
    """How many of the user's and their unit's notifications are unread (0 signed out)."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(_addressed_to(user), read_at__isnull=True).count()


# --- the outbox: the operations page (消息发送) and /metrics -------------------------------------


def masked_address(message: OutboxMessage) -> str:
    """The address as the operations page shows it: w***@example.cn, 138****5678, a robot's name."""
    address = message.address
    if "@" in address:
        local, _at, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if message.channel in ("sms_http", "sms_tencent"):
        return mask_phone(address)
    return address


def _day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def outbox_overview(user: User, *, now: dt.datetime | None = None) -> list[dict]:
    """Per channel: the messages waiting now (queued or being sent), and those sent and failed
    today; with the channel's configuration problems. Every channel with a rule or a message."""
    now = now or timezone.now()
    today = _day_start(now)
    waiting = dict(
        OutboxMessage.objects.filter(state__in=(OutboxMessage.State.QUEUED, OutboxMessage.State.SENDING))
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    sent = dict(
        OutboxMessage.objects.filter(sent_at__gte=today)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    failed = dict(
        OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED, failed_at__gte=today)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    used = set(DeliveryRule.objects.filter(enabled=True).values_list("channel", flat=True)) | set(waiting)
    used |= set(sent) | set(failed)
    rows = []
    for code, label in CHANNEL_CHOICES:
        if code not in used:
            continue
        try:
            problems = [str(p) for p in channel(code).check()]
        except UnknownChannel:
            problems = [_("该发送渠道未安装。")]
        rows.append(
            {
                "code": code,
                "label": label,
                "queued": waiting.get(code, 0),
                "sent": sent.get(code, 0),
                "failed": failed.get(code, 0),
                "problems": problems,
            }
        )
    return rows


def failed_messages(user: User, *, limit: int = 100) -> list[OutboxMessage]:
    """The messages that failed, newest first, each with ``shown_address`` masked."""
    rows = list(OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).order_by("-failed_at", "-id")[:limit])
    for row in rows:
        row.shown_address = masked_address(row)  # type: ignore[attr-defined]
    return rows


def outbox_failed_count() -> int:
    """Messages failed in the last 24 hours (/metrics)."""
    since = timezone.now() - dt.timedelta(hours=24)
    return OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED, failed_at__gte=since).count()


def outbox_queued_count() -> int:
    """Messages waiting to be sent or being sent (/metrics)."""
    return OutboxMessage.objects.filter(state__in=(OutboxMessage.State.QUEUED, OutboxMessage.State.SENDING)).count()


def delivery_latencies(*, now: dt.datetime | None = None, hours: int = 1) -> list[float]:
    """Seconds from the event to the provider's acceptance of the messages sent in the last
    ``hours``, in order."""
    now = now or timezone.now()
    pairs = OutboxMessage.objects.filter(sent_at__gte=now - dt.timedelta(hours=hours), sent_at__lte=now).values_list(
        "created_at", "sent_at"
    )
    return sorted(max((sent - created).total_seconds(), 0.0) for created, sent in pairs if sent is not None)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def delivery_latency_median() -> float:
    """Median delivery latency of the last hour, in seconds (0 when nothing was sent)."""
    return _quantile(delivery_latencies(), 0.5)


def delivery_latency_p99() -> float:
    """99th percentile of the delivery latency of the last hour, in seconds."""
    return _quantile(delivery_latencies(), 0.99)
