"""Pages of the case loop for street staff. Views stay thin: they parse a form, call a
selector or a service, and turn domain errors into form errors or HTTP codes."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jiedao.common import idempotency, params
from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import DomainError, FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors, form_errors_text
from jiedao.common.masking import mask_address, mask_name, mask_phone
from jiedao.common.throttle import Limit, limited
from jiedao.duties import selectors as duty_selectors
from jiedao.intelligence.rules import flag_label
from jiedao.intelligence.selectors import reply_warning, suggest
from jiedao.knowledge import services as knowledge_services
from jiedao.org.models import Unit
from jiedao.org.permissions import allows, permission
from jiedao.org.roles import RESIDENT
from jiedao.web.access import role_required
from jiedao.web.charts import rates_chart

from . import dispatching, hooks, measures, repeats, rules, selectors, services, states
from .forms import (
    ACTION_FORMS,
    OPTIONAL_NOTE_ACTIONS,
    BulkClassifyForm,
    BulkDispatchForm,
    CallbackForm,
    DeskSearchForm,
    DispatchQueueFilterForm,
    GridReportForm,
    IntakeForm,
    WorkbenchFilterForm,
    action_form,
)
from .intake import category_by_code
from .models import Channel, Extension, Outcome, Status
from .templatetags.case_tags import picker_state

WORKBENCH_PAGE = 30
# The reply-quality check while typing reads at most this much of the result.
REPLY_CHECK_CHARS = 5000
INTAKE_ROLES = ("operator", "dispatcher", "admin", "leader")
DISPATCH_ROLES = ("dispatcher", "leader", "admin")
# Actions whose form is shown unfolded on the case page: the next step of the loop.
MAIN_ACTIONS = {"classify", "dispatch", "respond", "resolve", "verify_pass", "rate", "report", "supervise_reply"}


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
                with transaction.atomic():
                    case, _created = services.submit_case(request.user, **form.service_kwargs())
                    article = form.cleaned_data["article"]
                    if article and case.outcome == Outcome.ANSWERED:
                        knowledge_services.record_use(request.user, article_id=article, case=case)
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    INTAKE_DONE.get(case.outcome or case.status, INTAKE_DONE[Status.NEW]) % {"number": case.number},
                )
                request.session["last_case"] = case.number
                return redirect("cases:intake")
        status = 422
    last = request.session.get("last_case")
    return render(request, "cases/intake.html", {"form": form, "last_case": last}, status=status)


# What the desk is told once a call is registered, by how it was settled.
INTAKE_DONE = {
    Outcome.ANSWERED: gettext_lazy("已直接答复并办结，工单编号 %(number)s。"),
    Outcome.ADVISED: gettext_lazy("已告知建议并办结，工单编号 %(number)s。"),
    Outcome.VOIDED: gettext_lazy("已记为无效来电，编号 %(number)s。"),
    Status.MERGED: gettext_lazy("已并入原工单，本次来电编号 %(number)s。"),
    Status.NEW: gettext_lazy("已受理，工单编号 %(number)s。"),
    Status.DISPATCHED: gettext_lazy("已受理并派单，工单编号 %(number)s。"),
}


@role_required("grid")
@permission("intake.grid")
def grid_report(request):
    """网格上报. A report made without network is kept on the phone and sent later (web/app/
    offline.js) with its own key (``Idempotency-Key``): sent twice, it makes one case, and the
    second answer names the same case. The phone's queue reads a short JSON answer."""
    form = GridReportForm(request.POST or None, request.FILES or None, user=request.user)
    status = 200
    queued = bool(request.headers.get("X-Offline-Queue"))
    if request.method == "POST":
        if form.is_valid():
            try:
                key = idempotency.clean_key(
                    request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key")
                )
                try:
                    case, _created = services.submit_case(
                        request.user, channel=Channel.GRID, idempotency_key=key, **form.service_kwargs()
                    )
                except IntegrityError:
                    if key is None:
                        raise
                    # The same key arrived twice at once (the page and the phone's background
                    # sending): the other request wrote the case, which this one now answers.
                    case, _created = services.submit_case(
                        request.user, channel=Channel.GRID, idempotency_key=key, **form.service_kwargs()
                    )
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                done = (
                    _("已记为当场处置并办结，工单编号 %(number)s。")
                    if case.outcome == Outcome.SELF_RESOLVED
                    else _("已上报，工单编号 %(number)s。")
                )
                if queued:
                    return JsonResponse({"ok": True, "message": done % {"number": case.number}, "case": case.number})
                messages.success(request, done % {"number": case.number})
                request.session["last_case"] = case.number
                return redirect("cases:grid_report")
        status = 422
        if queued:
            return JsonResponse({"ok": False, "message": form_errors_text(form)}, status=status)
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
    tree = selectors.category_tree()
    query, errors, matches = "" if pick else get.get("catq", ""), [], []
    try:
        matches = selectors.find_categories(params.search_text(query, "catq"), tree=tree)
    except ValidationFailed as error:
        errors = [error.message]
    state = picker_state(
        tree, get.get("cat1", ""), get.get("cat2", ""), get.get("cat3", ""), pick=pick, query=query, matches=matches
    )
    return render(request, "cases/_category_picker_inner.html", {**state, "errors": errors})


