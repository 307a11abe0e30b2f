"""Notifications in the admin: read-only, like every record of what happened."""

from django.contrib import admin

from jiedao.common.admin import ReadOnlyAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "unit", "user", "link", "message", "read_at")
    list_filter = ("kind", "unit")
    list_select_related = ("unit", "user")
    search_fields = ("message", "link")
    ordering = ("-created_at",)
    show_full_result_count = False
