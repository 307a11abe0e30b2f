"""多元共治: residents' deliberation (议题—协商—决策—执行—评价), neighbourhood service
projects (需求征集—项目生成—服务供给—效果评估), volunteers, the points ledger and the
time bank.

Workflow lives in ``services`` and the lifecycles in ``states``; here only data and what the
database can hold: one support, one registration, one ballot and one rating per person; points
balances never negative except the community's issuing account; reward stock never negative.
The event logs (``ProposalEvent``, ``MeetingEvent``, ``ActionEvent``, ``ProjectEvent``) are
append-only ``EventLog`` tables, written by the lifecycle engine (``common.events.append``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common.images import PhotoPath
from jiedao.common.models import AppendOnly, EventLog
from jiedao.org.models import Community, Unit

USER = settings.AUTH_USER_MODEL


class Membership(models.Model):
    """A resident account belongs to one community (居民身份), optionally matched to a
    person of the registry (一户一档)."""

    user = models.OneToOneField(
        USER, on_delete=models.CASCADE, related_name="participation", verbose_name=_("居民账号")
    )
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    person = models.ForeignKey(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("一户一档人员"),
    )
    party_member = models.BooleanField(_("党员"), default=False)
    joined_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("社区居民")
        verbose_name_plural = _("社区居民")

    def __str__(self):
        return f"{self.user} · {self.community}"


# --- 居民议事 -----------------------------------------------------------------------------------


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("征集附议")
    QUALIFIED = "qualified", _("可以上会")
    SCHEDULED = "scheduled", _("已列入议程")
    ADOPTED = "adopted", _("采纳")
    REJECTED = "rejected", _("不予采纳")
    STUDY = "study", _("需进一步研究")
    COMPLETED = "completed", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤回")


DECIDED_STATUSES = (ProposalStatus.ADOPTED, ProposalStatus.REJECTED, ProposalStatus.STUDY, ProposalStatus.COMPLETED)


class Proposal(models.Model):
    class Origin(models.TextChoices):
        RESIDENT = "resident", _("居民提出")
        OFFICIAL = "official", _("社区提出")
        CASE = "case", _("工单转议题")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    place = models.CharField(_("地点"), max_length=200, blank=True, default="")
    photo = models.ImageField(_("照片"), upload_to=PhotoPath("participation"), blank=True, db_index=True)
    origin = models.CharField(_("来源"), max_length=10, choices=Origin.choices, default=Origin.RESIDENT)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("关联工单")
    )
    proposer = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("提出人")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN, db_index=True
    )
    threshold = models.PositiveSmallIntegerField(_("上会所需附议数"))
    support_count = models.PositiveIntegerField(_("附议数"), default=0)
    created_at = models.DateTimeField(_("提出时间"), default=timezone.now, db_index=True)
    qualified_at = models.DateTimeField(_("达到上会条件时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True, db_index=True)
    answer = models.TextField(_("答复（公开）"), blank=True, default="")
    meeting = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("议事会")
    )

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def decided(self):
        return self.status in DECIDED_STATUSES


class Support(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="one_support_per_person")]


class ProposalEvent(EventLog, models.Model):
    """Append-only: every step of a proposal (who, when, from, to, why)."""

    subject = "proposal"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=10, blank=True, default="")
    to_status = models.CharField(_("新状态"), max_length=10, blank=True, default="")
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("说明"), max_length=500, blank=True, default="")
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("议题记录")
        verbose_name_plural = _("议题记录")
        ordering = ["at", "id"]


class CouncilMember(models.Model):
    """A member of the community's deliberation council (议事会成员)."""

    class Origin(models.TextChoices):
        SELF = "self", _("自荐")
        APPOINTED = "appointed", _("推选/指定")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    origin = models.CharField(_("产生方式"), max_length=10, choices=Origin.choices)
    start = models.DateField(_("任期开始"))
    end = models.DateField(_("任期结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("议事会成员")
        verbose_name_plural = _("议事会成员")
        ordering = ["community", "name"]

    def __str__(self):
        return self.name


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("报名中")
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Meeting(models.Model):
    """协商议事会: an agenda of qualified proposals, seats to register for, attendance at
    the door and minutes (required to close)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    title = models.CharField(_("名称"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    place = models.CharField(_("地点"), max_length=200)
    seats = models.PositiveSmallIntegerField(_("居民席位"))
    status = models.CharField(
        _("状态"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED, db_index=True
    )
    minutes = models.TextField(_("会议纪要"), blank=True, default="")
    organiser = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("组织人")
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("协商议事会")
        verbose_name_plural = _("协商议事会")
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "proposal"], name="agenda_item_once")]


class Sector(models.TextChoices):
    RESIDENT = "resident", _("居民")
    COMMITTEE = "committee", _("社区两委")
    PROPERTY = "property", _("物业公司")
    BUSINESS = "business", _("驻区单位/商户")
    OTHER = "other", _("其他")


class Registration(models.Model):
    """A seat at a meeting: a resident who registered, or another participant added by staff."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    sector = models.CharField(_("身份"), max_length=10, choices=Sector.choices, default=Sector.RESIDENT)
    organisation = models.CharField(_("单位"), max_length=100, blank=True, default="")
    registered_at = models.DateTimeField(default=timezone.now)
    attended_at = models.DateTimeField(_("签到时间"), null=True, blank=True)

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=Q(user__isnull=False), name="one_registration_per_person"
            )
        ]


