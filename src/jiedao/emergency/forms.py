"""Forms of the emergency pages, one per action. They parse what a page sends; the rules (which
kind and level, which step from which state, how much stock) live in the services, whose errors
come back onto the form or as messages on the page.

Numbers are read as the pages always read them: a whole number (full-width digits too) or a
decimal that cannot be read is left empty, and the service says what it expects."""

from django import forms
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
