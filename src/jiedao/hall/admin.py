from django.contrib import admin

from .models import (
    Appeal,
    Application,
    ApplicationEvent,
    Appointment,
    Bundle,
    Material,
    Rating,
    Rectification,
    ServiceItem,
    Ticket,
)


class MaterialInline(admin.TabularInline):
    model = Material
    extra = 0


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "item_type", "unit", "promised_days", "statutory_days", "online_depth", "active")
    list_filter = ("item_type", "group", "level", "active")
    search_fields = ("code", "basic_code", "name")
    inlines = [MaterialInline]


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    filter_horizontal = ("items",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Applications, events and ratings change only through the services (each step is an event)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ("number", "item", "bundle", "status", "channel", "mode", "unit", "visits", "submitted_at")
    list_filter = ("status", "channel", "mode")
    search_fields = ("number",)
    exclude = ("applicant_id", "applicant_phone", "applicant_id_index")


@admin.register(ApplicationEvent)
class ApplicationEventAdmin(ReadOnlyAdmin):
    list_display = ("application", "at", "action", "from_status", "to_status", "actor")
    list_filter = ("action",)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("day", "number", "priority", "status", "window", "taken_at", "called_at", "finished_at")
    list_filter = ("status", "group", "priority")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("application", "level", "channel", "at", "excluded")
    list_filter = ("level", "channel", "excluded")


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ("rating", "unit", "state", "due_at", "fixed_at", "callback_satisfied")


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("rating", "decision", "filed_at", "reviewed_at")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("starts_at", "item", "user", "state")
    list_filter = ("state",)
