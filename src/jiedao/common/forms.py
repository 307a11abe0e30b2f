"""The filter form of the access-log review page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors


class AccessLogFilterForm(forms.Form):
    user = forms.CharField(label=_("用户名"), required=False, max_length=150)
    date_from = forms.DateField(label=_("开始日期"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("结束日期"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    object_type = forms.ChoiceField(label=_("记录类型"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("全部"))] + selectors.logged_object_types()

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
        return {"username": data["user"], "date_from": data["date_from"], "date_to": data["date_to"],
                "object_type": data["object_type"]}
