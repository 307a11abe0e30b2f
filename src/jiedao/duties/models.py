"""权责清单: the responsibility list. Each duty item (事项) is a sequence of immutable
versions; the item points at its current version. Routing reads the current
versions in force; a case keeps the version that routed it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.org.models import Unit


class PowerType(models.TextChoices):
    PENALTY = "penalty", _("处罚")
    LICENSE = "license", _("许可")
    BENEFIT = "benefit", _("给付")
    RULING = "ruling", _("裁决")
    CONFIRMATION = "confirmation", _("确认")
    COERCION = "coercion", _("强制")
    LEVY = "levy", _("征收")
    REWARD = "reward", _("奖励")
    INSPECTION = "inspection", _("检查")
    DISPOSAL = "disposal", _("处置")
    ASSISTANCE = "assistance", _("协助")
    ADVICE = "advice", _("建议")
    OTHER = "other", _("其他")


class Level(models.TextChoices):
    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区级部门")


class ListType(models.TextChoices):
    STREET = "street", _("街道权责清单")
    COMMUNITY_ASSIST = "community", _("社区协助清单")
    NEGATIVE = "negative", _("负面清单")


class DutyStatus(models.TextChoices):
    IN_FORCE = "in_force", _("有效")
    DRAFT = "draft", _("草稿")
    REPEALED = "repealed", _("已废止")


class DutyItem(models.Model):
    """The identity of a duty item across its versions."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    current = models.OneToOneField(
        "DutyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("当前版本")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("权责事项")
        verbose_name_plural = _("权责事项")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.current.name if self.current_id else ''}"


class DutyVersion(models.Model):
    """One version of a duty item. Never changed once written (history is never edited)."""

    item = models.ForeignKey(DutyItem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    name = models.CharField(_("事项名称"), max_length=200)
    list_type = models.CharField(_("清单"), max_length=12, choices=ListType.choices)
    # The categories of the case catalogue this item answers for. Named by label: the duty list
    # sits below the case loop (cases route by it), so it does not import the cases app.
    categories = models.ManyToManyField(
        "cases.Category", blank=True, related_name="duty_versions", verbose_name=_("对应工单分类")
    )
    basis_statute = models.CharField(_("设定依据（法规名称）"), max_length=200, blank=True)
    basis_article = models.CharField(_("条款"), max_length=100, blank=True)
    basis_text = models.TextField(_("依据内容"), blank=True)
    power_type = models.CharField(_("权力类型"), max_length=14, choices=PowerType.choices)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    responsible_unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("主办单位"),
        help_text=_("社区或网格层级的事项可留空，表示由诉求所在社区的居委会承办。"),
    )
    collaborating_units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("协办单位"))
    response_hours = models.DecimalField(_("响应时限(小时)"), max_digits=6, decimal_places=1, null=True, blank=True)
    completion_workdays = models.PositiveSmallIntegerField(_("办结时限(工作日)"), null=True, blank=True)
    needs_verification = models.BooleanField(_("需现场核查"), default=False)
    full_enforcement = models.BooleanField(_("街道具有完整执法权"), default=False)
    how_to = models.TextField(_("办理指引"), blank=True)
    keywords = models.CharField(
        _("常见问题关键词"),
        max_length=300,
        blank=True,
        help_text=_("居民常用的说法，如“楼道堆物、路灯不亮”，用于一键查询。"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=DutyStatus.choices, default=DutyStatus.IN_FORCE)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    # Who changed what, when, why, on which approving document.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("修改人"),
    )
    changed_at = models.DateTimeField(_("修改时间"), db_index=True)
    reason = models.TextField(_("调整理由"))
    approval_doc = models.CharField(_("批准文号"), max_length=100, blank=True)
    # Search text: name, basis, categories and units, for the public lookup.
    search_text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("权责事项版本")
        verbose_name_plural = _("权责事项版本")
        ordering = ["item", "number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="uniq_duty_version_number")]

    def __str__(self):
        return f"{self.item.code} v{self.number} {self.name}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise RuntimeError("duty versions are immutable; write a new version")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("duty versions are immutable")

    @property
    def is_negative(self):
        return self.list_type == ListType.NEGATIVE

    @property
    def basis(self):
        return " ".join(part for part in (self.basis_statute, self.basis_article) if part)
