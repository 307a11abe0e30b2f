"""一窗受理 / 一网通办: the catalogue of service items (政务服务事项), applications (办件)
with their materials and events, bundles (一件事), the hall's queue tickets, and 好差评
ratings with rectification and appeals."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.common.crypto import EncryptedTextField
from jiedao.common.models import EventLog
from jiedao.org.models import Unit


class ItemType(models.TextChoices):
    LICENSE = "license", _("行政许可")
    BENEFIT = "benefit", _("行政给付")
    CONFIRMATION = "confirmation", _("行政确认")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    OTHER = "other", _("其他行政权力")


class ExerciseLevel(models.TextChoices):
    DISTRICT = "district", _("区级")
    STREET = "street", _("街道（乡镇）级")
    COMMUNITY = "community", _("社区（村）级")


class Group(models.TextChoices):
    """Item groups of the hall's queue; the letter starts the ticket number."""

    SOCIAL = "A", _("社会保障")
    CIVIL = "B", _("民政事务")
    RESIDENCE = "C", _("户籍居住")
    ENTERPRISE = "D", _("企业服务")
    GENERAL = "E", _("综合事务")


class OnlineDepth(models.IntegerChoices):
    GUIDE = 1, _("一级：办事指南")
    FORMS = 2, _("二级：表格下载")
    PREVIEW = 3, _("三级：在线预审")
    FULL = 4, _("四级：全程网办")


