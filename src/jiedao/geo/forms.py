from django import forms
from django.utils.translation import gettext_lazy as _

from jiedao.common.forms import LocationMixin


class PatrolForm(LocationMixin):
    address = None  # the note says where the worker is when there is no position
    grid = forms.ChoiceField(label=_("网格"), required=False)
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("没有定位时请写明所在位置，如“东湖小区3号楼”")}),
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
