"""Sign-in lock-out: django-axes counts failed sign-ins per user name and address.

``LockoutBackend`` is axes' backend, except that a sign-in without a request (a command
or a test checking a password directly) is left to the next backend: only sign-ins that
come in over the network are counted and locked."""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message(request) -> str:
    minutes = max(1, int(get_cool_off(request).total_seconds() // 60))
    return _("用户名或密码错误次数过多，该账号在此设备上已被暂时锁定，请 %(minutes)d 分钟后再试；"
             "忘记密码请联系系统管理员。") % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """429 with the reason in the user's language: JSON for the API, a page otherwise."""
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [{"field": "username", "message": message}]}, status=429,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, "web/locked_out.html", {"message": message}, status=429)
