"""智能分拨 on the demo street: the same path as a new installation — the starter model,
trained from the real messages shipped with the package (top-level categories), active, so
that intake shows sensible proposals for real phrasing at once. A street's own leaf-level model
is trained later from its closed cases (the model page's 用已结案工单训练新版本).

``build_intelligence(out=print)`` returns the starter version."""

from . import services
from .models import Tuning


def build_intelligence(out=print):
    Tuning.objects.get_or_create(pk=1)
    out("智能分拨：用随产品提供的群众留言训练起步模型（一级分类）…")
    version = services.train_starter()
    f1 = version.macro_f1
    out(
        f"智能分拨：模型 v{version.pk} {version.get_state_display()}，{version.train_seconds} 秒"
        + (f"，交叉验证宏平均F1 {f1:.3f}" if f1 is not None else "")
    )
    return version
