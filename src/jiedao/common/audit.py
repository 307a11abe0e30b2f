"""Writes the access log for unmasked personal data, and for look-ups by a complete identity
number or phone (which confirm whose a number is)."""

from .models import AccessLog


def log_unmasked_view(user, obj, fields, purpose=""):
    AccessLog.objects.create(
        user=user,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        fields=",".join(fields),
        purpose=purpose,
    )


def log_lookup(user, model, kind, found_ids, purpose="lookup"):
    """An exact look-up by a personal number (``kind``: ``id_number`` or ``phone``): one row
    per record found, or one row without a record when none was, each with how many were
    found (purpose ``lookup:<count>``). The number looked up is never written."""
    label = f"{purpose}:{len(found_ids)}"
    AccessLog.objects.bulk_create(
        [
            AccessLog(user=user, object_type=model._meta.label_lower, object_id=str(pk), fields=kind, purpose=label)
            for pk in (found_ids or [""])
        ]
    )
