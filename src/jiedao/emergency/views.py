"""Pages of 应急管理: the board (three-colour warnings, open emergencies, alerts to
decide, measures, map), the live event page for the command centre, the grid workers'
checklist on the phone, supplies, drills and devices. Views parse input, call a service
or a selector and turn domain errors into messages."""

import datetime as dt

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiedao.cases.models import Sensitive
from jiedao.common import params
from jiedao.common.errors import DomainError, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors
from jiedao.org.models import Unit, User
from jiedao.org.permissions import allows, permission
from jiedao.org.selectors import street_records
from jiedao.web.access import role_required

from . import selectors, services, states
from .forms import (
    CHECK_RESULTS,
    PAGE_MOVEMENTS,
    AlertDecisionForm,
    CallOffForm,
    CheckForm,
    DutyShiftForm,
    FlagForm,
    NoteForm,
    ReportForm,
    StepForm,
    StockMovementForm,
)
from .models import OPEN_STATUSES, Agreement, Depot

READ = selectors.READ_ROLES
# A POST to the emergency's page takes one step of its lifecycle.
STEP_ACTIONS = tuple(f"emergency.step.{action}" for action in states.EMERGENCIES.transitions)
LIVE_SECONDS = 10
# The period of the acknowledgement times on the board and the roster page.
ACK_PERIOD = dt.timedelta(days=30)


def _street_of(user):
    """The street whose roster the user works with (None: one installation-wide roster)."""
    return user.street_id


def _tabs(active):
    tabs = [
        ("board", _("应急总览")),
        ("supplies", _("应急物资")),
        ("drills", _("演练与培训")),
        ("devices", _("感知设备")),
        ("roster", _("值班表")),
    ]
    return [{"url": reverse(f"emergency:{name}"), "label": label, "active": name == active} for name, label in tabs]


def _error(request, exc):
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            messages.error(request, error["message"])
    else:
        messages.error(request, getattr(exc, "message", str(exc)))


def _read(form):
    """The form's values, or ValidationFailed with what could not be read (e.g. a NUL byte)."""
    if not form.is_valid():
        raise ValidationFailed(
            errors=[{"field": name, "message": str(error)} for name, errors in form.errors.items() for error in errors]
        )
    return form.cleaned_data


@role_required(*READ)
@permission("emergency.report")
def board(request):
    user = request.user
    form = ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        try:
            _read(form)
            emergency = services.report_emergency(user, **form.report())
        except DomainError as exc:
            # The board is shown again with what was typed, and the errors above it.
            _error(request, exc)
            status = exc.http_status
        else:
            messages.success(request, _("已报告突发事件 %(number)s。") % {"number": emergency.number})
            return redirect("emergency:detail", number=emergency.number)
    year = timezone.localdate().year
    open_emergencies = selectors.emergencies(user, open_only=True)
    ack_states = selectors.ack_states(open_emergencies)
    for emergency in open_emergencies:
        emergency.ack_state = ack_states.get(emergency.pk)
    context = {
        "tabs": _tabs("board"),
        "open_emergencies": open_emergencies,
        "recent": selectors.emergencies(user, limit=10),
        "alerts": selectors.alerts(user, open_only=True, limit=50),
        "warnings": selectors.warning_counts(),
        "accuracy": selectors.alert_accuracy(),
        "disposal": selectors.disposal_summary(user),
        "coverage": selectors.drill_coverage(year),
        "training": selectors.training_pass_rate(year),
        "ack": selectors.ack_times(user, since=timezone.now() - ACK_PERIOD, until=timezone.now()),
        "nobody_on_duty": not selectors.on_duty(at=timezone.now(), street_id=_street_of(user)),
        "may_report": user.has_role(*services.COMMAND_ROLES, "operator"),
        "may_decide": user.has_role(*services.ALERT_ROLES),
        "map_url": reverse("emergency:map_data"),
        "form": form,
    }
    return render(request, "emergency/board.html", context, status=status)


@role_required(*READ)
def map_data(request):
    return JsonResponse(selectors.map_features(request.user))


def _detail_context(request, number):
    user = request.user
    try:
        emergency = selectors.emergency_for(user, number)
    except NotFound as exc:
        raise Http404(exc.message) from None
    actions = [t for t in states.EMERGENCIES.available(emergency.status) if states.EMERGENCIES.may(user, emergency, t)]
    return {
        "e": emergency,
        "stages": selectors.stages(emergency),
        "measures": selectors.measures(emergency),
        "events": selectors.timeline(emergency),
        "progress": selectors.check_progress(emergency),
        "calls": selectors.calls_of(emergency),
        "actions": actions,
        "units": list(emergency.units.all()),
        "live_seconds": LIVE_SECONDS,
    }


@role_required(*READ)
def detail(request, number):
    context = _detail_context(request, number)
    context["tabs"] = _tabs("board")
    context["agreements"] = Agreement.objects.order_by("supplier")
    context["all_units"] = Unit.objects.filter(active=True).order_by("code")
    context["may_command"] = selectors.may_command(request.user)
    context["may_flag"] = allows(request.user, "emergency.flag")
    context["flags"] = Sensitive.choices[1:]
    return render(request, "emergency/detail.html", context)


