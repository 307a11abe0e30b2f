from django.contrib import admin

from .models import DutyItem, DutyVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is never edited: changes go through the import page or the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DutyItem)
class DutyItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "current")
    search_fields = ("code", "current__name")


@admin.register(DutyVersion)
class DutyVersionAdmin(ReadOnlyAdmin):
    list_display = (
        "item",
        "number",
        "name",
        "list_type",
        "level",
        "responsible_unit",
        "status",
        "effective_from",
        "changed_at",
        "changed_by",
        "approval_doc",
    )
    list_filter = ("list_type", "level", "power_type", "status")
    search_fields = ("item__code", "name", "basis_statute")
