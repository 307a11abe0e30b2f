"""Admin for the holiday notices that administrators enter (节假日安排).

Both lists warn when this year's or next year's holidays are unknown, so that the
administrator who opens them sees what is missing. Days and years are entered in the
supported years (``jiedao.common.params``: 2000–2100), and the lists answer a filter by a
year or a day they cannot show (``?year=99999``, a drill-down to 9999-12-31 whose next day
does not exist) as an invalid filter, never with a server error."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiedao.common import params
from jiedao.common.errors import ValidationFailed

from .models import CalendarDay, CalendarYear
from .selectors import calendar_warnings

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class YearFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = sorted({d.year for d in model_admin.get_queryset(request).dates("date", "year")}, reverse=True)
        return [(str(y), str(y)) for y in years]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(date__year=params.parse_year(value))
        except ValidationFailed as exc:
            raise IncorrectLookupParameters(exc.errors[0]["message"]) from None


class BoundedChangeList(ChangeList):
    """The list's date drill-down adds a year, a month or a day to the chosen date: a choice
    that does not make a date, or whose next one does not exist, is an invalid filter."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ("date", "kind", "name", "notice")

    def clean(self):
        data = super().clean()
        day, kind = data.get("date"), data.get("kind")
        if day:
            try:
                params.check_date(day, "date")
            except ValidationFailed as exc:
                self.add_error("date", exc.errors[0]["message"])
                return data
        if day and kind == CalendarDay.Kind.WORKDAY and day.weekday() < 5:
            self.add_error(
                "kind",
                gettext("调休上班日应是周六或周日：%(date)s 是%(weekday)s，本来就是工作日。")
                % {"date": day.isoformat(), "weekday": WEEKDAY_NAMES[day.weekday()]},
            )
        if kind == CalendarDay.Kind.HOLIDAY and not (data.get("name") or "").strip():
            self.add_error("name", gettext("放假日请填写节日名称，例如：春节。"))
        return data


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ("year", "notice")

    def clean_year(self):
        try:
            return params.check_year(self.cleaned_data["year"], "year")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.errors[0]["message"]) from None


class CalendarWarningsMixin:
    """Shows the missing-year warnings at the top of the list."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList

    def changelist_view(self, request, extra_context=None):
        warnings = calendar_warnings()
        if request.method == "GET":
            for text in warnings:
                messages.warning(request, text)
        extra_context = {**(extra_context or {}), "calendar_warnings": warnings}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ("date", "weekday", "kind", "name", "notice")
    list_filter = (YearFilter, "kind", "name")
    search_fields = ("name", "notice")
    date_hierarchy = "date"
    ordering = ("-date",)
    list_per_page = 100

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return WEEKDAY_NAMES[obj.date.weekday()]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    form = CalendarYearForm
    list_display = ("year", "notice", "holidays", "makeup_days", "entered_at")
    search_fields = ("notice",)
    ordering = ("-year",)
    readonly_fields = ("entered_at",)

    @admin.display(description=_("放假天数"))
    def holidays(self, obj):
        return CalendarDay.objects.filter(date__year=obj.year, kind=CalendarDay.Kind.HOLIDAY).count()

    @admin.display(description=_("调休上班天数"))
    def makeup_days(self, obj):
        return CalendarDay.objects.filter(date__year=obj.year, kind=CalendarDay.Kind.WORKDAY).count()


def _index_with_calendar_warnings(index):
    """The admin's home page also carries the warnings, for those who may enter notices,
    so that an administrator sees them without opening the calendar lists."""

    def view(request, extra_context=None):
        if request.method == "GET" and request.user.has_perm("workcal.add_calendarday"):
            for text in calendar_warnings():
                messages.warning(request, text)
        return index(request, extra_context)

    view.calendar_warnings = True
    return view


if not getattr(admin.site.index, "calendar_warnings", False):
    admin.site.index = _index_with_calendar_warnings(admin.site.index)