@role_required(*READ)
def live(request, number):
    """The part of the event page that refreshes itself (htmx, every 10 seconds)."""
    return render(request, "emergency/_live.html", _detail_context(request, number))


@require_POST
@role_required(*READ)
@permission(*STEP_ACTIONS)
def act(request, number):
    try:
        data = _read(StepForm(request.POST))
        services.transition(
            request.user, number=number, action=data["action"], note=data["note"], unit_codes=data["unit"]
        )
    except DomainError as exc:
        _error(request, exc)
    return redirect("emergency:detail", number=number)


@require_POST
@role_required(*READ)
@permission("emergency.note")
def note(request, number):
    try:
        services.add_note(request.user, number=number, note=_read(NoteForm(request.POST))["note"])
    except DomainError as exc:
        _error(request, exc)
    return redirect("emergency:detail", number=number)


@require_POST
@role_required(*READ)
@permission("emergency.flag")
def flag(request, number):
    try:
        data = _read(FlagForm(request.POST))
        emergency = services.flag(request.user, number=number, kind=data["kind"], note=data["note"])
    except DomainError as exc:
        _error(request, exc)
    else:
        if emergency.sensitive:
            messages.success(
                request, _("已标记为“%(kind)s”，街道领导将收到红色预警。") % {"kind": emergency.get_sensitive_display()}
            )
        else:
            messages.success(request, _("已取消舆情或群体事件标记。"))
    return redirect("emergency:detail", number=number)


@require_POST
@role_required(*READ)
@permission("emergency.call_off")
def calloff(request, number):
    try:
        data = _read(CallOffForm(request.POST))
        services.call_off(request.user, number=number, agreement_id=data["agreement"], goods=data["goods"])
        messages.success(request, _("已登记协议物资调用。"))
    except DomainError as exc:
        _error(request, exc)
    return redirect("emergency:detail", number=number)


@require_POST
@role_required(*READ)
@permission("emergency.delivered")
def delivered(request, call_id):
    try:
        call = services.mark_delivered(request.user, call_id=call_id)
    except DomainError as exc:
        _error(request, exc)
        return redirect("emergency:board")
    return redirect("emergency:detail", number=call.emergency.number)


@role_required(*READ)
def checks(request, number):
    """The grid worker's checklist on the phone: each special-care resident, one tap each."""
    context = _detail_context(request, number)
    context["rows"] = selectors.checks_for(request.user, context["e"])
    context["results"] = CHECK_RESULTS
    return render(request, "emergency/checks.html", context)


@require_POST
@role_required(*READ)
@permission("emergency.check")
def record_check(request, check_id):
    form = CheckForm(request.POST)
    try:
        data = _read(form)
        check = services.record_check(request.user, check_id=check_id, result=data["result"], note=data["note"])
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _error(request, exc)
        number = form.cleaned_data.get("number", "") if form.is_valid() else ""
        return redirect("emergency:checks", number=number) if number else redirect("emergency:board")
    return redirect(reverse("emergency:checks", args=[check.emergency.number]) + f"#check-{check.pk}")


@require_POST
@role_required(*READ)
@permission("emergency.alert")
def decide(request, alert_id):
    try:
        data = _read(AlertDecisionForm(request.POST))
        alert = services.decide_alert(request.user, alert_id=alert_id, confirm=data["confirm"], note=data["note"])
    except DomainError as exc:
        _error(request, exc)
        return redirect("emergency:board")
    if alert.emergency_id:
        messages.success(request, _("已确认，转为突发事件 %(number)s。") % {"number": alert.emergency.number})
        return redirect("emergency:detail", number=alert.emergency.number)
    if alert.case_id:
        messages.success(request, _("已确认，已生成工单 %(number)s。") % {"number": alert.case.number})
    else:
        messages.success(request, _("已处理预警。"))
    return redirect("emergency:board")


@role_required(*READ)
@permission("emergency.stock")
def supplies(request):
    user = request.user
    if request.method == "POST":
        try:
            data = _read(StockMovementForm(request.POST))
            if data["kind"] == "transfer":
                services.transfer_stock(
                    user,
                    stock_id=data["stock"],
                    to_depot_id=data["to_depot"],
                    quantity=data["quantity"],
                    note=data["note"],
                )
            else:
                services.move_stock(
                    user,
                    stock_id=data["stock"],
                    kind=data["kind"],
                    quantity=data["quantity"],
                    note=data["note"],
                    emergency_number=data["emergency"],
                )
            messages.success(request, _("已登记。"))
        except DomainError as exc:
            _error(request, exc)
        return redirect("emergency:supplies")
    today = timezone.localdate()
    depots = selectors.depots(user, today)
    return render(
        request,
        "emergency/supplies.html",
        {
            "tabs": _tabs("supplies"),
            "depots": depots,
            "expiring": selectors.expiring(user, today),
            "ledger": selectors.ledger(user, limit=30),
            "agreements": selectors.agreements(user),
            "kinds": PAGE_MOVEMENTS,
            "all_depots": Depot.objects.order_by("name"),
            "may_move": user.has_role(*services.SUPPLY_ROLES),
            "today": today,
        },
    )


