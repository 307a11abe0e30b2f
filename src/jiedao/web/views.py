"""Pages for everyone: landing, sign-in, the resident portal (submit, track, rate),
notifications, and the 长辈模式 switch."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiedao.cases import selectors, services, states
from jiedao.cases.forms import PortalForm, PublicRateForm, TrackForm, apply_errors
from jiedao.cases.models import Channel, Status
from jiedao.common.errors import DomainError, NotFound

from .access import home_url_name
from .middleware import ELDERLY_COOKIE

ELDERLY_COOKIE_AGE = 365 * 24 * 3600


def _next_url(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def home(request):
    if request.user.is_authenticated:
        return redirect(home_url_name(request.user))
    return render(request, "web/home.html")


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"


logout_view = auth_views.LogoutView.as_view()


@require_POST
def elderly(request):
    """Switch 长辈模式 on or off for this browser (a cookie, so it works signed out too)."""
    response = redirect(_next_url(request))
    if request.POST.get("on") == "1":
        response.set_cookie(ELDERLY_COOKIE, "1", max_age=ELDERLY_COOKIE_AGE, samesite="Lax")
    else:
        response.delete_cookie(ELDERLY_COOKIE, samesite="Lax")
    return response


# --- resident portal --------------------------------------------------------------

def portal(request):
    user = request.user
    form = PortalForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case, _created = services.submit_case(user, channel=Channel.PORTAL, **form.service_kwargs())
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                request.session["portal_case"] = case.number
                return redirect("web:portal_done")
        status = 422
    mine = []
    if user.is_authenticated and user.has_role("resident"):
        mine, _cursor = selectors.case_list(user, limit=20)
    phone_on_file = user.is_authenticated and user.has_role("resident") and bool(user.phone)
    return render(request, "web/portal.html", {"form": form, "mine": mine, "phone_on_file": phone_on_file},
                  status=status)


def portal_done(request):
    number = request.session.get("portal_case")
    if not number:
        return redirect("web:portal")
    return render(request, "web/portal_done.html", {"number": number})


def _public_timeline(case):
    """What a resident sees of the log: the steps and when, without staff names or internal notes."""
    shown = []
    for event in selectors.events_of(case):
        if event.action in ("sla", "note", "absorb"):
            continue
        shown.append({"label": states.action_label(event.action), "at": event.at,
                      "status": Status(event.to_status).label if event.to_status in Status.values else ""})
    return shown


def track(request):
    """查询进度: case number + phone; rate the result when the case waits for it."""
    find_form = TrackForm(request.POST if request.POST.get("step") == "find" else None,
                          initial={"number": request.GET.get("number", "")})
    case = rate_form = None
    status = 200
    phone = ""
    if request.method == "POST" and request.POST.get("step") == "find":
        if find_form.is_valid():
            phone = find_form.cleaned_data["phone"]
            try:
                case = selectors.public_case(find_form.cleaned_data["number"], phone)
            except NotFound as exc:
                find_form.add_error(None, exc.message)
                status = 404
        else:
            status = 422
    elif request.method == "POST" and request.POST.get("step") == "rate":
        rate_form = PublicRateForm(request.POST)
        number, phone = request.POST.get("number", ""), request.POST.get("phone", "")
        try:
            case = selectors.public_case(number, phone)
        except NotFound as exc:
            find_form.add_error(None, exc.message)
            rate_form, status = None, 404
        else:
            find_form = TrackForm(initial={"number": number})
            if rate_form.is_valid():
                try:
                    services.rate(request.user, case.number, phone=phone, **rate_form.rate_kwargs())
                except DomainError as exc:
                    apply_errors(rate_form, exc)
                    status = exc.http_status
                else:
                    messages.success(request, _("感谢您的评价！"))
                    case = selectors.public_case(number, phone)
                    rate_form = None
            else:
                status = 422
    if case is not None and case.status == Status.RATING and rate_form is None:
        rate_form = PublicRateForm(initial={"number": case.number, "phone": phone})
    context = {"find_form": find_form, "case": case, "rate_form": rate_form,
               "timeline": _public_timeline(case) if case is not None else []}
    return render(request, "web/track.html", context, status=status)


# --- notifications ----------------------------------------------------------------

@login_required
def notifications(request):
    show_all = request.GET.get("all") == "1"
    if request.method == "POST":
        ids = request.POST.getlist("ids")
        try:
            changed = services.mark_notifications_read(request.user, ids)
        except DomainError as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": changed})
        return redirect(reverse("web:notifications") + ("?all=1" if show_all else ""))
    items = selectors.notifications_for(request.user, unread_only=not show_all, limit=100)
    return render(request, "web/notifications.html", {"items": items, "show_all": show_all})
