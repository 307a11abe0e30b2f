"""Messages to people: one ``Notification`` row per recipient — a person or a unit (every
member of the unit sees it) — written only by ``services.notify``. A message may lead to a
page (``link``, a path such as ``/cases/JD2026112200017/``), so this app knows no domain
app's models."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common.models import AppendOnly
from jiedao.org.models import Unit


class Notification(models.Model):
    """An in-app message to a unit or a person (e.g. a case turning yellow or red)."""

    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True)  # a page of this site, e.g. /cases/JD2026112200017/
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at"]


# --- the outbox: messages that leave the site -------------------------------------------------
# Channel codes and their Chinese names; the classes are in ``channels`` (one per protocol).
CHANNEL_CHOICES = [
    ("email", _("电子邮件")),
    ("wecom", _("企业微信群机器人")),
    ("dingtalk", _("钉钉群机器人")),
    ("sms_http", _("短信（短信网关）")),
    ("sms_tencent", _("短信（腾讯云）")),
    ("open311", _("市/区平台（Open311）")),
]


class OutboxMessage(models.Model):
    """One message to one address of one channel, written by ``notify`` in the transaction of the
    notification, and sent by the worker (``outbox.send_due``) with retries. ``key`` is the
    message's own id, the same on every attempt: an e-mail's Message-ID, a provider's dedup id.

    ``next_attempt_at``: when a queued message is due; while a worker sends it ("sending"), the
    end of that worker's lease — a message still sending after it is taken up again."""

    class State(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("渠道"), max_length=20, choices=CHANNEL_CHOICES)
    address = models.CharField(_("地址"), max_length=254)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    text = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=300, blank=True)
    mentions = models.JSONField(_("提醒的手机号"), default=list, blank=True)
    template = models.CharField(_("短信模板"), max_length=60, blank=True)
    params = models.JSONField(_("模板参数"), default=list, blank=True)
    key = models.CharField(_("消息编号"), max_length=32, unique=True)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox", verbose_name=_("消息")
    )
    kind = models.CharField(_("消息类型"), max_length=20)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_code = models.CharField(_("最近返回码"), max_length=40, blank=True)
    last_answer = models.CharField(_("最近答复"), max_length=500, blank=True)
    provider_id = models.CharField(_("服务商编号"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    # Held for a digest: sent with the other held messages of the address as one (``merged_into``
    # the one that carried them).
    held = models.BooleanField(_("等待汇总"), default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("并入")
    )
    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="messaging_outbox_due"),
            models.Index(fields=["sent_at"], name="messaging_outbox_sent"),
            models.Index(fields=["failed_at"], name="messaging_outbox_failed"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.address}"


class OutboxAttempt(AppendOnly, models.Model):
    """One attempt to send a message, an administrator's 重新发送 (``action`` "resend", with
    who), or the provider's delivery report (``action`` "receipt"): history, never changed."""

    class Action(models.TextChoices):
        SEND = "send", _("发送")
        RESEND = "resend", _("重新发送")
        RECEIPT = "receipt", _("送达回执")

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_log")
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices, default=Action.SEND)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    ok = models.BooleanField(_("成功"), default=False)
    code = models.CharField(_("返回码"), max_length=40, blank=True)
    answer = models.CharField(_("答复"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["id"]


class DeliveryRule(models.Model):
    """Who is told how: a notification of ``kind`` also goes out through ``channel`` — to each
    member of the unit it names (``to_members``) and to the person it names (``to_person``)."""

    kind = models.CharField(_("消息类型"), max_length=20, help_text=_("如 dispatch（派单）、sla_red（超期）。"))
    channel = models.CharField(_("渠道"), max_length=20, choices=CHANNEL_CHOICES)
    to_members = models.BooleanField(
        _("发给单位"), default=True, help_text=_("消息发给单位时，发给单位成员或单位的群。")
    )
    to_person = models.BooleanField(_("发给个人"), default=True)
    enabled = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("发送规则")
        verbose_name_plural = _("发送规则")
        ordering = ["kind", "channel"]
        constraints = [models.UniqueConstraint(fields=["kind", "channel"], name="uniq_messaging_rule")]

    def __str__(self):
        return f"{self.kind} → {self.get_channel_display()}"


class UnitChannel(models.Model):
    """A unit's group on a group-robot channel: messages to the unit go to the robot named
    ``robot`` in the channel's settings."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="channels", verbose_name=_("承办单位"))
    channel = models.CharField(_("渠道"), max_length=20, choices=CHANNEL_CHOICES)
    robot = models.CharField(_("机器人名称"), max_length=60)
    enabled = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位消息群")
        verbose_name_plural = _("单位消息群")
        ordering = ["unit", "channel"]
        constraints = [models.UniqueConstraint(fields=["unit", "channel"], name="uniq_messaging_unit_channel")]

    def __str__(self):
        return f"{self.unit} · {self.get_channel_display()}"


class MessageTemplate(models.Model):
    """What a kind of message says when it leaves the site (``wording``: its variables and the
    text it has until changed here). ``sms_template_id``: the template approved by an SMS provider
    that needs one (腾讯云), its parameters the variables in order of appearance."""

    kind = models.CharField(_("消息类型"), max_length=30, unique=True)
    text = models.TextField(_("内容模板"))
    sms_template_id = models.CharField(_("短信模板编号"), max_length=40, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False, help_text=_("紧急消息在免打扰时段也立即发送，不汇总。"))
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["kind"]

    def __str__(self):
        return self.kind


class ChannelPreference(models.Model):
    """A person's choice of channel: with ``enabled`` off, nothing is sent to them through it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_preferences")
    channel = models.CharField(_("渠道"), max_length=20, choices=CHANNEL_CHOICES)
    enabled = models.BooleanField(_("接收"), default=True)

    class Meta:
        verbose_name = _("接收方式")
        verbose_name_plural = _("接收方式")
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="uniq_messaging_preference")]


class ResidentContact(models.Model):
    """A resident's mobile as the outbox knows it: by its blind index only (never the number),
    with the short code of their 退订 link and when they opted out."""

    phone_index = models.CharField(max_length=64, unique=True)
    code = models.CharField(_("退订码"), max_length=16, unique=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    opted_out_at = models.DateTimeField(_("退订时间"), null=True, blank=True)
    opted_in_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("居民短信联系")
        verbose_name_plural = _("居民短信联系")
