from django.conf import settings
from django.db import models


class AppendOnly:
    """Mixin for history rows (event logs, versions): a row is written once and never
    changed or deleted; a correction is a new row."""

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError(f"{self._meta.label} rows are append-only; write a new row")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(f"{self._meta.label} rows are append-only")


class EventLog(AppendOnly):
    """Mixin for the event log of a lifecycle's records: append-only, and ``subject`` names the
    field that points at the record (``"case"`` for a case's events), so that
    ``common.events.append`` and the lifecycle engine can write any app's events."""

    subject = ""


class AccessLog(models.Model):
    """One row for every time a person saw personal data unmasked (访问审计)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    fields = models.CharField(max_length=200)
    purpose = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "个人信息查看记录"
        verbose_name_plural = "个人信息查看记录"
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} {self.object_type}:{self.object_id} {self.fields}"


class IdempotencyKey(models.Model):
    """Remembers API submissions by their ``Idempotency-Key`` header per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="uniq_idempotency_key"),
        ]