# --- the operator's desk (话务台) ---------------------------------------------------------

DESK_TABS = (("callbacks", gettext_lazy("待回访")), ("search", gettext_lazy("工单查询")))


def _callback_rows(user, queue):
    """The queue's cases with the caller's name and phone to call: unmasked for whoever may
    see them (each view logged), masked for anyone else."""
    rows = []
    for item in queue:
        rows.append({"item": item, "reporter": _reporter_view(user, item.case, purpose="callback")})
    return rows


@role_required(*INTAKE_ROLES)
def desk(request):
    """话务台: the callbacks waiting (回访), and the case search."""
    tab = request.GET.get("tab") if request.GET.get("tab") in dict(DESK_TABS) else "callbacks"
    context = {"tabs": DESK_TABS, "tab": tab}
    status = 200
    if tab == "search":
        form = DeskSearchForm(request.GET or None)
        found = None
        if form.asked and form.is_valid():
            try:
                found = selectors.desk_search(request.user, **form.search_kwargs())
            except ValidationFailed as exc:
                apply_errors(form, exc)
                status = 422
        elif form.asked:
            status = 422
        context.update(form=form, found=found)
    else:
        queue = selectors.callback_queue(request.user)
        context.update(
            callbacks=_callback_rows(request.user, queue),
            waiting=sum(1 for i in queue if i.due),
            attempts=settings.JIEDAO["CALLBACK_ATTEMPTS"],
            may_close=request.user.has_role(*DISPATCH_ROLES),
        )
    return render(request, "cases/desk.html", context, status=status)


@login_required
@require_POST
@permission("case.rate", "case.unreached")
def desk_callback(request):
    """One callback from the queue: the resident's verdict entered, or not reached (the
    services say who may do which, as on the case page)."""
    form = CallbackForm(request.POST)
    number = request.POST.get("number", "")
    unreached = "unreached" in request.POST
    try:
        if not form.is_valid():
            raise ValidationFailed("number", _("请从待回访列表提交。"))
        if unreached:
            services.callback_unreached(request.user, number=number, note=form.cleaned_data["note"])
            messages.info(request, _("已记录工单 %(number)s 回访未接通，稍后再拨。") % {"number": number})
        else:
            services.rate(request.user, number=number, **form.rate_kwargs())
            messages.success(request, _("工单 %(number)s 的回访评价已记录。") % {"number": number})
    except DomainError as exc:
        messages.error(request, _("工单 %(number)s：%(error)s") % {"number": number, "error": exc.message})
    if not request.user.has_role(*INTAKE_ROLES):
        return redirect("web:home")
    return redirect(f"{reverse('cases:desk')}?tab=callbacks")