class ServiceItem(models.Model):
    code = models.CharField(_("实施编码"), max_length=40, unique=True)
    basic_code = models.CharField(_("基本编码"), max_length=40)
    name = models.CharField(_("事项名称"), max_length=120)
    item_type = models.CharField(_("事项类型"), max_length=16, choices=ItemType.choices)
    level = models.CharField(_("行使层级"), max_length=10, choices=ExerciseLevel.choices, default=ExerciseLevel.STREET)
    group = models.CharField(_("取号分组"), max_length=1, choices=Group.choices, default=Group.GENERAL)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="service_items", verbose_name=_("实施主体"))
    legal_basis = models.TextField(_("设定依据"), blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定办结时限(工作日)"))
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限(工作日)"))
    supply_days = models.PositiveSmallIntegerField(_("容缺补正时限(工作日)"), default=5)
    fee = models.CharField(_("收费标准"), max_length=100, default="不收费")
    fee_basis = models.CharField(_("收费依据"), max_length=200, blank=True)
    place = models.CharField(_("办理地点"), max_length=200, blank=True)
    hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    online_depth = models.PositiveSmallIntegerField(
        _("网办深度"), choices=OnlineDepth.choices, default=OnlineDepth.PREVIEW
    )
    visits_required = models.PositiveSmallIntegerField(_("到现场次数"), default=1)
    appointment_allowed = models.BooleanField(_("支持预约"), default=True)
    pledge_allowed = models.BooleanField(_("可告知承诺"), default=False)
    target_group = models.CharField(_("服务对象"), max_length=100, default="自然人")
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["group", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ELECTRONIC = "electronic", _("电子材料")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人自备")
    GOVERNMENT = "government", _("政府部门核发")
    HALL = "hall", _("窗口领取（表格）")


# 免提交: a material the catalogue marks as shareable (``Material.shared``) is not asked for only
# when the applicant's registry record (一户一档) holds the field that stands in for it
# (``rules.exemption_source``). Matched on the material's name, first match wins: (words in the
# name, the registry person's field, its label). A material not named here is always submitted.
REGISTRY_FIELDS = (
    ("户口", "household", _("户籍")),
    ("居民身份证", "id_number", _("身份证号")),
    ("亲属关系证明", "relation", _("与户主关系")),
)


def registry_field(material_name: str):
    """``(field, label)`` of the registry field that stands in for the material, or None."""
    for word, field, label in REGISTRY_FIELDS:
        if word in material_name:
            return field, label
    return None


class Material(models.Model):
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    name = models.CharField(_("材料名称"), max_length=120)
    core = models.BooleanField(_("核心材料"), default=True, help_text=_("非核心材料可容缺受理，限期补正。"))
    form = models.CharField(_("材料形式"), max_length=12, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL)
    source = models.CharField(
        _("来源渠道"), max_length=12, choices=MaterialSource.choices, default=MaterialSource.APPLICANT
    )
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    shared = models.BooleanField(
        _("可共享获取（免提交）"),
        default=False,
        help_text=_("可从户籍人口等系统数据中获取，本街道有记录的申请人无需提交。"),
    )
    note = models.CharField(_("填报须知"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["item", "order", "id"]

    def __str__(self):
        return self.name

    @property
    def exemptible(self) -> bool:
        """May be spared (免提交) at all: shareable, and a registry field stands in for it."""
        return self.shared and registry_field(self.name) is not None


class Bundle(models.Model):
    """一件事: several items applied for at once, approved in their own units."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("一件事名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    items = models.ManyToManyField(ServiceItem, related_name="bundles", verbose_name=_("包含事项"))

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("网上申请待受理")
    ACCEPTED = "accepted", _("已受理·审批中")
    APPROVED = "approved", _("审批通过·待出件")
    REJECTED = "rejected", _("不予批准")
    REFUSED = "refused", _("不予受理")
    ISSUED = "issued", _("已出件·办结")


DONE_STATUSES = (Status.REJECTED, Status.REFUSED, Status.ISSUED)


class Channel(models.TextChoices):
    WINDOW = "window", _("窗口")
    ONLINE = "online", _("网上")


class Mode(models.TextChoices):
    NORMAL = "normal", _("一般受理")
    INCOMPLETE = "incomplete", _("容缺受理")
    PLEDGE = "pledge", _("告知承诺")


class Delivery(models.TextChoices):
    ON_THE_SPOT = "on_the_spot", _("当场办结出件")
    WINDOW = "window", _("窗口领取")
    POST = "post", _("邮寄送达")
    ONLINE = "online", _("电子证照")


class Application(models.Model):
    number = models.CharField(_("办件编号"), max_length=24, unique=True)
    item = models.ForeignKey(
        ServiceItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("事项"),
    )
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="applications", verbose_name=_("一件事")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("所属一件事办件"),
    )
    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hall_applications",
        verbose_name=_("审批单位"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, db_index=True)
    channel = models.CharField(_("申请渠道"), max_length=8, choices=Channel.choices)
    mode = models.CharField(_("受理方式"), max_length=12, choices=Mode.choices, default=Mode.NORMAL)
    applicant_name = models.CharField(_("申请人"), max_length=50)
    applicant_id = EncryptedTextField(_("身份证号"), blank=True, default="")
    applicant_id_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    applicant_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hall_applications",
        verbose_name=_("申请账号"),
    )
    person = models.ForeignKey(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hall_applications",
        verbose_name=_("户籍人口记录"),
    )
    assisted = models.BooleanField(_("帮办代办"), default=False)
    assistant_name = models.CharField(_("帮办代办人"), max_length=50, blank=True)
    assisted_reason = models.CharField(_("代办原因"), max_length=100, blank=True)
    pledge_signed = models.BooleanField(_("已签署告知承诺书"), default=False)
    ticket = models.ForeignKey(
        "Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
        verbose_name=_("排队号"),
    )
    submitted_at = models.DateTimeField(_("申请时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("受理人"),
    )
    due_at = models.DateTimeField(_("承诺办结期限"), null=True, blank=True)
    statutory_due_at = models.DateTimeField(_("法定办结期限"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    issued_at = models.DateTimeField(_("出件时间"), null=True, blank=True)
    delivery = models.CharField(_("出件方式"), max_length=12, choices=Delivery.choices, blank=True)
    visits = models.PositiveSmallIntegerField(_("跑动次数"), default=0)
    result_note = models.TextField(_("审批意见"), blank=True)
    # Set when the applicant's personal data was erased, a year after the application finished.
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-submitted_at"]

    def __str__(self):
        return self.number

    @property
    def title(self):
        return self.item.name if self.item_id else (self.bundle.name if self.bundle_id else "")


class MaterialStatus(models.TextChoices):
    PROVIDED = "provided", _("已提交")
    MISSING = "missing", _("容缺待补")
    PLEDGED = "pledged", _("告知承诺")
    SHARED = "shared", _("免提交（共享获取）")


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("材料状态"), max_length=10, choices=MaterialStatus.choices)
    due_at = models.DateTimeField(_("补正期限"), null=True, blank=True)
    supplied_at = models.DateTimeField(_("补正时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    # For a material not to be submitted (免提交): the registry field that supplied it, e.g. "一户一档·户籍".
    source = models.CharField(_("免提交数据来源"), max_length=120, blank=True, default="")

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["application", "material__order", "id"]


class ApplicationEvent(EventLog, models.Model):
    """One step of an application (who, when, from, to, why). Append-only."""

    subject = "application"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("办件流转记录")
        verbose_name_plural = _("办件流转记录")
        ordering = ["application", "at", "id"]


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")
    CALLED = "called", _("已叫号")
    DONE = "done", _("已办理")
    MISSED = "missed", _("过号")


class Ticket(models.Model):
    day = models.DateField(_("日期"), db_index=True)
    group = models.CharField(_("分组"), max_length=1, choices=Group.choices)
    seq = models.PositiveIntegerField()
    number = models.CharField(_("号码"), max_length=8)
    priority = models.BooleanField(_("优先（老年人、残疾人等）"), default=False)
    status = models.CharField(_("状态"), max_length=8, choices=TicketStatus.choices, default=TicketStatus.WAITING)
    window = models.CharField(_("窗口"), max_length=10, blank=True)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("窗口人员"),
    )
    taken_at = models.DateTimeField(_("取号时间"))
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办毕时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        ordering = ["day", "group", "seq"]
        constraints = [models.UniqueConstraint(fields=["day", "group", "seq"], name="uniq_hall_ticket_seq")]

    def __str__(self):
        return self.number

    @property
    def wait_minutes(self):
        if self.called_at is None:
            return None
        return (self.called_at - self.taken_at).total_seconds() / 60

    @property
    def service_minutes(self):
        if self.called_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.called_at).total_seconds() / 60


class Level(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    FAIRLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


BAD_LEVELS = (Level.DISSATISFIED, Level.VERY_DISSATISFIED)


class RatingChannel(models.TextChoices):
    DEVICE = "device", _("窗口评价器")
    PORTAL = "portal", _("网上评价")
    SMS = "sms", _("短信评价")


class Rating(models.Model):
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="rating")
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Level.choices)
    channel = models.CharField(_("评价渠道"), max_length=8, choices=RatingChannel.choices)
    comment = models.TextField(_("评价内容"), blank=True)
    at = models.DateTimeField(_("评价时间"))
    # An upheld appeal keeps the rating but leaves it out of the measures.
    excluded = models.BooleanField(_("申诉成立，不计入统计"), default=False)

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        ordering = ["-at"]

    @property
    def is_bad(self):
        return self.level in BAD_LEVELS


class Rectification(models.Model):
    """差评整改: the unit fixes by a deadline, then the applicant is called back."""

    class State(models.TextChoices):
        OPEN = "open", _("待整改")
        FIXED = "fixed", _("已整改·待回访")
        CLOSED = "closed", _("已回访")

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改单位"))
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(_("整改期限"))
    fix_note = models.TextField(_("整改情况"), blank=True)
    fixed_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    callback_note = models.TextField(_("回访记录"), blank=True)
    callback_satisfied = models.BooleanField(_("申请人认可整改"), null=True)
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["due_at"]

    @property
    def on_time(self):
        return self.fixed_at is not None and self.fixed_at <= self.due_at


class Appeal(models.Model):
    """申诉: a unit contests a malicious rating; reviewed, never deleted."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待复核")
        UPHELD = "upheld", _("申诉成立")
        DISMISSED = "dismissed", _("申诉不成立")

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="appeal")
    reason = models.TextField(_("申诉理由"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("申诉时间"))
    decision = models.CharField(_("复核结论"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    review_note = models.TextField(_("复核意见"), blank=True)

    class Meta:
        verbose_name = _("差评申诉")
        verbose_name_plural = _("差评申诉")


class Appointment(models.Model):
    """预约: a resident books a half-hour slot at the hall for an item."""

    class State(models.TextChoices):
        BOOKED = "booked", _("已预约")
        CANCELLED = "cancelled", _("已取消")

    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("事项"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hall_appointments", verbose_name=_("预约人")
    )
    starts_at = models.DateTimeField(_("预约时段"), db_index=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.BOOKED)
    created_at = models.DateTimeField(_("预约时间"))

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["starts_at"]
