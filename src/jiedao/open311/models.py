"""Open interfaces: Open311 client keys and the requests they sent, the attributes a
service asks for, and outgoing webhooks with their deliveries."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.cases.models import Case, CaseEvent, Category
from jiedao.common.crypto import EncryptedTextField


class ApiKey(models.Model):
    """A key issued to one client system (a city platform, an app). Only a hash is stored;
    the key acts through its own service account, which appears as 登记人 on its cases."""

    name = models.CharField(_("客户端名称"), max_length=80, unique=True)
    prefix = models.CharField(
        _("密钥前缀"), max_length=12, editable=False, help_text=_("密钥的前几位，用来辨认是哪一把密钥。")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("服务账号")
    )
    auto_dispatch = models.BooleanField(
        _("受理后自动派单"),
        default=False,
        help_text=_("勾选后，经此密钥提交的诉求按派单规则和权责清单立即派单；没有匹配的单位时留待派单员处理。"),
    )
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 接口密钥")
        verbose_name_plural = _("Open311 接口密钥")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ServiceAttribute(models.Model):
    """An extra question a service (a leaf category) asks when a request is posted,
    published in the service definition (Open311 ``attributes``)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("短文本")
        NUMBER = "number", _("数字")
        DATETIME = "datetime", _("日期时间")
        TEXT = "text", _("长文本")
        SINGLE = "singlevaluelist", _("单选")
        MULTI = "multivaluelist", _("多选")

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="open311_attributes", verbose_name=_("分类（服务）")
    )
    code = models.CharField(_("代码"), max_length=40, help_text=_("提交时的参数名为 attribute[代码]。"))
    description = models.CharField(_("附加问题"), max_length=200)
    datatype = models.CharField(_("类型"), max_length=20, choices=Datatype.choices, default=Datatype.SINGLE)
    datatype_description = models.CharField(_("类型说明"), max_length=200, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    variable = models.BooleanField(_("需要填写"), default=True, help_text=_("不勾选时只是一段说明，不需要填写。"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    values_text = models.TextField(
        _("选项"), blank=True, help_text=_("单选、多选的选项，每行一个：代码=名称，例如 road=道路。")
    )

    class Meta:
        verbose_name = _("服务附加问题")
        verbose_name_plural = _("服务附加问题")
        ordering = ["category", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="uniq_open311_attribute_code")]

    def __str__(self):
        return f"{self.category.code} {self.code}"

    @property
    def values(self):
        """The options as ``[(key, name), …]``."""
        options = []
        for line in self.values_text.splitlines():
            line = line.strip()
            if not line:
                continue
            key, sep, name = line.partition("=")
            options.append((key.strip(), (name if sep else key).strip()))
        return options


class Open311Request(models.Model):
    """What an Open311 client sent with a case beyond the case's own fields, and the
    token it can look the case up by."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="open311", verbose_name=_("工单"))
    token = models.CharField(max_length=40, unique=True)
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="requests", verbose_name=_("接口密钥"))
    account_id = models.CharField(max_length=100, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    email = EncryptedTextField(_("电子邮箱"), blank=True, default="")
    media_url = models.URLField(max_length=500, blank=True)
    address_id = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 提交记录")
        verbose_name_plural = _("Open311 提交记录")


class ExternalUpdate(models.Model):
    """An update on a case posted by a client (``POST servicerequestupdates``): recorded
    on the case's event log; the status it names is kept, not applied."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="updates")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    event = models.OneToOneField(CaseEvent, on_delete=models.PROTECT, related_name="+")
    client_update_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=40)
    description = models.TextField(blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    updated_datetime = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("外部系统更新")
        verbose_name_plural = _("外部系统更新")
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "client_update_id"],
                condition=~models.Q(client_update_id=""),
                name="uniq_open311_client_update",
            ),
        ]


