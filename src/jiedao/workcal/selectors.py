"""Reads of the working calendar for pages."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from .calendar import SHANGHAI, unknown_years


def calendar_warnings(today=None) -> list:
    """Messages for administrators when this year's or next year's holidays are unknown.

    For such a year deadlines count Monday–Friday as working days, which is wrong
    around public holidays and make-up workdays, until the State Council's notice is
    entered. ``today`` is a date (or an aware datetime); by default today in Beijing.
    """
    if today is None:
        today = timezone.now()
    if isinstance(today, dt.datetime):
        today = today.astimezone(SHANGHAI).date() if timezone.is_aware(today) else today.date()
    messages = []
    for year in unknown_years([today.year, today.year + 1]):
        messages.append(
            _(
                "%(year)d年的法定节假日和调休安排尚未录入：系统暂按周一至周五为工作日计算时限，"
                "节假日前后的办结时限会算错。请在“节假日安排”中逐日录入国务院办公厅的放假通知"
                "（放假日和调休上班日），录完后在“已录入放假通知的年份”中添加%(year)d年。"
            )
            % {"year": year}
        )
    return messages
