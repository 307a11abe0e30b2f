"""Admin for the shared tables, and the admin site's titles and read-only helpers."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AccessLog, SearchTerm

admin.site.site_header = _("街道 Jiedao 管理后台")
admin.site.site_title = _("街道 Jiedao 管理后台")
admin.site.index_title = _("系统管理")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the system writes (logs, records of what happened): view, never edit.

    Add, change and delete are refused for everybody, superusers included, so the
    admin cannot become a side door around the services and their event log.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "object_type", "object_id", "fields", "purpose")
    list_filter = ("object_type",)
    search_fields = ("user__username", "object_id", "purpose")
    list_select_related = ("user",)
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(SearchTerm)
class SearchTermAdmin(admin.ModelAdmin):
    """The search vocabulary: an administrator adds the words residents and staff use and
    what they stand for; every search (categories, the hall's catalogue, the responsibility
    list) uses it at once."""

    list_display = ("word", "terms", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("word", "terms")
    list_editable = ("terms", "active")
