"""Open311 GeoReport v2 at /open311/v2/ (and the discovery document), the case export
page and the webhook history page. Thin: parse, call a selector or a service, render.

Reads without a valid ``api_key`` (and not by signed-in street staff) are limited per client
(OPEN311_READ_RATE: 429 in the standard's error list, with Retry-After), and the lists are
answered from the shared cache for OPEN311_CACHE_SECONDS; a key holder or staff member gets
fresh data. Lists come in pages (``page``, ``page_size``); a ``Link: <…>; rel="next"`` header
points to the next one.

Everything under /open311/ but the webhook page answers in the standard's terms: an address
that is no method, a format that is not .xml or .json, a method an address does not have, and
what Django refuses before a view runs (the site's error handlers below) are the standard's
error list, in JSON when the path ends in ``.json`` and in XML otherwise."""

import hashlib
import re
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from jiedao.cases.models import Category, Status
from jiedao.common.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from jiedao.common.middleware import RefusedInput
from jiedao.common.throttle import Limit, Throttled, check, guard, wait_seconds
from jiedao.org.models import Street, Unit
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import formats, selectors, services, statuses
from .formats import Open311Error

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this discovery document last changed in substance (a new method or format).
CHANGESET = "2026-11-23T00:00:00+08:00"
_ATTRIBUTE = re.compile(r"^attribute\[(?P<code>[^\]]+)\](?:\[\])?$")
EXPORT_ROLES = ("operator", "dispatcher", "handler", "grid", "leader", "admin")


def _params(query):
    """Parameters with surrounding spaces removed; empty ones are treated as absent."""
    out = {}
    for key in query:
        if _ATTRIBUTE.match(key):
            continue
        value = query.get(key, "").strip()
        if value:
            out[key] = value
    return out


def _attributes(query):
    given = {}
    for key in query:
        match = _ATTRIBUTE.match(key)
        if match:
            given.setdefault(match["code"], []).extend(v.strip() for v in query.getlist(key))
    return given


def _list(value):
    return [part.strip() for part in value.split(",") if part.strip()] if value else []


def _date(params, name):
    if name not in params:
        return None
    try:
        return services.parse_datetime(params[name])
    except ValueError:
        raise Open311Error(
            400, _("%(name)s 不是有效的 ISO 8601 时间（例如 2026-11-18T09:30:00+08:00）。") % {"name": name}
        ) from None


# Our field names in the standard's words, for error messages.
FIELD_NAMES = {
    "reporter_phone": "phone",
    "reporter_name": "first_name/last_name",
    "lng": "long",
    "address": "address_string",
    "category": "service_code",
}

READ_LIMIT = Limit("OPEN311_READ_RATE")
TOKEN_LOOKUP_LIMIT = Limit("LOOKUP_FAILURE_RATE", failures=True)
MAX_PAGE = 100000


def _domain_error(exc):
    if isinstance(exc, ValidationFailed):
        return Open311Error(
            400,
            *[
                f"{FIELD_NAMES.get(e['field'], e['field'])}: {e['message']}" if e.get("field") else e["message"]
                for e in exc.errors
            ],
        )
    if isinstance(exc, NotAllowed):
        return Open311Error(403, exc.message)
    if isinstance(exc, NotFound):
        return Open311Error(404, exc.message)
    return Open311Error(400, getattr(exc, "message", str(exc)))


def _method_not_allowed(fmt, method, allowed):
    error = Open311Error(405, _("此地址不支持 %(method)s 请求。") % {"method": method})
    response = formats.error_response(fmt, error)
    response["Allow"] = ", ".join(allowed)
    return response


def _reads_fresh(request, params):
    """A client with a valid api_key, or signed-in street staff: not limited per address and
    never answered from the cache."""
    if selectors.key_for(params.get("api_key")) is not None:
        return True
    return request.user.is_authenticated and request.user.is_street_staff


def _cache_key(request, fmt):
    """The same list asked the same way (format, language, every parameter) shares one entry."""
    query = sorted((name, value) for name, values in request.GET.lists() for value in values)
    text = repr((request.build_absolute_uri(request.path), fmt, get_language(), query))
    return "open311-page:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _from_cache(entry):
    response = HttpResponse(entry["content"], status=entry["status"], content_type=entry["content_type"])
    if entry["link"]:
        response["Link"] = entry["link"]
    return response


def _to_cache(response):
    return {
        "content": response.content,
        "status": response.status_code,
        "content_type": response["Content-Type"],
        "link": response.get("Link", ""),
    }


