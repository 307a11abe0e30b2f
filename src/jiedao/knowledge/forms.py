"""The knowledge base's forms: one per action. They read what was typed; the rules (required
fields, lengths, the category, the date) are the service's, which names every field at once."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiedao.common import params


class ArticleForm(forms.Form):
    """新增 or 修改 an article."""

    question = forms.CharField(
        label=_("问题"),
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={"maxlength": 200, "placeholder": _("群众常问的一句话，如：老年人优待证在哪里办理？")}
        ),
        help_text=_("必填，不超过 200 个字。"),
    )
    answer = forms.CharField(
        label=_("答复口径"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": 2000}),
        help_text=_("必填，不超过 2000 个字。接线员会照此答复群众，请写清地点、材料、时间和电话。"),
    )
    category = forms.CharField(label=_("分类"), required=False, widget=forms.Select())
    source = forms.CharField(
        label=_("来源/依据"),
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"maxlength": 200, "placeholder": _("如：区民政局2026年答复口径")}),
        help_text=_("政策文件名称或部门答复口径，不超过 200 个字。"),
    )
    valid_until = forms.CharField(
        label=_("有效期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "min": params.FIRST_DAY.isoformat()}),
        help_text=_("政策有期限时填写；过期后不再向接线员推荐。不填表示长期有效。"),
    )
    active = forms.BooleanField(
        label=_("启用"), required=False, initial=True, help_text=_("停用后不再推荐，也不能引用。")
    )

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.choices = [("", _("不分类")), *categories]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "question": data["question"],
            "answer": data["answer"],
            "category_code": data["category"],
            "source": data["source"],
            "valid_until": data["valid_until"],
            "active": data["active"],
        }


class SearchForm(forms.Form):
    """The list page's search: words as people say them, and whether to show articles switched off."""

    q = forms.CharField(label=_("查找答复"), required=False)
    all = forms.BooleanField(label=_("包括已停用的"), required=False)
