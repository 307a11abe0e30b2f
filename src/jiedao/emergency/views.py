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

from jiedao.common import params
from jiedao.common.errors import DomainError, NotFound, ValidationFailed
from jiedao.org.models import Unit
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import selectors, services, states
from .forms import (
    CHECK_RESULTS,
    PAGE_MOVEMENTS,
    AlertDecisionForm,
    CallOffForm,
    CheckForm,
    NoteForm,
    ReportForm,
    StepForm,
    StockMovementForm,
)
from .models import Agreement, Depot

READ = selectors.READ_ROLES
# A POST to the emergency's page takes one step of its lifecycle.
STEP_ACTIONS = tuple(f"emergency.step.{action}" for action in states.EMERGENCIES.transitions)
LIVE_SECONDS = 10


def _tabs(active):
    tabs = [
        ("board", _("应急总览")),
        ("supplies", _("应急物资")),
        ("drills", _("演练与培训")),
        ("devices", _("感知设备")),
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
    context = {
        "tabs": _tabs("board"),
        "open_emergencies": selectors.emergencies(user, open_only=True),
        "recent": selectors.emergencies(user, limit=10),
        "alerts": selectors.alerts(user, open_only=True, limit=50),
        "warnings": selectors.warning_counts(),
        "accuracy": selectors.alert_accuracy(),
        "disposal": selectors.disposal_summary(user),
        "coverage": selectors.drill_coverage(year),
        "training": selectors.training_pass_rate(year),
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
