"""Pages for everyone: landing, sign-in, one's own API tokens (我的接口令牌), the resident
portal (submit, track, rate) and the 长辈模式 switch."""

import functools
import hashlib
from pathlib import Path

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from jiedao.cases import selectors, services, tracking
from jiedao.cases.forms import PortalForm, PublicRateForm, TrackForm
from jiedao.cases.models import Channel, Status
from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from jiedao.common.forms import apply_errors
from jiedao.common.throttle import Limit, Throttled, client_address, limited, wait_seconds
from jiedao.org import selectors as org_selectors
from jiedao.org import services as org_services
from jiedao.org.forms import RevokeAllTokensForm, RevokeTokenForm, SignInForm
from jiedao.org.permissions import permission
from jiedao.org.twofactor import confirmed_device, needs_second_factor

from .access import home_url_name
from .middleware import ELDERLY_COOKIE

ELDERLY_COOKIE_AGE = 365 * 24 * 3600


def _next_url(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def home(request):
    if request.user.is_authenticated:
        return redirect(home_url_name(request.user))
    return render(request, "web/home.html")


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm


logout_view = auth_views.LogoutView.as_view()


@login_required
@permission("account.tokens")
def api_tokens(request):
    """我的接口令牌: the signed-in user's API tokens (when made, last used, expiring — never the
    token itself), each revocable, or all at once."""
    status = 200
    if request.method == "POST":
        form = (RevokeAllTokensForm if "all" in request.POST else RevokeTokenForm)(request.POST)
        if not form.is_valid():
            messages.error(request, next(iter(form.errors.values()))[0])
            status = 422
        elif isinstance(form, RevokeAllTokensForm):
            count = org_services.revoke_all_tokens(request.user)
            messages.success(
                request, _("已撤销全部 %(count)d 个接口令牌：使用它们的程序需要重新登录取令牌。") % {"count": count}
            )
            return redirect("web:api_tokens")
        else:
            try:
                org_services.revoke_own_token(request.user, token_id=form.cleaned_data["token"])
            except NotFound as exc:
                messages.error(request, exc.message)
                status = 404
            else:
                messages.success(request, _("已撤销这个接口令牌：使用它的程序需要重新登录取令牌。"))
                return redirect("web:api_tokens")
    return render(request, "web/api_tokens.html", {"tokens": org_selectors.tokens_of(request.user)}, status=status)


def _second_factor_done(request, device):

    otp_login(request, device)
    return redirect(_next_url(request, fallback=reverse(home_url_name(request.user))))


@login_required
@permission("account.two_factor")
def two_factor_setup(request):
    """First sign-in of a staff member who sees personal data: scan the QR code, confirm one code."""

    if not needs_second_factor(request.user) or confirmed_device(request.user):
        return redirect("web:two_factor_verify" if confirmed_device(request.user) else "web:home")
    device = org_services.start_authenticator(request.user)
    error, status = "", 200
    if request.method == "POST":
        try:
            device = org_services.confirm_authenticator(request.user, code=request.POST.get("otp"))
        except ValidationFailed as exc:
            error, status = exc.errors[0]["message"], 422
        else:
            messages.success(request, _("身份验证器已设置。以后登录时，输入密码后还需输入它显示的动态码。"))
            return _second_factor_done(request, device)
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=5)
    secret = device.config_url.split("secret=")[1].split("&")[0]
    return render(
        request,
        "web/two_factor_setup.html",
        {
            "qr": qr,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "error": error,
            "next": _next_url(request, fallback=""),
        },
        status=status,
    )


@login_required
@permission("account.two_factor")
def two_factor_verify(request):
    """The second step of signing in: the 6-digit code of the authenticator app."""

    if not needs_second_factor(request.user):
        return redirect("web:home")
    if confirmed_device(request.user) is None:
        return redirect("web:two_factor_setup")
    error, status = "", 200
    if request.method == "POST":
        try:
            device = org_services.check_second_factor(request.user, code=request.POST.get("otp"))
        except ValidationFailed as exc:
            error, status = exc.errors[0]["message"], 422
        else:
            return _second_factor_done(request, device)
    return render(
        request, "web/two_factor_verify.html", {"error": error, "next": _next_url(request, fallback="")}, status=status
    )


@require_POST
@permission("site.preferences")
def elderly(request):
    """Switch 长辈模式 on or off for this browser (a cookie, so it works signed out too)."""
    response = redirect(_next_url(request))
    if request.POST.get("on") == "1":
        response.set_cookie(ELDERLY_COOKIE, "1", max_age=ELDERLY_COOKIE_AGE, samesite="Lax")
    else:
        response.delete_cookie(ELDERLY_COOKIE, samesite="Lax")
    return response


