"""Forms of the emergency pages, one per action. They parse what a page sends; the rules (which
kind and level, which step from which state, how much stock) live in the services, whose errors
come back onto the form or as messages on the page.

Numbers are read as the pages always read them: a whole number (full-width digits too) or a
decimal that cannot be read is left empty, and the service says what it expects."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common import params
from jiedao.common.forms import ValuesField

from .models import CareCheck, Kind, Level, Movement

# What a grid worker records for a resident (``pending`` is the state before).
CHECK_RESULTS = [(value, label) for value, label in CareCheck.Result.choices if value != CareCheck.Result.PENDING]
# The movements entered on the supplies page; transfers have their own choice.
PAGE_MOVEMENTS = [
    (value, label)
    for value, label in Movement.Kind.choices
    if value in (Movement.Kind.IN, Movement.Kind.OUT, Movement.Kind.EXPIRY)
]


class WholeNumberField(forms.Field):
    """A whole number an integer column can hold (``params.whole_number``), else None."""

    widget = forms.TextInput(attrs={"inputmode": "numeric"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return params.whole_number(value)


class DecimalTextField(forms.Field):
    """A decimal such as a latitude, else None."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None


class ReportForm(forms.Form):
    """报告突发事件 on the board."""

    title = forms.CharField(
        label=_("标题"), required=False, widget=forms.TextInput(attrs={"maxlength": 100, "required": True})
    )
    kind = forms.CharField(label=_("类型"), required=False, widget=forms.Select(choices=Kind.choices))
    level = forms.CharField(
        label=_("等级"), required=False, initial=Level.IV, widget=forms.Select(choices=Level.choices)
    )
    address = forms.CharField(label=_("地点"), required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    lat = DecimalTextField(label=_("纬度"))
    lng = DecimalTextField(label=_("经度"))
    description = forms.CharField(label=_("情况描述"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    grid = forms.CharField(required=False, widget=forms.HiddenInput)
    lead_unit = forms.CharField(required=False, widget=forms.HiddenInput)

    def report(self):
        """The keyword arguments of ``services.report_emergency``."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "kind": data["kind"],
            "level": data["level"] or Level.IV,
            "description": data["description"],
            "address": data["address"],
            "lat": data["lat"],
            "lng": data["lng"],
            "grid_code": data["grid"],
            "lead_unit_code": data["lead_unit"],
        }


class StepForm(forms.Form):
    """A step of the emergency's lifecycle (``action``), with a note and, on arrival, the units
    that take part."""

    action = forms.CharField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明"), required=False, strip=False)
    unit = ValuesField(label=_("参与单位"))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("处置进展"), required=False, strip=False)


class FlagForm(forms.Form):
    """标记舆情/群体事件 (or take the flag off: blank)."""

    kind = forms.CharField(label=_("标记"), required=False)
    note = forms.CharField(label=_("标记理由"), required=False, strip=False)


class CallOffForm(forms.Form):
    """调用协议物资."""

    agreement = WholeNumberField(label=_("协议供应商"))
    goods = forms.CharField(label=_("调用物资"), required=False, strip=False)


class CheckForm(forms.Form):
    """A grid worker's check on a special-care resident; ``number`` is the emergency to return to."""

    result = forms.CharField(label=_("核查结果"), required=False, widget=forms.RadioSelect(choices=CHECK_RESULTS))
    note = forms.CharField(label=_("情况说明（可选）"), required=False, strip=False)
    number = forms.CharField(required=False, widget=forms.HiddenInput)


class AlertDecisionForm(forms.Form):
    """确认 (``confirm=1``) or 误报 (``confirm=0``) an alert."""

    confirm = forms.BooleanField(label=_("确认"), required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明"), required=False, strip=False)


class StockMovementForm(forms.Form):
    """A movement of stock (in, out, expiry) or a transfer to another depot (``kind=transfer``)."""

    stock = WholeNumberField(label=_("物资"))
    kind = forms.CharField(
        label=_("类型"),
        required=False,
        widget=forms.Select(choices=[*PAGE_MOVEMENTS, ("transfer", _("调拨"))]),
    )
    quantity = WholeNumberField(label=_("数量"))
    to_depot = WholeNumberField(label=_("调往（调拨时）"))
    emergency = forms.CharField(label=_("事件编号（可选）"), required=False)
    note = forms.CharField(label=_("说明"), required=False, strip=False)


class LocalDateTimeField(forms.Field):
    """A Beijing time as the page's date-time picker sends it (``2026-11-18T08:00``, or with a
    space), within the supported years; empty is None, for the service to ask for."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = str(value or "").strip().replace(" ", "T")
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(_("请按“年-月-日 时:分”填写，例如 2026-11-18 08:00。")) from None
        if not params.FIRST_YEAR <= moment.year <= params.LAST_YEAR:
            raise forms.ValidationError(
                _("年份应在 %(first)s 年至 %(last)s 年之间。") % {"first": params.FIRST_YEAR, "last": params.LAST_YEAR}
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment.replace(second=0, microsecond=0))
        return moment


class PersonField(forms.Field):
    """A staff member picked from the list (their id); anything else is None."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Select)
        super().__init__(**kwargs)

    def to_python(self, value):
        return params.row_id(value)


class DutyShiftForm(forms.Form):
    """添加值班 on the roster page: who, from when to when, their place in the chain."""

    person = PersonField(label=_("值班人员"))
    starts_at = LocalDateTimeField(label=_("开始时间"))
    ends_at = LocalDateTimeField(label=_("结束时间"))
    position = WholeNumberField(
        label=_("值班顺位"), initial=1, help_text=_("1 为第一值班人，2 为第二值班人，依此类推。")
    )
    note = forms.CharField(
        label=_("备注"), required=False, strip=False, widget=forms.TextInput(attrs={"maxlength": 100})
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.choices = [
            ("", _("请选择")),
            *((p.pk, p.display_name or p.username) for p in people),
        ]
