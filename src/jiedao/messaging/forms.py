"""The messaging pages' forms, one per action: a template (消息模板) and a person's channels
(接收方式). They read what was typed; the rules are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _


class TemplateForm(forms.Form):
    """修改 a kind's template; 预览 shows it filled with sample values before it is saved."""

    text = forms.CharField(
        label=_("内容模板"),
        max_length=500,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
        error_messages={"required": _("请填写模板内容。"), "max_length": _("模板内容不能超过500个字。")},
    )
    sms_template_id = forms.CharField(
        label=_("短信模板编号"),
        required=False,
        max_length=40,
        help_text=_("使用腾讯云短信时填写已审核通过的模板编号；模板的参数依次是内容中出现的变量。"),
    )
    urgent = forms.BooleanField(
        label=_("紧急"), required=False, help_text=_("紧急消息在免打扰时段也立即发送，不汇总。")
    )


class ChannelsForm(forms.Form):
    """接收方式: one box per channel that reaches the person."""

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        for row in choices:
            self.fields[row["code"]] = forms.BooleanField(
                label=row["label"], required=False, initial=row["enabled"], help_text=row["address"]
            )

    def choices_made(self) -> dict[str, bool]:
        return {code: bool(self.cleaned_data.get(code)) for code in self.fields}


class OptOutForm(forms.Form):
    """登记退订: a resident who asked by telephone or at a window."""

    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        error_messages={"required": _("请填写11位中国大陆手机号码。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
