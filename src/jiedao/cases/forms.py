"""Forms of the case pages. They parse and render input; the rules live in the services,
whose field errors come back onto the form (``common.forms.apply_errors``) with the typed
input kept."""

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from jiedao.common.forms import LocationMixin, optional_float
from jiedao.org.models import Community, Grid, Unit

from .models import VOID_REASONS, Channel, Outcome, Rating, Status, Urgency

INTAKE_CHANNELS = [
    (c.value, c.label)
    for c in (Channel.HOTLINE_12345, Channel.PHONE, Channel.WINDOW, Channel.LETTER, Channel.LEADER_MAILBOX)
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; each is checked by the service (image, ≤ 10 MB)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [f for f in data if f]
        return [data] if data else []


def grid_choices(street=None):
    """Grids grouped by community (of the street with id ``street`` when given)."""
    choices = [("", _("（不指定）"))]
    groups = {}
    grids = Grid.objects.select_related("community").order_by("community__code", "code")
    if street is not None:
        grids = grids.filter(community__street_id=street)
    for grid in grids:
        groups.setdefault(grid.community.name, []).append((grid.code, f"{grid.community.name} {grid.name}"))
    choices += list(groups.items())
    return choices


def unit_choices(blank=None, street=None):
    """Active units (of the street with id ``street`` when given) as choices."""
    units = Unit.objects.filter(active=True).order_by("code")
    if street is not None:
        units = units.filter(street_id=street)
    choices = [(u.code, u.name) for u in units]
    return ([("", blank)] if blank else []) + choices


def picked_category(data):
    """The category chosen in the picker: a search pick, else the deepest chained select."""
    for key in ("catpick", "cat3", "cat2", "cat1", "category"):
        value = (data.get(key) or "").strip()
        if value:
            return value
    return ""


class CategoryPickMixin:
    def clean(self):
        cleaned = super().clean()
        cleaned["category"] = picked_category(self.data)
        return cleaned


class PortalForm(LocationMixin):
    description = forms.CharField(
        label=_("您反映的问题"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("请写清楚发生了什么、在哪里、持续多久。")}),
    )
    reporter_phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    reporter_name = forms.CharField(label=_("称呼（可不填）"), required=False, max_length=100)
    photos = PhotosField(label=_("照片（可不传）"))
    attach_to = forms.CharField(required=False, max_length=20)

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "description": data["description"],
            "reporter_phone": data["reporter_phone"],
            "reporter_name": data["reporter_name"],
            "photos": data["photos"],
            "attach_to": data["attach_to"],
            **self.location_kwargs(),
        }


