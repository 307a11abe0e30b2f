"""Pages of 一户一档: the person list and search, a person and their household, the
import page with its template downloads and error report, the conflicts to decide,
the assistance list (print and Excel), and the grid worker's visit log.

Views stay thin: they parse input, call a selector or a service, and turn domain
errors into messages, form errors or HTTP codes. Personal data is masked unless the
reader pressed "显示完整" and may see it; each unmasked view is written to the log."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors
from jiedao.common.throttle import Throttled
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import importing, lookups, selectors, services, sheets
from .forms import AssistanceForm, ConflictDecisionForm, ImportForm, TagForm, VisitForm
from .models import ImportRun, MergeConflict

READ_ROLES = ("grid", "leader", "admin", "dispatcher", "handler")
EDIT_ROLES = ("grid", "admin", "handler")
PAGE_SIZE = 50
PERSON_PAGE_VISITS = 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tabs(request, active):
    user = request.user
    tabs = [("persons", _("人员档案"), None), ("assistance", _("帮扶清单"), None)]
    if selectors.may_edit_somewhere(user):
        tabs.append(("visit", _("探访登记"), None))
        tabs.append(("conflicts", _("数据冲突"), selectors.pending_conflict_count(user)))
    if selectors.may_import(user):
        tabs.append(("import", _("导入"), None))
    return [
        {"url": reverse(f"registry:{name}"), "label": label, "count": count, "active": name == active}
        for name, label, count in tabs
    ]


def _render(request, template, context, active, status=200):
    context["registry_tabs"] = _tabs(request, active)
    return render(request, template, context, status=status)


def _readable(request):
    if not selectors.may_read(request.user):
        raise PermissionDenied


def _editor(request):
    if not selectors.may_edit_somewhere(request.user):
        raise PermissionDenied


def _not_found(exc):
    return Http404(getattr(exc, "message", str(exc)))


# --- persons ----------------------------------------------------------------------------------


@role_required(*READ_ROLES)
def person_list(request):
    _readable(request)
    user = request.user
    grid = request.GET.get("grid", "").strip()
    tag = request.GET.get("tag", "").strip()
    q = request.GET.get("q", "").strip()
    cursor = request.GET.get("cursor", "").strip()
    rows, next_cursor, status, wait = [], None, 200, None
    try:
        lookups.count(request, q)
        persons, next_cursor = selectors.person_list(
            user, grid=grid or None, tag=tag or None, q=q or None, cursor=cursor or None, limit=PAGE_SIZE
        )
        rows = [selectors.person_out(p) for p in persons]
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, error["message"])
    except NotAllowed as exc:  # a search by a complete number, by someone who may not unmask
        messages.error(request, exc.message)
        status = 403
    except Throttled as exc:
        messages.error(request, exc.message)
        status, wait = 429, exc.wait
    params = {k: v for k, v in (("grid", grid), ("tag", tag), ("q", q)) if v}
    fresh_rows, fresh_total = selectors.freshness(user)
    context = {
        "rows": rows,
        "grid": grid,
        "tag": tag,
        "q": q,
        "grids": selectors.visible_grids(user),
        "tags": selectors.active_tags(),
        "next_url": "?" + urlencode({**params, "cursor": next_cursor}) if next_cursor else None,
        "first_url": "?" + urlencode(params) if cursor else None,
        "freshness": fresh_rows,
        "freshness_total": fresh_total,
        "fresh_days": selectors.DEFAULT_FRESH_DAYS,
    }
    response = _render(request, "registry/person_list.html", context, "persons", status=status)
    if wait is not None:
        response["Retry-After"] = str(wait)
    return response


def _person_context(request, person, data):
    user = request.user
    may_edit = selectors.may_edit(user, person)
    household = person.household
    members = []
    if household is not None:
        members = [selectors.person_out(m) for m in selectors.members_of(household)]
    tags = selectors.active_tags()
    mine = {t.code for t in person.tags.all()}
    return {
        "person": person,
        "p": data,
        "members": members,
        "household": household,
        "sources": selectors.sources_of(person),
        "visits": selectors.visits_of(person, limit=PERSON_PAGE_VISITS),
        "visit_count": person.visits.count(),
        "conflicts": list(person.conflicts.filter(choice="").order_by("created_at")),
        "may_edit": may_edit,
        "may_unmask": selectors.may_unmask(user, person),
        "add_tags": [t for t in tags if t.code not in mine],
        "may_visit": may_edit,
    }


@role_required(*READ_ROLES)
def person_detail(request, pk):
    _readable(request)
    try:
        person = selectors.person_for(request.user, pk)
    except NotFound as exc:
        raise _not_found(exc) from None
    return _render(
        request, "registry/person.html", _person_context(request, person, selectors.person_out(person)), "persons"
    )


@role_required(*READ_ROLES)
@require_POST
@permission("registry.reveal")
def person_reveal(request, pk):
    """显示完整: the person's identity number and phone in full, for those allowed; logged."""
    _readable(request)
    try:
        person = selectors.person_for(request.user, pk)
        data = selectors.reveal(request.user, person, purpose="person page")
    except NotFound as exc:
        raise _not_found(exc) from None
    except NotAllowed:
        raise PermissionDenied from None
    return _render(request, "registry/person.html", _person_context(request, person, data), "persons")


