"""效能评价: computed indicator results, daily rollups, scoring schemes, evidence-based
scores, warnings and rectification tasks (整改指令) with their append-only event log.

The indicator library itself is code (``indicators.py``): definitions travel with the
formulas that compute them. What an evaluator may change (baseline, target) is held in
``IndicatorSetting``; everything else here is written by the worker or by services."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.common.models import AppendOnly, EventLog


class ScopeKind(models.TextChoices):
    STREET = "street", _("全街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")
    UNIT = "unit", _("承办单位")
    PERSON = "person", _("个人")


class PeriodKind(models.TextChoices):
    WEEK = "week", _("周")
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年")


class IndicatorSetting(models.Model):
    """An evaluator's baseline and target for one indicator, overriding the library's defaults."""

    code = models.CharField(_("指标代码"), max_length=40, unique=True)
    baseline = models.FloatField(_("基线"), null=True, blank=True)
    target = models.FloatField(_("目标"), null=True, blank=True)
    note = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("指标基线与目标")
        verbose_name_plural = _("指标基线与目标")

    def __str__(self):
        return self.code


class Result(models.Model):
    """One indicator's value for one scope and one period, as the worker computed it."""

    indicator = models.CharField(max_length=40)
    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_code = models.CharField(max_length=40, blank=True)
    scope_name = models.CharField(max_length=80, blank=True)
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_key = models.CharField(max_length=10)
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("指标结果")
        verbose_name_plural = _("指标结果")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "scope_kind", "scope_code", "period_kind", "period_key"],
                name="uniq_evaluation_result",
            )
        ]
        indexes = [
            models.Index(fields=["period_kind", "period_key", "scope_kind"], name="eval_result_period"),
            models.Index(fields=["indicator", "scope_kind", "period_kind", "period_key"], name="eval_result_series"),
        ]


