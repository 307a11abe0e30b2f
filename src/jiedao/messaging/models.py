"""Messages to people: one ``Notification`` row per recipient — a person or a unit (every
member of the unit sees it) — written only by ``services.notify``. A message may lead to a
page (``link``, a path such as ``/cases/JD2026112200017/``), so this app knows no domain
app's models."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.org.models import Unit


class Notification(models.Model):
    """An in-app message to a unit or a person (e.g. a case turning yellow or red)."""

    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True)  # a page of this site, e.g. /cases/JD2026112200017/
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at"]
