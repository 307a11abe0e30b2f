"""The time bank (时间银行): hours of verified volunteer service are deposited (by the
organiser's choice, instead of points); the committee's desk records hours drawn as services
a resident received. The balance never goes below zero."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import User

from .. import selectors
from ..models import Membership, SignUp, TimeBankEntry
from .base import now, require_staff


def hours_of(value: object) -> Decimal:
    """Hours typed as a number, to a tenth of an hour (422 on ``hours`` otherwise)."""
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        hours = None
    if hours is None or not hours.is_finite():
        raise ValidationFailed("hours", _("时长应为数字。"))
    return hours


def deposit(person: User, *, hours: Decimal, signup: SignUp, actor: User, at: dt.datetime) -> TimeBankEntry:
    """The verified hours of ``signup`` into ``person``'s time bank."""
    return TimeBankEntry.objects.create(
        user=person,
        hours=hours,
        signup=signup,
        actor=actor,
        at=at,
        note=_("存入：%(title)s") % {"title": signup.activity.title},
    )


@transaction.atomic
def draw_time(
    actor: User, *, user: User, hours: Decimal | float | str | None, note: str, at: dt.datetime | None = None
) -> TimeBankEntry:
    """Draw hours from the time bank as a service received (记录在社区服务台)."""
    permissions.require(actor, "participation.volunteering")
    member = Membership.objects.select_for_update().filter(user=user).first()
    if member is None:
        raise ValidationFailed("user", _("该居民尚未登记社区。"))
    require_staff(actor, community=member.community_id)
    hours = hours_of(hours)
    if hours <= 0:
        raise ValidationFailed("hours", _("时长应大于 0。"))
    if not (note or "").strip():
        raise ValidationFailed("note", _("请填写所提供的服务。"))
    if selectors.time_bank_balance(user) < hours:
        raise ValidationFailed("hours", _("时间银行余额不足。"))
    return TimeBankEntry.objects.create(
        user=user,
        hours=-hours,
        note=note.strip()[:200],
        actor=actor if actor.is_authenticated else None,
        at=now(at),
    )
