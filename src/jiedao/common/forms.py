"""Form fields every app may use, and the filter form of the access-log review page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import params, selectors
from .errors import ValidationFailed


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
