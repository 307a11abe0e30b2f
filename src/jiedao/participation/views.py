"""Pages of 多元共治. Residents (large type, elderly mode): proposals and supports, meetings
to register for, the yearly project vote, surveys, volunteering and my points. Staff of
the community's committee: the desk, the meeting sheet (agenda, attendance at the door,
decisions, minutes), projects and the points desk. Everyone, signed in or not: decisions
and their progress. Views parse input, call a service or selector and show domain errors."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiedao.common import params
from jiedao.common.errors import DomainError, ValidationFailed
from jiedao.common.throttle import Limit, limited
from jiedao.org.models import Community, Unit, User
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import selectors, services, states
from .models import CouncilMember, Project, Proposal, Sector, Volunteer, VoteRound

STAFF_ROLES = ("handler", "leader", "admin", "dispatcher", "operator", "grid")
PAGE = 30


def _error(request, exc):
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            messages.error(request, error["message"])
    else:
        messages.error(request, getattr(exc, "message", str(exc)))


def _int(value, default=None):
    return params.whole_number(value, default)


def _when(value, field="starts_at"):
    """A date and time typed in a form (Beijing time without an offset), or None if empty;
    one that is not a time, or outside the supported years, is a field error."""
    value = (value or "").strip()
    if not value:
        return None
    moment = params.parse_datetime(value, field)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _member_community(user):
    member = services.membership(user)
    return member.community if member else None


def _resident_tabs(active):
    tabs = [
        ("home", _("议题征集")),
        ("meetings", _("议事会报名")),
        ("vote", _("项目投票")),
        ("volunteer", _("志愿服务")),
        ("points", _("我的积分")),
        ("decisions", _("议事结果公开")),
    ]
    return [{"url": reverse(f"participation:{name}"), "label": label, "active": name == active} for name, label in tabs]


def _staff_tabs(active, community):
    tabs = [("desk", _("议事工作台")), ("projects_desk", _("民生项目")), ("points_desk", _("积分与志愿"))]
    query = f"?community={community.code}" if community else ""
    return [
        {"url": reverse(f"participation:{name}") + query, "label": label, "active": name == active}
        for name, label in tabs
    ]


# --- resident pages -----------------------------------------------------------------------------


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("participation.join")
def home(request):
    """议题征集: the proposals of my community; a resident without a community chooses it here."""
    user = request.user
    community = _member_community(user)
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect(f"{reverse('web:login')}?next={request.path}")
        chosen = Community.objects.filter(code=request.POST.get("community", "")).first()
        if chosen is None:
            messages.error(request, _("请选择所在社区。"))
        else:
            try:
                services.join_community(user, user, chosen)
            except DomainError as exc:
                _error(request, exc)
            else:
                messages.success(request, _("已登记为%(name)s居民。") % {"name": chosen.name})
        return redirect("participation:home")
    before = Proposal.objects.filter(pk=_int(request.GET.get("before"), 0), community=community).first()
    items, more = (
        selectors.page(selectors.proposals(community, limit=PAGE + 1, before=before), PAGE) if community else ([], None)
    )
    context = {
        "tabs": _resident_tabs("home"),
        "community": community,
        "proposals": items,
        "more": more,
        "supported": selectors.supported_ids(user, items),
        "may_join": user.is_authenticated and user.has_role("resident") and community is None,
        "communities": Community.objects.order_by("code"),
        "surveys": selectors.open_surveys(community),
        "runs_desk": selectors.runnable_communities(user).exists(),
    }
    return render(request, "participation/home.html", context)


@role_required("resident")
@permission("participation.propose")
def propose(request):
    user = request.user
    community = _member_community(user)
    if community is None:
        messages.error(request, _("请先选择所在社区。"))
        return redirect("participation:home")
    values = {"title": "", "body": "", "place": ""}
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            proposal = services.propose(user, photo=request.FILES.get("photo"), **values)
        except DomainError as exc:
            _error(request, exc)
            status = 422
        else:
            messages.success(request, _("议题已提交，邀请邻居附议吧。"))
            return redirect("participation:proposal", pk=proposal.pk)
    similar = selectors.similar_proposals(community, values["title"] + values["body"]) if values["title"] else []
    return render(
        request,
        "participation/propose.html",
        {
            "tabs": _resident_tabs("home"),
            "community": community,
            "values": values,
            "similar": similar,
        },
        status=status,
    )


@limited(Limit("SEARCH_RATE"))
def similar(request):
    """Shown while writing: proposals of the community that look the same."""
    community = _member_community(request.user)
    text = request.GET.get("title", "") + request.GET.get("body", "")
    return render(
        request,
        "participation/_similar.html",
        {"similar": selectors.similar_proposals(community, text) if community else []},
    )


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("participation.support", "participation.withdraw", "participation.rate")
def proposal(request, pk):
    user = request.user
    item = selectors.proposal(pk)
    if item is None:
        raise Http404
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect(f"{reverse('web:login')}?next={request.path}")
        op = request.POST.get("op", "")
        try:
            if op == "support":
                services.support(user, item.pk)
                messages.success(request, _("已附议。"))
            elif op == "withdraw":
                services.withdraw(user, item.pk, reason=request.POST.get("reason", ""))
                messages.success(request, _("议题已撤回。"))
                return redirect("participation:home")
            elif op == "rate":
                services.rate_result(
                    user, item.pk, score=_int(request.POST.get("score")), comment=request.POST.get("comment", "")
                )
                messages.success(request, _("感谢您的评价。"))
            else:
                raise Http404
        except DomainError as exc:
            _error(request, exc)
        return redirect("participation:proposal", pk=item.pk)
    member = services.membership(user)
    is_member = member is not None and member.community_id == item.community_id
    action = selectors.action_of(item)
    context = {
        "tabs": _resident_tabs("home"),
        "p": item,
        "events": selectors.timeline(item),
        "action": action,
        "ratings": selectors.rating_summary(item),
        "may_support": is_member
        and item.status in ("open", "qualified")
        and item.proposer_id != user.pk
        and item.pk not in selectors.supported_ids(user, [item]),
        "supported": item.pk in selectors.supported_ids(user, [item]),
        "may_withdraw": user.is_authenticated and item.proposer_id == user.pk and item.status in ("open", "qualified"),
        "may_rate": is_member and item.status == "completed" and not item.ratings.filter(user=user).exists(),
        "may_run": services.may_run(user, item.community),
        "scores": range(5, 0, -1),
    }
    return render(request, "participation/proposal.html", context)


@role_required("resident")
@permission("participation.meeting")
def meetings(request):
    user = request.user
    community = _member_community(user)
    if request.method == "POST":
        try:
            services.register(user, _int(request.POST.get("meeting")))
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("报名成功，请按时到场签到。"))
        return redirect("participation:meetings")
    rows = selectors.upcoming_meetings(community)
    return render(
        request,
        "participation/meetings.html",
        {
            "tabs": _resident_tabs("meetings"),
            "community": community,
            "meetings": rows,
            "registered": selectors.registered_meeting_ids(user),
        },
    )


@role_required("resident")
@permission("participation.vote")
def vote(request):
    user = request.user
    community = _member_community(user)
    round_ = selectors.open_vote(community)
    if request.method == "POST" and round_ is not None:
        try:
            services.cast_ballot(user, round_.pk, [_int(v) for v in request.POST.getlist("project") if _int(v)])
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("投票成功，谢谢参与。"))
        return redirect("participation:vote")
    return render(
        request,
        "participation/vote.html",
        {
            "tabs": _resident_tabs("vote"),
            "community": community,
            "round": round_,
            "voted": selectors.has_voted(user, round_),
        },
    )


@role_required("resident")
@permission("participation.survey")
def survey(request, pk):
    user = request.user
    community = _member_community(user)
    item = next((s for s in selectors.open_surveys(community) if s.pk == pk), None)
    if item is None:
        raise Http404
    if request.method == "POST":
        answers = {str(q.pk): request.POST.get(f"q{q.pk}", "") for q in item.questions.all()}
        try:
            services.answer_survey(user, item.pk, answers)
        except DomainError as exc:
            _error(request, exc)
            return redirect("participation:survey", pk=item.pk)
        messages.success(request, _("感谢您填写调查。"))
        return redirect("participation:home")
    return render(request, "participation/survey.html", {"tabs": _resident_tabs("home"), "survey": item})


@role_required("resident")
@permission("participation.volunteer")
def volunteer(request):
    user = request.user
    community = _member_community(user)
    if request.method == "POST":
        try:
            if request.POST.get("op") == "join":
                kind = Volunteer.Kind.PARTY if request.POST.get("party") else Volunteer.Kind.RESIDENT
                services.register_volunteer(
                    user, community, user=user, kind=kind, organisation=request.POST.get("organisation", "")
                )
                messages.success(request, _("已登记为志愿者。"))
            else:
                services.sign_up(user, _int(request.POST.get("activity")))
                messages.success(request, _("报名成功。"))
        except DomainError as exc:
            _error(request, exc)
        return redirect("participation:volunteer")
    return render(
        request,
        "participation/volunteer.html",
        {
            "tabs": _resident_tabs("volunteer"),
            "community": community,
            "activities": selectors.activities(community, upcoming_only=True),
            "signed": selectors.signed_activity_ids(user),
            "is_volunteer": Volunteer.objects.filter(user=user).exists(),
        },
    )


@role_required("resident")
@permission("participation.points")
def points(request):
    user = request.user
    if request.method == "POST":
        target = User.objects.filter(username=request.POST.get("to", "").strip()).first()
        try:
            if target is None:
                raise ValidationFailed("to", _("没有这个居民账号。"))
            services.transfer(user, target, _int(request.POST.get("points"), 0), request.POST.get("reason", ""))
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("积分已转赠。"))
        return redirect("participation:points")
    context = selectors.my_points(user)
    context.update({"tabs": _resident_tabs("points"), "community": _member_community(user)})
    return render(request, "participation/points.html", context)


@limited(Limit("PUBLIC_PAGE_RATE"))
def decisions(request):
    """Public: every decision with its answer and the progress of adopted actions (no sign-in)."""
    community = Community.objects.filter(code=request.GET.get("community", "")).first()
    before = Proposal.objects.filter(pk=_int(request.GET.get("before"), 0), decided_at__isnull=False).first()
    rows, more = selectors.page(selectors.public_decisions(community, limit=PAGE + 1, before=before), PAGE)
    return render(
        request,
        "participation/decisions.html",
        {
            "tabs": _resident_tabs("decisions"),
            "community": community,
            "communities": Community.objects.order_by("code"),
            "more": more,
            "decisions": rows,
            "summary": selectors.summary(community),
            "monthly": selectors.monthly_proposals(community),
        },
    )


# --- staff pages --------------------------------------------------------------------------------


def _staff_community(request):
    allowed = selectors.runnable_communities(request.user)
    code = request.GET.get("community") or request.POST.get("community")
    community = allowed.filter(code=code).first() if code else allowed.first()
    if community is None:
        raise PermissionDenied
    return community, allowed


@role_required(*STAFF_ROLES)
@permission("participation.deliberation")
def desk(request):
    user = request.user
    if not selectors.runnable_communities(user).exists():
        # Staff of other units follow the decisions and their progress on the public page.
        return redirect("participation:decisions")
    community, allowed = _staff_community(request)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "meeting":
                meeting = services.schedule_meeting(
                    user,
                    community,
                    title=request.POST.get("title", ""),
                    place=request.POST.get("place", ""),
                    starts_at=_when(request.POST.get("starts_at")),
                    seats=_int(request.POST.get("seats")),
                )
                messages.success(request, _("已安排议事会。"))
                return redirect("participation:meeting", pk=meeting.pk)
            if op == "topic":
                case_number = request.POST.get("case", "").strip()
                if case_number:
                    services.topic_from_case(
                        user, case_number, title=request.POST.get("title", ""), body=request.POST.get("body", "")
                    )
                else:
                    services.table_topic(
                        user,
                        community,
                        title=request.POST.get("title", ""),
                        body=request.POST.get("body", ""),
                        place=request.POST.get("place", ""),
                    )
                messages.success(request, _("议题已提出，可列入议程。"))
            elif op == "council":
                services.add_council_member(
                    user,
                    community,
                    name=request.POST.get("name", ""),
                    origin=request.POST.get("origin", ""),
                    start=timezone.localdate(),
                )
                messages.success(request, _("已添加议事会成员。"))
            elif op == "end_council":
                services.end_council_member(user, _int(request.POST.get("member")), timezone.localdate())
            else:
                raise Http404
        except DomainError as exc:
            _error(request, exc)
        return redirect(f"{reverse('participation:desk')}?community={community.code}")
    today = timezone.localdate()
    council = list(CouncilMember.objects.filter(community=community, end__isnull=True))
    context = {
        "tabs": _staff_tabs("desk", community),
        "community": community,
        "allowed": allowed,
        "meetings": [m for m in selectors.meetings_for(user) if m.community_id == community.pk],
        "qualified": selectors.proposals(community, status=["qualified", "study"]),
        "open": selectors.proposals(community, status="open"),
        "actions": [a for a in selectors.open_actions(user) if a.proposal.community_id == community.pk],
        "council": council,
        "self_count": sum(1 for m in council if m.origin == "self"),
        "summary": selectors.summary(community),
        "today": today,
        "origins": CouncilMember.Origin.choices,
        "default_start": (timezone.localtime() + dt.timedelta(days=7))
        .replace(hour=19, minute=0, second=0, microsecond=0)
        .strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "participation/desk.html", context)


@role_required(*STAFF_ROLES)
@permission("participation.deliberation")
def meeting(request, pk):
    user = request.user
    item = selectors.meeting_for(user, pk)
    if item is None:
        raise Http404
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "agenda":
                services.add_to_agenda(user, item.pk, _int(request.POST.get("proposal")))
            elif op == "participant":
                services.add_participant(
                    user,
                    item.pk,
                    name=request.POST.get("name", ""),
                    sector=request.POST.get("sector", ""),
                    organisation=request.POST.get("organisation", ""),
                )
            elif op == "checkin":
                services.check_in(user, _int(request.POST.get("registration")))
            elif op == "minutes":
                services.save_minutes(user, item.pk, request.POST.get("minutes", ""))
                messages.success(request, _("纪要已保存。"))
            elif op in states.MEETING:
                services.meeting_step(
                    user, item.pk, op, note=request.POST.get("note", "") or request.POST.get("minutes", "")
                )
                messages.success(request, states.label(op))
            elif op == "decide":
                milestone = request.POST.get("milestone", "").strip()
                services.decide(
                    user,
                    _int(request.POST.get("proposal")),
                    request.POST.get("decision", ""),
                    answer=request.POST.get("answer", ""),
                    owner_name=request.POST.get("owner_name", ""),
                    owner_unit=Unit.objects.filter(code=request.POST.get("owner_unit", "")).first(),
                    due=request.POST.get("due", ""),
                    milestones=[(milestone, request.POST.get("milestone_due", ""))] if milestone else [],
                )
                messages.success(request, _("决定已记录并公开。"))
            else:
                raise Http404
        except DomainError as exc:
            _error(request, exc)
        return redirect("participation:meeting", pk=item.pk)
    context = selectors.meeting_sheet(item)
    context.update(
        {
            "tabs": _staff_tabs("desk", item.community),
            "m": item,
            "sectors": Sector.choices,
            "units": Unit.objects.filter(active=True).order_by("kind", "code"),
            "default_unit": Unit.objects.filter(kind=Unit.Kind.COMMUNITY, community=item.community).first(),
            "default_due": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        }
    )
    return render(request, "participation/meeting.html", context)


@role_required(*STAFF_ROLES)
@require_POST
@permission("participation.deliberation")
def action_progress(request, pk):
    user = request.user
    item = Proposal.objects.filter(action__pk=pk).first()
    if item is None or not services.may_run(user, item.community):
        raise Http404
    try:
        services.report_progress(
            user,
            pk,
            progress=_int(request.POST.get("progress"), -1),
            note=request.POST.get("note", ""),
            evidence=request.POST.get("evidence", ""),
            milestone_ids=[_int(v) for v in request.POST.getlist("milestone") if _int(v)],
        )
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("进展已更新并通知提出人和附议人。"))
    return redirect("participation:proposal", pk=item.pk)


@role_required(*STAFF_ROLES)
@permission("participation.projects")
def projects_desk(request):
    user = request.user
    community, allowed = _staff_community(request)
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "need":
                services.add_need(
                    user, community, title=request.POST.get("title", ""), demand=_int(request.POST.get("demand"), 0)
                )
            elif op == "resource":
                services.add_resource(
                    user, community, name=request.POST.get("name", ""), provider=request.POST.get("provider", "")
                )
            elif op == "project":
                services.create_project(
                    user,
                    community,
                    title=request.POST.get("title", ""),
                    cost=_int(request.POST.get("cost"), 0),
                    description=request.POST.get("description", ""),
                    need_ids=[_int(v) for v in request.POST.getlist("need") if _int(v)],
                    resource_ids=[_int(v) for v in request.POST.getlist("resource") if _int(v)],
                )
            elif op == "vote":
                services.open_vote(
                    user,
                    community,
                    year=_int(request.POST.get("year"), 0),
                    budget=_int(request.POST.get("budget"), 0),
                    min_choices=_int(request.POST.get("min_choices"), 0),
                    max_choices=_int(request.POST.get("max_choices"), 0),
                    project_ids=[_int(v) for v in request.POST.getlist("project") if _int(v)],
                )
            elif op == "close_vote":
                round_ = VoteRound.objects.filter(pk=_int(request.POST.get("round")), community=community).first()
                if round_ is None:
                    raise Http404
                services.close_vote(user, round_.pk)
            elif op == "survey":
                questions = [
                    (line.split("|")[0], line.split("|")[1:])
                    for line in request.POST.get("questions", "").splitlines()
                    if line.strip()
                ]
                services.create_survey(
                    user,
                    community,
                    title=request.POST.get("title", ""),
                    questions=questions,
                    anonymous=bool(request.POST.get("anonymous")),
                )
            elif op in ("deliver", "finish", "serve"):
                project = Project.objects.filter(pk=_int(request.POST.get("project")), community=community).first()
                if project is None:
                    raise Http404
                services.project_step(user, project.pk, op, served=_int(request.POST.get("served"), 0))
            else:
                raise Http404
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("已保存。"))
        return redirect(f"{reverse('participation:projects_desk')}?community={community.code}")
    context = selectors.project_board(community)
    context.update(
        {
            "tabs": _staff_tabs("projects_desk", community),
            "community": community,
            "allowed": allowed,
            "year": timezone.localdate().year + 1,
        }
    )
    return render(request, "participation/projects_desk.html", context)


@role_required(*STAFF_ROLES)
@permission("participation.volunteering")
def points_desk(request):
    user = request.user
    community, allowed = _staff_community(request)
    if request.method == "POST":
        op = request.POST.get("op", "")
        resident = User.objects.filter(username=request.POST.get("resident", "").strip()).first()
        try:
            if op in ("redeem", "earn", "draw") and resident is None:
                raise ValidationFailed("resident", _("没有这个居民账号。"))
            if op == "redeem":
                services.redeem(user, resident, _int(request.POST.get("reward")), _int(request.POST.get("quantity"), 1))
            elif op == "earn":
                services.earn(user, resident, _int(request.POST.get("points"), 0), request.POST.get("reason", ""))
            elif op == "draw":
                services.draw_time(user, resident, request.POST.get("hours", ""), request.POST.get("note", ""))
            elif op == "reward":
                services.add_reward(
                    user,
                    community,
                    name=request.POST.get("name", ""),
                    cost=_int(request.POST.get("cost"), 0),
                    stock=_int(request.POST.get("stock"), -1),
                )
            elif op == "activity":
                services.create_activity(
                    user,
                    community,
                    title=request.POST.get("title", ""),
                    starts_at=_when(request.POST.get("starts_at")),
                    place=request.POST.get("place", ""),
                    capacity=_int(request.POST.get("capacity"), 0),
                    points_per_hour=_int(request.POST.get("points_per_hour"), -1),
                )
            elif op == "team":
                services.register_volunteer(
                    user,
                    community,
                    name=request.POST.get("name", ""),
                    kind=Volunteer.Kind.TEAM,
                    organisation=request.POST.get("organisation", ""),
                )
            elif op == "checkin":
                services.check_in_volunteer(user, _int(request.POST.get("signup")))
            elif op == "verify":
                services.verify_hours(
                    user,
                    _int(request.POST.get("signup")),
                    request.POST.get("hours", ""),
                    bank=request.POST.get("bank") == "1",
                )
            else:
                raise Http404
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("已保存。"))
        return redirect(f"{reverse('participation:points_desk')}?community={community.code}")
    from .models import Reward

    return render(
        request,
        "participation/points_desk.html",
        {
            "tabs": _staff_tabs("points_desk", community),
            "community": community,
            "allowed": allowed,
            "rewards": list(Reward.objects.filter(community=community)),
            "activities": [a for a in selectors.staff_activities(user) if a.community_id == community.pk],
            "postings": [p for p in selectors.recent_postings(user) if p.community_id == community.pk],
            "default_start": (timezone.localtime() + dt.timedelta(days=3))
            .replace(hour=9, minute=0, second=0, microsecond=0)
            .strftime("%Y-%m-%dT%H:%M"),
        },
    )