# --- resident portal --------------------------------------------------------------


def _portal_rate_allows(request, form) -> bool:
    """Complete reports from one signed-in user, or one address when signed out, are limited
    (PORTAL_RATE) against floods; the form says how long to wait."""
    ident = f"user-{request.user.pk}" if request.user.is_authenticated else client_address(request)
    wait = wait_seconds(request, "portal", ident, "PORTAL_RATE")
    if wait is None:
        return True
    minutes = max(1, round(wait / 60))
    form.add_error(None, _("提交太频繁了，请 %(minutes)d 分钟后再试；急事请拨打 12345。") % {"minutes": minutes})
    return False


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("intake.portal")
def portal(request):
    user = request.user
    form = PortalForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and _portal_rate_allows(request, form):
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
    return render(
        request, "web/portal.html", {"form": form, "mine": mine, "phone_on_file": phone_on_file}, status=status
    )


def portal_done(request):
    number = request.session.get("portal_case")
    if not number:
        return redirect("web:portal")
    return render(request, "web/portal_done.html", {"number": number})


def _rate_form(data=None, *, initial=None, signed_in=False):
    form = PublicRateForm(data, initial=initial)
    # The reporter signed in needs no phone: the account proves who they are.
    form.fields["phone"].required = not signed_in
    return form


