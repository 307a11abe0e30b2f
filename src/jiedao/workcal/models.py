"""Holiday notices entered by administrators for years the holiday package does not know."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """One day of the State Council's holiday notice: a holiday or a make-up workday (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日名称"), max_length=30, blank=True)
    notice = models.CharField(_("通知文号"), max_length=80, blank=True, help_text=_("例如：国办发明电〔2026〕X号"))

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarYear(models.Model):
    """Marks a year whose holiday notice has been entered completely."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    notice = models.CharField(_("通知文号"), max_length=80, blank=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("已录入放假通知的年份")
        verbose_name_plural = _("已录入放假通知的年份")

    def __str__(self):
        return str(self.year)