@role_required(*EDIT_ROLES)
@require_POST
@permission("registry.edit")
def person_tags(request, pk):
    _readable(request)
    form = TagForm(request.POST, tags=selectors.active_tags())
    if not form.is_valid():
        messages.error(request, _("请选择关怀标签。"))
        return redirect("registry:person", pk)
    try:
        if form.cleaned_data["action"] == "add":
            services.tag_person(request.user, person_id=pk, tag=form.cleaned_data["tag"])
            messages.success(request, _("已添加关怀标签。"))
        else:
            services.untag_person(request.user, person_id=pk, tag=form.cleaned_data["tag"])
            messages.success(request, _("已移除关怀标签。"))
    except NotFound as exc:
        raise _not_found(exc) from None
    except NotAllowed:
        raise PermissionDenied from None
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, error["message"])
    return redirect("registry:person", pk)


@role_required(*READ_ROLES)
def household_detail(request, pk):
    _readable(request)
    try:
        household = selectors.household_for(request.user, pk)
    except NotFound as exc:
        raise _not_found(exc) from None
    context = {
        "household": household,
        "house": household.house,
        "building": household.house.building,
        "members": [selectors.person_out(m) for m in selectors.members_of(household)],
        "sources": selectors.sources_of(household),
        "house_sources": selectors.sources_of(household.house),
    }
    return _render(request, "registry/household.html", context, "persons")


# --- import -----------------------------------------------------------------------------------


def _split_errors(errors):
    rows, general = [], []
    for error in errors:
        if error.get("row"):
            rows.append(error)
        else:
            general.append(error)
    return rows, general


@role_required("admin")
@require_http_methods(["GET", "POST"])
@permission("registry.import")
def import_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "row_errors": [], "general_errors": [], "run": None, "error_count": 0}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = importing.start_import(
                    request.user, kind=data["kind"], upload=data["file"], source=data["source"]
                )
            except ValidationFailed as exc:
                context["row_errors"], context["general_errors"] = _split_errors(exc.errors)
                context["error_count"] = len(exc.errors)
                status = 422
            except NotAllowed:
                raise PermissionDenied from None
            else:
                if run.state == ImportRun.State.QUEUED:
                    return redirect("registry:import_run", run.pk)
                messages.success(request, _("导入完成。") + selectors.describe_counts(run.kind, run.counts))
                return redirect("registry:import_run", run.pk)
        else:
            status = 422
    context["runs"] = selectors.import_runs(request.user)
    context["kinds"] = [
        (kind, label, reverse("registry:template", args=[kind])) for kind, label in sheets.KIND_LABELS.items()
    ]
    context["columns"] = {kind: sheets.COLUMNS[kind] for kind in sheets.COLUMNS}
    return _render(request, "registry/import.html", context, "import", status=status)