class DailyCount(models.Model):
    """Rollup: cases received per day (Beijing), street, community and category. The cockpit's
    trend and category figures and the surge check read this, not the case table."""

    day = models.DateField()
    street = models.ForeignKey("org.Street", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("org.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("cases.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    received = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("每日受理汇总")
        verbose_name_plural = _("每日受理汇总")
        indexes = [
            models.Index(fields=["day"], name="eval_daily_day"),
            models.Index(fields=["street", "day"], name="eval_daily_street_day"),
        ]


class Scheme(models.Model):
    """A scoring scheme (考核方案): weighted indicators, a normalisation and grade thresholds."""

    class Normalisation(models.TextChoices):
        TARGET = "target", _("对照目标值")
        BEST_WORST = "best_worst", _("对照最好/最差单位")

    class PersonRole(models.TextChoices):
        """Whom a scheme scores: the scopes (blank), or the people of one role (个人考核)."""

        NONE = "", _("社区、网格和单位")
        GRID = "grid", _("网格员")
        WINDOW = "operator", _("窗口人员")
        HANDLER = "handler", _("承办人（含派驻人员）")

    code = models.SlugField(_("方案代码"), max_length=40, unique=True)
    name = models.CharField(_("方案名称"), max_length=80)
    description = models.TextField(_("说明"), blank=True)
    normalisation = models.CharField(
        _("标准化方法"), max_length=12, choices=Normalisation.choices, default=Normalisation.TARGET
    )
    excellent_from = models.FloatField(_("优秀分数线"), default=90)
    pass_from = models.FloatField(_("合格分数线"), default=60)
    active = models.BooleanField(_("启用"), default=True)
    builtin = models.BooleanField(_("内置方案"), default=False, editable=False)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    person_role = models.CharField(
        _("考核对象"), max_length=10, choices=PersonRole.choices, blank=True, default=PersonRole.NONE
    )

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class SchemeItem(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="items")
    indicator = models.CharField(_("指标代码"), max_length=40)
    weight = models.FloatField(_("权重"))
    perspective = models.CharField(_("维度"), max_length=40, blank=True)
    label = models.CharField(_("显示名称"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("方案指标")
        verbose_name_plural = _("方案指标")
        ordering = ["scheme", "id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "indicator"], name="uniq_scheme_indicator")]


class EvidenceScore(AppendOnly, models.Model):
    """A score entered by an evaluator with its evidence (e.g. 创新指数). Append-only: a
    correction is a new row; the latest row for a scope and month counts."""

    indicator = models.CharField(max_length=40, default="innovation_index")
    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_code = models.CharField(max_length=40)
    month = models.CharField(max_length=7)
    score = models.FloatField(_("得分"))
    evidence = models.TextField(_("佐证材料"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        verbose_name = _("评分佐证")
        verbose_name_plural = _("评分佐证")
        indexes = [models.Index(fields=["indicator", "month"], name="eval_evidence_month")]


class Warning(models.Model):
    """A warning (预警) on a scope: an indicator below its baseline for weeks on end (yellow, then
    red), a surge of a category's cases in a community or of a service item's applications
    (yellow), a fast-growing hot issue (yellow), or a fault of the installation (blue, 系统故障:
    failed message sends, a stalled worker, a failed or old backup, a full disk, silent sensors)."""

    class Kind(models.TextChoices):
        INDICATOR = "indicator", _("指标低于基线")
        SURGE = "surge", _("数量激增")
        HOT = "hot", _("热点快速增长")
        SYSTEM = "system", _("系统故障")
        SENSITIVE = "sensitive", _("舆情/群体事件")
        HOT_LARGE = "hot_large", _("热点超过阈值")

    class Level(models.TextChoices):
        YELLOW = "yellow", _("黄色")
        RED = "red", _("红色")
        BLUE = "blue", _("蓝色")

    class Status(models.TextChoices):
        ACTIVE = "active", _("预警中")
        RECOVERED = "recovered", _("已恢复")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=160)
    indicator = models.CharField(max_length=40, blank=True)
    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_code = models.CharField(max_length=40, blank=True)
    scope_name = models.CharField(max_length=80, blank=True)
    level = models.CharField(max_length=6, choices=Level.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    title = models.CharField(max_length=200)
    detail = models.CharField(max_length=300, blank=True)
    weeks = models.PositiveSmallIntegerField(default=0)
    value = models.FloatField(null=True, blank=True)
    baseline = models.FloatField(null=True, blank=True)
    category = models.ForeignKey("cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    community = models.ForeignKey("org.Community", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    url = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    recovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status", "kind"], name="eval_warning_status")]


class Rectification(models.Model):
    """整改指令: a task issued to the responsible unit with a deadline, closed with evidence."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("已下达")
        IN_PROGRESS = "in_progress", _("整改中")
        SUBMITTED = "submitted", _("待验收")
        CLOSED = "closed", _("已销号")

    number = models.CharField(_("指令编号"), max_length=20, unique=True)
    warning = models.ForeignKey(Warning, null=True, blank=True, on_delete=models.PROTECT, related_name="rectifications")
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="rectifications", verbose_name=_("责任单位")
    )
    title = models.CharField(_("整改事项"), max_length=200)
    requirement = models.TextField(_("整改要求"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ISSUED)
    due_at = models.DateTimeField(_("整改时限"))
    issued_at = models.DateTimeField(_("下达时间"))
    evidence = models.TextField(_("整改佐证"), blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改指令")
        verbose_name_plural = _("整改指令")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return self.number


class RectificationEvent(EventLog, models.Model):
    """One step of a rectification task. Append-only: never updated or deleted."""

    subject = "rectification"

    rectification = models.ForeignKey(Rectification, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("整改指令记录")
        verbose_name_plural = _("整改指令记录")
        ordering = ["rectification", "seq"]
        constraints = [models.UniqueConstraint(fields=["rectification", "seq"], name="uniq_rectification_seq")]


class Snapshot(models.Model):
    """A figure the worker computed for the cockpit because it is too costly per request
    (e.g. the hot issues); read while fresh, recomputed live otherwise."""

    key = models.CharField(max_length=40, unique=True)
    data = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("驾驶舱快照")
        verbose_name_plural = _("驾驶舱快照")


class Assessment(models.Model):
    """考核建议: the street's assessment opinion of a seconded person (派驻人员) for a period,
    recorded by a leader and exported for the person's department. One per person and period;
    recording it again replaces the opinion (who and when are those of the last entry)."""

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("优秀")
        COMPETENT = "competent", _("称职")
        BASIC = "basic", _("基本称职")
        INCOMPETENT = "incompetent", _("不称职")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("派驻人员")
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("派驻部门"))
    period = models.CharField(_("考核期"), max_length=10)
    grade = models.CharField(_("考核等次"), max_length=12, choices=Grade.choices)
    opinion = models.TextField(_("考核建议"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("录入人")
    )
    entered_at = models.DateTimeField(_("录入时间"))

    class Meta:
        verbose_name = _("考核建议")
        verbose_name_plural = _("考核建议")
        ordering = ["unit", "period", "person"]
        constraints = [models.UniqueConstraint(fields=["person", "period"], name="uniq_assessment_person_period")]
