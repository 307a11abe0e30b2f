from django import forms
from django.utils.translation import gettext_lazy as _


class PatrolForm(forms.Form):
    """A patrol check-in: the position comes from the phone (hidden fields the position button
    fills, never typed); the service refuses a check-in without one."""

    lat = forms.CharField(required=False, widget=forms.HiddenInput)
    lng = forms.CharField(required=False, widget=forms.HiddenInput)
    grid = forms.ChoiceField(label=_("网格"), required=False)
    note = forms.CharField(
        label=_("说明（可不填）"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如“东湖小区3号楼，发现占道经营”")}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        grids = list(user.grids.select_related("community").order_by("code")) if user is not None else []
        self.fields["grid"].choices = [("", _("按位置自动判断"))] + [
            (g.code, f"{g.community.name} {g.name}") for g in grids
        ]
        if len(grids) == 1:
            self.fields["grid"].initial = grids[0].code

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "lat": data.get("lat") or None,
            "lng": data.get("lng") or None,
            "grid_code": data.get("grid", ""),
            "note": data.get("note", ""),
        }


class MonthForm(forms.Form):
    month = forms.CharField(label=_("月份"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    community = forms.ChoiceField(label=_("社区"), required=False)

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("全街道"))] + [(c.code, c.name) for c in communities]
