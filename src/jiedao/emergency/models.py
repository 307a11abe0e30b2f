"""应急管理: emergencies with their timeline, the three-level network, depots and their
stock ledger, supply agreements, drills and training, sensors with their rules and alerts.

Workflow lives in ``services``; here only data and what the database can hold (stock
never negative, one open alert per subject)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.cases.models import Sensitive
from jiedao.common.models import EventLog
from jiedao.org.models import Community, Grid, Unit

# --- the three-level network ----------------------------------------------------------------


class Post(models.Model):
    """A post of the emergency network: 街道应急指挥中心 — 社区应急服务站 — 网格应急点."""

    class Level(models.TextChoices):
        CENTRE = "centre", _("街道应急指挥中心")
        STATION = "station", _("社区应急服务站")
        POINT = "point", _("网格应急点")

    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级")
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位")
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区")
    )
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格")
    )
    phone = models.CharField(_("值班电话"), max_length=30, blank=True, default="")

    class Meta:
        verbose_name = _("应急网络节点")
        verbose_name_plural = _("应急网络节点")
        ordering = ["level", "name"]

    def __str__(self):
        return self.name


# --- emergencies ----------------------------------------------------------------------------------


class Kind(models.TextChoices):
    FIRE = "fire", _("火灾")
    FLOOD = "flood", _("内涝/汛情")
    GAS = "gas", _("燃气泄漏")
    EPIDEMIC = "epidemic", _("疫情")
    ELDERLY = "elderly", _("独居老人异常")
    WATER = "water", _("水质异常")
    PUBLIC_SAFETY = "safety", _("公共安全")
    OTHER = "other", _("其他")


class Level(models.TextChoices):
    I = "1", _("Ⅰ级（特别重大）")  # noqa: E741
    II = "2", _("Ⅱ级（重大）")
    III = "3", _("Ⅲ级（较大）")
    IV = "4", _("Ⅳ级（一般）")


class Status(models.TextChoices):
    REPORTED = "reported", _("监测预警")
    DISPATCHED = "dispatched", _("已调度")
    ARRIVED = "arrived", _("已到场")
    ENGAGED = "engaged", _("协同处置")
    RECOVERED = "recovered", _("恢复重建")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已撤销")


OPEN_STATUSES = (Status.REPORTED, Status.DISPATCHED, Status.ARRIVED, Status.ENGAGED, Status.RECOVERED)


class Source(models.TextChoices):
    DIRECT = "direct", _("直接报告")
    CASE = "case", _("工单转入")
    ALERT = "alert", _("感知预警")


class Emergency(models.Model):
    number = models.CharField(_("事件编号"), max_length=20, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    level = models.CharField(_("等级"), max_length=1, choices=Level.choices, default=Level.IV)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.REPORTED, db_index=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.DIRECT)
    description = models.TextField(_("情况描述"), blank=True, default="")
    address = models.CharField(_("地点"), max_length=200, blank=True, default="")
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格")
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区")
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("关联工单")
    )
    lead_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("牵头单位")
    )
    units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("参与单位"))
    # 舆情 or 群体事件 as staff flagged it (``services.flag``): turns the evaluation's warning red.
    sensitive = models.CharField(_("舆情/群体事件"), max_length=8, choices=Sensitive.choices, blank=True, default="")
    arrival_target_minutes = models.PositiveSmallIntegerField(_("预案到场时限（分钟）"), default=15)
    disposal_target_minutes = models.PositiveSmallIntegerField(_("处置时限（分钟）"), default=60)
    reported_at = models.DateTimeField(_("报告时间"), default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(_("调度时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    engaged_at = models.DateTimeField(_("协同处置时间"), null=True, blank=True)
    recovered_at = models.DateTimeField(_("处置完毕时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("报告人"),
    )

    class Meta:
        verbose_name = _("突发事件")
        verbose_name_plural = _("突发事件")
        ordering = ["-reported_at"]

    def __str__(self):
        return f"{self.number} {self.title}"


class EmergencyEvent(EventLog, models.Model):
    """Append-only timeline: every state change and note of an emergency."""

    subject = "emergency"

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=10, blank=True, default="")
    to_status = models.CharField(_("新状态"), max_length=10, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    note = models.CharField(_("说明"), max_length=500, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("事件记录")
        verbose_name_plural = _("事件记录")
        ordering = ["at", "id"]


class CareCheck(models.Model):
    """A special-care resident in the event's area whom a grid worker checks on."""

    class Result(models.TextChoices):
        PENDING = "pending", _("待核查")
        SAFE = "safe", _("平安")
        HELPED = "helped", _("需要帮助")
        UNREACHABLE = "unreachable", _("联系不上")

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="checks")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("结果"), max_length=12, choices=Result.choices, default=Result.PENDING)
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("关怀对象核查")
        verbose_name_plural = _("关怀对象核查")
        ordering = ["grid_id", "id"]
        constraints = [models.UniqueConstraint(fields=["emergency", "person"], name="uniq_check_person")]


