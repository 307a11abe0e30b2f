from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import indicators as lib
from .models import (
    Assessment,
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
        person = bool(getattr(self.instance, "person_role", ""))
        for code, _weight in items:
            scopes = set(lib.get(code).scopes)
            fits = "person" in scopes if person else bool(scopes - {"person"})
            if not fits:
                rule = "个人考核方案只能选用适用于个人的指标。" if person else "请选用适用于社区、网格或单位的指标。"
                raise ValidationError(f"指标“{lib.get(code).name}”不适用于本方案的考核对象：{rule}")


class SchemeItemInline(admin.TabularInline):
    model = SchemeItem
    formset = SchemeItemFormSet
    extra = 1


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "person_role", "normalisation", "excellent_from", "pass_from", "active", "builtin")
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


@admin.register(Assessment)
class AssessmentAdmin(ReadOnly):
    """考核建议 are recorded on the page 考核建议 (/evaluation/assessments/), where its rules apply."""

    list_display = ("unit", "person", "period", "grade", "entered_by", "entered_at")
    list_filter = ("grade", "period")
    search_fields = ("person__username", "person__display_name")