@role_required(*INTAKE_ROLES)
@limited(Limit("SEARCH_RATE"))
def desk_caller(request):
    """来电人: the caller's earlier cases as soon as the phone number is whole (htmx, intake)."""
    phone = request.GET.get("reporter_phone", "") or request.GET.get("phone", "")
    cases = selectors.caller_history(request.user, phone=phone)
    return render(request, "cases/_caller.html", {"cases": cases, "phone_given": bool(phone.strip())})


# --- dispatcher -----------------------------------------------------------------

QUEUE_TABS = (
    ("new", gettext_lazy("待派单")),
    ("unclassified", gettext_lazy("未分类")),
    ("returned", gettext_lazy("已退单")),
)


def _queue_url(request, **changes):
    """The queue's address with ``changes`` (None drops a parameter): filters, order and tab
    stay in the address, so a reload, a tab or a page keeps them."""
    query = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return reverse("cases:dispatch") + (f"?{encoded}" if encoded else "")


def _model_suggestion(case):
    """The classifier's first choice for an unclassified case: the category (with whether it can
    be taken as it is: a leaf), its probability and the unit it would be routed to."""
    found = suggest(case.description, community=case.community, grid=case.grid, k=1)
    if not found or found[0].category is None:
        return None
    top = found[0]
    return {
        "category": top.category,
        "percent": round(top.probability * 100),
        "unit": top.unit,
        "takes": top.category.pk not in selectors.routing_data().parents,
    }


def _unit_options(choices, refused, preselect):
    """The reassign list: every unit of the street, the units that returned the case marked (the
    latest "刚退回", earlier ones "曾退回"), and only the routing's next choice preselected."""
    refused_codes = {unit.code: index for index, unit in enumerate(refused)}
    options = []
    for value, label in choices:
        if not value:
            continue
        mark = ""
        if value in refused_codes:
            mark = _("（刚退回）") if refused_codes[value] == 0 else _("（曾退回）")
        options.append(
            {"code": value, "label": f"{label}{mark}", "selected": value == preselect, "refused": bool(mark)}
        )
    return options


