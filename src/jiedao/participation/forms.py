"""One form for each action of the 多元共治 pages. The forms parse and render what a person
typed; the rules live in the services, whose field errors come back onto the form
(``common.forms.apply_errors``) with the typed input kept.

- A number typed in a form reaches the service as a whole number, or as None when it is not
  one (``WholeNumberField``): the service then says, naming the field, what it expects.
- The row an action is about (a meeting, a registration, a proposal …) is a hidden field
  (``RowField``): a positive id, or None, which the service answers with 404. ``row`` tells the
  page which row of a list a refused form belongs to.
- A time typed without an offset is Beijing time; one that is not a time, or outside the
  supported years, is an error naming the field (``MomentField``).
- A resident named by account (``ResidentField``) must exist."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from jiedao.common import params
from jiedao.common.errors import ValidationFailed
from jiedao.org.models import Community, Unit, User

from .models import Volunteer


class WholeNumberField(forms.CharField):
    """A whole number as typed (full-width digits too) that an integer column can hold; else
    ``default`` (None unless given)."""

    def __init__(self, *, default=None, **kwargs):
        self.default = default
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.NumberInput)
        super().__init__(**kwargs)

    def to_python(self, value):
        return params.whole_number(super().to_python(value), self.default)


class RowField(forms.CharField):
    """The id of the row an action is about, from a hidden input: a positive id, or None."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return params.row_id(super().to_python(value))


class RowsField(forms.Field):
    """Several row ids from checkboxes (or a multiple select): the valid ones, in order."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        values = value if isinstance(value, (list, tuple)) else [value] if value else []
        ids = [params.row_id(v) for v in values]
        return list(dict.fromkeys(i for i in ids if i))


class MomentField(forms.CharField):
    """A date and time (``datetime-local``), Beijing time when typed without an offset."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            moment = params.parse_datetime(text, "starts_at")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.errors[0]["message"], code="invalid") from None
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class ResidentField(forms.CharField):
    """A resident's account, named by its user name; one that does not exist is an error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        user = User.objects.filter(username=super().clean(value)).first()
        if user is None:
            raise forms.ValidationError(_("没有这个居民账号。"), code="unknown")
        return user


class PhotoField(forms.FileField):
    """An uploaded file as sent, or None: the service checks that it is an image of at most 10 MB."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": "image/*"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        return data or None


class RowForm(forms.Form):
    """A form about one row of a list (``row_field`` names its hidden id field)."""

    row_field = ""

    @property
    def row(self):
        return params.row_id(self.data.get(self.row_field)) if self.is_bound else None


def text(label, *, rows=None, **kwargs):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput
    return forms.CharField(label=label, required=False, widget=widget, **kwargs)


# --- residents ----------------------------------------------------------------------------------


class JoinForm(forms.Form):
    community = forms.CharField(label=_lazy("我住在"), required=False)

    def clean_community(self):
        community = Community.objects.filter(code=self.cleaned_data["community"]).first()
        if community is None:
            raise forms.ValidationError(_("请选择所在社区。"), code="unknown")
        return community


class ProposalForm(forms.Form):
    title = text(_lazy("标题"))
    body = text(_lazy("内容"), rows=5)
    place = text(_lazy("地点（选填）"))
    photo = PhotoField(label=_lazy("照片（选填）"))


class SupportForm(forms.Form):
    """Supporting a proposal: nothing to type."""


class WithdrawForm(forms.Form):
    reason = text(_lazy("原因"))


class RatingForm(forms.Form):
    score = WholeNumberField(label=_lazy("评分"))
    comment = text(_lazy("意见（选填）"))


class RegistrationForm(RowForm):
    row_field = "meeting"
    meeting = RowField()


class BallotForm(forms.Form):
    project = RowsField(label=_lazy("候选项目"))


class SurveyAnswersForm(forms.Form):
    """One field per question of the survey: ``q<question id>``."""

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        for question in survey.questions.all():
            self.fields[f"q{question.pk}"] = text(question.text)

    def answers(self) -> dict:
        return {name[1:]: value for name, value in self.cleaned_data.items()}


class VolunteerForm(forms.Form):
    party = forms.BooleanField(label=_lazy("我是党员，到居住社区报到（双报到）"), required=False)
    organisation = text(_lazy("所在单位/党组织（选填）"))

    def kind(self) -> str:
        return Volunteer.Kind.PARTY if self.cleaned_data["party"] else Volunteer.Kind.RESIDENT


class SignUpForm(RowForm):
    row_field = "activity"
    activity = RowField()


class TransferForm(forms.Form):
    to = ResidentField(label=_lazy("对方账号"))
    points = WholeNumberField(label=_lazy("积分"))
    reason = text(_lazy("事由"))


# --- the deliberation desk and the meeting sheet ------------------------------------------------


class MeetingForm(forms.Form):
    title = text(_lazy("名称"))
    starts_at = MomentField(label=_lazy("开始时间"))
    seats = WholeNumberField(label=_lazy("居民席位"))
    place = text(_lazy("地点"))


class TopicForm(forms.Form):
    case = text(_lazy("工单编号（转议题时填写）"))
    title = text(_lazy("标题"))
    body = text(_lazy("内容"), rows=3)


class CouncilMemberForm(forms.Form):
    name = text(_lazy("姓名"))
    origin = text(_lazy("产生方式"))


class EndCouncilForm(RowForm):
    row_field = "member"
    member = RowField()


