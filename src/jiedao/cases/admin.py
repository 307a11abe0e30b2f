"""Admin for categories, routing rules and (read-only) cases and what hangs off them.

Categories and routing rules are configuration: administrators edit them here.
Cases, their events, ratings, extensions and whistles change only through the
services (pages and API), which check the state machine and write the event log;
the admin shows them and never edits or deletes them.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jiedao.common.admin import ReadOnlyAdmin, ReadOnlyInline
from jiedao.common.masking import mask_address, mask_name, mask_phone

from . import states
from .models import (
    Case,
    CaseEvent,
    Category,
    Extension,
    Rating,
    RoutingRule,
    Supervision,
    Whistle,
    WhistleSummons,
)

INDENT = "\u3000\u3000"  # two ideographic spaces per level


class ChildCategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = (
        "code",
        "name",
        "level",
        "response_hours",
        "completion_workdays",
        "office_hours_only",
        "needs_verification",
        "active",
    )
    extra = 0
    show_change_link = True
    verbose_name = _("下级分类")
    verbose_name_plural = _("下级分类")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The 3-level tree, listed in code order (codes nest: 01 → 0101 → 010101)."""

    list_display = (
        "code",
        "tree_name",
        "parent",
        "level",
        "response_hours",
        "completion_workdays",
        "office_hours_only",
        "needs_verification",
        "is_dispute",
        "active",
    )
    list_display_links = ("code", "tree_name")
    list_editable = (
        "response_hours",
        "completion_workdays",
        "office_hours_only",
        "needs_verification",
        "is_dispute",
        "active",
    )
    list_filter = ("level", "active", "needs_verification", "office_hours_only", "is_dispute")
    list_select_related = ("parent__parent",)
    search_fields = ("code", "name")
    ordering = ("code",)
    list_per_page = 100
    autocomplete_fields = ("parent",)
    inlines = [ChildCategoryInline]

    @admin.display(description=_("名称"), ordering="name")
    def tree_name(self, obj):
        return INDENT * max(0, obj.level - 1) + obj.name


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "priority", "category", "community", "grid", "unit", "active")
    list_editable = ("priority", "active")
    list_filter = ("active", "unit", "community")
    list_select_related = ("category__parent__parent", "community", "grid__community", "unit")
    search_fields = ("name", "category__name", "category__code", "unit__name")
    ordering = ("priority", "id")
    autocomplete_fields = ("category", "community", "grid", "unit")


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("seq", "at", "action_label", "from_status", "to_status", "actor", "unit", "note")
    readonly_fields = fields
    ordering = ("seq",)
    verbose_name = _("流转记录")
    verbose_name_plural = _("流转记录（时间线）")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "unit")

    @admin.display(description=_("动作"))
    def action_label(self, obj):
        return states.action_label(obj.action)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """工单: view only. Every change goes through the services so that it is logged."""

    list_display = (
        "number",
        "status",
        "channel",
        "category",
        "unit",
        "urgency_badge",
        "supervised",
        "created_at",
        "completion_due",
    )
    list_filter = ("status", "urgency", "channel", "supervised", "sensitive", "unit")
    list_select_related = ("category__parent__parent", "unit")
    search_fields = ("number",)
    ordering = ("-created_at",)
    show_full_result_count = False
    list_per_page = 50
    # Personal data appears masked; the case page in the app shows it to those allowed.
    exclude = ("reporter_name", "reporter_phone", "reporter_phone_index", "address")
    readonly_fields = ("masked_reporter_name", "masked_reporter_phone", "masked_address")
    inlines = [CaseEventInline]

    @admin.display(description=_("时限状态"), ordering="urgency")
    def urgency_badge(self, obj):
        colours = {"green": "#2e7d32", "yellow": "#b26a00", "red": "#c62828"}
        return format_html('<b style="color:{}">{}</b>', colours.get(obj.urgency, "#000"), obj.get_urgency_display())

    @admin.display(description=_("诉求人姓名"))
    def masked_reporter_name(self, obj):
        return mask_name(obj.reporter_name)

    @admin.display(description=_("联系电话"))
    def masked_reporter_phone(self, obj):
        return mask_phone(obj.reporter_phone)

    @admin.display(description=_("地址"))
    def masked_address(self, obj):
        return mask_address(obj.address)


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    """The append-only event log: no add, change or delete, for anybody."""

    list_display = ("case", "seq", "at", "action_label", "from_status", "to_status", "actor", "unit")
    list_filter = ("action",)
    list_select_related = ("case", "actor", "unit")
    search_fields = ("case__number",)
    ordering = ("-at",)
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=_("动作"), ordering="action")
    def action_label(self, obj):
        return states.action_label(obj.action)


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("case", "round", "unit", "resolved", "satisfaction", "source", "rated_at")
    list_filter = ("resolved", "satisfaction", "source", "unit")
    list_select_related = ("case", "unit")
    search_fields = ("case__number",)
    ordering = ("-rated_at",)
    show_full_result_count = False


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ("case", "extra_workdays", "requested_by", "requested_at", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
    list_select_related = ("case", "requested_by", "decided_by")
    search_fields = ("case__number",)
    ordering = ("-requested_at",)


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = ("case", "unit", "issued_by", "issued_at", "due", "replied_at", "escalated_at")
    list_filter = ("unit",)
    list_select_related = ("case", "unit", "issued_by")
    search_fields = ("case__number",)
    ordering = ("-issued_at",)


class WhistleSummonsInline(ReadOnlyInline):
    model = WhistleSummons
    fields = ("unit", "reported_at", "reported_by", "part")
    readonly_fields = fields


@admin.register(Whistle)
class WhistleAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "blown_by", "blown_at", "report_due", "reported")
    list_filter = ("kind",)
    list_select_related = ("case", "blown_by")
    search_fields = ("case__number",)
    ordering = ("-blown_at",)
    inlines = [WhistleSummonsInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("summonses")

    @admin.display(description=_("已报到/召集"))
    def reported(self, obj):
        summonses = list(obj.summonses.all())
        return f"{sum(1 for s in summonses if s.reported_at)}/{len(summonses)}"