class MeetingEvent(EventLog, models.Model):
    """Append-only: every step of a meeting."""

    subject = "meeting"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=10, blank=True, default="")
    to_status = models.CharField(max_length=10, blank=True, default="")
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class Action(models.Model):
    """An adopted proposal becomes a tracked action (like an accountability board)."""

    class Status(models.TextChoices):
        ONGOING = "ongoing", _("推进中")
        COMPLETED = "completed", _("已完成")

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="action")
    owner_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位")
    )
    owner_name = models.CharField(_("责任人"), max_length=50)
    due = models.DateField(_("完成时限"), db_index=True)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ONGOING)
    evidence = models.TextField(_("完成情况"), blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("落实事项")
        verbose_name_plural = _("落实事项")
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="action_progress_at_most_100")]

    @property
    def on_time(self):
        if self.completed_at is None:
            return None
        return timezone.localdate(self.completed_at) <= self.due


class Milestone(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=100)
    due = models.DateField(_("计划日期"))
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]


class ActionEvent(EventLog, models.Model):
    """Append-only: the tracked item's arrangement, progress reports, completion and overdue reminders."""

    subject = "item"

    item = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    progress = models.PositiveSmallIntegerField(default=0)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class ResultRating(models.Model):
    """A resident's evaluation of a completed proposal (监督评价)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("意见"), max_length=300, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_rating_per_person"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_1_to_5"),
        ]


# --- 民生项目 -----------------------------------------------------------------------------------


class Survey(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    title = models.CharField(_("名称"), max_length=100)
    anonymous = models.BooleanField(_("匿名"), default=True)
    is_open = models.BooleanField(_("开放中"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("需求调查")
        verbose_name_plural = _("需求调查")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("问题"), max_length=200)
    choices = models.JSONField(_("选项"), default=list, blank=True)  # empty: a free-text answer
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Response(models.Model):
    """The answers; ``user`` is empty when the survey is anonymous."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answers = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)


class Respondent(models.Model):
    """Who has answered (kept apart from the answers so anonymity holds): one answer per resident."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="respondents")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "user"], name="one_answer_per_resident")]


class Need(models.Model):
    """居民需求清单."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    title = models.CharField(_("需求"), max_length=100)
    demand = models.PositiveIntegerField(_("提出人数"), default=1)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("居民需求")
        verbose_name_plural = _("居民需求清单")
        ordering = ["-demand", "title"]

    def __str__(self):
        return self.title