class EmergencyCounter(models.Model):
    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


# --- supplies -----------------------------------------------------------------------------------


class Depot(models.Model):
    name = models.CharField(_("名称"), max_length=60)
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="depots", verbose_name=_("所属节点")
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    keeper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("保管人"),
    )

    class Meta:
        verbose_name = _("物资储备点")
        verbose_name_plural = _("物资储备点")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Stock(models.Model):
    """One kind of supply in one depot, against its required level."""

    depot = models.ForeignKey(Depot, on_delete=models.CASCADE, related_name="stocks", verbose_name=_("储备点"))
    item = models.CharField(_("物资"), max_length=40)
    unit_label = models.CharField(_("计量单位"), max_length=10, default="个")
    quantity = models.IntegerField(_("库存"), default=0)
    required = models.PositiveIntegerField(_("应储数量"), default=0)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        ordering = ["depot_id", "item"]
        constraints = [
            models.UniqueConstraint(fields=["depot", "item"], name="uniq_stock_item"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_never_negative"),
        ]

    def __str__(self):
        return f"{self.depot} {self.item}"


class Movement(models.Model):
    """The stock ledger: every change of a stock, append-only."""

    class Kind(models.TextChoices):
        IN = "in", _("入库")
        OUT = "out", _("出库")
        TRANSFER_OUT = "transfer_out", _("调出")
        TRANSFER_IN = "transfer_in", _("调入")
        EXPIRY = "expiry", _("过期报废")

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    quantity = models.PositiveIntegerField(_("数量"))
    balance = models.IntegerField(_("结存"))
    emergency = models.ForeignKey(Emergency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("出入库记录")
        verbose_name_plural = _("出入库记录")
        ordering = ["-at", "-id"]


class Agreement(models.Model):
    """协议储备: a shop or supplier that delivers within a number of hours when called."""

    supplier = models.CharField(_("供应商"), max_length=60)
    goods = models.CharField(_("协议物资"), max_length=200)
    contact = models.CharField(_("联系人"), max_length=30, blank=True, default="")
    phone = models.CharField(_("电话"), max_length=30, blank=True, default="")
    delivery_hours = models.PositiveSmallIntegerField(_("送达时限（小时）"), default=2)
    valid_until = models.DateField(_("协议有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("协议供应商")
        verbose_name_plural = _("协议供应商")
        ordering = ["supplier"]

    def __str__(self):
        return self.supplier


class CallOff(models.Model):
    """A call on an agreement during an emergency, and when the goods arrived."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="calls")
    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="calls")
    goods = models.CharField(_("调用物资"), max_length=200)
    called_at = models.DateTimeField(_("调用时间"))
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("协议调用")
        verbose_name_plural = _("协议调用")
        ordering = ["called_at"]


# --- drills and training ----------------------------------------------------------------------


class Drill(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("计划")
        DONE = "done", _("已完成")

    title = models.CharField(_("演练名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区")
    )
    planned_on = models.DateField(_("计划日期"))
    held_on = models.DateField(_("实施日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    participants = models.PositiveIntegerField(_("参演人数"), default=0)
    findings = models.TextField(_("发现问题"), blank=True, default="")

    class Meta:
        verbose_name = _("应急演练")
        verbose_name_plural = _("应急演练")
        ordering = ["-planned_on"]

    def __str__(self):
        return self.title


class Training(models.Model):
    """A staff member's emergency training in a year, and whether they passed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("人员")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    passed = models.BooleanField(_("考核合格"), default=False)

    class Meta:
        verbose_name = _("应急培训")
        verbose_name_plural = _("应急培训")
        constraints = [models.UniqueConstraint(fields=["user", "year"], name="uniq_training_year")]


# --- sensors ---------------------------------------------------------------------------------


class DeviceKind(models.TextChoices):
    METER = "meter", _("智能电表（独居老人）")
    WATER_QUALITY = "water_quality", _("水质监测")
    WATER_LEVEL = "water_level", _("水位监测")
    SMOKE = "smoke", _("烟感")
    MANHOLE = "manhole", _("智能井盖")
    VIDEO = "video", _("AI视频")


class Device(models.Model):
    code = models.CharField(_("设备编号"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=15, choices=DeviceKind.choices)
    token_hash = models.CharField(max_length=64, editable=False)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    address = models.CharField(_("位置"), max_length=200, blank=True, default="")
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格")
    )
    owner = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("权属单位")
    )
    person = models.ForeignKey(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("关联居民"),
    )
    active = models.BooleanField(_("启用"), default=True)
    last_seen_at = models.DateTimeField(_("最近上报"), null=True, blank=True)
    # Rule evaluation memory: last value per metric, when a breach began, the day of last use.
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("感知设备")
        verbose_name_plural = _("感知设备")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class Reading(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings")
    at = models.DateTimeField()
    metric = models.CharField(max_length=20, blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    event = models.CharField(max_length=30, blank=True, default="")
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("设备读数")
        verbose_name_plural = _("设备读数")
        constraints = [models.UniqueConstraint(fields=["device", "at", "metric", "event"], name="uniq_reading")]


class WarningLevel(models.TextChoices):
    RED = "red", _("红色预警")
    YELLOW = "yellow", _("黄色预警")
    BLUE = "blue", _("蓝色预警")


class Rule(models.Model):
    class Trigger(models.TextChoices):
        ABOVE = "above", _("高于阈值")
        BELOW = "below", _("低于阈值")
        RATE = "rate", _("变化过快")
        SILENCE = "silence", _("长时间无数据（离线）")
        NO_USE = "no_use", _("中午前无用量")
        EVENT = "event", _("事件上报")

    class Outcome(models.TextChoices):
        NONE = "none", _("仅预警")
        CASE = "case", _("转工单")
        EMERGENCY = "emergency", _("转突发事件")

    name = models.CharField(_("名称"), max_length=60)
    device_kind = models.CharField(_("设备类型"), max_length=15, choices=DeviceKind.choices)
    trigger = models.CharField(_("判断方式"), max_length=10, choices=Trigger.choices)
    metric = models.CharField(
        _("指标"),
        max_length=20,
        blank=True,
        default="",
        help_text=_("读数的指标名，如 ph、turbidity、level、kwh；事件上报时为事件名，留空为任意事件。"),
    )
    threshold = models.FloatField(
        _("阈值"), null=True, blank=True, help_text=_("高于/低于：阈值；变化过快：每分钟变化量；离线：分钟数。")
    )
    duration_minutes = models.PositiveIntegerField(_("持续分钟"), default=0)
    level = models.CharField(_("预警颜色"), max_length=6, choices=WarningLevel.choices, default=WarningLevel.BLUE)
    outcome = models.CharField(_("确认后"), max_length=10, choices=Outcome.choices, default=Outcome.NONE)
    category_code = models.CharField(_("工单分类代码"), max_length=20, blank=True, default="")
    emergency_kind = models.CharField(_("突发事件类型"), max_length=10, choices=Kind.choices, blank=True, default="")
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["device_kind", "id"]

    def __str__(self):
        return self.name

    def clean(self):

        needs = (self.Trigger.ABOVE, self.Trigger.BELOW, self.Trigger.RATE, self.Trigger.SILENCE)
        if self.trigger in needs and self.threshold is None:
            raise ValidationError({"threshold": _("此判断方式需要填写阈值。")})
        if (
            self.trigger in (self.Trigger.ABOVE, self.Trigger.BELOW, self.Trigger.RATE, self.Trigger.NO_USE)
            and not self.metric
        ):
            raise ValidationError({"metric": _("此判断方式需要填写指标名。")})


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DISMISSED = "dismissed", _("误报")

    class Source(models.TextChoices):
        RULE = "rule", _("设备规则")
        SURGE = "surge", _("诉求量激增")
        EMERGENCY = "emergency", _("重大突发事件")

    # What the alert is about; one open alert per subject (e.g. "device:12", "surge").
    subject = models.CharField(max_length=40)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.RULE)
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("设备")
    )
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", verbose_name=_("规则")
    )
    level = models.CharField(_("预警颜色"), max_length=6, choices=WarningLevel.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    message = models.CharField(_("内容"), max_length=300)
    value = models.FloatField(null=True, blank=True)
    raised_at = models.DateTimeField(_("预警时间"), db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("处理说明"), max_length=200, blank=True, default="")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    emergency = models.ForeignKey(Emergency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subject"], condition=Q(status="open"), name="one_open_alert_per_subject")
        ]


# --- the duty roster -------------------------------------------------------------------------


class DutyShift(models.Model):
    """值班表: who is on duty from ``starts_at`` to ``ends_at``, and their place in the chain an
    emergency goes down when nobody acknowledges it (第一值班人, 第二值班人 …, then the leaders)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("值班人员")
    )
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"), db_index=True)
    position = models.PositiveSmallIntegerField(_("值班顺位"), default=1)
    note = models.CharField(_("备注"), max_length=100, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班表")
        ordering = ["starts_at", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="duty_shift_ends_after_start"),
            models.CheckConstraint(condition=Q(position__gte=1), name="duty_shift_position_from_one"),
        ]

    def __str__(self):
        return f"{self.person} {self.starts_at:%Y-%m-%d %H:%M}"