@role_required("admin")
def import_run(request, pk):
    try:
        run = selectors.import_run_for(request.user, pk)
    except NotFound as exc:
        raise _not_found(exc) from None
    row_errors, general = _split_errors(run.errors or [])
    percent = round(100 * run.done_rows / run.total_rows) if run.total_rows else 0
    context = {
        "run": run,
        "row_errors": row_errors,
        "general_errors": general,
        "percent": percent,
        "summary": selectors.describe_counts(run.kind, run.counts) if run.state == ImportRun.State.DONE else "",
        "working": run.state in (ImportRun.State.QUEUED, ImportRun.State.RUNNING),
        "error_count": (run.counts or {}).get("error_count", len(run.errors or [])),
    }
    if request.headers.get("HX-Request"):
        return render(request, "registry/_import_status.html", context)
    return _render(request, "registry/import_run.html", context, "import")


@role_required(*READ_ROLES)
def template_download(request, kind):
    if kind not in sheets.COLUMNS:
        raise Http404
    response = HttpResponse(sheets.template_workbook(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{sheets.template_filename(kind)}"'
    return response


# --- conflicts --------------------------------------------------------------------------------


def _conflict_rows(user, conflicts):
    rows = []
    for conflict in conflicts:
        target = conflict.target
        if conflict.person_id:
            link = reverse("registry:person", args=[conflict.person_id])
        elif conflict.house_id:
            households = selectors.house_households(conflict.house)
            link = reverse("registry:household", args=[households[0].pk]) if households else ""
        else:
            link = ""
        label = _("户主") if conflict.field == services.HEAD_FIELD else selectors.field_label(conflict.field)
        # Birth dates are eight of the hidden digits of an identity number: in full (and logged)
        # only for those who may unmask the person, as an age for the others.
        full_date = (
            conflict.field == "birth_date"
            and conflict.person_id is not None
            and selectors.may_unmask(user, conflict.person)
        )
        if full_date:
            log_unmasked_view(user, conflict.person, ["birth_date"], purpose="conflicts")
        rows.append(
            {
                "conflict": conflict,
                "target": str(target),
                "link": link,
                "label": label,
                "current": selectors.display_value(conflict.field, conflict.current_value, unmasked=full_date),
                "incoming": selectors.display_value(conflict.field, conflict.incoming_value, unmasked=full_date),
            }
        )
    return rows


@role_required(*EDIT_ROLES)
def conflicts(request):
    _editor(request)
    items = selectors.pending_conflicts(request.user)
    return _render(request, "registry/conflicts.html", {"rows": _conflict_rows(request.user, items)}, "conflicts")


@role_required(*EDIT_ROLES)
@require_POST
@permission("registry.edit")
def decide_conflict(request, pk):
    form = ConflictDecisionForm(request.POST)
    choice = form.cleaned_data["choice"] if form.is_valid() else ""
    try:
        conflict = services.resolve_conflict(request.user, conflict_id=pk, choice=choice)
    except NotFound as exc:
        raise _not_found(exc) from None
    except NotAllowed:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, exc.message if hasattr(exc, "message") else str(exc))
    else:
        if conflict.choice == MergeConflict.Choice.TAKE:
            messages.success(request, _("已采用新来源的值。"))
        else:
            messages.success(request, _("已保留现有值，并记为人工确认。"))
    return redirect("registry:conflicts")


# --- assistance list (帮扶清单) -------------------------------------------------------------------


def _selection_form(request):
    """The list's selection: from the query (the filter) or, for 显示完整, from the POST."""
    return AssistanceForm(request.POST if request.method == "POST" else request.GET)


def _assistance(request, form, unmask):
    user = request.user
    grids, tags = form.selection()
    persons, grid_objs, tag_objs = selectors.assistance_list(user, grids=grids, tags=tags)
    rows = selectors.assistance_rows(user, persons, unmask=unmask)
    return rows, grids, tags, grid_objs, tag_objs


def _title(grid_objs, tag_objs):
    where = "、".join(str(g) for g in grid_objs) or _("全部可见网格")
    which = "、".join(t.name for t in tag_objs) or _("全部关怀对象")
    return _("帮扶清单：%(where)s · %(which)s · %(date)s") % {
        "where": where,
        "which": which,
        "date": timezone.localdate().isoformat(),
    }


@role_required(*READ_ROLES)
@require_http_methods(["GET", "POST"])
@permission("registry.reveal")
def assistance(request):
    """GET: the list, masked. POST (显示完整): unmasked for the rows the reader may see in full."""
    _readable(request)
    user = request.user
    unmask = request.method == "POST"
    try:
        rows, grids, tags, grid_objs, tag_objs = _assistance(request, _selection_form(request), unmask)
        rate = selectors.visits_per_week(user, grids=grids, tags=tags, weeks=4)
        weekly = selectors.weekly_visit_rates(user, grids=grids, tags=tags, weeks=12)
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, error["message"])
        return redirect("registry:assistance")
    peak = max([w.rate or 0 for w in weekly] + [0.01])
    query = urlencode([("grid", g) for g in grids] + [("tag", t) for t in tags])
    context = {
        "rows": rows,
        "grids": selectors.visible_grids(user),
        "tags": selectors.active_tags(),
        "chosen_grids": set(grids),
        "chosen_tags": set(tags),
        "title": _title(grid_objs, tag_objs),
        "rate": rate,
        "weekly": [{"rate": w, "width": round(100 * (w.rate or 0) / peak, 1)} for w in weekly],
        "query": query,
        "unmasked": unmask and any(not r["masked"] for r in rows),
        # Administrators, and grid workers for their own grids' persons, may press "显示完整".
        "may_unmask": user.has_role("admin", "grid"),
        "selected_grids": grids,
        "selected_tags": tags,
    }
    return _render(request, "registry/assistance.html", context, "assistance")