@role_required(*DISPATCH_ROLES)
def dispatch_queue(request):
    """派单台: the cases waiting for a category or a unit, by tab, filtered and ordered by a GET
    form that keeps its state in the address. Each card shows why it was returned (if it was),
    the routing's choice — never a unit that returned it — and, unclassified, the classifier's;
    cards are checked for 批量分类 / 批量派单. Every figure comes from ``selectors.dispatch_queue``."""
    user = request.user
    now = timezone.now()
    street = None if user.covers_all_streets else user.street_id
    form = DispatchQueueFilterForm(
        request.GET,
        communities=selectors.queue_communities(user),
        categories=[{"code": top["code"], "name": top["name"]} for top in selectors.category_tree()],
    )
    filters = form.filters() if form.is_valid() else {}  # a bad choice is said by its field
    tab = request.GET.get("tab") or ""
    if tab not in dict(QUEUE_TABS):
        tab = ""
    try:
        page = int(request.GET.get("page") or 1)
    except ValueError:
        page = 1
    queue = selectors.dispatch_queue(user, tab=tab, page=min(max(page, 1), 10_000), now=now, **filters)
    dispatch_form = action_form("dispatch", street=street)
    unit_choices = list(dispatch_form.fields["unit"].choices)
    units = {u.pk: u for u in Unit.objects.filter(pk__in={pk for i in queue.items for pk in i.refused_unit_ids})}
    rows = []
    for index, item in enumerate(queue.items):
        case = item.case
        refused = [units[pk] for pk in item.refused_unit_ids if pk in units]
        decision = dispatching.next_route(case, [u.pk for u in refused]) if case.category_id else None
        unit = decision.unit if decision else None
        # The classifier for the first page's unclassified cards (its model is loaded once per process).
        model = _model_suggestion(case) if not case.category_id and queue.page == 1 and index < 20 else None
        rows.append(
            {
                "case": case,
                "item": item,
                "unit": unit,
                "reason": decision.reason if decision else "",
                # A negative-list item forbids street units: the case can only go up to the district.
                "negative": decision.negative if decision and unit is None else None,
                "refused": refused,
                "options": _unit_options(unit_choices, refused, unit.code if unit is not None else None),
                "model": model,
            }
        )
    tabs = [
        {
            "key": key,
            "label": label,
            "count": queue.counts[key],
            "active": key == queue.tab,
            "url": _queue_url(request, tab=key, page=None, select=None),
        }
        for key, label in QUEUE_TABS
    ]
    bulk_form = BulkDispatchForm(street=street)
    context = {
        "tab": queue.tab,
        "tabs": tabs,
        "rows": rows,
        "queue": queue,
        "form": form,
        "filtered": any(filters.get(name) for name in ("channel", "community", "category", "waited")),
        "clear_url": _queue_url(
            request, channel=None, community=None, category=None, waited=None, page=None, select=None
        ),
        "select_all": request.GET.get("select") == "page",
        "select_url": _queue_url(request, select="page"),
        "unselect_url": _queue_url(request, select=None),
        "prev_url": _queue_url(request, page=str(queue.page - 1), select=None) if queue.page > 1 else None,
        "next_url": _queue_url(request, page=str(queue.page + 1), select=None) if queue.page < queue.pages else None,
        "here": _queue_url(request, select=None),
        "bulk_units": [(value, label) for value, label in bulk_form.fields["unit"].choices],
        "district_units": duty_selectors.district_units() if any(r["negative"] for r in rows) else [],
        "may_classify": allows(user, "case.classify"),
        "may_dispatch": allows(user, "case.dispatch"),
        "now": now,
    }
    return render(request, "cases/dispatch.html", context)


# What a bulk action tells the dispatcher: all done, and done with some left (the reasons named).
BULK_DONE = {
    "classify": (gettext_lazy("已分类 %(done)d 张。"), gettext_lazy("已分类 %(done)d 张，%(left)d 张未分类：%(why)s")),
    "dispatch": (gettext_lazy("已派 %(done)d 张。"), gettext_lazy("已派 %(done)d 张，%(left)d 张未派：%(why)s")),
}


def _bulk(request, action, form, run):
    """Each checked case through the action's service on its own (one transaction each): those
    refused are named with the reason, the others done. Bad input changes nothing."""
    back = _safe_next(request, reverse("cases:dispatch"))
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        for field, errors in form.errors.items():
            if field in form.fields:
                for error in errors:
                    messages.error(request, f"{form.fields[field].label}：{error}")
        return redirect(back)
    numbers = form.cleaned_data["numbers"]
    visible = set(selectors.visible_cases(request.user).filter(number__in=numbers).values_list("number", flat=True))
    done, refused = 0, []
    for number in numbers:
        if number not in visible:
            refused.append((number, _("工单不存在或您无权查看。")))
            continue
        try:
            run(number)
        except DomainError as exc:
            refused.append((number, str(getattr(exc, "message", "") or exc)))
        else:
            done += 1
    all_done, some_left = BULK_DONE[action]
    if not refused:
        messages.success(request, all_done % {"done": done})
    else:
        why = "；".join(_("%(number)s %(reason)s") % {"number": n, "reason": r} for n, r in refused)
        messages.warning(request, some_left % {"done": done, "left": len(refused), "why": why})
    return redirect(back)


