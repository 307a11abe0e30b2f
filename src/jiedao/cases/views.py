"""Pages of the case loop for street staff. Views stay thin: they parse a form, call a
selector or a service, and turn domain errors into form errors or HTTP codes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jiedao.common import params
from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import DomainError, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors
from jiedao.common.masking import mask_address, mask_name, mask_phone
from jiedao.common.throttle import Limit, limited
from jiedao.duties import selectors as duty_selectors
from jiedao.intelligence.selectors import reply_warning
from jiedao.org.permissions import permission
from jiedao.web.access import role_required
from jiedao.web.charts import rates_chart

from . import measures, selectors, services, states
from .forms import (
    ACTION_FORMS,
    OPTIONAL_NOTE_ACTIONS,
    GridReportForm,
    IntakeForm,
    WorkbenchFilterForm,
    action_form,
)
from .models import Channel, Extension
from .templatetags.case_tags import picker_state

WORKBENCH_PAGE = 30
INTAKE_ROLES = ("operator", "dispatcher", "admin", "leader")
DISPATCH_ROLES = ("dispatcher", "leader", "admin")
# Actions whose form is shown unfolded on the case page: the next step of the loop.
MAIN_ACTIONS = {"classify", "dispatch", "respond", "resolve", "verify_pass", "rate", "report"}


def _safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _case_or_404(user, number):
    try:
        return selectors.case_for(user, number)
    except NotFound as exc:
        raise Http404(exc.message) from None


# --- intake -----------------------------------------------------------------------


@role_required(*INTAKE_ROLES)
@permission("intake.hotline")
def intake(request):
    form = IntakeForm(
        request.POST or None,
        request.FILES or None,
        street=None if request.user.covers_all_streets else request.user.street_id,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case, _created = services.submit_case(request.user, **form.service_kwargs())
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("已受理，工单编号 %(number)s。") % {"number": case.number})
                request.session["last_case"] = case.number
                return redirect("cases:intake")
        status = 422
    last = request.session.get("last_case")
    return render(request, "cases/intake.html", {"form": form, "last_case": last}, status=status)


@role_required("grid")
@permission("intake.grid")
def grid_report(request):
    form = GridReportForm(request.POST or None, request.FILES or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case, _created = services.submit_case(request.user, channel=Channel.GRID, **form.service_kwargs())
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("已上报，工单编号 %(number)s。") % {"number": case.number})
                request.session["last_case"] = case.number
                return redirect("cases:grid_report")
        status = 422
    recent, _cursor = selectors.case_list(request.user, limit=10)
    return render(
        request,
        "cases/grid_report.html",
        {"form": form, "last_case": request.session.get("last_case"), "recent": recent},
        status=status,
    )


@role_required(*INTAKE_ROLES, "grid")
@limited(Limit("SEARCH_RATE"))
def category_picker(request):
    """Re-renders the 3-level category picker after a choice or a search (htmx)."""
    get = request.GET
    pick = get.get("catpick", "")
    state = picker_state(
        selectors.category_tree(),
        get.get("cat1", ""),
        get.get("cat2", ""),
        get.get("cat3", ""),
        pick=pick,
        query="" if pick else get.get("catq", ""),
    )
    return render(request, "cases/_category_picker_inner.html", {**state, "errors": []})


# --- dispatcher -----------------------------------------------------------------

QUEUE_TABS = (
    ("new", gettext_lazy("待派单")),
    ("unclassified", gettext_lazy("未分类")),
    ("returned", gettext_lazy("已退单")),
)


@role_required(*DISPATCH_ROLES)
def dispatch_queue(request):
    queue = selectors.dispatcher_queue(request.user)
    tab = request.GET.get("tab") or ("new" if queue["new"] or not queue["unclassified"] else "unclassified")
    if tab not in queue:
        tab = "new"
    rows = []
    for case in queue[tab]:
        decision = services.route_decision(case) if case.category_id else None
        rows.append(
            {
                "case": case,
                "unit": decision.unit if decision else None,
                "reason": decision.reason if decision else "",
                # A negative-list item forbids street units: the case can only go up to the district.
                "negative": decision.negative if decision and decision.unit is None else None,
            }
        )
    tabs = [{"key": key, "label": label, "count": len(queue[key]), "active": key == tab} for key, label in QUEUE_TABS]
    context = {
        "tab": tab,
        "tabs": tabs,
        "rows": rows,
        "dispatch_form": action_form(
            "dispatch", street=None if request.user.covers_all_streets else request.user.street_id
        ),
        "district_units": duty_selectors.district_units() if any(r["negative"] for r in rows) else [],
    }
    return render(request, "cases/dispatch.html", context)


# --- unit workbench --------------------------------------------------------------


def _category_filter_choices():
    choices = []
    for top in selectors.category_tree():
        choices.append({"code": top["code"], "name": top["name"]})
        for mid in top["children"]:
            choices.append({"code": mid["code"], "name": "— " + mid["name"]})
    return choices


@role_required("handler")
def workbench(request):
    user = request.user
    if user.unit_id is None:
        raise PermissionDenied
    form = WorkbenchFilterForm(request.GET or None, categories=_category_filter_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    rows, next_cursor = [], None
    try:
        rows, next_cursor = selectors.case_list(
            user,
            status=filters.get("status") or "open",
            unit=user.unit.code,
            category=filters.get("category") or None,
            urgency=filters.get("urgency") or None,
            q=(filters.get("q") or "").strip() or None,
            cursor=request.GET.get("cursor") or None,
            limit=WORKBENCH_PAGE,
            order="due",
        )
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, error["message"])
    next_url = None
    if next_cursor:
        params = request.GET.copy()
        params["cursor"] = next_cursor
        next_url = "?" + params.urlencode()
    first_url = None
    if request.GET.get("cursor"):
        params = request.GET.copy()
        params.pop("cursor")
        first_url = "?" + params.urlencode()
    context = {
        "form": form,
        "rows": rows,
        "next_url": next_url,
        "first_url": first_url,
        "summonses": selectors.summoned_cases(user),
        "now": timezone.now(),
        "unit": user.unit,
    }
    return render(request, "cases/workbench.html", context)


# --- leader overview ---------------------------------------------------------------


def _shift_month(month, delta):
    return f"{params.shift_month(params.parse_month(month), delta):%Y-%m}"


@role_required("leader", "admin")
def overview(request):
    month = request.GET.get("month") or measures.current_month()
    try:
        month = f"{params.parse_month(month):%Y-%m}"
    except ValidationFailed as exc:
        messages.error(request, exc.errors[0]["message"])
        month = measures.current_month()
    # A city installation: the leader's own street (one street: the whole installation).
    street = None if request.user.covers_all_streets else request.user.street
    rows = measures.three_rates_by_unit(month, street=street)
    total = measures.three_rates(month, street=street)
    context = {
        "month": month,
        "prev_month": _shift_month(month, -1),
        "next_month": _shift_month(month, 1),
        "rows": rows,
        "total": total,
        "chart": rates_chart(rows),
        "extensions": selectors.pending_extensions(request.user),
        "attention": selectors.attention_cases(request.user),
        "now": timezone.now(),
    }
    return render(request, "cases/overview.html", context)


# --- the case page and its actions ----------------------------------------------------


def _reporter_view(user, case):
    """The reporter's data, unmasked only for those who may see it (and then logged)."""
    see = selectors.may_see_reporter(user, case)
    values = {"name": case.reporter_name, "phone": case.reporter_phone, "address": case.address}
    if see:
        shown = [
            field
            for field, value in (
                ("reporter_name", values["name"]),
                ("reporter_phone", values["phone"]),
                ("address", values["address"]),
            )
            if value
        ]
        if shown:
            log_unmasked_view(user, case, shown, purpose="case page")
        return {**values, "masked": False}
    return {
        "name": mask_name(values["name"]),
        "phone": mask_phone(values["phone"]),
        "address": mask_address(values["address"]),
        "masked": True,
    }


