"""The working calendar's deployment check, run by ``jiedao check``: the holidays of this
year and the next are known, or deadlines in those years count every weekday as a workday."""

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

from jiedao.ops.checks import TAG

from .calendar import unknown_years


@checks.register(TAG, deploy=True)
def holiday_calendar_check(app_configs=None, **kwargs):
    year = timezone.localdate().year
    try:
        missing = unknown_years([year, year + 1])
    except DatabaseError:
        return []
    if missing:
        years = "、".join(str(y) for y in missing)
        return [
            checks.Warning(
                f"还没有 {years} 年的法定节假日和调休安排：这些年份的工作日按周一至周五计算，时限会算错。",
                hint="国务院办公厅发布放假通知后，在“系统管理 → 工作日历”里录入。",
                id="jiedao.W005",
            )
        ]
    return []
