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

Reading one's messages is in ``selectors``; ``mark_read`` marks them read; ``resend`` puts a
failed outgoing message back in the queue."""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import InvalidTransition, NotFound, ValidationFailed
from jiedao.common.lifecycle import update_status
from jiedao.common.rows import insert
from jiedao.org import permissions
from jiedao.org.models import Unit, User

from . import outbox
from .models import Notification, OutboxAttempt, OutboxMessage

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
