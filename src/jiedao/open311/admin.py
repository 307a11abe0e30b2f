"""Admin for Open311 keys, service attributes, webhooks and their delivery history, and the
upstream platforms (市/区 12345) this street pulls its cases from.

A key is issued when it is added here: the plain key is shown once in the message at
the top of the page and only its hash is kept. Deliveries are records of what was
sent: they are read-only, with an action to send them again."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jiedao.common.admin import ReadOnlyAdmin

from . import services, upstreams
from .models import (
    ApiKey,
    Delivery,
    ExternalUpdate,
    Open311Request,
    ServiceAttribute,
    Upstream,
    UpstreamCase,
    Webhook,
)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "active", "auto_dispatch", "created_at", "last_used_at", "user")
    list_filter = ("active", "auto_dispatch")
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "user", "created_at", "last_used_at")
    fields = ("name", "auto_dispatch", "active", "prefix", "user", "created_at", "last_used_at")
    list_select_related = ("user",)
    actions = ["reissue"]

    def has_delete_permission(self, request, obj=None):
        return False  # cases keep pointing at the key that sent them: deactivate instead

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        plain = services.issue_key(obj)
        messages.warning(request, _("新密钥（只显示这一次，请立即复制给客户端）：%(key)s") % {"key": plain})

    @admin.action(description=_("重新生成所选密钥（旧密钥立即失效）"))
    def reissue(self, request, queryset):
        for key in queryset:
            plain = services.issue_key(key)
            messages.warning(
                request, _("“%(name)s”的新密钥（只显示这一次）：%(key)s") % {"name": key.name, "key": plain}
            )


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "code", "description", "datatype", "required", "order")
    list_filter = ("datatype", "required")
    search_fields = ("code", "description", "category__code", "category__name")
    autocomplete_fields = ("category",)
    list_select_related = ("category__parent__parent",)


@admin.register(Open311Request)
class Open311RequestAdmin(ReadOnlyAdmin):
    list_display = ("case", "api_key", "token", "account_id", "created_at")
    list_filter = ("api_key",)
    search_fields = ("case__number", "token", "account_id")
    list_select_related = ("case", "api_key")
    exclude = ("email",)


@admin.register(ExternalUpdate)
class ExternalUpdateAdmin(ReadOnlyAdmin):
    list_display = ("case", "api_key", "status", "client_update_id", "updated_datetime", "created_at")
    list_filter = ("api_key", "status")
    search_fields = ("case__number", "client_update_id")
    list_select_related = ("case", "api_key")


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("订阅的事件"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(code, f"{code} {label}") for code, label in services.EVENT_LABELS.items()],
        help_text=_("不选表示全部事件。"),
    )
    secret = forms.CharField(
        label=_("签名密钥"),
        required=False,
        max_length=200,
        help_text=_("留空则自动生成（修改时留空表示不变）。"),
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = Webhook
        fields = ("name", "url", "events", "secret", "active", "max_attempts")

    def clean_secret(self):
        value = self.cleaned_data.get("secret", "")
        if not value and self.instance.pk:
            return self.instance.secret
        return value


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("name", "url", "event_list", "active", "max_attempts", "history")
    list_filter = ("active",)
    search_fields = ("name", "url")

    def save_model(self, request, obj, form, change):
        new_secret = not obj.secret
        services.save_webhook(obj)
        if new_secret or "secret" in form.changed_data:
            messages.warning(
                request, _("签名密钥（只显示这一次，请交给接收方校验签名）：%(secret)s") % {"secret": obj.secret}
            )

    @admin.display(description=_("订阅的事件"))
    def event_list(self, obj):
        return ", ".join(obj.events) if obj.events else _("全部")

    @admin.display(description=_("推送记录"))
    def history(self, obj):
        url = reverse("admin:open311_delivery_changelist") + f"?webhook__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("查看"))


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "webhook",
        "event",
        "status",
        "attempts",
        "response_code",
        "next_try_at",
        "delivered_at",
        "error",
    )
    list_filter = ("status", "event", "webhook")
    search_fields = ("event", "webhook__name")
    list_select_related = ("webhook",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["send_again"]

    @admin.action(description=_("重新发送所选推送"))
    def send_again(self, request, queryset):
        count = services.retry_now(queryset)
        messages.success(request, _("已安排 %(n)d 条推送在下一轮重新发送。") % {"n": count})

    def get_actions(self, request):
        # ReadOnlyAdmin hides delete; the one action here only reschedules.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class UpstreamForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("接口地址"),
        max_length=300,
        assume_scheme="https",
        help_text=_("对方 Open311 GeoReport v2 的地址，例如 https://12345.example.gov.cn/open311/v2"),
    )
    api_key = forms.CharField(
        label=_("接口密钥"),
        required=False,
        max_length=200,
        help_text=_("对方发给本街道的 api_key，加密保存。修改时留空表示不变。"),
        widget=forms.PasswordInput(render_value=False),
    )
    interval_minutes = forms.IntegerField(
        label=_("同步间隔（分钟）"),
        min_value=1,
        max_value=1440,
        initial=5,
        help_text=_("后台任务每隔这么多分钟拉取一次新工单（1～1440）。"),
        error_messages={
            "min_value": _("同步间隔至少为1分钟。"),
            "max_value": _("同步间隔最多为1440分钟（一天）。"),
            "invalid": _("同步间隔请填写整数分钟。"),
        },
    )

    class Meta:
        model = Upstream
        fields = ("name", "base_url", "api_key", "jurisdiction_id", "enabled", "auto_dispatch", "interval_minutes")

    def clean_api_key(self):
        value = self.cleaned_data.get("api_key", "").strip()
        if not value and self.instance.pk:
            return self.instance.api_key
        if not value:
            raise forms.ValidationError(_("请填写接口密钥。"))
        return value


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    form = UpstreamForm
    list_display = (
        "name",
        "base_url",
        "jurisdiction_id",
        "enabled",
        "interval_minutes",
        "last_run_at",
        "last_ok",
        "status_page",
    )
    list_filter = ("enabled",)
    search_fields = ("name", "base_url")
    readonly_fields = ("user", "last_synced_at", "last_run_at", "last_ok", "last_result", "created_at")
    actions = ["sync_now"]

    def has_delete_permission(self, request, obj=None):
        return False  # pulled cases keep pointing at their platform: disable it instead

    def save_model(self, request, obj, form, change):
        upstreams.save_upstream(obj)  # the form has checked what the service would refuse

    @admin.display(description=_("同步情况"))
    def status_page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("open311:upstreams"), _("查看"))

    @admin.action(description=_("立即同步所选平台"))
    def sync_now(self, request, queryset):
        for upstream in queryset.select_related("user"):
            result = upstreams.sync(upstream)
            level = messages.ERROR if result.failed else messages.SUCCESS
            messages.add_message(request, level, f"{upstream.name}：{result.summary()}")


@admin.register(UpstreamCase)
class UpstreamCaseAdmin(ReadOnlyAdmin):
    list_display = ("request_id", "upstream", "case", "created_at")
    list_filter = ("upstream",)
    search_fields = ("request_id", "case__number")
    list_select_related = ("upstream", "case")
