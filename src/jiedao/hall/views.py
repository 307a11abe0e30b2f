"""Pages of the service hall: the public guide and one-time notice, the window
(call tickets, accept), an application with its steps, the units' approval queue,
online application, rating, the calling screen and the measures."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiedao.common.errors import DomainError, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors
from jiedao.common.throttle import Limit, check, limited
from jiedao.org import permissions
from jiedao.org.models import Street
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import excel, links, notice, selectors, services, states
from .forms import (
    ApplicantForm,
    ApplicationActionForm,
    BookForm,
    BundleFlagForm,
    CancelAppointmentForm,
    CatalogueImportForm,
    RectificationForm,
    TicketForm,
    WindowAcceptForm,
    WindowForm,
)
from .models import Delivery, Group, Level, MaterialStatus, RatingChannel

WINDOW_ROLES = ("operator", "admin")
# What a POST to an application's page may do: a step of its lifecycle, or rating by the SMS link.
APPLICATION_ACTIONS = (
    *(f"hall.application.{action}" for action in states.APPLICATIONS.transitions),
    "public.rate_application",
)


def _error_text(exc):
    if isinstance(exc, ValidationFailed):
        return "；".join(e["message"] for e in exc.errors)
    return getattr(exc, "message", str(exc))


def _form_error_text(form):
    """What a form that could not be read says, in one line as a message."""
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


def _form_errors(form):
    """The errors of a form that is shown again, in the shape of a service's errors."""
    return [
        {"field": name if name in form.fields else None, "message": str(error)}
        for name, errors in form.errors.items()
        for error in errors
    ]


@limited(Limit("SEARCH_RATE"))
def guide(request):
    q = request.GET.get("q", "").strip()
    try:
        items = selectors.search_items(q)
    except ValidationFailed as exc:
        messages.error(request, _error_text(exc))
        q, items = "", selectors.search_items()
    return render(
        request, "hall/guide.html", {"q": q, "items": items, "bundles": selectors.bundles(), "groups": Group.choices}
    )


@limited(Limit("PUBLIC_PAGE_RATE"))
def item_detail(request, code):
    try:
        item = selectors.item_by_code(code)
    except NotFound as exc:
        raise Http404(exc.message) from None
    # Booking and applying online are a resident's own business (the permission table).
    may_book = permissions.allows(request.user, "hall.book")
    slots = selectors.free_slots() if item.appointment_allowed and may_book else []
    return render(
        request,
        "hall/item.html",
        {
            "item": item,
            "materials": list(item.materials.all()),
            "slots": slots,
            "may_book": may_book,
            "may_apply": not request.user.is_authenticated or permissions.allows(request.user, "hall.apply"),
        },
    )


@login_required
@require_http_methods(["POST"])
@permission("hall.book")
def book(request, code):
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择预约时段。"))
        return redirect("hall:item", code=code)
    try:
        appointment = services.book(request.user, item_code=code, starts_at=form.cleaned_data["starts_at"])
        messages.success(
            request,
            _("已预约 %(when)s，请按时到便民服务中心取号办理。")
            % {"when": f"{timezone.localtime(appointment.starts_at):%Y-%m-%d %H:%M}"},
        )
        return redirect("hall:mine")
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect("hall:item", code=code)


@limited(Limit("DOWNLOAD_RATE"))
def item_notice(request, code):
    try:
        item = selectors.item_by_code(code)
    except NotFound as exc:
        raise Http404(exc.message) from None
    street = Street.objects.first()
    response = HttpResponse(notice.notice_pdf(item, street.name if street else ""), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{item.code}.pdf"'
    return response


# --- the queue ------------------------------------------------------------------------------


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("public.ticket")
def take_ticket(request):
    ticket = None
    if request.method == "POST":
        form = TicketForm(request.POST)
        try:
            check(request, Limit("HALL_TICKET_RATE"))
            if not form.is_valid():
                raise ValidationFailed("group", _form_error_text(form))
            ticket = services.take_ticket(form.cleaned_data["group"], priority=form.cleaned_data["priority"])
        except DomainError as exc:
            messages.error(request, _error_text(exc))
    return render(request, "hall/ticket.html", {"groups": Group.choices, "ticket": ticket})


@limited(Limit("PUBLIC_PAGE_RATE"))
def calling_screen(request):
    return render(request, "hall/screen.html", selectors.screen())


# --- the window -------------------------------------------------------------------------------


@role_required(*WINDOW_ROLES)
@permission("hall.queue")
def window(request):
    if request.method == "POST":
        form = WindowForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_error_text(form))
            return redirect("hall:window")
        do = form.cleaned_data["do"]
        try:
            if do == "call":
                ticket = services.call_next(
                    request.user, window=form.cleaned_data["window"], groups=form.cleaned_data["groups"] or None
                )
                request.session["hall_window"] = ticket.window
                messages.success(
                    request,
                    _("请 %(number)s 号到 %(window)s 号窗口办理。")
                    % {"number": ticket.number, "window": ticket.window},
                )
            elif do in ("finish", "missed"):
                services.finish_ticket(request.user, ticket_id=form.cleaned_data["ticket"], missed=do == "missed")
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        return redirect("hall:window")
    return render(
        request,
        "hall/window.html",
        {
            "current": selectors.current_ticket(request.user),
            "groups": Group.choices,
            "window_no": request.session.get("hall_window", ""),
            "items": selectors.search_items(),
            "bundles": selectors.bundles(),
            **selectors.window_lists(),
        },
    )