def open311(*methods, cached=False):
    """An Open311 endpoint: ``fmt`` from the URL (xml or json), the methods it answers,
    the jurisdiction checked, reads limited per client unless fresh (``_reads_fresh``) and,
    for a list (``cached``), answered from the cache; every failure answered as the
    standard's error list."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, fmt, **kwargs):
            fmt = fmt.lower()
            try:
                if fmt not in formats.CONTENT_TYPES:
                    raise Open311Error(400, _("不支持的格式“%(fmt)s”，请用 .xml 或 .json。") % {"fmt": fmt[:20]})
                if request.method not in methods:
                    return _method_not_allowed(fmt, request.method, methods)
                query = request.POST if request.method == "POST" else request.GET
                params = _params(query)
                shared = request.method == "GET" and not _reads_fresh(request, params)
                if shared:
                    check(request, READ_LIMIT)
                selectors.check_jurisdiction(params.get("jurisdiction_id"))
                seconds = settings.JIEDAO.get("OPEN311_CACHE_SECONDS", 0)
                key = _cache_key(request, fmt) if cached and shared and seconds else None
                entry = cache.get(key) if key else None
                if entry is not None:
                    return _from_cache(entry)
                response = view(request, fmt, params, query, *args, **kwargs)
                if key and response.status_code == 200:
                    cache.set(key, _to_cache(response), seconds)
                return response
            except Throttled as refused:
                response = formats.error_response(fmt, Open311Error(429, refused.message))
                response["Retry-After"] = str(refused.wait)
                return response
            except Open311Error as error:
                return formats.error_response(fmt, error)
            except DomainError as exc:
                return formats.error_response(fmt, _domain_error(exc))

        wrapped.limits = (READ_LIMIT,)
        return wrapped

    return decorator


def _whole(params, name, default, largest):
    if name not in params:
        return default
    value = params[name]
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and 1 <= int(value) <= largest):
        raise Open311Error(400, _("%(name)s 应为 1 到 %(max)d 之间的整数。") % {"name": name, "max": largest})
    return int(value)


def _paging(params):
    """(page, page_size) of a list: page from 1, PAGE_SIZE a page unless asked."""
    return (
        _whole(params, "page", 1, MAX_PAGE),
        _whole(params, "page_size", selectors.PAGE_SIZE, selectors.MAX_PAGE_SIZE),
    )


def _paged(request, response, page, more):
    """The answer with a ``Link`` to the next page when there is one."""
    if more:
        query = request.GET.copy()
        query["page"] = str(page + 1)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
    return response


@open311("GET")
def discovery(request, fmt, params, query):
    streets = "、".join(Street.objects.order_by("code").values_list("name", flat=True)) or _("本街道")
    data = {
        "changeset": CHANGESET,
        "contact": _("%(streets)s 接诉即办（街道指挥中心）") % {"streets": streets},
        "key_service": _("api_key 由系统管理员在管理后台或用 jiedao open311 keys create 名称 发放。"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                # Without the trailing slash: clients append "/services.xml" to it.
                "url": request.build_absolute_uri(reverse("open311:root")).rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(formats.CONTENT_TYPES_PLAIN),
            }
        ],
    }
    return formats.respond(fmt, "discovery", data)


@csrf_exempt
def root(request):
    """/open311/v2 itself (with or without slashes after it): where the methods are."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("xml", request.method, ("GET", "HEAD"))
    return HttpResponse(
        "Open311 GeoReport v2: discovery at /open311/discovery.xml; below this address: services.xml, "
        "services/{code}.xml, requests.xml, requests/{id}.xml, tokens/{token}.xml, servicerequestupdates.xml "
        "(and .json).\n",
        content_type="text/plain; charset=utf-8",
    )


def _no_such_method():
    return _("没有这个 Open311 方法；各方法的地址见发现文档 /open311/discovery.xml（或 .json）。")


@csrf_exempt
def no_such_method(request):
    """Any other address under /open311/: 404 in the standard's error list, in JSON when the
    path ends in ``.json`` and in XML otherwise."""
    return formats.error_response(formats.format_of(request.path), Open311Error(404, _no_such_method()))


def answers_in_open311(path):
    """Whether an answer to ``path`` is the standard's: everything under /open311/ but the staff
    page of webhook deliveries."""
    return path.startswith("/open311/") and path.rstrip("/") != "/open311/webhooks"


def _site_error(status, default, message):
    """The site's handler for ``status``: under /open311/ the standard's error list, elsewhere
    the site's own page (``default``)."""

    def handler(request, exception=None):
        if answers_in_open311(request.path):
            said = str(exception) if isinstance(exception, RefusedInput) else message()
            return formats.error_response(formats.format_of(request.path), Open311Error(status, said))
        return default(request) if exception is None else default(request, exception)

    return handler


# The site's error handlers (jiedao.urls): what Django refuses before a view runs or while it
# reads the request for one (a Host header we do not serve, a body it cannot read or with too
# many fields), and a server error, still answer an Open311 client in the standard's words.
bad_request = _site_error(400, defaults.bad_request, lambda: _("请求无效（请求头或请求内容无法读取）。"))
permission_denied = _site_error(403, defaults.permission_denied, lambda: _("没有权限。"))
page_not_found = _site_error(404, defaults.page_not_found, _no_such_method)
server_error = _site_error(500, defaults.server_error, lambda: _("服务器内部错误，请稍后再试。"))


