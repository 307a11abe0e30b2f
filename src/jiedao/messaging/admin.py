"""Messaging in the admin: notifications and the outbox read-only, like every record of what
happened; the delivery rules and the units' groups kept by administrators."""

from django.contrib import admin

from jiedao.common.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import DeliveryRule, Notification, OutboxAttempt, OutboxMessage, UnitChannel


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "unit", "user", "link", "message", "read_at")
    list_filter = ("kind", "unit")
    list_select_related = ("unit", "user")
    search_fields = ("message", "link")
    ordering = ("-created_at",)
    show_full_result_count = False


class OutboxAttemptInline(ReadOnlyInline):
    model = OutboxAttempt
    fields = ("at", "action", "actor", "ok", "code", "answer", "duration_ms")
    readonly_fields = fields


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "channel", "state", "attempts", "next_attempt_at", "last_code", "sent_at")
    list_filter = ("state", "channel", "kind")
    search_fields = ("key", "provider_id")
    ordering = ("-id",)
    exclude = ("address",)
    show_full_result_count = False
    inlines = [OutboxAttemptInline]


@admin.register(DeliveryRule)
class DeliveryRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "channel", "to_members", "to_person", "enabled")
    list_editable = ("to_members", "to_person", "enabled")
    list_filter = ("channel", "enabled")
    search_fields = ("kind",)


@admin.register(UnitChannel)
class UnitChannelAdmin(admin.ModelAdmin):
    list_display = ("unit", "channel", "robot", "enabled")
    list_filter = ("channel", "enabled")
    list_select_related = ("unit",)
