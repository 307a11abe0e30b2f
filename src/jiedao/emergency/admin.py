import secrets

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from .models import (
    Agreement,
    Alert,
    CallOff,
    CareCheck,
    Depot,
    Device,
    Drill,
    DutyShift,
    Emergency,
    EmergencyEvent,
    Movement,
    Post,
    Rule,
    Stock,
    Training,
)
from .services import hash_token


class EventInline(admin.TabularInline):
    model = EmergencyEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_status", "to_status", "actor", "note", "at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Emergency)
class EmergencyAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "kind", "level", "status", "reported_at")
    list_filter = ("status", "kind", "level")
    search_fields = ("number", "title")
    # State changes go through the services (with their events): read-only here.
    readonly_fields = (
        "status",
        "reported_at",
        "dispatched_at",
        "arrived_at",
        "engaged_at",
        "recovered_at",
        "closed_at",
    )
    inlines = [EventInline]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "grid", "owner", "active", "last_seen_at")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    exclude = ("token_hash", "state")
    actions = ["new_token"]

    def save_model(self, request, obj, form, change):
        token = None
        if not change or not obj.token_hash:
            token = secrets.token_urlsafe(24)
            obj.token_hash = hash_token(token)
        super().save_model(request, obj, form, change)
        if token:
            messages.warning(
                request,
                _("设备 %(code)s 的令牌（只显示这一次，请配置到设备上）：%(token)s")
                % {"code": obj.code, "token": token},
            )

    @admin.action(description="重新生成令牌")
    def new_token(self, request, queryset):
        for device in queryset:
            token = secrets.token_urlsafe(24)
            Device.objects.filter(pk=device.pk).update(token_hash=hash_token(token))
            messages.warning(
                request,
                _("设备 %(code)s 的令牌（只显示这一次，请配置到设备上）：%(token)s")
                % {"code": device.code, "token": token},
            )


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "device_kind",
        "trigger",
        "metric",
        "threshold",
        "duration_minutes",
        "level",
        "outcome",
        "active",
    )
    list_filter = ("device_kind", "level", "outcome")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "level", "status", "message")
    list_filter = ("level", "status", "source")
    readonly_fields = ("subject", "status", "case", "emergency", "decided_at", "decided_by")


class StockInline(admin.TabularInline):
    model = Stock
    extra = 0
    readonly_fields = ("quantity",)  # changed only through the ledger


@admin.register(Depot)
class DepotAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "address")
    inlines = [StockInline]


@admin.register(Movement)
class MovementAdmin(admin.ModelAdmin):
    list_display = ("at", "stock", "kind", "quantity", "balance", "by")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


admin.site.register(Post)
admin.site.register(Agreement)
admin.site.register(CallOff)
admin.site.register(Drill)
admin.site.register(Training)
admin.site.register(CareCheck)


@admin.register(DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    """值班表. The roster page (应急管理 → 值班表) checks overlaps and who may be on duty; here
    the administrators correct a shift."""

    list_display = ("person", "position", "starts_at", "ends_at", "note")
    list_filter = ("position",)
    search_fields = ("person__username", "person__display_name", "note")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("person",)
    readonly_fields = ("created_by",)