@login_required
@require_POST
@permission("case.classify")
def dispatch_bulk_classify(request):
    """批量分类: one category for every checked case (each through ``services.classify``)."""
    form = BulkClassifyForm(request.POST)
    if form.is_valid():
        errors = FieldErrors()
        category = category_by_code(errors, form.cleaned_data["category"])
        if category is None and not errors.errors:
            errors.add("category", _("请选择分类。"))
        for error in errors.errors:
            form.add_error(None, _("分类：%(message)s") % {"message": error["message"]})

    def run(number):
        services.classify(request.user, number=number, category_code=form.cleaned_data["category"])

    return _bulk(request, "classify", form, run)


@login_required
@require_POST
@permission("case.dispatch")
def dispatch_bulk_dispatch(request):
    """批量派单: each checked case by its routing (never back to a unit that returned it), or all
    to the one unit chosen (each through ``services.dispatch``)."""
    street = None if request.user.covers_all_streets else request.user.street_id
    form = BulkDispatchForm(request.POST, street=street)

    def run(number):
        services.dispatch(request.user, number=number, unit_code=form.cleaned_data.get("unit") or None)

    return _bulk(request, "dispatch", form, run)


# --- unit workbench --------------------------------------------------------------


def _category_filter_choices():
    choices = []
    for top in selectors.category_tree():
        choices.append({"code": top["code"], "name": top["name"]})
        for mid in top["children"]:
            choices.append({"code": mid["code"], "name": "— " + mid["name"]})
    return choices


# The figures at the top of the workbench: (key, label, the list's filter or the whistles below).
WORKBENCH_COUNTS = (
    ("dispatched", gettext_lazy("待响应"), {"status": "dispatched"}),
    ("in_progress", gettext_lazy("办理中"), {"status": "in_progress"}),
    ("due_soon", gettext_lazy("临期"), {"urgency": "yellow"}),
    ("overdue", gettext_lazy("超期"), {"urgency": "red"}),
    ("to_report", gettext_lazy("待报到"), None),
)


