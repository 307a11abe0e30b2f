"""Admin for the organisation tree (区/街道/社区/网格), handling units, users and API tokens, and
the admin's sign-in form (``forms.AdminSignInForm``)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from jiedao.common.admin import ReadOnlyAdmin
from jiedao.common.audit import log_unmasked_view
from jiedao.common.masking import mask_phone

from .forms import AdminSignInForm
from .models import ApiToken, Community, District, Grid, Street, Unit, User
from .roles import ROLE_LABELS

admin.site.login_form = AdminSignInForm  # a user name longer than any account's is refused as typed


class StreetInline(admin.TabularInline):
    model = Street
    fields = ("code", "name")
    extra = 0
    show_change_link = True


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [StreetInline]


class CommunityInline(admin.TabularInline):
    model = Community
    fields = ("code", "name")
    extra = 0
    show_change_link = True


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "district", "default_unit")
    list_select_related = ("district", "default_unit")
    search_fields = ("code", "name")
    autocomplete_fields = ("default_unit",)
    inlines = [CommunityInline]


class GridInline(admin.TabularInline):
    """The grids of a community, one row each; boundaries are edited on the grid's own page."""

    model = Grid
    fields = ("code", "name", "has_boundary")
    readonly_fields = ("has_boundary",)
    extra = 0
    show_change_link = True

    @admin.display(description=_("已绘制边界"), boolean=True)
    def has_boundary(self, obj):
        return bool(obj.boundary)


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "street", "grid_count")
    list_filter = ("street",)
    list_select_related = ("street",)
    search_fields = ("code", "name")
    inlines = [GridInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_grid_count=Count("grids"))

    @admin.display(description=_("网格数"), ordering="_grid_count")
    def grid_count(self, obj):
        return obj._grid_count


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community", "has_boundary")
    list_filter = ("community",)
    list_select_related = ("community",)
    search_fields = ("code", "name", "community__name")
    autocomplete_fields = ("community",)

    @admin.display(description=_("已绘制边界"), boolean=True)
    def has_boundary(self, obj):
        return bool(obj.boundary)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "community", "head", "active", "member_count")
    list_filter = ("kind", "active", "street")
    list_editable = ("active",)
    list_select_related = ("community", "head")
    search_fields = ("code", "name")
    autocomplete_fields = ("community",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # 负责人: chosen among the people of the unit being edited (none before it is saved).
        if db_field.name == "head":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            unit_id = int(object_id) if str(object_id or "").isdigit() else None
            people = User.objects.filter(unit_id=unit_id, is_active=True) if unit_id else User.objects.none()
            kwargs["queryset"] = people.order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("人员数"), ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin with the street's fields; groups are the roles (角色)."""

    list_display = ("username", "display_name", "masked_phone", "street", "unit", "roles", "is_active", "last_login")
    list_filter = ("groups", "street", "unit", "is_active", "is_superuser")
    list_select_related = ("street", "unit")
    search_fields = ("username", "display_name")
    ordering = ("username",)
    filter_horizontal = ("groups", "grids", "user_permissions")
    autocomplete_fields = ("unit", "street", "district")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("display_name", "phone", "email")}),
        (_("所属单位与角色"), {"fields": ("street", "district", "unit", "groups", "grids")}),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions"), "classes": ("collapse",)},
        ),
        (_("登录记录"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "password1", "password2", "display_name", "phone", "street", "unit", "groups"),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("角色"))
    def roles(self, obj):
        labels = [str(ROLE_LABELS[g.name]) for g in obj.groups.all() if g.name in ROLE_LABELS]
        if obj.is_superuser and "admin" not in {g.name for g in obj.groups.all()}:
            labels.append(str(ROLE_LABELS["admin"]))
        return "、".join(labels)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            field.label = _("角色")
            field.help_text = _("用户的角色决定能看到和办理哪些工单。")
        return field

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The form shows the phone number in full: record who looked at it (访问审计).
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None and obj.phone:
                log_unmasked_view(request.user, obj, ["phone"], purpose="admin")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are issued through POST /api/v1/auth/token; here they can be seen and revoked."""

    list_display = ("user", "created_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    exclude = ("key_hash",)

    def has_delete_permission(self, request, obj=None):
        # Deleting a token revokes it.
        return request.user.is_active and request.user.is_superuser


# Roles are groups named by role code; show them with their Chinese label.
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "label", "member_count")
    search_fields = ("name",)
    filter_horizontal = ("permissions",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("user"))

    @admin.display(description=_("角色"))
    def label(self, obj):
        return ROLE_LABELS.get(obj.name, "")

    @admin.display(description=_("人员数"), ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count