def _offer_district(dispatch, negative):
    """A case blocked by the negative list may only be sent up to a district department:
    the dispatch form offers only those, with the item's own unit chosen."""
    dispatch["label"] = _("上报区级部门")
    form = dispatch["form"]
    if form.is_bound:
        return
    units = duty_selectors.district_units()
    form.fields["unit"].choices = [(u.code, u.name) for u in units]
    if negative.responsible_unit_id and any(u.pk == negative.responsible_unit_id for u in units):
        form.initial["unit"] = negative.responsible_unit.code


def _case_context(request, case, bound=None):
    user = request.user
    bound = bound or {}
    action_forms = []
    for transition in selectors.allowed_actions(user, case):
        action = transition.action
        form = bound.get(action) or action_form(action, street=case.street_id)
        action_forms.append(
            {
                "action": action,
                "label": transition.label,
                "form": form,
                "url": reverse("cases:action", args=[case.number, action]),
                "optional_note": action in OPTIONAL_NOTE_ACTIONS,
                "open": action in bound,
                "main": action in MAIN_ACTIONS,
            }
        )
    suggestion = None
    if any(f["action"] == "dispatch" for f in action_forms) and case.category_id:
        suggestion = services.route_decision(case)
        if suggestion.negative is not None and suggestion.unit is None:
            _offer_district(next(f for f in action_forms if f["action"] == "dispatch"), suggestion.negative)
    failed = [(action, form) for action, form in bound.items() if action not in {f["action"] for f in action_forms}]
    whistles = list(case.whistles.prefetch_related("summonses__unit").select_related("blown_by").order_by("blown_at"))
    return {
        "case": case,
        "reporter": _reporter_view(user, case),
        "events": selectors.timeline(user, case),
        "photos": list(case.photos.all()),
        "whistles": whistles,
        "extensions": list(case.extensions.select_related("requested_by", "decided_by").order_by("requested_at")),
        "pending_extension": next((e for e in case.extensions.all() if e.decision == Extension.Decision.PENDING), None),
        "ratings": list(case.ratings.order_by("round")),
        "action_forms": action_forms,
        "failed": failed,
        "suggestion": suggestion,
        "now": timezone.now(),
    }