@role_required("handler")
def workbench(request):
    """The unit's first screen: its counts (each a filter of the list), its own cases by
    deadline, the whistles it must report to, and the finished whistles folded away."""
    user = request.user
    if user.unit_id is None:
        raise PermissionDenied
    now = timezone.now()
    form = WorkbenchFilterForm(request.GET or None, categories=_category_filter_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    rows, next_cursor = [], None
    try:
        rows, next_cursor = selectors.unit_cases(
            user,
            status=filters.get("status") or None,
            level=filters.get("urgency") or None,
            category=filters.get("category") or None,
            q=(filters.get("q") or "").strip() or None,
            cursor=request.GET.get("cursor") or None,
            limit=WORKBENCH_PAGE,
            now=now,
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
    counts = selectors.unit_counts(user, now=now)
    # A figure is marked while the list shows exactly its cases.
    shown = {key: filters[key] for key in ("status", "urgency", "category", "q") if filters.get(key)}
    tiles = []
    for key, label, shows in WORKBENCH_COUNTS:
        active = shows is not None and shown == shows
        tiles.append(
            {
                "key": key,
                "label": label,
                "value": getattr(counts, key),
                "url": "?" + urlencode(shows) if shows is not None else "#whistles",
                "active": active,
            }
        )
    context = {
        "form": form,
        "rows": rows,
        "next_url": next_url,
        "first_url": first_url,
        "tiles": tiles,
        "filtered": bool(shown),
        "whistles": selectors.unit_whistles(user),
        "now": now,
        "unit": user.unit,
    }
    return render(request, "cases/workbench.html", context)


@role_required("handler")
@require_POST
@permission("case.resolve")
@limited(Limit("SEARCH_RATE"))
def reply_check(request, number):
    """答复质量 while the handler types the result of a case (htmx, posted: a result is longer
    than an address line may be): the checker the resolve service runs on submit
    (``hooks.reply_checker``), asked without keeping its answer. Nothing is written."""
    case = _case_or_404(request.user, number)
    if not any(t.action == "resolve" for t in selectors.allowed_actions(request.user, case)):
        raise PermissionDenied
    result = (request.POST.get("result") or "").strip()[:REPLY_CHECK_CHARS]
    check = hooks.reply_checker(case, result, keep=False) if result else None
    labels = [flag_label(flag) for flag in check.flags] if check is not None else []
    return render(request, "cases/_reply_check.html", {"checked": check is not None, "labels": labels})


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
    # Every figure is computed now, from the cases as they are: the month's rates up to this
    # moment (the current month) or for the whole month (an earlier one); the overdue list by
    # the case page's rule. The page says which, with the time.
    now = timezone.now()
    rows = measures.three_rates_by_unit(month, now=now, street=street)
    total = measures.three_rates(month, now=now, street=street)
    start, end = measures.month_bounds(month)
    context = {
        "month": month,
        "current": month == measures.current_month(now),
        "prev_month": _shift_month(month, -1),
        "next_month": _shift_month(month, 1),
        "rows": rows,
        "total": total,
        "chart": rates_chart(rows),
        "extensions": selectors.pending_extensions(request.user),
        "attention": selectors.attention_cases(request.user, now=now),
        "supervisions": selectors.supervision_list(request.user, start=start, end=end, now=now),
        "supervision_counts": selectors.supervision_counts(request.user, start=start, end=end, now=now),
        "supervision_units": selectors.supervision_by_unit(request.user, start=start, end=end, now=now),
        "now": now,
        "desk": measures.desk_outcomes(month, street.pk if street is not None else None),
        "desk_counted": [Outcome(o).label for o in measures.desk_counted_outcomes()],
        "basic_weight": f"{rules.basic_satisfied_weight():g}",
    }
    return render(request, "cases/overview.html", context)


# --- the case page and its actions ----------------------------------------------------


def _reporter_view(user, case, purpose="case page"):
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
            log_unmasked_view(user, case, shown, purpose=purpose)
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


def _repeat_view(user, case):
    """The 重复投诉 marker: the closed case this one repeats, linked when the user may open it."""
    found = repeats.repeated_case(case)
    if found is None:
        return None
    earlier = found.case
    return {
        "case": earlier,
        "reason": found.reason,
        "linked": selectors.visible_cases(user).filter(pk=earlier.pk).exists(),
    }


def _case_context(request, case, bound=None):
    user = request.user
    bound = bound or {}
    action_forms = []
    for transition in selectors.allowed_actions(user, case):
        action = transition.action
        form = bound.get(action) or action_form(action, street=case.street_id)
        if action == "flag" and not case.sensitive:
            # Nothing to take off: only the two flags are offered.
            form.fields["kind"].choices = [choice for choice in form.fields["kind"].choices if choice[0]]
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
        suggestion = dispatching.next_route(case)  # never a unit that returned the case
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
        "supervisions": selectors.supervisions_of(case, now=timezone.now()),
        "repeat": _repeat_view(user, case),
        "ratings": list(case.ratings.order_by("round")),
        "action_forms": action_forms,
        "failed": failed,
        "suggestion": suggestion,
        "now": timezone.now(),
    }


@login_required
def case_detail(request, number):
    """The staff case page. A resident (no staff role) is taken to the tracking page of their
    own case instead — no staff names, internal events or routing basis — and gets the same
    not-found answer as anyone for a case that is not theirs."""
    if request.user.role_codes <= {RESIDENT}:
        case = _case_or_404(request.user, number)
        if case.reporter_id != request.user.pk:
            raise Http404(_("工单 %(number)s 不存在或您无权查看。") % {"number": number})
        return redirect(f"{reverse('web:track')}?{urlencode({'number': case.number})}")
    case = _case_or_404(request.user, number)
    return render(request, "cases/case.html", _case_context(request, case))


def _run(action, user, number, form, key=None):
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
        return services.verify(
            user, number=number, passed=action == "verify_pass", idempotency_key=key, **form.verify_kwargs()
        )
    if action == "self_resolve":
        return services.self_resolve(user, number=number, result=data.get("result", ""), photos=data.get("photos", []))
    if action == "rate":
        return services.rate(user, number=number, **form.rate_kwargs())
    if action == "close":
        return services.close(user, number=number, note=data.get("note", ""))
    if action == "merge":
        return services.merge(
            user, number=number, master_number=(data.get("master") or "").strip(), note=data.get("note", "")
        )
    if action == "supervise":
        return services.supervise(user, number=number, note=data.get("note", ""), due=data.get("due", ""))
    if action == "supervise_reply":
        return services.reply_to_supervision(user, number=number, reply=data.get("reply", ""))
    if action in ("supervise_accept", "supervise_return"):
        return services.decide_supervision(
            user,
            number=number,
            accept=action == "supervise_accept",
            reason=data.get("reason", ""),
            due=data.get("due", ""),
        )
    if action == "unreached":
        return services.callback_unreached(user, number=number, note=data.get("note", ""))
    if action == "inform":
        return services.inform(user, number=number, note=data.get("note", ""))
    if action == "flag":
        return services.flag(user, number=number, kind=data.get("kind", ""), note=data.get("note", ""))
    if action in ("answer", "advise"):
        outcome = Outcome.ANSWERED if action == "answer" else Outcome.ADVISED
        return services.settle(user, number=number, outcome=outcome, answer=data.get("answer", ""))
    if action == "void":
        return services.settle(
            user,
            number=number,
            outcome=Outcome.VOIDED,
            void_reason=data.get("void_reason", ""),
            answer=data.get("note", ""),
        )
    raise Http404


# What the case page says after an action whose label does not read after "已" (e.g. 已自行处置).
ACTION_DONE = {
    "self_resolve": gettext_lazy("工单 %(number)s：已当场处置并结案。"),
    "flag": gettext_lazy("工单 %(number)s：舆情/群体事件标记已更新。"),
}


@login_required
@require_POST
@permission("case.{action}")
def case_action(request, number, action):
    if action not in ACTION_FORMS:
        raise Http404
    case = _case_or_404(request.user, number)
    form = action_form(action, request.POST, request.FILES, street=case.street_id)
    status = 422
    # A check (核查) made without network is sent later by the phone's queue (web/app/offline.js)
    # with its own key: sent twice, it is taken once; the queue reads a short JSON answer.
    queued = bool(request.headers.get("X-Offline-Queue")) and action in ("verify_pass", "verify_fail")
    if form.is_valid():
        try:
            key = None
            if action in ("verify_pass", "verify_fail"):
                key = idempotency.clean_key(
                    request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key")
                )
            _run(action, request.user, case.number, form, key=key)
        except (ValidationFailed, InvalidTransition, NotAllowed) as exc:
            apply_errors(form, exc)
            status = exc.http_status
        else:
            done = ACTION_DONE.get(action) or _("工单 %(number)s：已%(action)s。")
            if queued:
                text = done % {"number": case.number, "action": states.action_label(action)}
                return JsonResponse({"ok": True, "message": text, "case": case.number})
            messages.success(request, done % {"number": case.number, "action": states.action_label(action)})
            if action == "resolve":
                warning = reply_warning(case)
                if warning:
                    messages.warning(request, warning)
            fallback = reverse("cases:case", args=[case.number])
            if not selectors.visible_cases(request.user).filter(pk=case.pk).exists():
                fallback = reverse("web:home")
            return redirect(_safe_next(request, fallback))
    if queued:
        text = form_errors_text(form)
        return JsonResponse(
            {"ok": False, "message": _("工单 %(number)s：") % {"number": case.number} + text}, status=status
        )
    case = _case_or_404(request.user, number)
    return render(request, "cases/case.html", _case_context(request, case, bound={action: form}), status=status)
