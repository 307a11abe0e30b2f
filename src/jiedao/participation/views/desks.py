"""The committee's desks for neighbourhood projects (needs, resources, projects, surveys, the
yearly vote and delivery) and for points and volunteering (activities, check-in, verified
hours, the reward desk, awarding points, time bank draws, enterprises' teams).

Each action is one form (``forms``) and one service: on success the page redirects; refused,
it is shown again with the form's errors and what was typed."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from .. import selectors, services
from ..forms import (
    ActivityForm,
    AwardForm,
    CloseVoteForm,
    DrawTimeForm,
    HoursForm,
    NeedForm,
    ProjectForm,
    ProjectStepForm,
    RedeemForm,
    ResourceForm,
    RewardForm,
    SurveyForm,
    TeamForm,
    VolunteerCheckInForm,
    VoteForm,
)
from ..models import Project, ProjectStatus, Reward, Volunteer, VoteRound
from .common import STAFF_ROLES, desk_url, page_action, run, staff_community, staff_tabs

PROJECT_FORMS = {
    "need": NeedForm,
    "resource": ResourceForm,
    "project": ProjectForm,
    "vote": VoteForm,
    "close_vote": CloseVoteForm,
    "survey": SurveyForm,
    "deliver": ProjectStepForm,
    "finish": ProjectStepForm,
    "serve": ProjectStepForm,
}


def _project_action(user, community, op, form):
    if op == "need":
        return lambda data: services.add_need(user, community=community, title=data["title"], demand=data["demand"])
    if op == "resource":
        return lambda data: services.add_resource(
            user, community=community, name=data["name"], provider=data["provider"]
        )
    if op == "project":
        return lambda data: services.create_project(
            user,
            community=community,
            title=data["title"],
            cost=data["cost"],
            description=data["description"],
            need_ids=data["need"],
            resource_ids=data["resource"],
        )
    if op == "vote":
        return lambda data: services.open_vote(
            user,
            community=community,
            year=data["year"],
            budget=data["budget"],
            min_choices=data["min_choices"],
            max_choices=data["max_choices"],
            project_ids=data["project"],
        )
    if op == "close_vote":

        def close(data):
            round_ = VoteRound.objects.filter(pk=data["round"], community=community).first()
            if round_ is None:
                raise Http404
            return services.close_vote(user, round_id=round_.pk)

        return close
    if op == "survey":
        return lambda data: services.create_survey(
            user,
            community=community,
            title=data["title"],
            questions=form.question_list(),
            anonymous=data["anonymous"],
        )

    def step(data):
        project = Project.objects.filter(pk=data["project"], community=community).first()
        if project is None:
            raise Http404
        return services.project_step(user, project_id=project.pk, action=op, served=data["served"])

    return step


@role_required(*STAFF_ROLES)
@permission("participation.projects")
def projects_desk(request):
    user = request.user
    community, allowed = staff_community(request)
    forms = {op: form_class() for op, form_class in PROJECT_FORMS.items()}
    status = 200
    if request.method == "POST":
        op = page_action(request, PROJECT_FORMS)
        forms[op] = form = PROJECT_FORMS[op](request.POST)
        _result, status = run(form, _project_action(user, community, op, form))
        if status is None:
            messages.success(request, _("已保存。"))
            return redirect(desk_url("projects_desk", community))
    context = selectors.project_board(community)
    refused = next((forms[op] for op in ("finish", "serve") if forms[op].is_bound), None)
    shown = False
    for project in context["projects"]:
        # Each project in delivery has its own form; the refused one keeps what was typed.
        project.step_form = ProjectStepForm()
        if refused is not None and refused.row == project.pk and project.status == ProjectStatus.DELIVERING:
            project.step_form, shown = refused, True
    context.update(
        {
            "tabs": staff_tabs("projects_desk", community),
            "community": community,
            "allowed": allowed,
            "year": timezone.localdate().year + 1,
            "forms": forms,
            "step_errors": [forms["deliver"]] + ([refused] if refused is not None and not shown else []),
        }
    )
    return render(request, "participation/projects_desk.html", context, status=status)


POINTS_FORMS = {
    "redeem": RedeemForm,
    "earn": AwardForm,
    "draw": DrawTimeForm,
    "reward": RewardForm,
    "activity": ActivityForm,
    "team": TeamForm,
    "checkin": VolunteerCheckInForm,
    "verify": HoursForm,
}


def _points_action(user, community, op):
    if op == "redeem":
        return lambda data: services.redeem(
            user, user=data["resident"], reward_id=data["reward"], quantity=data["quantity"]
        )
    if op == "earn":
        return lambda data: services.earn(user, user=data["resident"], points=data["points"], reason=data["reason"])
    if op == "draw":
        return lambda data: services.draw_time(user, user=data["resident"], hours=data["hours"], note=data["note"])
    if op == "reward":
        return lambda data: services.add_reward(
            user, community=community, name=data["name"], cost=data["cost"], stock=data["stock"]
        )
    if op == "activity":
        return lambda data: services.create_activity(
            user,
            community=community,
            title=data["title"],
            starts_at=data["starts_at"],
            place=data["place"],
            capacity=data["capacity"],
            points_per_hour=data["points_per_hour"],
        )
    if op == "team":
        return lambda data: services.register_volunteer(
            user,
            community=community,
            name=data["name"],
            kind=Volunteer.Kind.TEAM,
            organisation=data["organisation"],
        )
    if op == "checkin":
        return lambda data: services.check_in_volunteer(user, signup_id=data["signup"])
    return lambda data: services.verify_hours(user, signup_id=data["signup"], hours=data["hours"], bank=data["bank"])


@role_required(*STAFF_ROLES)
@permission("participation.volunteering")
def points_desk(request):
    user = request.user
    community, allowed = staff_community(request)
    forms = {op: form_class() for op, form_class in POINTS_FORMS.items()}
    status = 200
    if request.method == "POST":
        op = page_action(request, POINTS_FORMS)
        forms[op] = form = POINTS_FORMS[op](request.POST)
        _result, status = run(form, _points_action(user, community, op))
        if status is None:
            messages.success(request, _("已保存。"))
            return redirect(desk_url("points_desk", community))
    activities = [a for a in selectors.staff_activities(user) if a.community_id == community.pk]
    refused, verify_shown = forms["verify"], False
    for activity in activities:
        for signup in activity.signups.all():
            # Each checked-in volunteer has a form for the hours; the refused one keeps what was typed.
            signup.verify_form = HoursForm()
            if refused.is_bound and refused.row == signup.pk and signup.checked_in_at and not signup.verified_at:
                signup.verify_form, verify_shown = refused, True
    return render(
        request,
        "participation/points_desk.html",
        {
            "tabs": staff_tabs("points_desk", community),
            "community": community,
            "allowed": allowed,
            "rewards": list(Reward.objects.filter(community=community)),
            "activities": activities,
            "postings": [p for p in selectors.recent_postings(user) if p.community_id == community.pk],
            "default_start": (timezone.localtime() + dt.timedelta(days=3))
            .replace(hour=9, minute=0, second=0, microsecond=0)
            .strftime("%Y-%m-%dT%H:%M"),
            "forms": forms,
            "verify_shown": verify_shown,
        },
        status=status,
    )
