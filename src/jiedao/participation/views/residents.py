"""The residents' pages of 多元共治 (large type, elderly mode): choosing one's community, the
community's topics, proposing, a proposal with its support, answer, progress and rating,
meetings to register for, the yearly project vote, surveys, volunteering and my points — and the
public page of decisions and their progress, for everyone, signed in or not.

Each action of a page is one form (``forms``) and one service: on success the page redirects;
refused, it is shown again with the form's errors and what was typed."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from jiedao.common import params
from jiedao.common.throttle import Limit, limited
from jiedao.org.models import Community
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from .. import rules, selectors, services
from ..forms import (
    BallotForm,
    JoinForm,
    ProgressForm,
    ProposalForm,
    RatingForm,
    RegistrationForm,
    SignUpForm,
    SupportForm,
    SurveyAnswersForm,
    TransferForm,
    VolunteerForm,
    WithdrawForm,
)
from ..models import Proposal, ProposalStatus, Volunteer
from ..states import PROPOSAL
from .common import PAGE, member_community, page_action, resident_tabs, run


def _to_sign_in(request):
    return redirect(f"{reverse('web:login')}?next={request.path}")


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("participation.join")
def home(request):
    """议题征集: the proposals of my community; a resident without a community chooses it here."""
    user = request.user
    form = JoinForm()
    status = 200
    if request.method == "POST":
        if not user.is_authenticated:
            return _to_sign_in(request)
        form = JoinForm(request.POST)
        _member, status = run(form, lambda data: services.join_community(user, user=user, community=data["community"]))
        if status is None:
            messages.success(request, _("已登记为%(name)s居民。") % {"name": form.cleaned_data["community"].name})
            return redirect("participation:home")
    community = member_community(user)
    before = Proposal.objects.filter(pk=params.row_id(request.GET.get("before")), community=community).first()
    items, more = (
        selectors.page(selectors.proposals(community, limit=PAGE + 1, before=before), PAGE) if community else ([], None)
    )
    context = {
        "tabs": resident_tabs("home"),
        "community": community,
        "proposals": items,
        "more": more,
        "supported": selectors.supported_ids(user, items),
        "may_join": user.is_authenticated and user.has_role("resident") and community is None,
        "join": form,
        "communities": Community.objects.order_by("code"),
        "surveys": selectors.open_surveys(community),
        "runs_desk": selectors.runnable_communities(user).exists(),
    }
    return render(request, "participation/home.html", context, status=status)


@role_required("resident")
@permission("participation.propose")
def propose(request):
    user = request.user
    community = member_community(user)
    if community is None:
        messages.error(request, _("请先选择所在社区。"))
        return redirect("participation:home")
    form = ProposalForm()
    status = 200
    if request.method == "POST":
        form = ProposalForm(request.POST, request.FILES)
        proposal, status = run(form, lambda data: services.propose(user, **data))
        if status is None:
            messages.success(request, _("议题已提交，邀请邻居附议吧。"))
            return redirect("participation:proposal", pk=proposal.pk)
    typed = (form.data.get("title", ""), form.data.get("body", "")) if form.is_bound else ("", "")
    similar = selectors.similar_proposals(community, typed[0] + typed[1]) if typed[0] else []
    return render(
        request,
        "participation/propose.html",
        {"tabs": resident_tabs("home"), "community": community, "form": form, "similar": similar},
        status=status,
    )


@limited(Limit("SEARCH_RATE"))
def similar(request):
    """Shown while writing: proposals of the community that look the same."""
    community = member_community(request.user)
    text = request.GET.get("title", "") + request.GET.get("body", "")
    return render(
        request,
        "participation/_similar.html",
        {"similar": selectors.similar_proposals(community, text) if community else []},
    )


PROPOSAL_ACTIONS = {
    "support": (SupportForm, _lazy("已附议。")),
    "withdraw": (WithdrawForm, _lazy("议题已撤回。")),
    "rate": (RatingForm, _lazy("感谢您的评价。")),
}


def _proposal_action(user, item, op):
    if op == "support":
        return lambda data: services.support(user, proposal_id=item.pk)
    if op == "withdraw":
        return lambda data: services.withdraw(user, proposal_id=item.pk, reason=data["reason"])
    return lambda data: services.rate_result(user, proposal_id=item.pk, score=data["score"], comment=data["comment"])


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("participation.support", "participation.withdraw", "participation.rate")
def proposal(request, pk):
    user = request.user
    item = selectors.proposal(pk)
    if item is None:
        raise Http404
    forms = {op: form_class() for op, (form_class, _done) in PROPOSAL_ACTIONS.items()}
    status = 200
    if request.method == "POST":
        if not user.is_authenticated:
            return _to_sign_in(request)
        op = page_action(request, PROPOSAL_ACTIONS)
        form_class, done = PROPOSAL_ACTIONS[op]
        forms[op] = form = form_class(request.POST)
        _result, status = run(form, _proposal_action(user, item, op))
        if status is None:
            messages.success(request, done)
            if op == "withdraw":
                return redirect("participation:home")
            return redirect("participation:proposal", pk=item.pk)
    return proposal_page(request, item, forms, status)


def proposal_page(request, item, forms, status=200, progress=None):
    """The page of a proposal, with its forms (bound to what was typed when one was refused)."""
    user = request.user
    member = rules.membership(user)
    is_member = member is not None and member.community_id == item.community_id
    action = selectors.action_of(item)
    supported = item.pk in selectors.supported_ids(user, [item])
    context = {
        "tabs": resident_tabs("home"),
        "p": item,
        "events": selectors.timeline(item),
        "action": action,
        "ratings": selectors.rating_summary(item),
        "may_support": is_member
        and item.status in (ProposalStatus.OPEN, ProposalStatus.QUALIFIED)
        and item.proposer_id != user.pk
        and not supported,
        "supported": supported,
        "may_withdraw": PROPOSAL.can_take(user, item, "withdraw"),
        "may_rate": is_member
        and item.status == ProposalStatus.COMPLETED
        and not item.ratings.filter(user=user).exists(),
        "may_run": rules.may_run(user, item.community),
        "scores": range(5, 0, -1),
        "forms": forms,
        "progress_form": progress or ProgressForm(),
    }
    return render(request, "participation/proposal.html", context, status=status)


@role_required("resident")
@permission("participation.meeting")
def meetings(request):
    user = request.user
    community = member_community(user)
    form = RegistrationForm()
    status = 200
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        _registration, status = run(form, lambda data: services.register(user, meeting_id=data["meeting"]))
        if status is None:
            messages.success(request, _("报名成功，请按时到场签到。"))
            return redirect("participation:meetings")
    return render(
        request,
        "participation/meetings.html",
        {
            "tabs": resident_tabs("meetings"),
            "community": community,
            "meetings": selectors.upcoming_meetings(community),
            "registered": selectors.registered_meeting_ids(user),
            "form": form,
        },
        status=status,
    )


@role_required("resident")
@permission("participation.vote")
def vote(request):
    user = request.user
    community = member_community(user)
    round_ = selectors.open_vote(community)
    form = BallotForm()
    status = 200
    if request.method == "POST" and round_ is not None:
        form = BallotForm(request.POST)
        _ballot, status = run(
            form, lambda data: services.cast_ballot(user, round_id=round_.pk, project_ids=data["project"])
        )
        if status is None:
            messages.success(request, _("投票成功，谢谢参与。"))
            return redirect("participation:vote")
    chosen = set(getattr(form, "cleaned_data", {}).get("project", []))  # ticked again after a refusal
    return render(
        request,
        "participation/vote.html",
        {
            "tabs": resident_tabs("vote"),
            "community": community,
            "round": round_,
            "voted": selectors.has_voted(user, round_),
            "form": form,
            "chosen": chosen,
        },
        status=status,
    )


@role_required("resident")
@permission("participation.survey")
def survey(request, pk):
    user = request.user
    community = member_community(user)
    item = next((s for s in selectors.open_surveys(community) if s.pk == pk), None)
    if item is None:
        raise Http404
    form = SurveyAnswersForm(survey=item)
    status = 200
    if request.method == "POST":
        form = SurveyAnswersForm(request.POST, survey=item)
        _survey, status = run(
            form, lambda data: services.answer_survey(user, survey_id=item.pk, answers=form.answers())
        )
        if status is None:
            messages.success(request, _("感谢您填写调查。"))
            return redirect("participation:home")
    questions = [(question, form[f"q{question.pk}"]) for question in item.questions.all()]
    return render(
        request,
        "participation/survey.html",
        {"tabs": resident_tabs("home"), "survey": item, "form": form, "questions": questions},
        status=status,
    )


@role_required("resident")
@permission("participation.volunteer")
def volunteer(request):
    user = request.user
    community = member_community(user)
    join, signup = VolunteerForm(), SignUpForm()
    status = 200
    if request.method == "POST":
        if page_action(request, ("join",), default="sign_up") == "join":
            join = VolunteerForm(request.POST)
            _volunteer, status = run(
                join,
                lambda data: services.register_volunteer(
                    user, community=community, user=user, kind=join.kind(), organisation=data["organisation"]
                ),
            )
            done = _("已登记为志愿者。")
        else:
            signup = SignUpForm(request.POST)
            _signup, status = run(signup, lambda data: services.sign_up(user, activity_id=data["activity"]))
            done = _("报名成功。")
        if status is None:
            messages.success(request, done)
            return redirect("participation:volunteer")
    return render(
        request,
        "participation/volunteer.html",
        {
            "tabs": resident_tabs("volunteer"),
            "community": community,
            "activities": selectors.activities(community, upcoming_only=True),
            "signed": selectors.signed_activity_ids(user),
            "is_volunteer": Volunteer.objects.filter(user=user).exists(),
            "join": join,
            "signup": signup,
        },
        status=status,
    )


@role_required("resident")
@permission("participation.points")
def points(request):
    user = request.user
    form = TransferForm()
    status = 200
    if request.method == "POST":
        form = TransferForm(request.POST)
        _posting, status = run(
            form,
            lambda data: services.transfer(user, to_user=data["to"], points=data["points"], reason=data["reason"]),
        )
        if status is None:
            messages.success(request, _("积分已转赠。"))
            return redirect("participation:points")
    context = selectors.my_points(user)
    context.update({"tabs": resident_tabs("points"), "community": member_community(user), "form": form})
    return render(request, "participation/points.html", context, status=status)


@limited(Limit("PUBLIC_PAGE_RATE"))
def decisions(request):
    """Public: every decision with its answer and the progress of adopted actions (no sign-in)."""
    community = Community.objects.filter(code=request.GET.get("community", "")).first()
    before = Proposal.objects.filter(pk=params.row_id(request.GET.get("before")), decided_at__isnull=False).first()
    rows, more = selectors.page(selectors.public_decisions(community, limit=PAGE + 1, before=before), PAGE)
    return render(
        request,
        "participation/decisions.html",
        {
            "tabs": resident_tabs("decisions"),
            "community": community,
            "communities": Community.objects.order_by("code"),
            "more": more,
            "decisions": rows,
            "summary": selectors.summary(community),
            "monthly": selectors.monthly_proposals(community),
        },
    )
