"""Writes the access log for unmasked personal data."""

from .models import AccessLog


def log_unmasked_view(user, obj, fields, purpose=""):
    AccessLog.objects.create(
        user=user,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        fields=",".join(fields),
        purpose=purpose,
    )
