"""一户一档 in the admin. The special-care tags are an editable list; the other records
are shown read-only with personal data masked, because every change of base data goes
through the services (sources, confirmation times, merge rules) and the import page."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common.errors import FieldErrors
from jiedao.common.masking import mask_id_number, mask_phone

from . import validation
from .models import (
    Building,
    CareTag,
    Enterprise,
    Facility,
    House,
    Household,
    ImportRun,
    MergeConflict,
    Person,
    PersonTag,
    Visit,
)
from .selectors import age_on
from .services import stamp_admin_change


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CareTag)
class CareTagAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order", "active", "description")
    list_editable = ("order", "active")
    search_fields = ("name", "code")

    def has_delete_permission(self, request, obj=None):
        # A tag in use is switched off (启用 = no), not deleted, so history keeps its meaning.
        return obj is None or not obj.person_tags.exists()


@admin.register(Building)
class BuildingAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "address", "community", "grid", "floors", "head", "confirmed_at")
    list_filter = ("community",)
    list_select_related = ("community", "grid__community", "head")
    search_fields = ("code", "name", "address")


@admin.register(House)
class HouseAdmin(ReadOnlyAdmin):
    list_display = ("building", "unit", "room", "floor", "use", "confirmed_at")
    list_select_related = ("building",)
    search_fields = ("building__code", "building__name", "room")


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("number", "house", "head", "confirmed_at")
    list_select_related = ("house__building", "head")
    search_fields = ("number",)


class PersonTagInline(admin.TabularInline):
    model = PersonTag
    extra = 0
    fields = ("tag", "added_at", "added_by", "source")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "gender",
        "masked_id_number",
        "masked_phone",
        "household",
        "relation",
        "status",
        "confirmed_at",
    )
    list_filter = ("status", "gender", "tags")
    list_select_related = ("household",)
    search_fields = ("name", "household__number")
    show_full_result_count = False
    # The birth date is eight of the identity number's hidden digits: the admin shows the age.
    exclude = ("id_number", "phone", "birth_date")
    readonly_fields = ("masked_id_number", "masked_phone", "age")
    inlines = [PersonTagInline]

    @admin.display(description=_("年龄"))
    def age(self, obj):
        return age_on(obj.birth_date, timezone.localdate())

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = (
            "name",
            "credit_code",
            "legal_representative",
            "industry",
            "address",
            "building",
            "grid",
            "contact_name",
        )

    def clean_credit_code(self):
        errors = FieldErrors()
        value = validation.check_credit_code(errors, "credit_code", self.cleaned_data.get("credit_code"))
        if errors:
            raise forms.ValidationError(errors.errors[0]["message"])
        return value


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    """Enterprises are kept here; the contact phone is set through the services only."""

    form = EnterpriseForm
    list_display = ("name", "credit_code", "legal_representative", "industry", "grid", "masked_phone", "confirmed_at")
    list_select_related = ("grid__community",)
    search_fields = ("name", "credit_code")
    readonly_fields = ("masked_phone",)

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return mask_phone(obj.contact_phone)

    def save_model(self, request, obj, form, change):
        stamp_admin_change(request.user, obj=obj, changed_fields=form.changed_data)
        super().save_model(request, obj, form, change)


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "name", "grid", "owner", "condition", "confirmed_at")
    list_filter = ("kind", "condition", "owner")
    list_select_related = ("grid__community", "owner")
    search_fields = ("code", "name")
    exclude = ("sources", "confirmed_at", "created_at")

    def save_model(self, request, obj, form, change):
        stamp_admin_change(request.user, obj=obj, changed_fields=form.changed_data)
        super().save_model(request, obj, form, change)


@admin.register(MergeConflict)
class MergeConflictAdmin(ReadOnlyAdmin):
    list_display = ("target", "field", "source", "created_at", "choice", "decided_by", "decided_at")
    list_filter = ("choice", "field")
    exclude = ("current_value", "incoming_value")


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("person", "worker", "at", "kind")
    list_filter = ("kind",)
    list_select_related = ("person", "worker")
    date_hierarchy = "at"


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "filename", "source", "user", "state", "total_rows")
    list_filter = ("kind", "state")
    exclude = ("stored_file",)
