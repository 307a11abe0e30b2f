"""Telling people: ``notify`` is the one way any app tells a person or a unit something.

- One row per recipient: ``user`` (a person), ``unit`` (every member of the unit sees it) and
  each of ``users`` (persons or their ids) get a row each; with no recipient nothing is
  written. The message is cut to 300 characters.
- ``link`` is a page of this site the message leads to (the notifications page shows 查看),
  a path, not a foreign key, so that this app depends on no domain app.
- It writes inside the caller's transaction: a change that is rolled back tells nobody, and
  a message that cannot be written rolls the change back.
- Beside the in-app rows it writes, in the same transaction, the outbox rows the delivery rules
  ask for (e-mail, SMS, group robots: ``outbox.messages_for``); the worker sends them. Nothing
  is sent inside the request.

``tell_resident`` writes the SMS to a resident (a receipt, a result, a rating invitation) in the
caller's transaction, unless they opted out (``unsubscribe``).

Reading one's messages is in ``selectors``; ``mark_read`` marks them read; ``resend`` puts a
failed outgoing message back in the queue; ``save_template`` changes what a kind of message
says; ``set_channels`` records a person's channel choices; ``record_receipts`` takes a
provider's delivery reports (送达)."""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from jiedao.common.errors import InvalidTransition, NotFound, ValidationFailed
from jiedao.common.lifecycle import update_status
from jiedao.common.rows import insert
from jiedao.org import permissions
from jiedao.org.models import Unit, User

from . import outbox, wording
from .models import ChannelPreference, MessageTemplate, Notification, OutboxAttempt, OutboxMessage, ResidentContact

MESSAGE_LENGTH = 300


def notify(
    *,
    kind: str,
    message: str,
    user: User | None = None,
    unit: Unit | None = None,
    users: Iterable[User | int] = (),
    link: str = "",
    at: dt.datetime | None = None,
) -> list[Notification]:
    """Tell ``user``, ``unit`` and each of ``users`` the ``message`` (of the ``kind``, e.g.
    "dispatch", "sla_red", "participation"), leading to ``link`` if given. Returns the rows
    written, one per recipient."""
    fields = {"kind": kind, "message": str(message)[:MESSAGE_LENGTH], "link": link, "created_at": at or timezone.now()}
    rows = [Notification(user=user, **fields)] if user is not None else []
    known = {user.pk: user} if user is not None else {}
    if unit is not None:
        rows.append(Notification(unit=unit, **fields))
    for person in users:
        if isinstance(person, User):
            known[person.pk] = person
            rows.append(Notification(user=person, **fields))
        else:
            rows.append(Notification(user_id=person, **fields))
    written = insert(rows)
    outgoing = outbox.messages_for(written, users=known)
    if outgoing:
        insert(outgoing)
    return written


def resend(user: User, *, message_id: str | int, now: dt.datetime | None = None) -> OutboxMessage:
    """Put a failed outgoing message back in the queue (重新发送), with a full set of attempts; the
    act is written to the message's history with who did it."""
    permissions.require(user, "messaging.resend")
    try:
        pk = int(message_id)
    except (TypeError, ValueError):
        raise ValidationFailed("message", _("消息编号无效。")) from None
    now = now or timezone.now()
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=pk).first()
        if message is None:
            raise NotFound(_("找不到这条消息。"))
        if message.state != OutboxMessage.State.FAILED:
            raise InvalidTransition(_("只有发送失败的消息可以重新发送。"))
        OutboxAttempt.objects.create(
            message=message,
            action=OutboxAttempt.Action.RESEND,
            actor=user,
            at=now,
            ok=True,
            answer=(_("%(name)s 重新发送") % {"name": user.display_name or user.username})[:500],
        )
        update_status(
            OutboxMessage.objects.filter(pk=message.pk),
            OutboxMessage.State.QUEUED,
            "state",
            attempts=0,
            next_attempt_at=now,
            failed_at=None,
        )
    message.refresh_from_db()
    return message


def mark_read(user: User, *, ids: Iterable[str | int]) -> int:
    """Mark the user's (or their unit's) unread notifications among ``ids`` read. Others' are
    left alone. Returns how many changed."""
    permissions.require(user, "account.notifications")
    try:
        numbers = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationFailed("ids", _("消息编号无效。")) from None
    mine = Q(user=user) | Q(unit_id=user.unit_id) if user.unit_id else Q(user=user)
    return Notification.objects.filter(mine, pk__in=numbers, read_at__isnull=True).update(read_at=timezone.now())


def tell_resident(
    *, kind: str, phone: str, values: dict[str, object], link: str = "", at: dt.datetime | None = None
) -> OutboxMessage | None:
    """Queue the SMS of ``kind`` to the resident's ``phone`` with the template's ``values`` and
    the page ``link`` (their case, their rating). Nothing is written when no SMS channel is
    configured, the number is not a mainland mobile or the resident opted out. Returns the row."""
    message = outbox.resident_message(kind=kind, phone=phone, values=values, link=link, at=at)
    if message is not None:
        insert([message])
    return message


