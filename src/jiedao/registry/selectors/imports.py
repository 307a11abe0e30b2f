"""The imports a reader may see (administrators), and one line that says what an import did."""

from django.utils.translation import gettext as _

from jiedao.common.errors import NotFound

from ..models import ImportRun
from .scope import may_import


def import_runs(user, limit=20):
    if not may_import(user):
        return []
    return list(ImportRun.objects.select_related("user").order_by("-created_at")[:limit])


def import_run_for(user, run_id):
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None or not (may_import(user) and (run.user_id == user.pk or user.has_role("admin"))):
        raise NotFound(_("导入记录不存在。"))
    return run


def describe_counts(kind, counts):
    """One line that says what an import did."""
    values = {
        k: counts.get(k, 0)
        for k in (
            "rows",
            "created",
            "updated",
            "confirmed",
            "conflicts",
            "houses_created",
            "households_created",
            "tags_added",
        )
    }
    if kind == "buildings":
        text = _(
            "共%(rows)d行：新建楼栋%(created)d个，补全%(updated)d个，确认%(confirmed)d个；待决定的冲突%(conflicts)d处。"
        )
    elif kind == "households":
        text = _(
            "共%(rows)d行：新建户%(households_created)d户、房屋%(houses_created)d套；户主新建档案%(created)d人，"
            "补全%(updated)d人，确认%(confirmed)d人；待决定的冲突%(conflicts)d处。"
        )
    else:
        text = _(
            "共%(rows)d行：新建档案%(created)d人，补全%(updated)d人，确认%(confirmed)d人，"
            "新增关怀标记%(tags_added)d个，新建户%(households_created)d户；待决定的冲突%(conflicts)d处。"
        )
    return text % values
