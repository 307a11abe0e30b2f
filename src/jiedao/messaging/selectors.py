"""Reading one's messages: a person sees the notifications addressed to them and to their
unit, newest first."""

from django.db.models import Q

from .models import Notification


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
