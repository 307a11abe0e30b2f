"""Two-factor sign-in (两步验证) for the staff who can see personal data unmasked.

Operators, dispatchers, unit handlers, grid workers and administrators see residents' names,
phones and identity numbers; after their password they must enter the 6-digit code of an
authenticator app (TOTP, RFC 6238, django-otp). The first time, the set-up page shows a QR code
to scan and asks for one code to confirm. Street leaders and residents see personal data
masked only and sign in with their password. ``JIEDAO_STAFF_2FA=0`` switches this off (the demo
does; `jiedao check` reports it)."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

# Roles whose holders can unmask personal data somewhere (cases, registry).
ROLES = frozenset({"operator", "dispatcher", "handler", "grid", "admin"})
# Paths an unverified staff member may still open: the two steps themselves, signing out, files.
# The Open311 standard's methods are machine answers that show no personal data: a client
# never meets a sign-in step there (its staff pages, such as the webhook deliveries, are kept).
OPEN_PREFIXES = (
    "/login/",
    "/logout/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/metrics",
    "/elderly/",
    "/open311/v2",
    "/open311/discovery",
)


def enabled() -> bool:
    return bool(settings.JIEDAO.get("STAFF_TWO_FACTOR", True))


def needs_second_factor(user) -> bool:
    return enabled() and user is not None and user.is_authenticated and bool(user.role_codes & ROLES)


def confirmed_device(user):

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def verified(request) -> bool:
    user = getattr(request, "user", None)
    return not needs_second_factor(user) or bool(getattr(user, "is_verified", lambda: False)())


class SecondFactorMiddleware:
    """Sends a signed-in staff member who has not given the second factor to that step (pages);
    the API's session authentication refuses them (``SessionAuth``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            not request.path.startswith(OPEN_PREFIXES)
            and not request.path.startswith("/api/")
            and not verified(request)
        ):
            step = "web:two_factor_verify" if confirmed_device(request.user) else "web:two_factor_setup"
            return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