def _within_rate(request, key):
    """Submissions per key are limited (OPEN311_KEY_RATE): a runaway client cannot flood the case list."""
    wait = wait_seconds(request, "open311", f"key-{key.pk}", "OPEN311_KEY_RATE")
    if wait is not None:
        raise Throttled(wait, _("该 api_key 提交过于频繁，请 %(wait)s后再试。"))
    return key


@open311("GET")
def service_list(request, fmt, params, query):
    return formats.respond(fmt, "services", selectors.services(), item_tag="service")


@open311("GET")
def service_definition(request, fmt, params, query, code):
    return formats.respond(fmt, "service_definition", selectors.service_definition(code))


@open311("GET", "POST", cached=True)
@permission("public.open311")
def request_list(request, fmt, params, query):
    if request.method == "POST":
        key = _within_rate(request, services.authenticate(params.get("api_key")))
        case, extra = services.submit_request(key, params=params, attributes=_attributes(query))
        item = {
            "service_request_id": case.number,
            "token": extra.token,
            "service_notice": services.service_notice(case),
            "account_id": extra.account_id or None,
        }
        return formats.respond(fmt, "service_requests", [item], item_tag="request", status=201)
    ids = _list(params.get("service_request_id"))
    codes = _list(params.get("service_code"))
    wanted = [s.lower() for s in _list(params.get("status"))]
    bad = [s for s in wanted if s not in statuses.BY_STATUS]
    if bad:
        raise Open311Error(
            400, _("status“%(value)s”无效，应为 open 或 closed（可用逗号分隔）。") % {"value": ",".join(bad)}
        )
    page, page_size = _paging(params)
    rows, more = selectors.requests(
        ids=ids,
        codes=codes,
        start=_date(params, "start_date"),
        end=_date(params, "end_date"),
        status=wanted,
        page=page,
        page_size=page_size,
    )
    response = formats.respond(fmt, "service_requests", [selectors.request_out(c) for c in rows], item_tag="request")
    return _paged(request, response, page, more)


@open311("GET")
def request_detail(request, fmt, params, query, number):
    case = selectors.request_by_id(number)
    return formats.respond(fmt, "service_requests", [selectors.request_out(case)], item_tag="request")


@open311("GET")
def token_detail(request, fmt, params, query, token):
    # Tokens are long random secrets: failed look-ups are limited per client.
    with guard(request, TOKEN_LOOKUP_LIMIT, failed=(Open311Error,)):
        found = selectors.token(token)
    item = {"service_request_id": found.case.number, "token": found.token}
    return formats.respond(fmt, "service_requests", [item], item_tag="request")


@open311("GET", "POST", cached=True)
@permission("public.open311")
def request_updates(request, fmt, params, query):
    if request.method == "POST":
        key = _within_rate(request, services.authenticate(params.get("api_key")))
        event = services.post_update(key, params=params)
        return formats.respond(
            fmt, "service_request_updates", [{"update_id": str(event.pk)}], item_tag="request_update"
        )
    page, page_size = _paging(params)
    events, more = selectors.updates(
        start=_date(params, "start_date"),
        end=_date(params, "end_date"),
        ids=_list(params.get("service_request_id")),
        page=page,
        page_size=page_size,
    )
    response = formats.respond(
        fmt, "service_request_updates", [selectors.update_out(e) for e in events], item_tag="request_update"
    )
    return _paged(request, response, page, more)


# --- the case export page ---------------------------------------------------------------------


@role_required(*EXPORT_ROLES)
def export_page(request):
    """A form with the filters; ``?download=csv|xlsx`` returns the file."""
    values = {name: request.GET.get(name, "").strip() for name in ("status", "unit", "category", "month")}
    error = None
    fmt = request.GET.get("download", "")
    if fmt:
        try:
            filename, content_type, data = services.export_cases(request.user, fmt=fmt, **values)
        except (ValidationFailed, NotAllowed) as exc:
            error = exc
        else:
            response = HttpResponse(data, content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
    context = {
        "values": values,
        "errors": getattr(error, "errors", None) or ([{"message": error.message}] if error else []),
        "statuses": [("open", _("未结案（全部在办）")), *list(Status.choices)],
        "units": Unit.objects.filter(active=True).order_by("code"),
        "categories": Category.objects.filter(level__lte=2, active=True).order_by("code"),
    }
    return render(request, "open311/export.html", context, status=422 if error else 200)


@role_required("admin")
def webhook_page(request):
    hooks, latest = selectors.webhook_overview()
    return render(
        request, "open311/webhooks.html", {"hooks": hooks, "latest": latest, "event_labels": services.EVENT_LABELS}
    )


@role_required("admin")
def upstream_page(request):
    """与市/区平台对接: each platform's last pull in Chinese, and the updates sent back."""
    rows, latest = selectors.upstream_overview()
    return render(request, "open311/upstreams.html", {"rows": rows, "latest": latest})