class Resource(models.Model):
    """社区资源清单."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    name = models.CharField(_("资源"), max_length=100)
    provider = models.CharField(_("提供方"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("社区资源")
        verbose_name_plural = _("社区资源清单")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProjectStatus(models.TextChoices):
    LIBRARY = "library", _("项目库")
    CANDIDATE = "candidate", _("候选投票")
    SELECTED = "selected", _("入选")
    NOT_SELECTED = "not_selected", _("未入选")
    DELIVERING = "delivering", _("服务中")
    DELIVERED = "delivered", _("已完成")


class Project(models.Model):
    """服务项目清单: a project matching needs with resources."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    title = models.CharField(_("项目"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    cost = models.PositiveIntegerField(_("预算（元）"))
    needs = models.ManyToManyField(Need, blank=True, related_name="projects", verbose_name=_("对应需求"))
    resources = models.ManyToManyField(Resource, blank=True, related_name="projects", verbose_name=_("使用资源"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.LIBRARY, db_index=True
    )
    votes = models.PositiveIntegerField(_("得票"), default=0)
    served = models.PositiveIntegerField(_("服务人次"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("民生项目")
        verbose_name_plural = _("民生项目")
        ordering = ["-votes", "title"]

    def __str__(self):
        return self.title


class ProjectEvent(EventLog, models.Model):
    """Append-only: every step of a project, from the library to delivery."""

    subject = "project"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True, default="")
    to_status = models.CharField(max_length=12, blank=True, default="")
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class VoteRound(models.Model):
    """The yearly vote on projects, with its rules."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    budget = models.PositiveIntegerField(_("总预算（元）"))
    min_choices = models.PositiveSmallIntegerField(_("每人至少选"), default=1)
    max_choices = models.PositiveSmallIntegerField(_("每人至多选"), default=3)
    candidates = models.ManyToManyField(Project, related_name="rounds", verbose_name=_("候选项目"))
    is_open = models.BooleanField(_("投票中"), default=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("项目投票")
        verbose_name_plural = _("项目投票")
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="one_vote_round_a_year")]


class Ballot(models.Model):
    round = models.ForeignKey(VoteRound, on_delete=models.CASCADE, related_name="ballots")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    projects = models.ManyToManyField(Project, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="one_ballot_per_person")]


# --- 志愿服务 -----------------------------------------------------------------------------------


class Volunteer(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", _("居民志愿者")
        PARTY = "party", _("双报到党员")
        TEAM = "team", _("驻区单位志愿队")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    user = models.OneToOneField(USER, null=True, blank=True, on_delete=models.CASCADE, related_name="volunteer")
    name = models.CharField(_("姓名/队名"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.RESIDENT)
    organisation = models.CharField(_("所在单位/党组织"), max_length=100, blank=True, default="")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Activity(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    title = models.CharField(_("活动"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    place = models.CharField(_("地点"), max_length=200, blank=True, default="")
    capacity = models.PositiveSmallIntegerField(_("名额"), default=20)
    points_per_hour = models.PositiveSmallIntegerField(_("每小时积分"), default=10)
    organiser = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title


class SignUp(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="signups")
    signed_at = models.DateTimeField(default=timezone.now)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    hours = models.DecimalField(_("核定时长（小时）"), max_digits=5, decimal_places=1, null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True, db_index=True)
    verified_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "volunteer"], name="one_signup_per_volunteer")]


# --- 积分 (double entry) ---------------------------------------------------------------------------


class Account(models.Model):
    class Kind(models.TextChoices):
        ISSUING = "issuing", _("社区积分发行账户")
        RESIDENT = "resident", _("居民积分账户")
        REDEEMED = "redeemed", _("已兑换积分账户")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    balance = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0) | Q(kind="issuing"), name="points_never_negative"),
            models.UniqueConstraint(fields=["user"], condition=Q(user__isnull=False), name="one_account_per_person"),
            models.UniqueConstraint(
                fields=["community", "kind"], condition=~Q(kind="resident"), name="one_system_account_per_community"
            ),
        ]


class Posting(AppendOnly, models.Model):
    """One movement of points: its entries sum to zero."""

    class Kind(models.TextChoices):
        EARN = "earn", _("获得")
        SPEND = "spend", _("兑换")
        TRANSFER = "transfer", _("转赠")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(_("事由"), max_length=200)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reward = models.ForeignKey("Reward", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]


class Entry(AppendOnly, models.Model):
    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()  # + into the account, − out of it

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_not_zero")]


class PointRule(models.Model):
    """The configurable acts that earn points (积分规则)."""

    code = models.CharField(max_length=20, unique=True)
    label = models.CharField(_("事项"), max_length=100)
    points = models.PositiveIntegerField(_("积分"))

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")

    def __str__(self):
        return f"{self.label} +{self.points}"


class Reward(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    name = models.CharField(_("名称"), max_length=100)
    cost = models.PositiveIntegerField(_("所需积分"))
    stock = models.PositiveIntegerField(_("库存"), default=0)

    class Meta:
        verbose_name = _("积分兑换物品")
        verbose_name_plural = _("积分兑换目录")
        ordering = ["cost", "name"]

    def __str__(self):
        return self.name


class TimeBankEntry(AppendOnly, models.Model):
    """时间银行: hours deposited from verified service, drawn as services received."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(max_digits=6, decimal_places=1)  # + deposit, − draw
    note = models.CharField(_("说明"), max_length=200)
    signup = models.OneToOneField(SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
