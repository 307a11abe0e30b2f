from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import indicators as lib
from .models import (
    EvidenceScore,
    IndicatorSetting,
    Rectification,
    RectificationEvent,
    Result,
    Scheme,
    SchemeItem,
    Warning,
)
from .scoring import MIN_WEIGHT_SHARE, resident_share


class SchemeItemFormSet(forms.BaseInlineFormSet):
    """The scheme's indicators must exist and resident evaluation must carry at least half the weight."""

    def clean(self):
        super().clean()
        items = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            if lib.get(data.get("indicator")) is None:
                raise ValidationError(f"指标“{data.get('indicator')}”不在指标库中。")
            items.append((data["indicator"], data.get("weight") or 0))
        if not items:
            raise ValidationError("方案至少要有一个指标。")
        if resident_share(items) < MIN_WEIGHT_SHARE:
            raise ValidationError("群众评价（满意率、解决率、好差评）的权重合计应不少于一半。")


class SchemeItemInline(admin.TabularInline):
    model = SchemeItem
    formset = SchemeItemFormSet
    extra = 1


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "normalisation", "excellent_from", "pass_from", "active", "builtin")
    inlines = [SchemeItemInline]


@admin.register(IndicatorSetting)
class IndicatorSettingAdmin(admin.ModelAdmin):
    list_display = ("code", "baseline", "target", "note")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Result)
class ResultAdmin(ReadOnly):
    list_display = ("indicator", "scope_kind", "scope_name", "period_kind", "period_key", "value", "computed_at")
    list_filter = ("period_kind", "scope_kind")
    search_fields = ("indicator", "scope_code", "period_key")


@admin.register(Warning)
class WarningAdmin(ReadOnly):
    list_display = ("title", "kind", "level", "status", "opened_at", "recovered_at")
    list_filter = ("kind", "level", "status")


@admin.register(Rectification)
class RectificationAdmin(ReadOnly):
    list_display = ("number", "unit", "title", "status", "due_at")
    list_filter = ("status",)


admin.site.register(RectificationEvent, ReadOnly)
admin.site.register(EvidenceScore, ReadOnly)