@role_required(*READ)
def drills(request):
    year = timezone.localdate().year
    if request.GET.get("year"):
        try:
            year = params.parse_year(request.GET["year"])
        except ValidationFailed as exc:
            _error(request, exc)
    return render(
        request,
        "emergency/drills.html",
        {
            "tabs": _tabs("drills"),
            "year": year,
            "drills": selectors.drills(request.user, year),
            "coverage": selectors.drill_coverage(year),
            "training": selectors.training_pass_rate(year),
        },
    )


@role_required(*READ)
def devices(request):
    now = timezone.now()
    rows = selectors.devices(request.user, now)
    offline_after = dt.timedelta(hours=1)
    for device in rows:
        device.offline = device.last_seen_at is None or now - device.last_seen_at > offline_after
    return render(
        request, "emergency/devices.html", {"tabs": _tabs("devices"), "devices": rows, "posts": selectors.posts()}
    )


# --- the duty roster and acknowledgements -------------------------------------------------------


def _roster_people(user):
    """The staff who may be put on the roster, for the form's list."""
    people = User.objects.filter(is_active=True, groups__name__in=services.ROSTER_ROLES).distinct()
    return list(street_records(user, people, "street").order_by("display_name", "username"))


@role_required(*READ)
@permission("emergency.duty")
def roster(request):
    """值班表: the week day by day, who is on duty now, and the form to add a shift."""
    user = request.user
    today = timezone.localdate()
    try:
        day = params.parse_date(request.GET["week"], "week") if request.GET.get("week") else today
    except ValidationFailed as exc:
        _error(request, exc)
        day = today
    monday = selectors.week_start(day)
    people = _roster_people(user)
    form = DutyShiftForm(request.POST if request.method == "POST" else None, people=people)
    status = 200
    if request.method == "POST":
        try:
            data = _read(form)
            shift = services.add_shift(
                user,
                person_id=data["person"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                position=data["position"],
                note=data["note"],
            )
        except DomainError as exc:
            if form.is_valid():
                apply_errors(form, exc)
            status = exc.http_status
        else:
            messages.success(request, _("已添加值班安排。"))
            week = selectors.week_start(timezone.localdate(shift.starts_at))
            return redirect(reverse("emergency:roster") + f"?week={week.isoformat()}")
    now = timezone.now()
    week = selectors.roster_week(user, monday=monday)
    positions = sorted({s.position for d in week for s in d["shifts"]}) or [1]
    for d in week:
        d["columns"] = [[s for s in d["shifts"] if s.position == p] for p in positions]
        d["today"] = d["date"] == today
    context = {
        "tabs": _tabs("roster"),
        "week": week,
        "positions": positions,
        "monday": monday,
        "sunday": monday + dt.timedelta(days=6),
        "previous": monday - dt.timedelta(days=7),
        "next": monday + dt.timedelta(days=7),
        "now_on_duty": selectors.on_duty(at=now, street_id=_street_of(user)),
        "ack": selectors.ack_times(user, since=now - ACK_PERIOD, until=now),
        "ack_minutes": int(services.ack_limit().total_seconds() // 60),
        "may_edit": selectors.may_command(user),
        "form": form,
        "now": now,
    }
    return render(request, "emergency/roster.html", context, status=status)


@require_POST
@role_required(*READ)
@permission("emergency.duty")
def remove_shift(request, shift_id):
    try:
        services.remove_shift(request.user, shift_id=shift_id)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已删除值班安排。"))
    week = request.POST.get("week", "")
    return redirect(reverse("emergency:roster") + (f"?week={week}" if _is_day(week) else ""))


def _is_day(text):
    try:
        params.parse_date(text, "week")
    except ValidationFailed:
        return False
    return True


@role_required(*READ)
@permission("emergency.ack")
def ack(request, number):
    """The page the people told of an emergency open: one big button 收到 (确认接警)."""
    user = request.user
    try:
        emergency = selectors.emergency_for(user, number)
    except NotFound as exc:
        raise Http404(exc.message) from None
    told = selectors.told_users(emergency)
    may_ack = user.pk in told or selectors.may_command(user)
    status = 200
    if request.method == "POST":
        try:
            event = services.acknowledge(user, number=number)
        except DomainError as exc:
            _error(request, exc)
            status = exc.http_status
        else:
            messages.success(
                request,
                _("已确认接警，用时 %(time)s。") % {"time": selectors.duration_text(event.data["seconds"])},
            )
            return redirect("emergency:ack", number=number)
    done = selectors.acknowledgement(emergency)
    context = {
        "tabs": _tabs("board"),
        "e": emergency,
        "done": done,
        "took": selectors.duration_text((done.at - emergency.reported_at).total_seconds()) if done else "",
        "may_ack": may_ack and emergency.status in OPEN_STATUSES,
        "told_me": user.pk in told,
    }
    return render(request, "emergency/ack.html", context, status=status)
