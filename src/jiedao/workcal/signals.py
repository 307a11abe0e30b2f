"""Keep the working calendar's cache in step with the holiday notice tables.

Connected in ``WorkcalConfig.ready``. A save or delete in this process clears the
cache at once; other processes pick the change up within ``calendar.ENTERED_TTL``
seconds (see ``calendar``).
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from . import calendar
from .models import CalendarDay, CalendarYear


def calendar_changed(sender, **kwargs):
    # At once for this request, and again after the commit, in case another thread of
    # this process read the old rows between the save and the commit.
    calendar.invalidate()
    transaction.on_commit(calendar.invalidate, using=kwargs.get("using"))


def connect():

    for model in (CalendarDay, CalendarYear):
        post_save.connect(calendar_changed, sender=model, dispatch_uid=f"workcal_invalidate_save_{model.__name__}")
        post_delete.connect(calendar_changed, sender=model, dispatch_uid=f"workcal_invalidate_delete_{model.__name__}")
