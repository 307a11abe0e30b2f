from django.contrib import admin

from .models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "seen_at", "host", "pid")
    readonly_fields = ("name", "seen_at", "host", "pid")

    def has_add_permission(self, request):
        return False
