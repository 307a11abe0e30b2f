"""知识库: articles (a short question and the answer the desk gives, with its source and how long it
holds), every version of an article as it was saved, and every use of an article in an answer.
Versions and uses are history: written once, never changed."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common.models import AppendOnly


class Article(models.Model):
    """One answer of the knowledge base (知识条目). Written only by ``services.save_article``,
    which keeps each saved state as an ``ArticleVersion``."""

    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("答复口径"), max_length=2000)
    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("分类"),
    )
    source = models.CharField(
        _("来源/依据"), max_length=200, blank=True, help_text=_("政策文件名或部门答复口径，如：区民政局2026年答复口径")
    )
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("修改人")
    )
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识条目")
        ordering = ["question"]

    def __str__(self):
        return self.question

    def expired_on(self, day: dt.date) -> bool:
        """Whether the answer no longer holds on ``day`` (the day after its 有效期至)."""
        return self.valid_until is not None and self.valid_until < day

    @property
    def expired(self) -> bool:
        return self.expired_on(timezone.localdate())

    @property
    def usable(self) -> bool:
        """Whether the desk may give this answer today: switched on and not expired."""
        return self.active and not self.expired


class ArticleVersion(AppendOnly, models.Model):
    """An article as one save left it (版本): number 1 is the article as created."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="versions", verbose_name=_("知识条目"))
    number = models.PositiveIntegerField(_("版本号"))
    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("答复口径"), max_length=2000)
    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("分类"),
    )
    source = models.CharField(_("来源/依据"), max_length=200, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("修改人")
    )
    changed_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("知识条目版本")
        verbose_name_plural = _("知识条目版本")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="uniq_article_version_number"),
        ]

    def __str__(self):
        return f"{self.article_id} v{self.number}"


class ArticleUse(AppendOnly, models.Model):
    """One use of an article (引用): the answer given to a caller, usually on the case that
    records the call (直接答复)."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="use_log", verbose_name=_("知识条目"))
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("工单"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("引用人")
    )
    at = models.DateTimeField(_("引用时间"), default=timezone.now)

    class Meta:
        verbose_name = _("知识条目引用")
        verbose_name_plural = _("知识条目引用")
        ordering = ["-at"]
        indexes = [models.Index(fields=["article", "at"], name="knowledge_use_article_at")]

    def __str__(self):
        return f"{self.article_id} @ {self.at:%Y-%m-%d %H:%M}"