def _rate(request, case, form, *, own, phone=None):
    """Take the rating from the tracking page; the refusal's message and the page's status, or
    ("", 200) when it is taken. ``phone``: the case's own, when its signed link proved who rates."""
    if not form.is_valid():
        return "", 422
    try:
        if own:
            services.rate(request.user, number=case.number, **form.rate_kwargs())
        else:
            phone = phone or form.cleaned_data["phone"]
            services.rate(request.user, number=case.number, phone=phone, **form.rate_kwargs())
    except InvalidTransition as exc:
        # Before the unit's reply (or once rated) the case cannot be rated: said in plain words.
        if case.status in (Status.CLOSED, Status.MERGED, Status.VOIDED):
            return _("这件工单已经结束，不能再评价。"), exc.http_status
        if case.status == Status.VERIFYING:
            return _("办理结果正在现场核实，核实后才能评价。"), exc.http_status
        return _("办理单位还没有答复，答复后才能评价。"), exc.http_status
    except DomainError as exc:
        apply_errors(form, exc)
        return "", exc.http_status
    return "", 200


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("public.rate_case", "case.rate")
def track(request):
    """查询进度: case number + phone, or the signed-in reporter's own case by its number; the
    request, the steps in plain words and the unit's reply; the rating once the reply is there.
    Look-ups by phone are limited (cases.tracking, shared with the API); a refused one says so
    in the form."""
    step = request.POST.get("step") if request.method == "POST" else None
    number = (request.POST.get("number") if step == "rate" else request.GET.get("number")) or ""
    find_form = TrackForm(request.POST if step == "find" else None, initial={"number": number})
    own = tracking.own_case(request.user, number) if step != "find" else None
    case = own
    rate_form = None
    status, retry_after = 200, None
    phone, refusal = "", ""
    # The signed link of the resident's SMS opens their case without the phone.
    token = ((request.POST.get("t") if step == "rate" else request.GET.get("t")) or "") if step != "find" else ""
    linked = tracking.linked_case(token) if token and own is None else None
    link_refusal = ""
    if token and own is None and linked is None:
        link_refusal = _("这个链接已失效（超过有效期或不完整）。请输入工单编号和手机号查询。")
        status = 410
    if linked is not None:
        case = linked
        if step == "rate":
            rate_form = _rate_form(request.POST, signed_in=True)
            refusal, status = _rate(request, case, rate_form, own=False, phone=case.reporter_phone)
            if status == 200:
                messages.success(request, _("感谢您的评价！"))
                rate_form = None
            case = tracking.linked_case(token)
    elif step == "find":
        if find_form.is_valid():
            phone = find_form.cleaned_data["phone"]
            try:
                case = tracking.find(request, find_form.cleaned_data["number"], phone)
            except (NotFound, Throttled) as exc:
                find_form.add_error(None, exc.message)
                status, retry_after = exc.http_status, getattr(exc, "wait", None)
        else:
            status = 422
    elif step == "rate":
        rate_form = _rate_form(request.POST, signed_in=own is not None)
        phone = request.POST.get("phone", "")
        if own is None:
            try:
                case = tracking.find(request, number, phone)
            except (NotFound, Throttled) as exc:
                find_form = TrackForm({"number": number, "phone": phone})
                find_form.is_valid()
                find_form.add_error(None, exc.message)
                rate_form, status, retry_after = None, exc.http_status, getattr(exc, "wait", None)
        if case is not None and rate_form is not None:
            refusal, status = _rate(request, case, rate_form, own=own is not None)
            if status == 200:
                messages.success(request, _("感谢您的评价！"))
                rate_form = None
            case = tracking.own_case(request.user, number) if own is not None else selectors.public_case(number, phone)
    view = tracking.resident_view(case) if case is not None else None
    if view is None or not view.can_rate:
        rate_form = None
    elif rate_form is None:
        rate_form = _rate_form(
            initial={"number": case.number, "phone": phone}, signed_in=own is not None or linked is not None
        )
    contact = None
    if own is not None and case is not None:
        # The reporter signed in sees the contact they left, as it is (a view of personal data: logged).
        contact = {"phone": case.reporter_phone, "address": case.address}
        shown = [
            field for field, value in (("reporter_phone", case.reporter_phone), ("address", case.address)) if value
        ]
        if shown:
            log_unmasked_view(request.user, case, shown, purpose="own case")
    context = {
        "find_form": find_form,
        "case": case,
        "contact": contact,
        "own": own is not None,
        "view": view,
        "rate_form": rate_form,
        "rate_refusal": refusal,
        "link_token": token if linked is not None else "",
        "link_refusal": link_refusal,
    }
    response = render(request, "web/track.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


# --- 街道通, the staff phone app (docs/mobile.md) ----------------------------------------------

# What the phone keeps so that the app opens without network: the shell's static files, and the
# grid worker's pages and the handler's case list (each kept only for whoever may open it).
APP_SHELL = (
    "web/site.css",
    "web/site.js",
    "web/htmx.min.js",
    "web/app/queue.js",
    "web/app/offline.js",
    "web/app/icon-192.png",
    "geo/geo.css",
    "geo/patrol.js",
)
APP_PAGES = (
    ("geo:my_grid", gettext_lazy("我的网格")),
    ("geo:patrol", gettext_lazy("巡查打卡")),
    ("cases:grid_report", gettext_lazy("网格上报")),
    ("cases:workbench", gettext_lazy("单位工作台")),
)
APP_ICONS = (("web/app/icon-192.png", "192x192", "any"), ("web/app/icon-512.png", "512x512", "any"))
APP_MASKABLE_ICON = ("web/app/icon-512-maskable.png", "512x512", "maskable")


@functools.cache
def _shell_version():
    """Changes whenever a file of the shell changes, so that phones fetch the new one."""
    digest = hashlib.sha256()
    for name in (*APP_SHELL, "web/app/sw.js"):
        found = finders.find(name) or str(Path(__file__).parent / "templates" / name)
        digest.update(Path(found).read_bytes() if Path(found).exists() else name.encode())
    return digest.hexdigest()[:12]


def manifest(request):
    """The web app manifest: the staff pages installed on a phone's home screen as 街道通."""
    icons = [
        {"src": static(src), "sizes": sizes, "type": "image/png", "purpose": purpose}
        for src, sizes, purpose in (*APP_ICONS, APP_MASKABLE_ICON)
    ]
    data = {
        "name": _("街道通"),
        "short_name": _("街道通"),
        "description": _("街道工作人员的手机应用：网格巡查、上报、核查，没有网络时也能先保存。"),
        "lang": "zh-CN",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#b91c1c",
        "icons": icons,
    }
    response = JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, public=True, max_age=3600)
    return response


def service_worker(request):
    """The service worker of 街道通, at the site's root so that its scope is the whole site."""
    context = {
        "version": _shell_version(),
        "queue_script": static("web/app/queue.js"),
        "stylesheet": static("web/site.css"),
        "shell_files": [static(name) for name in APP_SHELL],
        "pages": [reverse(name) for name, _label in APP_PAGES],
        "links": [{"url": reverse(name), "label": label} for name, label in APP_PAGES],
        "token_page": reverse("geo:patrol"),
        "offline_title": _("现在没有网络"),
        "offline_text": _(
            "这个页面没有保存在手机上。下面的页面可以离线打开，在上面做的上报、打卡和核查会先保存在手机上，联网后自动发送："
        ),
    }
    response = render(request, "web/app/sw.js", context, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    patch_cache_control(response, no_cache=True)
    return response
