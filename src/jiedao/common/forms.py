"""What every app's forms share, and the filter form of the access-log review page.

- A service's errors come back onto the form with ``apply_errors``: a ``ValidationFailed``
  error naming a field of the form goes to that field (the typed input is kept), any other
  error becomes a form-wide error. The rules live in the services; forms parse and render.
- ``LocationMixin`` is the place of a report (latitude, longitude, address); empty
  coordinates reach the service as None.
- ``SupportedDateField`` is a date in the supported years; ``ValuesField`` several values under
  one name, checked by the service."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import params, selectors
from .errors import ValidationFailed


def apply_errors(form, exc):
    """Put a service's field errors on the form; unknown fields become form-wide errors."""
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            field = error.get("field")
            form.add_error(field if field in form.fields else None, error["message"])
    else:
        form.add_error(None, getattr(exc, "message", str(exc)))


def form_errors_text(form):
    """A form's errors in one line, each field's named (“描述：请填写…”), for an answer read
    by a script rather than shown as the page (the phone's queue of offline submissions)."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else ""
        parts += [f"{label}：{e}" if label else str(e) for e in errors]
    return "；".join(parts)


def optional_float(value):
    """An optional number as typed: None when empty, else the value for the service to check."""
    value = (value or "").strip() if isinstance(value, str) else value
    return None if value in ("", None) else value


class LocationMixin(forms.Form):
    lat = forms.CharField(label=_("纬度"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    lng = forms.CharField(label=_("经度"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    address = forms.CharField(
        label=_("地址"),
        required=False,
        max_length=400,
        widget=forms.TextInput(attrs={"placeholder": _("如：东湖小区3号楼东侧")}),
    )

    def location_kwargs(self):
        data = self.cleaned_data
        return {
            "lat": optional_float(data.get("lat")),
            "lng": optional_float(data.get("lng")),
            "address": data.get("address", ""),
        }


class SupportedDateField(forms.DateField):
    """A date in the supported years (``params``: 2000–2100); outside, the error names the
    field's label and the allowed range."""

    def validate(self, value):
        super().validate(value)
        if value:
            try:
                params.check_date(value, "date", label=self.label)
            except ValidationFailed as exc:
                raise forms.ValidationError(exc.errors[0]["message"], code="out_of_range") from None


class ValuesField(forms.MultipleChoiceField):
    """Several values under one name (``?grid=a&grid=b``: checkboxes, a multiple select), the
    empty ones dropped. Whether each value exists and may be used is for the service or the
    selector to say, as for the API; ``choices``, when given, only fill the widget."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def valid_value(self, value):
        return True

    def clean(self, value):
        return [item for item in super().clean(value) if item]


class AccessLogFilterForm(forms.Form):
    user = forms.CharField(label=_("用户名"), required=False, max_length=150)
    date_from = SupportedDateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = SupportedDateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    object_type = forms.ChoiceField(label=_("记录类型"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("全部")), *selectors.logged_object_types()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return cleaned

    def filters(self):
        """The filters for the selector (empty when the form is not valid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "username": data["user"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "object_type": data["object_type"],
        }