@role_required(*WINDOW_ROLES)
@permission("hall.accept_at_window")
def accept_form(request, code):
    bundle = None
    try:
        if BundleFlagForm(request.GET).flagged() or BundleFlagForm(request.POST).flagged():
            bundle = selectors.bundle_by_code(code)
            items = list(bundle.items.all())
        else:
            items = [selectors.item_by_code(code)]
    except NotFound as exc:
        raise Http404(exc.message) from None
    form = WindowAcceptForm(request.POST if request.method == "POST" else None, items=items)
    if form.is_valid():
        data = form.cleaned_data
        current = selectors.current_ticket(request.user)
        try:
            app = services.accept_at_window(
                request.user,
                applicant=form.applicant(),
                materials=form.material_choices(),
                item_code="" if bundle else code,
                bundle_code=bundle.code if bundle else "",
                pledge_signed=data["pledge_signed"],
                assistant_name=data["assistant_name"],
                assisted_reason=data["assisted_reason"],
                ticket_id=current.pk if current else None,
            )
            messages.success(request, _("已受理，办件编号 %(number)s。") % {"number": app.number})
            return redirect("hall:application", number=app.number)
        except ValidationFailed as exc:
            apply_errors(form, exc)
    errors = _form_errors(form)
    return render(
        request,
        "hall/accept.html",
        {
            "form": form,
            "items": items,
            "bundle": bundle,
            "code": code,
            "errors": errors,
            "pledge_allowed": any(i.pledge_allowed for i in items),
        },
        status=422 if errors else 200,
    )


# --- applications -----------------------------------------------------------------------------


@limited(Limit("LOOKUP_FAILURE_RATE", failures=True))  # a wrong number or link
@permission(*APPLICATION_ACTIONS)
def application(request, number):
    form = ApplicationActionForm(request.POST) if request.method == "POST" else None
    sent = form is not None and form.is_valid()
    token = request.GET.get("t") or (form.cleaned_data["t"] if sent else "") or None
    try:
        app = selectors.application_for(request.user, number, token)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except links.LinkExpired as exc:
        return render(request, "hall/link_expired.html", {"message": exc.message}, status=exc.http_status)
    if form is not None:
        if not sent:
            messages.error(request, _form_error_text(form))
        else:
            channel = form.cleaned_data["channel"] or (
                RatingChannel.SMS
                if token
                else RatingChannel.DEVICE
                if request.user.has_role("operator")
                else RatingChannel.PORTAL
            )
            try:
                services.apply_action(
                    request.user,
                    number=number,
                    action=form.cleaned_data["action"],
                    data=form.step_data(token=token, channel=channel),
                )
                messages.success(request, _("已办理。"))
            except DomainError as exc:
                messages.error(request, _error_text(exc))
        url = reverse("hall:application", args=[number])
        return redirect(f"{url}?t={token}" if token else url)
    out = selectors.application_out(app)
    actions = selectors.actions_for(request.user, app, token)
    return render(
        request,
        "hall/application.html",
        {
            "app": app,
            "out": out,
            "events": selectors.events_of(app),
            "actions": [a.action for a in actions],
            "token": token or "",
            "levels": Level.choices,
            "deliveries": Delivery.choices,
            "missing": [m for m in out["materials"] if m["status"] == MaterialStatus.MISSING],
            "rating": getattr(app, "rating", None),
            "rating_link": links.rating_link(app)
            if request.user.is_authenticated and request.user.has_role("operator", "admin")
            else "",
        },
    )


@role_required("handler", "leader", "admin")
def approvals(request):
    return render(
        request,
        "hall/approvals.html",
        {
            "apps": selectors.approval_queue(request.user),
            "now": timezone.now(),
            "show_measures": request.user.has_role("leader", "admin"),
        },
    )


@login_required
@permission("hall.apply")
def apply_online(request, code):
    try:
        item = selectors.item_by_code(code)
    except NotFound as exc:
        raise Http404(exc.message) from None
    form = ApplicantForm(request.POST if request.method == "POST" else None, items=[item])
    if form.is_valid():
        try:
            app = services.submit_online(
                request.user, item_code=code, applicant=form.applicant(), materials=form.material_choices()
            )
            messages.success(
                request, _("已提交网上申请，办件编号 %(number)s，窗口预审后通知您。") % {"number": app.number}
            )
            return redirect("hall:application", number=app.number)
        except ValidationFailed as exc:
            apply_errors(form, exc)
    errors = _form_errors(form)
    return render(
        request, "hall/apply.html", {"item": item, "form": form, "errors": errors}, status=422 if errors else 200
    )