@role_required(*READ_ROLES)
@require_http_methods(["GET", "POST"])
@permission("registry.reveal")
def assistance_export(request):
    """The list as Excel: masked; POST with ``full=1`` unmasks what the reader may see (logged)."""
    _readable(request)
    form = _selection_form(request)
    unmask = request.method == "POST" and form.in_full()
    try:
        rows, _grids, _tags, grid_objs, tag_objs = _assistance(request, form, unmask)
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, error["message"])
        return redirect("registry:assistance")
    response = HttpResponse(sheets.assistance_workbook(rows, _title(grid_objs, tag_objs)), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="assistance-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


# --- visits (探访) ------------------------------------------------------------------------------


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
@permission("registry.visit")
def visit_new(request):
    _editor(request)
    user = request.user
    persons = selectors.visit_candidates(user)
    form = VisitForm(
        request.POST or None,
        persons=persons,
        initial={"person": request.GET.get("person")} if request.GET.get("person") else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit = services.record_visit(
                    user, person_id=data["person"], kind=data["kind"], at=data["at"], note=data["note"]
                )
            except NotFound:
                form.add_error("person", _("请选择本人负责范围内的探访对象。"))
            except (ValidationFailed, NotAllowed) as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已登记对%(name)s的探访（%(at)s）。")
                    % {"name": visit.person.name, "at": timezone.localtime(visit.at).strftime("%m-%d %H:%M")},
                )
                return redirect("registry:visit")
        status = 422
    context = {"form": form, "recent": selectors.recent_visits_by(user), "count": len(persons)}
    return _render(request, "registry/visit.html", context, "visit", status=status)
