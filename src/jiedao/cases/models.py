"""接诉即办: cases (工单), their append-only event log, and what hangs off a case."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.common.crypto import EncryptedTextField
from jiedao.common.images import PhotoPath
from jiedao.common.models import EventLog
from jiedao.duties.selectors import override_refusal
from jiedao.org.models import Community, Grid, Street, Unit


class Category(models.Model):
    """A node of the 3-level category tree (分类). Cases are filed under leaves."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级分类")
    )
    code = models.CharField(_("分类代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.PositiveSmallIntegerField(_("层级"), default=1)
    response_hours = models.DecimalField(_("响应时限(小时)"), max_digits=6, decimal_places=1, default=2)
    completion_workdays = models.PositiveSmallIntegerField(_("办结时限(工作日)"), default=5)
    office_hours_only = models.BooleanField(
        _("响应时限只计工作时间"),
        default=False,
        help_text=_("勾选后，响应时限只在工作日的办公时间内计时；否则全天候计时。"),
    )
    needs_verification = models.BooleanField(_("办结后需网格员现场核查"), default=False)
    # 矛盾纠纷类: the cases of this category and of its children count in 矛盾纠纷化解率.
    is_dispute = models.BooleanField(
        _("矛盾纠纷类"),
        default=False,
        help_text=_("勾选后，本分类及其下级分类的工单计入“矛盾纠纷化解率”。"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="uniq_category_name_under_parent"),
        ]

    def __str__(self):
        return self.path_name

    @property
    def path_name(self):
        names = [self.name]
        node = self
        while node.parent_id is not None:
            node = node.parent
            names.append(node.name)
        return " / ".join(reversed(names))


class RoutingRule(models.Model):
    """派单规则: the first active rule (by priority) matching category and place picks the unit."""

    priority = models.PositiveIntegerField(_("优先级"), default=100, help_text=_("数字小的先匹配。"))
    name = models.CharField(_("规则名称"), max_length=80, blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        verbose_name=_("分类"),
        help_text=_("匹配该分类及其所有下级分类；留空匹配所有分类。"),
    )
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("社区"))
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("网格"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, verbose_name=_("承办单位"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name or f"#{self.pk} → {self.unit}"

    def clean_fields(self, exclude=None):
        """The negative list outranks the rules: an active rule may not hand a negative-list item
        to a street or community unit (the check is the duty list's)."""
        super().clean_fields(exclude=exclude)
        if self.active:
            refusal = override_refusal(
                category=self.category if self.category_id else None, unit=self.unit if self.unit_id else None
            )
            if refusal:
                # A form without the category field (the admin's list) shows it above the form.
                field = NON_FIELD_ERRORS if exclude and "category" in exclude else "category"
                raise ValidationError({field: refusal})


class Channel(models.TextChoices):
    HOTLINE_12345 = "12345", _("12345热线")
    PHONE = "phone", _("电话")
    WINDOW = "window", _("窗口")
    LETTER = "letter", _("来信")
    LEADER_MAILBOX = "mailbox", _("领导信箱")
    PORTAL = "portal", _("居民网页/小程序")
    QR = "qr", _("扫码上报")
    GRID = "grid", _("网格员上报")
    API = "api", _("接口")
    SENSOR = "sensor", _("感知设备")


class Status(models.TextChoices):
    NEW = "new", _("待派单")
    DISPATCHED = "dispatched", _("待响应")
    RETURNED = "returned", _("已退单")
    IN_PROGRESS = "in_progress", _("办理中")
    VERIFYING = "verifying", _("待核查")
    RATING = "rating", _("待回访")
    CLOSED = "closed", _("已结案")
    MERGED = "merged", _("已并案")
    VOIDED = "voided", _("无效来电")


OPEN_STATUSES = (Status.NEW, Status.DISPATCHED, Status.RETURNED, Status.IN_PROGRESS, Status.VERIFYING, Status.RATING)
# Cases that are no matter of their own: merged into the case they repeat, or void calls (无效来电).
# Counts of cases received leave them out.
NOT_MATTERS = (Status.MERGED, Status.VOIDED)
# States in which the unit still owes work (the deadline clock runs).
WORKING_STATUSES = (Status.DISPATCHED, Status.IN_PROGRESS)


class Outcome(models.TextChoices):
    """How a case was settled at once instead of being dispatched (blank: dispatched or waiting
    for the dispatcher, as every case before): 三事分流 at the desk (answered, advised, voided),
    or a small matter the grid worker fixed on the spot (已自行处置, ``self_resolved``)."""

    ANSWERED = "answered", _("直接答复")
    ADVISED = "advised", _("私事告知")
    VOIDED = "voided", _("无效来电")
    SELF_RESOLVED = "self_resolved", _("已自行处置")


# The outcomes of the desk (三事分流): the calls the operators settle themselves.
DESK_OUTCOMES = (Outcome.ANSWERED, Outcome.ADVISED, Outcome.VOIDED)


# Why a call is void (无效来电); a repeat of an open case is attached to it instead (并案).
VOID_REASONS = {
    "prank": _("恶意骚扰"),
    "wrong_number": _("打错电话或无具体诉求"),
    "outside": _("不属于本街道辖区"),
    "silent": _("无声电话或中途挂断"),
}


class Sensitive(models.TextChoices):
    """What staff flagged a case as (blank: nothing): 舆情 or 群体事件 turn the cockpit's warning red."""

    NONE = "", _("无")
    OPINION = "opinion", _("舆情")
    MASS = "mass", _("群体事件")


class Urgency(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("临期")
    RED = "red", _("超期")


class Case(models.Model):
    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices)
    # No index of their own where one of the Meta's indexes begins with the column (status, category,
    # reporter, street, unit): it answers the same look-ups, and every index is written at every intake.
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.NEW)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, db_index=False, verbose_name=_("分类")
    )
    description = models.TextField(_("诉求内容"))
    reporter_name = EncryptedTextField(_("诉求人姓名"), blank=True, default="")
    reporter_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    reporter_phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="reported_cases",
        verbose_name=_("诉求人账号"),
    )
    address = EncryptedTextField(_("地址"), blank=True, default="")
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    # The street office answering for the case (受理街道): the street of its community,
    # else of the person who took it in. Street staff see their street's cases only.
    street = models.ForeignKey(
        Street,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="cases",
        verbose_name=_("受理街道"),
    )
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("社区"))
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("网格"))

    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="cases",
        verbose_name=_("承办单位"),
    )
    routed_by = models.CharField(_("派单依据"), max_length=200, blank=True)
    # The version of the responsibility list item that routed the case (kept after the list changes).
    duty_version = models.ForeignKey(
        "duties.DutyVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("派单依据的权责事项版本"),
    )
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    response_due = models.DateTimeField(_("响应时限"), null=True, blank=True)
    completion_due = models.DateTimeField(_("办结时限"), null=True, blank=True, db_index=True)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    outcome = models.CharField(
        _("三事分流"), max_length=16, choices=Outcome.choices, blank=True, default="", db_default=""
    )
    urgency = models.CharField(_("时限状态"), max_length=6, choices=Urgency.choices, default=Urgency.GREEN)
    supervised = models.BooleanField(_("督办中"), default=False)
    # 舆情 / 群体事件, set by the lifecycle action "flag" (its events say who and when).
    sensitive = models.CharField(
        _("舆情标记"), max_length=8, choices=Sensitive.choices, blank=True, default="", db_default=""
    )
    return_count = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    master = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases", verbose_name=_("并入工单")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(_("受理时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # When the worker erased the reporter's contact data, a set time after closing.
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True)
    # A machine alert's case (感知设备): the device and the kind of alert that raised it
    # ("device:<id>:rule:<id>"). While it is open, the same device's alerts of the same kind are
    # counted on it (``alerts.submit_alert``) instead of opening new cases.
    alert_source = models.CharField(_("告警来源"), max_length=60, blank=True, default="", db_default="")
    alert_count = models.PositiveIntegerField(_("告警次数"), default=0, db_default=0)
    last_alert_at = models.DateTimeField(_("最近告警时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        indexes = [
            models.Index(fields=["unit", "status", "completion_due"], name="case_unit_queue"),
            models.Index(fields=["status", "created_at"], name="case_status_created"),
            models.Index(fields=["reporter", "created_at"], name="case_reporter"),
            # A city: each street's lists, counters and monthly figures.
            models.Index(fields=["street", "status", "created_at"], name="case_street_status"),
            models.Index(fields=["street", "dispatched_at"], name="case_street_dispatched"),
            # The open cases only (a street's backlog, not its history): the live counters (open,
            # overdue) and the open cases per grid on the map are COUNT(*) over this index alone.
            models.Index(
                fields=["street", "grid", "completion_due"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="case_street_open",
            ),
            # 重复投诉: the cases closed lately by the same reporter (phone or account), or of the
            # same category (then near the same place), found when a case is shown or counted.
            models.Index(
                fields=["reporter_phone_index", "closed_at"],
                condition=~models.Q(reporter_phone_index=""),
                name="case_phone_closed",
            ),
            models.Index(
                fields=["reporter", "closed_at"],
                condition=models.Q(reporter__isnull=False),
                name="case_reporter_closed",
            ),
            models.Index(fields=["category", "closed_at"], name="case_category_closed"),
            # The open case of a device and a kind of alert, found when the next alert comes in.
            models.Index(
                fields=["alert_source"],
                condition=models.Q(status__in=OPEN_STATUSES) & ~models.Q(alert_source=""),
                name="case_open_alert_source",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class CaseEvent(EventLog, models.Model):
    """One state change or recorded act on a case. Append-only: never updated or deleted;
    written by the lifecycle engine (``cases.states.CASE``)."""

    subject = "case"

    # Found by the unique (case, seq) index.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, db_index=False, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The unit holding the case after the event (counts dispatches and returns per unit).
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="case_events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    # What the action changed besides the status (unit, deadlines, rating …), to replay the case.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("工单流转记录")
        verbose_name_plural = _("工单流转记录")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="uniq_case_event_seq")]
        indexes = [
            models.Index(fields=["action", "at"], name="case_event_action_at"),
            # What a unit returned (it keeps seeing those cases): a small partial index.
            models.Index(fields=["actor_unit"], condition=models.Q(action="return"), name="case_event_returns_by_unit"),
        ]


class CasePhoto(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", _("诉求照片")
        RESULT = "result", _("办结照片")
        VERIFY = "verify", _("核查照片")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    image = models.ImageField(upload_to=PhotoPath("cases"), db_index=True)  # /media/ finds it by name
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("工单照片")
        verbose_name_plural = _("工单照片")


class Rating(models.Model):
    """回访评价: the resident's verdict on one round of handling."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    class Source(models.TextChoices):
        RESIDENT = "resident", _("居民自评")
        CALLBACK = "callback", _("回访员")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="ratings")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="ratings")
    round = models.PositiveSmallIntegerField(default=1)
    resolved = models.BooleanField(_("问题是否解决"))
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices)
    source = models.CharField(_("评价方式"), max_length=10, choices=Source.choices)
    comment = models.TextField(_("意见"), blank=True)
    rated_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("回访评价")
        verbose_name_plural = _("回访评价")
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="uniq_rating_round")]
        indexes = [models.Index(fields=["unit", "rated_at"], name="rating_unit_time")]


class Extension(models.Model):
    """延期申请: a unit asks for more time; a leader approves or refuses."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已驳回")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extensions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    extra_workdays = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.TextField(_("延期理由"))
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")


class Whistle(models.Model):
    """吹哨报到: several units summoned to one case with a deadline. The same record
    carries co-handling (协办) tasks that the responsibility list gives at dispatch."""

    class Kind(models.TextChoices):
        WHISTLE = "whistle", _("吹哨报到")
        COHANDLE = "cohandle", _("协办")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="whistles")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.WHISTLE)
    blown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    blown_at = models.DateTimeField()
    report_due = models.DateTimeField(_("报到时限"))
    reason = models.TextField(_("吹哨事由"))

    class Meta:
        verbose_name = _("吹哨")
        verbose_name_plural = _("吹哨")


