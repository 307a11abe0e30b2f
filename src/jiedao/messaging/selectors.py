"""Reading one's messages: a person sees the notifications addressed to them and to their
unit, newest first. And the outbox as the operations page (消息发送) and /metrics read it."""

import datetime as dt
import math

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.masking import mask_phone
from jiedao.org.models import User

from . import outbox, wording
from .channels import UnknownChannel, channel
from .models import CHANNEL_CHOICES, ChannelPreference, DeliveryRule, Notification, OutboxMessage, ResidentContact


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
    today; with the channel's configuration problems and its figures of the last 24 hours
    (``day``: sent, delivered, failed, latency median and p99). Every channel with a rule or a
    message."""
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
    figures = channel_figures(now=now)
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
                "day": figures.get(code, {}),
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


def delivery_latencies_by_channel(*, now: dt.datetime | None = None, hours: int = 24) -> dict[str, list[float]]:
    """Per channel, the seconds from the event to the provider's acceptance of the messages sent in
    the last ``hours``, in order."""
    now = now or timezone.now()
    found: dict[str, list[float]] = {}
    for code, created, sent in OutboxMessage.objects.filter(
        sent_at__gte=now - dt.timedelta(hours=hours), sent_at__lte=now
    ).values_list("channel", "created_at", "sent_at"):
        if sent is not None:
            found.setdefault(code, []).append(max((sent - created).total_seconds(), 0.0))
    return {code: sorted(values) for code, values in found.items()}


def channel_figures(*, now: dt.datetime | None = None, hours: int = 24) -> dict[str, dict]:
    """Per channel over the last ``hours``: messages sent, delivered (送达 reported), failed, and
    the delivery latency's median and p99 in seconds."""
    now = now or timezone.now()
    since = now - dt.timedelta(hours=hours)
    figures: dict[str, dict] = {}

    def bump(code, name, n):
        figures.setdefault(code, {"sent": 0, "delivered": 0, "failed": 0, "median": 0.0, "p99": 0.0})[name] = n

    for name, rows in (
        ("sent", OutboxMessage.objects.filter(sent_at__gte=since, sent_at__lte=now)),
        ("delivered", OutboxMessage.objects.filter(state=OutboxMessage.State.DELIVERED, sent_at__gte=since)),
        ("failed", OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED, failed_at__gte=since)),
    ):
        for code, n in rows.order_by().values_list("channel").annotate(n=Count("id")).values_list("channel", "n"):
            bump(code, name, n)
    for code, values in delivery_latencies_by_channel(now=now, hours=hours).items():
        figures.setdefault(code, {"sent": 0, "delivered": 0, "failed": 0})
        figures[code].update(median=_quantile(values, 0.5), p99=_quantile(values, 0.99))
    return figures


def outbox_failed_by_channel() -> list[tuple[dict[str, str], float]]:
    """/metrics: messages failed in the last 24 hours, per channel."""
    since = timezone.now() - dt.timedelta(hours=24)
    rows = (
        OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED, failed_at__gte=since)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    return [({"channel": code}, float(n)) for code, n in rows]


def unresolved_failures(*, now: dt.datetime | None = None, days: int = 7) -> int:
    """Messages that failed in the last ``days`` and were not sent again (the blue warning)."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        state=OutboxMessage.State.FAILED, failed_at__gte=now - dt.timedelta(days=days)
    ).count()


# --- templates, channels, residents --------------------------------------------------------------


def template_row(kind: str) -> dict:
    """A kind's template as the templates page shows it."""
    own = wording.kind_of(kind)
    text, sms_id, urgent = outbox.template_for(kind)
    return {
        "kind": kind,
        "label": own.label,
        "variables": own.variables,
        "text": text,
        "sms_template_id": sms_id,
        "urgent": urgent,
        "resident": own.resident,
        "changed": text != own.text or urgent != own.urgent or bool(sms_id),
    }


def template_rows() -> list[dict]:
    """Every kind's template, the residents' first."""
    rows = [template_row(kind) for kind in wording.KINDS]
    return sorted(rows, key=lambda row: (not row["resident"], str(row["label"])))


def preview(kind: str, text: str) -> dict:
    """``text`` filled with sample values, with its SMS length (characters, messages) counting
    the provider's signature."""
    filled = wording.render(text, wording.sample_values(kind))
    signature = str(settings.JIEDAO.get("SMS_SIGNATURE") or "")
    length, parts = wording.sms_length(filled, signature)
    return {"text": filled, "signature": signature, "length": length, "parts": parts}


def personal_channels(user: User) -> list[dict]:
    """The channels that can reach ``user`` — configured, and with their address — each with the
    person's choice and the address as shown to them (masked)."""
    off = set(ChannelPreference.objects.filter(user=user, enabled=False).values_list("channel", flat=True))
    rows = []
    for code, label in CHANNEL_CHOICES:
        if code not in ("email", "sms_http", "sms_tencent"):
            continue
        if not outbox.ready_channels([code]):
            continue
        address = (user.email if code == "email" else user.phone) or ""
        shown = masked_address(OutboxMessage(channel=code, address=address)) if address else _("（未登记）")
        rows.append({"code": code, "label": label, "enabled": code not in off, "address": shown})
    return rows


def contact_by_code(code: str) -> ResidentContact | None:
    return ResidentContact.objects.filter(code=str(code or "")[:16]).first()
