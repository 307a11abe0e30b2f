"""Idempotency keys (``Idempotency-Key`` header): a client that lost an answer sends the same
submission again with the same key, and gets what the first one made instead of a second
one. The key is remembered per user and scope in the same transaction as the write."""

from django.utils.translation import gettext as _

from .errors import ValidationFailed
from .models import IdempotencyKey

MAX_KEY = 200


def clean_key(value):
    """The header's key, or None when none was sent; too long a key is refused."""
    key = (value or "").strip() or None
    if key and len(key) > MAX_KEY:
        raise ValidationFailed("Idempotency-Key", _("Idempotency-Key 不能超过200个字符。"))
    return key


def previous(user, scope, key):
    """The id of what ``user`` already made under ``key`` in ``scope``, or None."""
    if not key or user is None or not user.is_authenticated:
        return None
    return IdempotencyKey.objects.filter(user=user, scope=scope, key=key).values_list("object_id", flat=True).first()


def remember(user, scope, key, object_id):
    """Call inside the transaction that writes the object."""
    if key and user is not None and user.is_authenticated:
        IdempotencyKey.objects.create(user=user, scope=scope, key=key, object_id=str(object_id))
