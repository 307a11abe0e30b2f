"""智能分拨 on the demo street: a first classifier version trained on the simulated closed
cases (a sample, to keep the demo fast), active, so that intake shows proposals at once.

``build_intelligence(out=print, limit=2000)`` returns the version (or None when there are
too few closed cases)."""

from django.utils import timezone

from . import services
from .models import ModelVersion, Tuning


def build_intelligence(out=print, limit=2000):
    Tuning.objects.get_or_create(pk=1)
    texts, labels = services.closed_case_data(limit=limit)
    if len(set(labels)) < 2:
        out("智能分拨：已结案工单不足，未训练分类模型。")
        return None
    out(f"智能分拨：用 {len(texts)} 件已结案工单训练分类模型 …")
    version = ModelVersion.objects.create(source=f"演示街道已结案工单（{len(texts)} 件）", requested_at=timezone.now())
    version = services.train_version(version.pk, texts, labels)
    f1 = version.macro_f1
    out(
        f"智能分拨：模型 v{version.pk} {version.get_state_display()}，{version.train_seconds} 秒"
        + (f"，留出集宏平均F1 {f1:.3f}" if f1 is not None else "")
    )
    return version