class AgendaForm(forms.Form):
    proposal = RowField()


class ParticipantForm(forms.Form):
    name = text(_lazy("其他参会人"))
    sector = text(_lazy("身份"))
    organisation = text(_lazy("单位"))


class CheckInForm(RowForm):
    row_field = "registration"
    registration = RowField()


class MinutesForm(forms.Form):
    minutes = text(_lazy("纪要（结束议事会前必填）"), rows=6)


class MeetingStepForm(forms.Form):
    """Opening, closing (the minutes typed with it) or cancelling (the reason) a meeting."""

    note = text(_lazy("原因"))
    minutes = text(_lazy("纪要（结束议事会前必填）"), rows=6)

    def note_of(self) -> str:
        return self.cleaned_data["note"] or self.cleaned_data["minutes"]


class DecisionForm(RowForm):
    row_field = "proposal"
    proposal = RowField()
    decision = text(_lazy("决定"))
    answer = text(_lazy("公开答复"), rows=2)
    owner_name = text(_lazy("责任人"))
    owner_unit = text(_lazy("责任单位"))
    due = text(_lazy("完成时限"))
    milestone = text(_lazy("节点（选填）"))
    milestone_due = text(_lazy("节点日期"))

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        milestone = data["milestone"].strip()
        return {
            "proposal_id": data["proposal"],
            "decision": data["decision"],
            "answer": data["answer"],
            "owner_name": data["owner_name"],
            "owner_unit": Unit.objects.filter(code=data["owner_unit"]).first() if data["owner_unit"] else None,
            "due": data["due"],
            "milestones": [(milestone, data["milestone_due"])] if milestone else [],
        }


class ProgressForm(forms.Form):
    progress = WholeNumberField(label=_lazy("进度（百分比）"))
    note = text(_lazy("进展说明"))
    milestone = RowsField(label=_lazy("已完成节点"))
    evidence = text(_lazy("完成情况（进度达到100时必填）"), rows=2)


# --- projects -----------------------------------------------------------------------------------


class NeedForm(forms.Form):
    title = text(_lazy("需求"))
    demand = WholeNumberField(label=_lazy("提出人数"))


class ResourceForm(forms.Form):
    name = text(_lazy("资源"))
    provider = text(_lazy("提供方"))


class ProjectForm(forms.Form):
    title = text(_lazy("项目"))
    cost = WholeNumberField(label=_lazy("预算（元）"))
    description = text(_lazy("说明"), rows=2)
    need = RowsField(label=_lazy("对应需求"))
    resource = RowsField(label=_lazy("使用资源"))


class VoteForm(forms.Form):
    year = WholeNumberField(label=_lazy("年度"))
    budget = WholeNumberField(label=_lazy("总预算（元）"))
    min_choices = WholeNumberField(label=_lazy("每人至少选"))
    max_choices = WholeNumberField(label=_lazy("每人至多选"))
    project = RowsField(label=_lazy("候选项目"))


class CloseVoteForm(RowForm):
    row_field = "round"
    round = RowField()


class SurveyForm(forms.Form):
    title = text(_lazy("名称"))
    questions = text(_lazy("问题（每行一个；选项用 | 分隔，如：最需要的服务|助餐|托管）"), rows=4)
    anonymous = forms.BooleanField(label=_lazy("匿名"), required=False)

    def question_list(self) -> list:
        """(question, [choices]) for each line typed."""
        lines = [line for line in self.cleaned_data["questions"].splitlines() if line.strip()]
        return [(line.split("|")[0], line.split("|")[1:]) for line in lines]


class ProjectStepForm(RowForm):
    """Starting a project's service, recording residents served, finishing it."""

    row_field = "project"
    project = RowField()
    served = WholeNumberField(label=_lazy("服务人次"))


# --- the points and volunteering desk ------------------------------------------------------------


class RedeemForm(forms.Form):
    resident = ResidentField(label=_lazy("居民账号"))
    reward = RowField()
    quantity = WholeNumberField(label=_lazy("数量"), default=1)


class AwardForm(forms.Form):
    resident = ResidentField(label=_lazy("居民账号"))
    points = WholeNumberField(label=_lazy("积分"))
    reason = text(_lazy("事由"))


class DrawTimeForm(forms.Form):
    resident = ResidentField(label=_lazy("居民账号"))
    hours = text(_lazy("时长（小时）"))
    note = text(_lazy("所提供的服务"))


class RewardForm(forms.Form):
    name = text(_lazy("名称"))
    cost = WholeNumberField(label=_lazy("所需积分"))
    stock = WholeNumberField(label=_lazy("库存"))


class ActivityForm(forms.Form):
    title = text(_lazy("活动"))
    starts_at = MomentField(label=_lazy("开始时间"))
    capacity = WholeNumberField(label=_lazy("名额"))
    points_per_hour = WholeNumberField(label=_lazy("每小时积分"))
    place = text(_lazy("地点"))


class TeamForm(forms.Form):
    name = text(_lazy("队名"))
    organisation = text(_lazy("单位"))


class VolunteerCheckInForm(RowForm):
    row_field = "signup"
    signup = RowField()


class HoursForm(RowForm):
    row_field = "signup"
    signup = RowField()
    hours = text(_lazy("时长（小时）"))
    bank = forms.BooleanField(label=_lazy("存入时间银行"), required=False)  # 计积分 "0" or 存入时间银行 "1"
