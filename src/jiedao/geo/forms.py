import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

# A check-in taken without network is sent later with the time it was taken: at most this old.
OFFLINE_DAYS = 3
CLOCK_SLACK = dt.timedelta(minutes=10)  # the phone's clock may run a little ahead


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

    # Filled by the phone's queue only (web/app/offline.js): when the check-in was taken offline.
    taken_at = forms.CharField(label=_("打卡时间"), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        grids = list(user.grids.select_related("community").order_by("code")) if user is not None else []
        self.fields["grid"].choices = [("", _("按位置自动判断"))] + [
            (g.code, f"{g.community.name} {g.name}") for g in grids
        ]
        if len(grids) == 1:
            self.fields["grid"].initial = grids[0].code

    def clean_taken_at(self):
        value = (self.cleaned_data.get("taken_at") or "").strip()
        if not value:
            return None
        try:
            at = parse_datetime(value)
        except ValueError:
            at = None
        if at is None or timezone.is_naive(at):
            raise forms.ValidationError(_("打卡时间格式无效。"))
        now = timezone.now()
        if at > now + CLOCK_SLACK:
            raise forms.ValidationError(_("打卡时间晚于现在，请检查手机的时间设置。"))
        if at < now - dt.timedelta(days=OFFLINE_DAYS):
            raise forms.ValidationError(
                _("这条打卡是%(days)d天前在手机上保存的，已不能补录。") % {"days": (now - at).days}
            )
        return at

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "lat": data.get("lat") or None,
            "lng": data.get("lng") or None,
            "grid_code": data.get("grid", ""),
            "note": data.get("note", ""),
            "at": data.get("taken_at"),
        }


class MonthForm(forms.Form):
    month = forms.CharField(label=_("月份"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    community = forms.ChoiceField(label=_("社区"), required=False)

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("全街道"))] + [(c.code, c.name) for c in communities]