class IntakeForm(CategoryPickMixin, LocationMixin):
    channel = forms.ChoiceField(label=_("来源渠道"), choices=INTAKE_CHANNELS, initial=Channel.HOTLINE_12345)
    reporter_name = forms.CharField(label=_("诉求人姓名"), required=False, max_length=100)
    reporter_phone = forms.CharField(label=_("联系电话"), required=False, max_length=30)
    description = forms.CharField(label=_("诉求内容"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    category = forms.CharField(label=_("分类"), required=False)
    community = forms.ChoiceField(label=_("社区"), required=False)
    grid = forms.ChoiceField(label=_("网格"), required=False)
    photos = PhotosField(label=_("照片"))
    dispatch = forms.BooleanField(
        label=_("立即派单"), required=False, help_text=_("按派单规则直接派给承办单位（需先选分类）。")
    )
    attach_to = forms.CharField(required=False, max_length=20)
    # 三事分流: how the call is settled.
    outcome = forms.ChoiceField(
        label=_("处理方式"),
        required=False,
        initial="",
        widget=forms.RadioSelect,
        choices=[
            ("", _("派单办理")),
            (Outcome.ANSWERED, _("直接答复（咨询，当场答复并办结）")),
            (Outcome.ADVISED, _("私事告知（个人私事，给出建议并办结）")),
            (Outcome.VOIDED, _("无效来电")),
        ],
    )
    answer = forms.CharField(
        label=_("答复内容或建议"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("直接答复、私事告知时填写；可点知识库里的“用此答复”带入。"),
    )
    void_reason = forms.ChoiceField(
        label=_("无效原因"),
        required=False,
        choices=[("", _("（无效来电时选择）")), *VOID_REASONS.items()],
        help_text=_("重复来电不选无效：在来电人历史或“可能是同一问题”里选中原工单后提交，本次来电并入原工单。"),
    )
    article = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, street=None, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["grid"].choices = grid_choices(street)
        communities = Community.objects.order_by("code")
        if street is not None:
            communities = communities.filter(street_id=street)
        self.fields["community"].choices = [("", _("（不指定）"))] + [(c.code, c.name) for c in communities]

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "channel": data["channel"],
            "description": data["description"],
            "reporter_name": data["reporter_name"],
            "reporter_phone": data["reporter_phone"],
            "category_code": data["category"],
            "community_code": data["community"],
            "grid_code": data["grid"],
            "photos": data["photos"],
            "dispatch": data["dispatch"],
            "attach_to": data["attach_to"],
            "propose": True,
            "outcome": data["outcome"],
            "answer": data["answer"],
            "void_reason": data["void_reason"],
            **self.location_kwargs(),
        }


class GridReportForm(LocationMixin):
    description = forms.CharField(label=_("发现的问题"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    grid = forms.ChoiceField(label=_("网格"), required=False)
    photos = PhotosField(label=_("现场照片"))
    # 小事不出网格: a small matter the worker fixed there and then is closed at once (已自行处置).
    outcome = forms.ChoiceField(
        label=_("处理情况"),
        required=False,
        initial="",
        widget=forms.RadioSelect,
        choices=[
            ("", _("上报，等待派单办理")),
            (Outcome.SELF_RESOLVED, _("当场已处置（小事当场办结，需填写处置结果并上传处置后的照片）")),
        ],
    )
    answer = forms.CharField(
        label=_("处置结果"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("如：已将倒伏的共享单车扶正并移到停放区。")}),
        help_text=_("选择“当场已处置”时必填。"),
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
            "description": data["description"],
            "grid_code": data["grid"],
            "photos": data["photos"],
            "outcome": data["outcome"],
            "answer": data["answer"] if data["outcome"] else "",
            **self.location_kwargs(),
        }


class TrackForm(forms.Form):
    number = forms.CharField(
        label=_("工单编号"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "JD2026…", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("提交时留的手机号"), max_length=30, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )


RESOLVED_CHOICES = [("yes", _("已解决")), ("no", _("未解决"))]


class RateFields(forms.Form):
    resolved = forms.ChoiceField(
        label=_("问题是否解决"), choices=RESOLVED_CHOICES, required=False, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=Rating.Satisfaction.choices, required=False, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("意见（可不填）"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def rate_kwargs(self):
        data = self.cleaned_data
        resolved = {"yes": True, "no": False}.get(data.get("resolved"))
        return {
            "resolved": resolved,
            "satisfaction": data.get("satisfaction") or "",
            "comment": data.get("comment", ""),
        }


class PublicRateForm(RateFields):
    number = forms.CharField(widget=forms.HiddenInput)
    phone = forms.CharField(widget=forms.HiddenInput)


# --- one form per case action --------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SuperviseForm(forms.Form):
    """督办: what the unit must reply and by when (checked by the service)."""

    due = forms.CharField(
        label=_("答复时限"),
        required=False,
        max_length=40,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(label=_("督办要求"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SuperviseReplyForm(forms.Form):
    """答复督办: the unit's reply."""

    reply = forms.CharField(label=_("答复内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SuperviseAcceptForm(forms.Form):
    """认可答复: the leader accepts the unit's reply to a 督办 (a remark may be added)."""

    reason = forms.CharField(label=_("意见（可不填）"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SuperviseReturnForm(forms.Form):
    """退回重答: why the reply is returned and the new reply deadline (checked by the service)."""

    reason = forms.CharField(label=_("退回理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due = forms.CharField(
        label=_("新的答复时限"),
        required=False,
        max_length=40,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class FlagForm(forms.Form):
    """标记舆情/群体事件: the flag (or taking it off) and why."""

    kind = forms.ChoiceField(
        label=_("标记为"),
        required=False,
        choices=[("opinion", _("舆情")), ("mass", _("群体事件")), ("", _("取消标记"))],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("请选择“舆情”或“群体事件”，或选择取消标记。")},
    )
    note = forms.CharField(label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    """直接答复 or 私事告知 of a case waiting in the queue: the answer or advice given."""

    answer = forms.CharField(label=_("答复内容或建议"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class VoidForm(forms.Form):
    """无效来电: why the call is void."""

    void_reason = forms.ChoiceField(
        label=_("无效原因"), required=False, choices=[("", _("请选择")), *VOID_REASONS.items()]
    )
    note = forms.CharField(label=_("说明（可不填）"), required=False, max_length=200)


class ClassifyForm(CategoryPickMixin, forms.Form):
    category = forms.CharField(label=_("分类"), required=False)


class DispatchForm(forms.Form):
    unit = forms.ChoiceField(label=_("承办单位"), required=False)
    note = forms.CharField(label=_("派单说明"), required=False)

    def __init__(self, *args, street=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(blank=_("按派单规则"), street=street)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("退单理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionForm(forms.Form):
    extra_workdays = forms.CharField(
        label=_("延长工作日"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 30})
    )
    reason = forms.CharField(label=_("延期理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class WhistleForm(forms.Form):
    units = forms.MultipleChoiceField(label=_("召集单位"), required=False, widget=forms.CheckboxSelectMultiple)
    report_hours = forms.CharField(
        label=_("报到时限（小时）"), required=False, initial="24", widget=forms.NumberInput(attrs={"min": 1, "max": 72})
    )
    reason = forms.CharField(label=_("吹哨事由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, street=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = unit_choices(street=street)


class ReportForm(forms.Form):
    part = forms.CharField(label=_("本单位承担的工作"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    result = forms.CharField(label=_("办理结果"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("办结照片"))


class DevicePositionMixin(forms.Form):
    """The phone's position, filled in by the page's position button (``data-locate``), never
    typed; the service checks it."""

    lat = forms.CharField(required=False, widget=forms.HiddenInput)
    lng = forms.CharField(required=False, widget=forms.HiddenInput)
    locates = True  # the page shows the position button with these fields

    def position_kwargs(self):
        data = self.cleaned_data
        return {"lat": optional_float(data.get("lat")), "lng": optional_float(data.get("lng"))}


class VerifyForm(DevicePositionMixin):
    """核查 on site: the photo and the phone's position, or the reason why not."""

    photos = PhotosField(label=_("核查照片"))
    note = forms.CharField(label=_("核查说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        label=_("未能现场拍照定位的理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("如：已电话联系居民，确认路灯已修好。")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _(
            "在现场拍了核查照片、并已定位在工单位置 %(limit)d 米内时不用填写；否则请写明理由。"
        ) % {"limit": settings.JIEDAO["VERIFY_DISTANCE_M"]}

    def verify_kwargs(self):
        data = self.cleaned_data
        return {
            "note": data.get("note", ""),
            "reason": data.get("reason", ""),
            "photos": data.get("photos", []),
            **self.position_kwargs(),
        }


class VerifyFailForm(VerifyForm):
    note = forms.CharField(label=_("不通过的原因"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SelfResolveForm(forms.Form):
    """已自行处置 of a small matter waiting for dispatch in the grid worker's own grid."""

    result = forms.CharField(label=_("处置结果"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("处置后的照片"))


class MergeForm(forms.Form):
    master = forms.CharField(label=_("并入的主工单编号"), required=False, max_length=20)
    note = forms.CharField(label=_("说明"), required=False)


class RateForm(RateFields):
    pass


ACTION_FORMS = {
    "classify": ClassifyForm,
    "dispatch": DispatchForm,
    "return": ReturnForm,
    "respond": NoteForm,
    "note": NoteForm,
    "request_extension": ExtensionForm,
    "approve_extension": NoteForm,
    "refuse_extension": NoteForm,
    "whistle": WhistleForm,
    "report": ReportForm,
    "resolve": ResolveForm,
    "verify_pass": VerifyForm,
    "verify_fail": VerifyFailForm,
    "rate": RateForm,
    "close": NoteForm,
    "merge": MergeForm,
    "supervise": SuperviseForm,
    "supervise_reply": SuperviseReplyForm,
    "supervise_accept": SuperviseAcceptForm,
    "supervise_return": SuperviseReturnForm,
    "unreached": NoteForm,
    "inform": NoteForm,
    "flag": FlagForm,
    "answer": AnswerForm,
    "advise": AnswerForm,
    "void": VoidForm,
    "self_resolve": SelfResolveForm,
}

# Actions whose form is a single confirm button (with an optional note).
OPTIONAL_NOTE_ACTIONS = {"respond", "approve_extension", "unreached"}


STREET_FORMS = ("dispatch", "whistle")


def action_form(action, data=None, files=None, street=None):
    """The form of ``action``; unit pickers list the units of the street with id ``street``."""
    extra = {"street": street} if action in STREET_FORMS else {}
    return ACTION_FORMS[action](data, files, auto_id=f"id_{action}_%s", prefix=None, **extra)


class WorkbenchFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False)
    urgency = forms.ChoiceField(label=_("时限"), required=False)
    category = forms.ChoiceField(label=_("分类"), required=False)
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("工单号或内容")}),
    )

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["status"].choices = [("", _("全部未结"))] + [
            (s.value, s.label) for s in (Status.DISPATCHED, Status.IN_PROGRESS, Status.VERIFYING, Status.RATING)
        ]
        self.fields["urgency"].choices = [("", _("全部")), *list(Urgency.choices)]
        self.fields["category"].choices = [("", _("全部分类"))] + [(c["code"], c["name"]) for c in categories]


# --- the operator's desk (话务台) ---------------------------------------------------------


class DeskSearchForm(forms.Form):
    """工单查询 at the desk: any of the conditions, all applying."""

    number = forms.CharField(label=_("工单编号"), required=False, max_length=20)
    phone = forms.CharField(
        label=_("来电号码"), required=False, max_length=30, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    words = forms.CharField(label=_("诉求内容"), required=False, max_length=100)
    address = forms.CharField(label=_("地址"), required=False, max_length=100)
    start = forms.DateField(label=_("受理日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("到"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data

    @property
    def asked(self) -> bool:
        return self.is_bound and any((self.data.get(name) or "").strip() for name in self.fields)

    def search_kwargs(self):
        return dict(self.cleaned_data)


class CallbackForm(RateFields):
    """One callback (回访) in the queue: the resident's verdict, or that they were not reached."""

    number = forms.CharField(widget=forms.HiddenInput, max_length=20)
    note = forms.CharField(label=_("未接通说明（可不填）"), required=False, max_length=200)


# --- the dispatcher's queue (派单台): its filters, and the checked cases handled at once --------

QUEUE_WAIT_CHOICES = [("", _("不限")), ("2h", _("超过2小时")), ("24h", _("超过24小时"))]
QUEUE_SORT_CHOICES = [
    ("oldest", _("最早受理")),
    ("newest", _("最新受理")),
    ("waiting", _("最久等待")),
    ("returns", _("退单次数")),
]
# At most this many cases are handled at once (a page of the queue is 20).
BULK_MAX = 100
# What a case number may look like (the numbers the queue shows).
CASE_NUMBER = re.compile(r"[A-Za-z0-9-]{1,20}", re.ASCII)


class DispatchQueueFilterForm(forms.Form):
    """The queue's filters and order, as a GET form that keeps its state in the address."""

    tab = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    community = forms.ChoiceField(label=_("社区"), required=False)
    category = forms.ChoiceField(label=_("分类"), required=False)
    waited = forms.ChoiceField(label=_("等待时长"), required=False, choices=QUEUE_WAIT_CHOICES)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=QUEUE_SORT_CHOICES)

    def __init__(self, *args, communities=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("全部渠道")), *Channel.choices]
        self.fields["community"].choices = [("", _("全部社区"))] + [(c.code, c.name) for c in communities]
        self.fields["category"].choices = [("", _("全部分类"))] + [(c["code"], c["name"]) for c in categories]

    def filters(self) -> dict:
        """The chosen filters and order (the selector's keywords); none of a filter left empty."""
        data = self.cleaned_data
        chosen = {name: data.get(name) or "" for name in ("channel", "community", "category", "waited")}
        return {**chosen, "sort": data.get("sort") or "oldest"}


class BulkCasesForm(forms.Form):
    """Cases checked in the queue (``numbers``), at least one and at most ``BULK_MAX``."""

    def clean(self):
        cleaned = super().clean()
        numbers = [str(n).strip() for n in self.data.getlist("numbers") if str(n).strip()]
        if not numbers:
            raise forms.ValidationError(_("请先勾选要处理的工单。"))
        if len(numbers) > BULK_MAX:
            raise forms.ValidationError(_("一次最多处理 %(max)d 张工单，请分批勾选。") % {"max": BULK_MAX})
        bad = [n for n in numbers if not CASE_NUMBER.fullmatch(n)]
        if bad:
            raise forms.ValidationError(_("工单编号“%(value)s”无效。") % {"value": bad[0][:20]})
        cleaned["numbers"] = list(dict.fromkeys(numbers))
        return cleaned


class BulkClassifyForm(CategoryPickMixin, BulkCasesForm):
    """批量分类: one category for every checked case."""


class BulkDispatchForm(BulkCasesForm):
    """批量派单: each checked case by its routing, or all to one chosen unit."""

    unit = forms.ChoiceField(label=_("承办单位"), required=False)

    def __init__(self, *args, street=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(blank=_("按各自的派单规则"), street=street)
