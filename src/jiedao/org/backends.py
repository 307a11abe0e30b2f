"""Sign-in limits: a lock per user name and address, and a limit per address.

- django-axes counts failed sign-ins per user name and client address, and locks that pair
  after ``AXES_FAILURE_LIMIT`` failures for ``AXES_COOLOFF_TIME``. The address is the one the
  rate limits read (``jiedao.common.throttle.client_address``: behind the reverse proxy, the
  client's own, with ``JIEDAO_PROXY_COUNT``; ``client_ip``), so wrong passwords sent from elsewhere never lock
  the account for its owner.
- Failed sign-ins from one address, whatever the user names, count against
  ``JIEDAO["SIGNIN_FAILURE_RATE"]`` (password spraying): every attempt takes its place in the
  shared count when it starts (``LockoutBackend``) and a successful one gives it back
  (``signed_in``), so only failures count, and parallel attempts cannot slip past the limit.

Both refusals answer 429 with ``Retry-After`` and the reason in the user's language, on the
sign-in page, the admin's and ``POST /api/v1/auth/token`` alike (``lockout_response``, called
by axes' middleware).

``LockoutBackend`` is axes' backend, except that a sign-in without a request (a command or a
test checking a password directly) is left to the next backend: only sign-ins that come in
over the network are counted and locked."""

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jiedao.common import throttle

SIGNIN_LIMIT = "SIGNIN_FAILURE_RATE"


def client_ip(request):
    """The client's address (``throttle.client_address``) as axes keeps it (settings
    ``AXES_CLIENT_IP_CALLABLE``): an IP address, or None when the request carries none."""
    try:
        return str(ipaddress.ip_address(throttle.client_address(request)))
    except ValueError:
        return None


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        try:
            request.signin_place = throttle.take_place(SIGNIN_LIMIT, throttle.client_address(request))
        except throttle.Throttled as refused:
            # axes' middleware answers a request marked locked out with lockout_response.
            request.signin_refused = refused
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("too many failed sign-ins from this address") from None
        return super().authenticate(request, username=username, password=password, **kwargs)


def signed_in(request):
    """The sign-in of ``request`` succeeded: it does not count against the address's limit."""
    if request is not None:
        throttle.give_back(getattr(request, "signin_place", None))
        request.signin_place = None


def lockout_message(request) -> str:
    minutes = max(1, int(get_cool_off(request).total_seconds() // 60))
    return _(
        "用户名或密码错误次数过多，该账号在此设备上已被暂时锁定，请 %(minutes)d 分钟后再试；忘记密码请联系系统管理员。"
    ) % {"minutes": minutes}


def address_message(refused) -> str:
    return _("从您所在的网络登录失败的次数过多，请 %(wait)s后再试；忘记密码请联系系统管理员。") % {
        "wait": throttle.wait_text(refused.wait)
    }


def lockout_response(request, original_response=None, credentials=None):
    """429 with the reason in the user's language: JSON for the API, a page otherwise."""
    refused = getattr(request, "signin_refused", None)
    if refused is not None:
        message, field, wait = address_message(refused), None, refused.wait
    else:
        message, field = lockout_message(request), "username"
        wait = max(1, int(get_cool_off(request).total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"errors": [{"field": field, "message": message}]}, status=429, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(request, "web/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response