def unsubscribe(code: str, *, at: dt.datetime | None = None) -> ResidentContact:
    """退订: the resident of the link's ``code`` gets no more SMS from the site."""
    contact = ResidentContact.objects.filter(code=str(code or "")[:16]).first()
    if contact is None:
        raise NotFound(_("这个退订链接无效。"))
    if contact.opted_out_at is None:
        contact.opted_out_at = at or timezone.now()
        contact.save(update_fields=["opted_out_at"])
    return contact


def opt_out(user: User, *, phone: str, at: dt.datetime | None = None) -> ResidentContact:
    """登记退订 for a resident who asked by telephone or at a window: their mobile gets no more SMS."""
    permissions.require(user, "messaging.opt_out")
    mobile = outbox.mainland_mobile(phone or "")
    if not mobile:
        raise ValidationFailed("phone", _("请填写11位中国大陆手机号码。"))
    contact = outbox.contact(mobile, at=at)
    return unsubscribe(contact.code, at=at)


def resubscribe(code: str, *, at: dt.datetime | None = None) -> ResidentContact:
    """The resident of ``code`` takes back their 退订."""
    contact = ResidentContact.objects.filter(code=str(code or "")[:16]).first()
    if contact is None:
        raise NotFound(_("这个退订链接无效。"))
    if contact.opted_out_at is not None:
        contact.opted_out_at = None
        contact.opted_in_at = at or timezone.now()
        contact.save(update_fields=["opted_out_at", "opted_in_at"])
    return contact


def save_template(
    user: User, *, kind: str, text: str, sms_template_id: str = "", urgent: bool | None = None
) -> MessageTemplate:
    """Change what messages of ``kind`` say. Refused: an unknown kind, an empty text, a variable
    the kind does not have, a template id that is not letters and digits."""
    permissions.require(user, "messaging.templates")
    if kind not in wording.KINDS:
        raise ValidationFailed("kind", _("没有这种消息类型。"))
    own = wording.KINDS[kind]
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("text", _("请填写模板内容。"))
    if len(text) > 500:
        raise ValidationFailed("text", _("模板内容不能超过500个字。"))
    try:
        wording.check(text, own.variables)
    except wording.TemplateError as error:
        raise ValidationFailed("text", error.message) from None
    sms_template_id = (sms_template_id or "").strip()
    if sms_template_id and not sms_template_id.isalnum():
        raise ValidationFailed("sms_template_id", _("短信模板编号只能是字母和数字。"))
    template, _created = MessageTemplate.objects.update_or_create(
        kind=kind,
        defaults={
            "text": text,
            "sms_template_id": sms_template_id,
            "urgent": own.urgent if urgent is None else bool(urgent),
            "updated_at": timezone.now(),
            "updated_by": user,
        },
    )
    outbox.forget_rules()
    return template


def set_channels(user: User, *, enabled: dict[str, bool]) -> list[ChannelPreference]:
    """Record which channels the person receives messages through (接收方式)."""
    permissions.require(user, "account.message_settings")
    known = {code for code, _label in PERSONAL_CHANNELS}
    unknown = sorted(set(enabled) - known)
    if unknown:
        raise ValidationFailed("channel", _("没有这种接收方式：%(codes)s。") % {"codes": "、".join(unknown)})
    rows = []
    with transaction.atomic():
        for code, on in enabled.items():
            row, _created = ChannelPreference.objects.update_or_create(
                user=user, channel=code, defaults={"enabled": bool(on)}
            )
            rows.append(row)
    return rows


#: The channels that reach a person (the group robots reach a unit's group).
PERSONAL_CHANNELS = [
    ("email", _lazy("电子邮件")),
    ("sms_http", _lazy("短信（短信网关）")),
    ("sms_tencent", _lazy("短信（腾讯云）")),
]


def record_receipts(*, channel: str, reports: Iterable[dict]) -> int:
    """Take a provider's delivery reports: each ``{"id": provider's id, "ok": bool, "at": time,
    "answer": words}``. A message the provider delivered becomes 已送达 with the time; one it
    could not deliver becomes 发送失败 with the provider's words. Returns how many changed."""
    changed = 0
    for report in reports:
        provider_id = str(report.get("id") or "")[:200]
        if not provider_id:
            continue
        at = report.get("at") or timezone.now()
        rows = OutboxMessage.objects.filter(
            channel=channel,
            provider_id=provider_id,
            state__in=(OutboxMessage.State.SENT, OutboxMessage.State.DELIVERED),
        )
        with transaction.atomic():
            for message in rows.select_for_update():
                ok = bool(report.get("ok"))
                answer = str(report.get("answer") or ("送达" if ok else "未送达"))[:500]
                OutboxAttempt.objects.create(
                    message=message, action=OutboxAttempt.Action.RECEIPT, at=at, ok=ok, code="receipt", answer=answer
                )
                if ok:
                    changed += update_status(
                        OutboxMessage.objects.filter(pk=message.pk),
                        OutboxMessage.State.DELIVERED,
                        "state",
                        delivered_at=at,
                    )
                else:
                    changed += update_status(
                        OutboxMessage.objects.filter(pk=message.pk),
                        OutboxMessage.State.FAILED,
                        "state",
                        failed_at=at,
                        last_code="receipt",
                        last_answer=answer,
                    )
    return changed
