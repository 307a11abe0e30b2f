import re

from django.conf import settings
from django.core.exceptions import ValidationError
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


class SearchTerm(models.Model):
    """A word people type and the formal terms it stands for (搜索同义词): 垃圾 → 环境卫生 固体污染.
    Used by every search of categories, the service hall's catalogue and the responsibility list."""

    word = models.CharField("常用说法", max_length=30, unique=True, help_text="群众或工作人员常说的词，如：暖气")
    terms = models.CharField(
        "对应的正式说法",
        max_length=300,
        help_text="分类、事项或职责中使用的正式说法，多个用空格或顿号分隔，如：冬季采暖 供暖",
    )
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "搜索同义词"
        verbose_name_plural = "搜索同义词"
        ordering = ["word"]

    def __str__(self):
        return f"{self.word} → {self.terms}"

    def clean(self):
        self.word = (self.word or "").strip()
        errors = {}
        if not self.word or re.search(r"[\s,，、;；]", self.word):
            errors["word"] = "常用说法须是一个词，不能为空，也不能含空格或标点。"
        terms = [t for t in self.term_list if t != self.word]
        if not terms:
            errors["terms"] = "请至少填写一个与常用说法不同的正式说法。"
        elif any(len(t) > 30 for t in terms):
            errors["terms"] = "每个正式说法不能超过 30 个字，多个说法用空格或顿号分隔。"
        if errors:
            raise ValidationError(errors)
        self.terms = " ".join(terms)

    @property
    def term_list(self) -> list[str]:
        return [t for t in re.split(r"[\s,，、;；]+", self.terms or "") if t]
