"""Admin of the grid team, patrol check-ins, the boundaries of streets and communities and the
base map's roads and places."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiedao.common.masking import mask_phone

from .models import CommunityArea, GridMember, MapFeature, PatrolCheckIn, StreetArea


@admin.register(GridMember)
class GridMemberAdmin(admin.ModelAdmin):
    list_display = ("grid", "role", "member_name", "masked_phone", "buildings", "active")
    list_filter = ("role", "active", "grid__community")
    list_select_related = ("grid", "grid__community", "user")
    search_fields = ("grid__code", "grid__name", "name", "user__username", "user__display_name", "buildings")
    autocomplete_fields = ("grid", "user")
    fieldsets = (
        (None, {"fields": ("grid", "role", "active", "since")}),
        (
            _("成员"),
            {
                "fields": ("user", "name", "phone", "buildings"),
                "description": _("有系统账号的网格员选择账号；没有账号的楼门长填写姓名和电话。"),
            },
        ),
    )

    @admin.display(description=_("姓名"))
    def member_name(self, obj):
        return obj.display_name

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


@admin.register(PatrolCheckIn)
class PatrolCheckInAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "kind", "grid", "inside", "lat", "lng", "note")
    list_filter = ("kind", "inside", "grid__community")
    list_select_related = ("user", "grid")
    date_hierarchy = "at"
    search_fields = ("user__username", "user__display_name", "grid__code", "note")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CommunityArea)
class CommunityAreaAdmin(admin.ModelAdmin):
    list_display = ("community", "updated_at")
    list_select_related = ("community",)
    readonly_fields = ("updated_at",)


@admin.register(StreetArea)
class StreetAreaAdmin(admin.ModelAdmin):
    list_display = ("street", "updated_at")
    list_select_related = ("street",)
    readonly_fields = ("updated_at",)


@admin.register(MapFeature)
class MapFeatureAdmin(admin.ModelAdmin):
    """The base map's roads and places: their positions come from a base-map file (see the
    grids documentation); here a name can be corrected or a row removed."""

    list_display = ("name", "kind", "street", "updated_at")
    list_filter = ("kind", "street")
    list_select_related = ("street",)
    search_fields = ("name",)
    fields = ("street", "kind", "name", "geometry", "updated_at")
    readonly_fields = ("street", "kind", "geometry", "updated_at")

    def has_add_permission(self, request):
        return False