class Webhook(models.Model):
    """An outgoing webhook: the events of the case loop are POSTed to ``url``, signed
    with HMAC-SHA256 under ``secret``."""

    name = models.CharField(_("名称"), max_length=80)
    url = models.URLField(_("接收地址"), max_length=500)
    events = models.JSONField(_("订阅的事件"), default=list, blank=True, help_text=_("留空表示全部事件。"))
    secret = EncryptedTextField(
        _("签名密钥"), blank=True, default="", help_text=_("留空则自动生成。接收方用它校验 X-Jiedao-Signature。")
    )
    active = models.BooleanField(_("启用"), default=True)
    max_attempts = models.PositiveSmallIntegerField(_("最多尝试次数"), default=8)
    # The last case event turned into deliveries for this webhook; None: start from the
    # events written after the webhook was registered.
    cursor = models.BigIntegerField(null=True, blank=True, editable=False)
    # The last case event written before the webhook was registered: never sent.
    since = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhook 推送")
        verbose_name_plural = _("Webhook 推送")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Delivery(models.Model):
    """One event sent (or to be sent) to one webhook, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("已放弃")

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("Webhook 推送")
    )
    event = models.CharField(_("推送事件"), max_length=40)
    case_event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(_("推送内容"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_try_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_tried_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.CharField(_("响应内容（节选）"), max_length=500, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_try_at"], name="open311_delivery_due")]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "case_event", "event"], name="uniq_open311_delivery_per_event")
        ]

    def __str__(self):
        return f"{self.event} → {self.webhook}"


class Upstream(models.Model):
    """A district or city platform this street works for: an Open311 GeoReport v2 server whose
    requests for our jurisdiction are pulled as cases (``upstreams.sync``), and to which the
    steps taken on them are posted back as updates through the outbox (channel ``open311``)."""

    name = models.CharField(_("平台名称"), max_length=80, unique=True)
    base_url = models.URLField(
        _("接口地址"),
        max_length=300,
        help_text=_("对方 Open311 GeoReport v2 的地址，例如 https://12345.example.gov.cn/open311/v2"),
    )
    api_key = EncryptedTextField(
        _("接口密钥"), blank=True, default="", help_text=_("对方发给本街道的 api_key，加密保存。修改时留空表示不变。")
    )
    jurisdiction_id = models.CharField(
        _("辖区代码"),
        max_length=40,
        blank=True,
        help_text=_("对方平台上本街道的 jurisdiction_id；对方只有一个辖区时可不填。"),
    )
    enabled = models.BooleanField(_("启用"), default=True)
    auto_dispatch = models.BooleanField(
        _("拉取后自动派单"), default=False, help_text=_("勾选后，拉取的工单按派单规则和权责清单立即派单。")
    )
    interval_minutes = models.PositiveSmallIntegerField(
        _("同步间隔（分钟）"), default=5, help_text=_("后台任务每隔这么多分钟拉取一次新工单。")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        verbose_name=_("服务账号"),
    )
    # The end of the last window read in full: the next pull asks from here (less a margin).
    last_synced_at = models.DateTimeField(_("已同步至"), null=True, blank=True, editable=False)
    last_run_at = models.DateTimeField(_("最近同步"), null=True, blank=True, editable=False)
    last_ok = models.BooleanField(_("最近同步成功"), null=True, editable=False)
    last_result = models.TextField(_("最近同步结果"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("上级平台")
        verbose_name_plural = _("上级平台（市/区 12345）")
        ordering = ["name"]

    def __str__(self):
        return self.name


class UpstreamCase(models.Model):
    """A case pulled from an upstream platform, under the platform's own request id."""

    upstream = models.ForeignKey(Upstream, on_delete=models.PROTECT, related_name="cases", verbose_name=_("上级平台"))
    request_id = models.CharField(_("上级平台工单号"), max_length=100)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="upstream_link", verbose_name=_("工单"))
    created_at = models.DateTimeField(_("拉取时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("上级平台工单")
        verbose_name_plural = _("上级平台工单")
        constraints = [
            models.UniqueConstraint(fields=["upstream", "request_id"], name="uniq_open311_upstream_case"),
        ]

    def __str__(self):
        return f"{self.upstream} {self.request_id}"
