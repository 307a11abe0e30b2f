"""Request and response rules every page and API operation shares.

``RejectNulMiddleware`` — input that no field may hold: the NUL character. PostgreSQL cannot
store a NUL (U+0000) in text, and no form field or JSON value of ours needs one; such input is
refused up front with a clear message (422 for the API, 400 for pages, and under /open311/ a
``RefusedInput`` the site's 400 handler answers in that standard's error list), instead of
failing deep in a write. Uploaded files are not looked at.

``NoStoreMiddleware`` — answers that may hold personal data are never kept by a browser or a
proxy: everything answered to a signed-in user (session or API token), every API answer, and
the answer to every form post (the tracking form shows a case to whoever knows its number and
phone) carry ``Cache-Control: no-store, private``, unless the view chose its own caching.

``ContentSecurityPolicyMiddleware`` — django-csp's ``CSPMiddleware``, the same headers, with the
site's policy built once per process instead of for every answer (building it cost more than
half of all the other middleware together). An answer whose view changes the policy
(``csp.decorators``) or a page that asked for a nonce is built by django-csp as before; the
policy is built again when the settings are replaced."""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

API_PREFIXES = ("/api/", "/open311/")


class RefusedInput(BadRequest):
    """Input refused before any view runs; its message is for the person who sent it."""


def _has_nul(request) -> bool:
    if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
        return True
    if request.method not in ("POST", "PUT", "PATCH"):
        return False
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        if content_type.startswith("multipart/"):
            return any("\x00" in value for values in request.POST.lists() for value in values[1])
        body = request.body
    except RequestDataTooBig:
        return False  # the view answers that one, naming the field that is too large
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"%00" in body or b"\x00" in body
    return b"\x00" in body or b"\\u0000" in body


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            message = _("输入中含有不可见的控制字符（NUL），请删除后重新提交。")
            if request.path.startswith("/open311/"):
                raise RefusedInput(message)
            if request.path.startswith(API_PREFIXES):
                return JsonResponse(
                    {"errors": [{"field": None, "message": message}]},
                    status=422,
                    json_dumps_params={"ensure_ascii": False},
                )
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if (
            request.method not in ("GET", "HEAD")
            or request.path.startswith(API_PREFIXES)
            or "HTTP_AUTHORIZATION" in request.META
            or (user is not None and user.is_authenticated)
        ):
            patch_cache_control(response, no_store=True, private=True)
        return response


# What a view sets on its answer to change the policy (django-csp's decorators).
_OWN_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_DEBUG_PAGES = (404, 500)  # django-csp leaves Django's debug pages alone


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def __init__(self, get_response):
        super().__init__(get_response)
        # (the policy setting, the report-only setting, their headers), for the settings in force
        self._built: tuple = (None, None, "", "")

    def _site_policies(self) -> tuple[str, str]:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = self._built
        if built[0] is not policy or built[1] is not report_only:
            built = self._built = (policy, report_only, build_policy(), build_policy(report_only=True))
        return built[2], built[3]

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _OWN_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_PAGES and settings.DEBUG:
            return response
        csp, csp_ro = self._site_policies()
        for header, value, exempt, setting in (
            (HEADER, csp, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, csp_ro, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            if not value or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = value
        # As django-csp: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