@login_required
@permission("hall.cancel_booking")
def my_applications(request):
    if request.method == "POST":
        form = CancelAppointmentForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationFailed("appointment", _form_error_text(form))
            services.cancel_appointment(request.user, appointment_id=form.cleaned_data["appointment"])
            messages.success(request, _("已取消预约。"))
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        return redirect("hall:mine")
    return render(
        request,
        "hall/mine.html",
        {
            "appointments": selectors.appointments_of(request.user),
            "now": timezone.now(),
            "apps": list(
                selectors.visible_applications(request.user).filter(applicant_user=request.user, parent__isnull=True)[
                    :100
                ]
            ),
        },
    )


# --- 好差评 rectification -----------------------------------------------------------------------


@role_required("handler", "operator", "leader", "admin")
@permission("hall.rectify", "hall.rectify_callback", "hall.appeal", "hall.appeal_review")
def rectifications(request):
    if request.method == "POST":
        form = RectificationForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationFailed("note", _form_error_text(form))
            data = form.cleaned_data
            do, note = data["do"], data["note"]
            if do == "fix":
                services.fix(request.user, rect_id=data["id"], note=note)
            elif do == "callback":
                services.callback(request.user, rect_id=data["id"], satisfied=data["satisfied"], note=note)
            elif do == "appeal":
                services.file_appeal(request.user, rating_id=data["rating"], reason=note)
            elif do == "review":
                services.review_appeal(request.user, appeal_id=data["id"], upheld=data["upheld"], note=note)
            messages.success(request, _("已保存。"))
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        return redirect("hall:rectifications")
    return render(
        request,
        "hall/rectifications.html",
        {
            "rects": selectors.rectifications_for(request.user),
            "appeals": selectors.pending_appeals(),
            "may_review": request.user.has_role("leader", "admin"),
            "now": timezone.now(),
        },
    )


def _percent(value):
    return None if value is None else round(value * 100, 1)


@role_required("leader", "admin", "operator")
def measures_page(request):
    try:
        days = max(1, min(int(request.GET.get("days", 365)), 3650))
    except ValueError:
        days = 365
    end = timezone.now()
    m = selectors.measures(end - dt.timedelta(days=days), end)
    t = selectors.TARGETS
    rows = [
        (_("最多跑一次率"), _percent(m["one_visit"]), "%", _percent(t["one_visit"]), "ge"),
        (_("当场办结率"), _percent(m["on_the_spot"]), "%", _percent(t["on_the_spot"]), "ge"),
        (_("网上申请占比"), _percent(m["online"]), "%", _percent(t["online"]), "ge"),
        (_("好评率（基本满意及以上）"), _percent(m["satisfaction"]), "%", _percent(t["satisfaction"]), "ge"),
        (
            _("平均等候时间（分钟）"),
            None if m["wait_avg"] is None else round(m["wait_avg"], 1),
            "",
            t["wait_minutes"],
            "le",
        ),
        (_("90%等候时间（分钟）"), None if m["wait_p90"] is None else round(m["wait_p90"], 1), "", None, ""),
        (_("按承诺时限办结率"), _percent(m["in_time"]), "%", None, ""),
        (
            _("每件需提交材料数"),
            None if m["materials_per_item"] is None else round(m["materials_per_item"], 1),
            "",
            None,
            "",
        ),
        (_("免提交材料占比"), _percent(m["shared"]), "%", None, ""),
        (_("差评按期整改率"), _percent(m["rectified_on_time"]), "%", None, ""),
    ]
    shown = []
    for label, value, unit, target, sense in rows:
        met = None
        if value is not None and target is not None:
            met = value >= target if sense == "ge" else value <= target
        shown.append({"label": label, "value": value, "unit": unit, "target": target, "met": met, "sense": sense})
    return render(
        request,
        "hall/measures.html",
        {
            "m": m,
            "rows": shown,
            "days": days,
            "levels": Level.choices,
            "by_level": [(label, m["by_level"][v]) for v, label in Level.choices],
        },
    )


@limited(Limit("DOWNLOAD_RATE"))
def export_catalogue(request):
    response = HttpResponse(
        excel.write_workbook(selectors.search_items()),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="hall-items-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


@role_required("admin")
@permission("hall.import")
def import_catalogue(request):
    context = {"errors": [], "counts": None}
    if request.method == "POST":
        form = CatalogueImportForm(request.POST, request.FILES)
        upload = form.cleaned_data["file"] if form.is_valid() else None
        try:
            if upload is None:
                raise ValidationFailed("file", _("请选择要导入的 Excel 文件。"))
            item_rows, material_rows = excel.read_workbook(upload)
            context["counts"] = services.import_catalogue(
                request.user, item_rows=item_rows, material_rows=material_rows
            )
        except ValidationFailed as exc:
            context["errors"] = exc.errors
    return render(request, "hall/import.html", context, status=422 if context["errors"] else 200)
