"""Telling people: ``notify`` is the one way any app tells a person or a unit something.

- One row per recipient: ``user`` (a person), ``unit`` (every member of the unit sees it) and
  each of ``users`` (persons or their ids) get a row each; with no recipient nothing is
  written. The message is cut to 300 characters.
- ``link`` is a page of this site the message leads to (the notifications page shows 查看),
  a path, not a foreign key, so that this app depends on no domain app.
- It writes inside the caller's transaction: a change that is rolled back tells nobody, and
  a message that cannot be written rolls the change back.
- The in-app inbox is the channel today; further channels (SMS, WeCom, e-mail) and an outbox
  belong behind ``notify``, so callers do not change when they come.

Reading one's messages is in ``selectors``; ``mark_read`` marks them read."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.common.rows import insert
from jiedao.org import permissions
from jiedao.org.models import Unit, User

from .models import Notification

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
    if unit is not None:
        rows.append(Notification(unit=unit, **fields))
    for person in users:
        rows.append(
            Notification(user=person, **fields) if isinstance(person, User) else Notification(user_id=person, **fields)
        )
    return insert(rows)


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
