from django.contrib import admin

from . import selectors
from .models import ModelVersion, Proposal, ReplyCheck, Tuning


@admin.register(Tuning)
class TuningAdmin(admin.ModelAdmin):
    list_display = (
        "auto_dispatch",
        "auto_dispatch_precision",
        "duplicate_radius_m",
        "duplicate_days",
        "reply_min_similarity",
    )

    def has_add_permission(self, request):
        return not Tuning.objects.exists()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        selectors.forget()


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "state", "trained_at", "samples", "size_bytes", "active")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("case", "category", "confidence", "auto", "created_at")
    raw_id_fields = ("case",)
    list_filter = ("auto",)


@admin.register(ReplyCheck)
class ReplyCheckAdmin(admin.ModelAdmin):
    list_display = ("case", "unit", "checked_at", "similarity", "flagged", "overridden_at")
    raw_id_fields = ("case",)
    list_filter = ("flagged",)
