"""Forms of the service hall's pages, one per action. They parse what a page sends; the rules
(which group, which window, which material choice, who may) live in the services, whose errors
come back onto the form (``common.forms.apply_errors``) or as messages on the page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiedao.common import params
from jiedao.common.errors import ValidationFailed
from jiedao.common.forms import ValuesField

from .models import Delivery, Group, Level, MaterialStatus


class SlotField(forms.CharField):
    """A time slot as the booking page sends it (ISO 8601), in the supported years."""

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return params.parse_datetime(text, "starts_at")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.errors[0]["message"], code="invalid") from None


class BookForm(forms.Form):
    starts_at = SlotField(label=_("预约时段"))


class TicketForm(forms.Form):
    group = forms.CharField(label=_("请选择办理业务"), required=False, widget=forms.RadioSelect(choices=Group.choices))
    priority = forms.BooleanField(label=_("老年人、残疾人、孕妇优先"), required=False)


class WindowForm(forms.Form):
    """The window's queue: call the next number (``do=call``) of the chosen groups at this
    window, or finish the current one (``finish``) or mark it missed (``missed``)."""

    do = forms.CharField(required=False, widget=forms.HiddenInput)
    window = forms.CharField(label=_("窗口号"), required=False)
    groups = ValuesField(label=_("业务类别"), choices=Group.choices, widget=forms.CheckboxSelectMultiple)
    ticket = forms.CharField(required=False, widget=forms.HiddenInput)


class BundleFlagForm(forms.Form):
    """Whether the acceptance page is for a bundle (一件事): ``?bundle=1`` or its hidden field."""

    bundle = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def flagged(self):
        return self.is_valid() and self.cleaned_data["bundle"]


class ApplicantForm(forms.Form):
    """The applicant and one choice per material of the items applied for (``material_<id>``:
    provided, missing (容缺) or pledged (告知承诺); the service says which are allowed)."""

    offers_pledge = False
    name = forms.CharField(label=_("申请人姓名"), required=False, strip=False)
    id_number = forms.CharField(label=_("身份证号"), required=False, strip=False)
    phone = forms.CharField(label=_("联系电话"), required=False, strip=False)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = [(item, list(item.materials.all())) for item in items]
        self.materials = [m for _item, materials in self.items for m in materials]
        for material in self.materials:
            self.fields[f"material_{material.pk}"] = forms.CharField(
                label=material.name, required=False, initial=MaterialStatus.PROVIDED
            )

    def applicant(self):
        return {key: self.cleaned_data[key] for key in ("name", "id_number", "phone")}

    def material_choices(self):
        """{material id: the choice sent} for the service."""
        return {m.pk: self.cleaned_data[f"material_{m.pk}"] for m in self.materials}

    def material_rows(self):
        """[(item, [(material, the choice shown)])] for the page; a choice sent is shown again
        when the page offers it (容缺 for a material that is not core, 告知承诺 at the window
        for an item that allows it)."""
        return [(item, [(m, self._shown(item, m)) for m in materials]) for item, materials in self.items]

    def _shown(self, item, material):
        value = self[f"material_{material.pk}"].value()
        offered = {
            MaterialStatus.PROVIDED: True,
            MaterialStatus.MISSING: not material.core,
            MaterialStatus.PLEDGED: self.offers_pledge and item.pledge_allowed,
        }
        return value if offered.get(value) else MaterialStatus.PROVIDED


class WindowAcceptForm(ApplicantForm):
    """窗口受理: the applicant, who helps them (帮办代办) and the pledge (告知承诺)."""

    offers_pledge = True
    assistant_name = forms.CharField(label=_("帮办代办人"), required=False)
    assisted_reason = forms.CharField(label=_("代办原因"), required=False)
    pledge_signed = forms.BooleanField(label=_("申请人已签署告知承诺书"), required=False)


class ApplicationActionForm(forms.Form):
    """A step on an application's page (``action``) with what the step needs: a note, the
    material supplied and whether at the window, how the result is delivered, the rating."""

    action = forms.CharField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("意见建议"), required=False, strip=False)
    material_id = forms.CharField(required=False, widget=forms.HiddenInput)
    at_window = forms.CharField(required=False, widget=forms.HiddenInput)
    delivery = forms.CharField(label=_("出件方式"), required=False, widget=forms.Select(choices=Delivery.choices))
    level = forms.CharField(
        label=_("请您评价本次服务"), required=False, widget=forms.RadioSelect(choices=Level.choices)
    )
    channel = forms.CharField(required=False, widget=forms.HiddenInput)
    t = forms.CharField(required=False, widget=forms.HiddenInput)

    def step_data(self, *, token, channel):
        """The input of ``services.apply_action``: at the window unless the page said ``0``;
        delivered at the window unless chosen; the channel sent, else ``channel``."""
        data = self.cleaned_data
        return {
            "note": data["note"],
            "material_id": data["material_id"] or None,
            "at_window": data["at_window"] in ("", "1"),
            "delivery": data["delivery"] or Delivery.WINDOW,
            "level": data["level"] or None,
            "token": token,
            "channel": data["channel"] or channel,
        }


class CancelAppointmentForm(forms.Form):
    appointment = forms.CharField(required=False, widget=forms.HiddenInput)


class RectificationForm(forms.Form):
    """差评整改 and its appeals: submit the fix (``do=fix``), record the call-back (``callback``),
    appeal a malicious rating (``appeal``) or review an appeal (``review``)."""

    do = forms.CharField(required=False, widget=forms.HiddenInput)
    id = forms.CharField(required=False, widget=forms.HiddenInput)
    rating = forms.CharField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("整改情况"), required=False, strip=False)
    satisfied = forms.BooleanField(
        label=_("回访"), required=False, widget=forms.Select(choices=[("1", _("认可整改")), ("0", _("不认可"))])
    )
    upheld = forms.BooleanField(
        label=_("复核"), required=False, widget=forms.Select(choices=[("0", _("申诉不成立")), ("1", _("申诉成立"))])
    )


class CatalogueImportForm(forms.Form):
    file = forms.FileField(
        label=_("事项目录（Excel）"), required=False, widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"})
    )
