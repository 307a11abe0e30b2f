"""智能分拨: classifier versions, the routing proposal made for each new case, the
reply-quality check of each submitted result, and the tunable thresholds."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.cases.models import Case, Category
from jiedao.org.models import Unit


class Tuning(models.Model):
    """One row: thresholds a street may change in the admin (自动派单目标准确率, 重复件范围).

    The automatic-dispatch threshold is not typed: it is the lowest confidence from which the
    active model's held-out predictions were right at least ``auto_dispatch_precision`` of the
    time (``selectors.auto_threshold``)."""

    auto_dispatch = models.BooleanField(
        _("自动派单"), default=True, help_text=_("关闭后，所有新工单由派单员确认分类。")
    )
    auto_dispatch_precision = models.FloatField(
        _("自动派单目标准确率"),
        default=0.98,
        help_text=_("模型在留出数据上达到此准确率的置信度，即为自动派单的门槛；低于门槛的工单由人工确认。"),
    )
    duplicate_radius_m = models.PositiveIntegerField(_("重复件距离(米)"), default=200)
    duplicate_days = models.PositiveSmallIntegerField(_("重复件时间窗(天)"), default=14)
    reply_min_similarity = models.FloatField(
        _("答复相关度下限"), default=0.05, help_text=_("答复与诉求的文字相似度低于此值时提示“答非所问”。")
    )

    class Meta:
        verbose_name = _("智能分拨参数")
        verbose_name_plural = _("智能分拨参数")

    def __str__(self):
        return str(_("智能分拨参数"))


class ModelVersion(models.Model):
    """One trained classifier (分类模型版本): its data, time, scores and file. One is active."""

    class State(models.TextChoices):
        TRAINING = "training", _("训练中")
        READY = "ready", _("可用")
        FAILED = "failed", _("失败")

    source = models.CharField(_("训练数据"), max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.TRAINING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("发起时间"))
    trained_at = models.DateTimeField(_("训练完成时间"), null=True, blank=True)
    samples = models.PositiveIntegerField(_("样本数"), default=0)
    labels = models.JSONField(_("类别"), default=list, blank=True)
    file = models.CharField(_("模型文件"), max_length=300, blank=True)
    size_bytes = models.PositiveIntegerField(_("文件大小"), default=0)
    train_seconds = models.FloatField(_("训练用时(秒)"), default=0)
    scores = models.JSONField(_("评估结果"), default=dict, blank=True)
    # [[threshold, precision, share, count]] of the out-of-fold predictions (classifier.precision_curve).
    curve = models.JSONField(_("准确率曲线"), default=list, blank=True)
    # 0: the categories are leaves (a street's own cases); 1: top-level categories (the starter model).
    level = models.PositiveSmallIntegerField(_("分类层级"), default=0)
    active = models.BooleanField(_("启用中"), default=False)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("分类模型版本")
        verbose_name_plural = _("分类模型版本")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="one_active_classifier")
        ]

    def __str__(self):
        return f"v{self.pk} {self.source}"

    @property
    def macro_f1(self):
        return (self.scores or {}).get("macro_f1")


class Proposal(models.Model):
    """The category the classifier proposed for a new case (分拨建议) and whether it was
    dispatched automatically. Whether the operator kept it is read from the case's category."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="proposal")
    version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField(_("置信度"))
    top = models.JSONField(default=list)
    auto = models.BooleanField(_("自动派单"), default=False)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("分拨建议")
        verbose_name_plural = _("分拨建议")


class ReplyCheck(models.Model):
    """答复质量: the flags raised when a unit submitted a result, and the handler's override."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reply_checks")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField(db_index=True)
    similarity = models.FloatField(_("与诉求相似度"))
    flags = models.JSONField(_("提示"), default=list, blank=True)
    flagged = models.BooleanField(_("有提示"), default=False)
    # Hash of the normalised reply, to find a unit's copied template answers.
    fingerprint = models.CharField(max_length=40, db_index=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    override_note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("答复质量检查")
        verbose_name_plural = _("答复质量检查")
        indexes = [models.Index(fields=["unit", "checked_at"], name="replycheck_unit_time")]
