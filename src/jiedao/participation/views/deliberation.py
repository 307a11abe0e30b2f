"""The committee's deliberation pages: the desk (meetings, topics ready for a meeting, official
topics and case → topic, actions in progress, the council), the meeting sheet (agenda,
registration and check-in at the door, opening, decisions, minutes, closing or cancelling) and
progress reports on an adopted proposal's action.

Each action is one form (``forms``) and one service: on success the page redirects; refused,
it is shown again with the form's errors and what was typed."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from jiedao.org.models import Unit
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from .. import rules, selectors, services
from ..forms import (
    AgendaForm,
    CheckInForm,
    CouncilMemberForm,
    DecisionForm,
    EndCouncilForm,
    MeetingForm,
    MeetingStepForm,
    MinutesForm,
    ParticipantForm,
    ProgressForm,
    TopicForm,
)
from ..models import CouncilMember, MeetingStatus, Proposal, ProposalStatus, Sector
from ..states import MEETING
from .common import STAFF_ROLES, desk_url, page_action, run, staff_community, staff_tabs
from .residents import PROPOSAL_ACTIONS, proposal_page

DESK_FORMS = {"meeting": MeetingForm, "topic": TopicForm, "council": CouncilMemberForm, "end_council": EndCouncilForm}
DESK_DONE = {"topic": _lazy("议题已提出，可列入议程。"), "council": _lazy("已添加议事会成员。")}


def _desk_action(user, community, op):
    today = timezone.localdate()
    if op == "meeting":
        return lambda data: services.schedule_meeting(
            user,
            community=community,
            title=data["title"],
            place=data["place"],
            starts_at=data["starts_at"],
            seats=data["seats"],
        )
    if op == "topic":

        def topic(data):
            number = data["case"].strip()
            if number:
                return services.topic_from_case(user, number=number, title=data["title"], body=data["body"])
            return services.table_topic(user, community=community, title=data["title"], body=data["body"])

        return topic
    if op == "council":
        return lambda data: services.add_council_member(
            user, community=community, name=data["name"], origin=data["origin"], start=today
        )
    return lambda data: services.end_council_member(user, member_id=data["member"], end=today)


@role_required(*STAFF_ROLES)
@permission("participation.deliberation")
def desk(request):
    user = request.user
    if not selectors.runnable_communities(user).exists():
        # Staff of other units follow the decisions and their progress on the public page.
        return redirect("participation:decisions")
    community, allowed = staff_community(request)
    forms = {op: form_class() for op, form_class in DESK_FORMS.items()}
    status = 200
    if request.method == "POST":
        op = page_action(request, DESK_FORMS)
        forms[op] = form = DESK_FORMS[op](request.POST)
        result, status = run(form, _desk_action(user, community, op))
        if status is None:
            if op == "meeting":
                messages.success(request, _("已安排议事会。"))
                return redirect("participation:meeting", pk=result.pk)
            if op in DESK_DONE:
                messages.success(request, DESK_DONE[op])
            return redirect(desk_url("desk", community))
    today = timezone.localdate()
    council = list(CouncilMember.objects.filter(community=community, end__isnull=True))
    context = {
        "tabs": staff_tabs("desk", community),
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
        "forms": forms,
    }
    return render(request, "participation/desk.html", context, status=status)


SHEET_FORMS = {
    "agenda": AgendaForm,
    "participant": ParticipantForm,
    "checkin": CheckInForm,
    "minutes": MinutesForm,
    "start": MeetingStepForm,
    "close": MeetingStepForm,
    "cancel": MeetingStepForm,
    "decide": DecisionForm,
}


def _sheet_action(user, meeting, op, form):
    if op == "agenda":
        return lambda data: services.add_to_agenda(user, meeting_id=meeting.pk, proposal_id=data["proposal"])
    if op == "participant":
        return lambda data: services.add_participant(
            user, meeting_id=meeting.pk, name=data["name"], sector=data["sector"], organisation=data["organisation"]
        )
    if op == "checkin":
        return lambda data: services.check_in(user, registration_id=data["registration"])
    if op == "minutes":
        return lambda data: services.save_minutes(user, meeting_id=meeting.pk, minutes=data["minutes"])
    if op == "decide":
        return lambda data: services.decide(user, **form.service_kwargs())
    return lambda data: services.meeting_step(user, meeting_id=meeting.pk, action=op, note=form.note_of())


def _sheet_done(op):
    if op == "minutes":
        return _("纪要已保存。")
    if op == "decide":
        return _("决定已记录并公开。")
    if op in MEETING.transitions:
        return MEETING.label(op)
    return None


@role_required(*STAFF_ROLES)
@permission("participation.deliberation")
def meeting(request, pk):
    user = request.user
    item = selectors.meeting_for(user, pk)
    if item is None:
        raise Http404
    forms = {op: form_class() for op, form_class in SHEET_FORMS.items()}
    status = 200
    if request.method == "POST":
        op = page_action(request, SHEET_FORMS)
        forms[op] = form = SHEET_FORMS[op](request.POST)
        _result, status = run(form, _sheet_action(user, item, op, form))
        if status is None:
            done = _sheet_done(op)
            if done:
                messages.success(request, done)
            return redirect("participation:meeting", pk=item.pk)
    default_unit = Unit.objects.filter(kind=Unit.Kind.COMMUNITY, community=item.community).first()
    default_due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    context = selectors.meeting_sheet(item)
    refused = forms["decide"]
    for proposal in context["agenda"]:
        # Each topic on the agenda has its own decision form; the refused one keeps what was typed.
        proposal.decide_form = (
            refused
            if refused.is_bound and refused.row == proposal.pk
            else DecisionForm(initial={"owner_unit": default_unit.code if default_unit else "", "due": default_due})
        )
    decided_here = any(p.decide_form is refused for p in context["agenda"] if p.status == ProposalStatus.SCHEDULED)
    typed = next((forms[op] for op in ("close", "minutes") if forms[op].is_bound), None)
    context.update(
        {
            "tabs": staff_tabs("desk", item.community),
            "m": item,
            "sectors": Sector.choices,
            "units": Unit.objects.filter(active=True).order_by("kind", "code"),
            "forms": forms,
            # Refusals shown at the top of the sheet: the steps, minutes, check-in, and a decision
            # whose topic no longer has its form.
            "step_ops": [forms[op] for op in ("start", "close", "cancel", "minutes", "checkin")]
            + ([] if decided_here and item.status == MeetingStatus.OPEN else [refused]),
            "minutes_text": typed.data.get("minutes", "") if typed is not None else item.minutes,
        }
    )
    return render(request, "participation/meeting.html", context, status=status)


@role_required(*STAFF_ROLES)
@require_POST
@permission("participation.deliberation")
def action_progress(request, pk):
    user = request.user
    item = Proposal.objects.filter(action__pk=pk).first()
    if item is None or not rules.may_run(user, item.community):
        raise Http404
    form = ProgressForm(request.POST)
    _action, status = run(
        form,
        lambda data: services.report_progress(
            user,
            action_id=pk,
            progress=data["progress"],
            note=data["note"],
            evidence=data["evidence"],
            milestone_ids=data["milestone"],
        ),
    )
    if status is None:
        messages.success(request, _("进展已更新并通知提出人和附议人。"))
        return redirect("participation:proposal", pk=item.pk)
    forms = {op: form_class() for op, (form_class, _done) in PROPOSAL_ACTIONS.items()}
    return proposal_page(request, selectors.proposal(item.pk) or item, forms, status, progress=form)