@login_required
def case_detail(request, number):
    case = _case_or_404(request.user, number)
    return render(request, "cases/case.html", _case_context(request, case))


def _run(action, user, number, form):
    data = form.cleaned_data
    if action == "classify":
        return services.classify(user, number=number, category_code=data.get("category", ""))
    if action == "dispatch":
        return services.dispatch(user, number=number, unit_code=data.get("unit") or None, note=data.get("note", ""))
    if action == "return":
        return services.return_case(user, number=number, reason=data.get("reason", ""))
    if action == "respond":
        return services.respond(user, number=number, note=data.get("note", ""))
    if action == "note":
        return services.add_note(user, number=number, note=data.get("note", ""))
    if action == "request_extension":
        return services.request_extension(
            user, number=number, extra_workdays=data.get("extra_workdays", ""), reason=data.get("reason", "")
        )
    if action in ("approve_extension", "refuse_extension"):
        return services.decide_extension(
            user, number=number, approve=action == "approve_extension", note=data.get("note", "")
        )
    if action == "whistle":
        return services.blow_whistle(
            user,
            number=number,
            unit_codes=data.get("units", []),
            report_hours=data.get("report_hours", ""),
            reason=data.get("reason", ""),
        )
    if action == "report":
        return services.report_to_whistle(user, number=number, part=data.get("part", ""))
    if action == "resolve":
        return services.resolve(user, number=number, result=data.get("result", ""), photos=data.get("photos", []))
    if action in ("verify_pass", "verify_fail"):
        return services.verify(user, number=number, passed=action == "verify_pass", note=data.get("note", ""))
    if action == "rate":
        return services.rate(user, number=number, **form.rate_kwargs())
    if action == "close":
        return services.close(user, number=number, note=data.get("note", ""))
    if action == "merge":
        return services.merge(
            user, number=number, master_number=(data.get("master") or "").strip(), note=data.get("note", "")
        )
    if action == "supervise":
        return services.supervise(user, number=number, note=data.get("note", ""))
    raise Http404


@login_required
@require_POST
@permission("case.{action}")
def case_action(request, number, action):
    if action not in ACTION_FORMS:
        raise Http404
    case = _case_or_404(request.user, number)
    form = action_form(action, request.POST, request.FILES, street=case.street_id)
    status = 422
    if form.is_valid():
        try:
            _run(action, request.user, case.number, form)
        except (ValidationFailed, InvalidTransition, NotAllowed) as exc:
            apply_errors(form, exc)
            status = exc.http_status
        else:
            messages.success(
                request,
                _("工单 %(number)s：已%(action)s。") % {"number": case.number, "action": states.action_label(action)},
            )
            if action == "resolve":
                warning = reply_warning(case)
                if warning:
                    messages.warning(request, warning)
            fallback = reverse("cases:case", args=[case.number])
            if not selectors.visible_cases(request.user).filter(pk=case.pk).exists():
                fallback = reverse("web:home")
            return redirect(_safe_next(request, fallback))
    case = _case_or_404(request.user, number)
    return render(request, "cases/case.html", _case_context(request, case, bound={action: form}), status=status)