class WhistleSummons(models.Model):
    whistle = models.ForeignKey(Whistle, on_delete=models.PROTECT, related_name="summonses")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="summonses")
    reported_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    part = models.TextField(_("承担工作"), blank=True)

    class Meta:
        verbose_name = _("吹哨报到单位")
        verbose_name_plural = _("吹哨报到单位")
        constraints = [models.UniqueConstraint(fields=["whistle", "unit"], name="uniq_whistle_unit")]


class Supervision(models.Model):
    """督办: a leader's (or dispatcher's) demand on the unit holding a case — what is required
    and by when the unit must reply. Answered by the unit (答复督办); left unanswered past its
    deadline it is raised to the street's leaders by the deadline sweep (``escalated_at``)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supervisions")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("被督办单位")
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("督办时间"))
    due = models.DateTimeField(_("答复时限"))
    requirement = models.TextField(_("督办要求"))
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply = models.TextField(_("答复内容"), blank=True, default="")
    # When the sweep raised it to the leaders, unanswered past ``due`` (自动升级).
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        indexes = [
            models.Index(fields=["issued_at"], name="supervision_issued"),
            models.Index(
                fields=["due"],
                condition=models.Q(replied_at__isnull=True, escalated_at__isnull=True),
                name="supervision_waiting",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.issued_at:%Y-%m-%d %H:%M}"

    @property
    def late(self) -> bool:
        """Answered after its deadline."""
        return self.replied_at is not None and self.replied_at > self.due


class CaseNumberCounter(models.Model):
    """The last sequence number used per day, so that case numbers are readable and unique."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)
