"""Forms of the registry pages. They parse and render input; the rules live in the
services, whose field errors come back onto the form."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common.forms import ValuesField

from .models import ImportRun, MergeConflict, Visit


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入内容"), choices=ImportRun.Kind.choices)
    file = forms.FileField(
        label=_("文件（.xlsx 或 .csv）"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"})
    )
    source = forms.CharField(
        label=_("数据来源"),
        required=False,
        max_length=100,
        help_text=_("如 公安人口库、社区走访、民政低保名册；留空时记为文件名。"),
    )


class VisitForm(forms.Form):
    person = forms.TypedChoiceField(label=_("探访对象"), coerce=int)
    kind = forms.ChoiceField(
        label=_("方式"), choices=Visit.Kind.choices, initial=Visit.Kind.HOME, widget=forms.RadioSelect
    )
    at = forms.DateTimeField(
        label=_("探访时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    note = forms.CharField(
        label=_("情况记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("身体、生活、需要帮助的事项……")}),
    )

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("请选择"))] + [
            (p.pk, f"{p.name}（{p.household.house if p.household else ''}）") for p in persons
        ]
        if not self.is_bound:
            self.initial.setdefault("at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


class TagForm(forms.Form):
    tag = forms.ChoiceField(label=_("关怀标签"))
    action = forms.ChoiceField(choices=[("add", _("添加")), ("remove", _("移除"))], widget=forms.HiddenInput)

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [(t.code, t.name) for t in tags]


class ConflictDecisionForm(forms.Form):
    """保留现有值 or 采用新值: the buttons of a conflict; the service checks the choice."""

    choice = forms.CharField(
        label=_("决定"), required=False, widget=forms.RadioSelect(choices=MergeConflict.Choice.choices)
    )


class AssistanceForm(forms.Form):
    """The selection of the assistance list (grid codes, care tags by code or name; all the
    reader's grids and every active tag when none), and on the export whether to show in full."""

    grid = ValuesField(label=_("网格"), widget=forms.CheckboxSelectMultiple)
    tag = ValuesField(label=_("关怀标签"), widget=forms.CheckboxSelectMultiple)
    full = forms.BooleanField(label=_("显示完整"), required=False, widget=forms.HiddenInput)

    def selection(self):
        """(grid codes, tags) as chosen; none when the form was not sent."""
        if not self.is_valid():
            return [], []
        return self.cleaned_data["grid"], self.cleaned_data["tag"]

    def in_full(self):
        return self.is_valid() and self.cleaned_data["full"]
