"""The REST API (django-ninja): one NinjaAPI, routers from each app, errors mapped once.

Every error answers with the same body, ``{"errors": [{"field": ..., "message": ...}]}``:
401 not signed in, 403 not allowed, 404 not found (or not visible to the user),
409 not possible in the case's current state, 422 a field breaks a rule, 429 too many
requests (``Retry-After`` says in how many seconds to try again).
"""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jiedao.cases.api import router as cases_router
from jiedao.common.errors import DomainError, ValidationFailed
from jiedao.common.jsonbody import JsonBodyParser
from jiedao.common.throttle import Throttled
from jiedao.duties.api import router as duties_router
from jiedao.emergency.api import router as emergency_router
from jiedao.evaluation.api import router as evaluation_router
from jiedao.geo.api import router as geo_router
from jiedao.hall.api import router as hall_router
from jiedao.intelligence.api import router as intelligence_router
from jiedao.open311.api import router as open311_router
from jiedao.org.api import SessionAuth, TokenAuth
from jiedao.org.api import router as org_router
from jiedao.participation.api import router as participation_router
from jiedao.registry.api import router as registry_router

api = NinjaAPI(
    title="Jiedao 街道 API",
    version="1",
    description=(
        "接诉即办 and the street office's other services. Sign in with POST /api/v1/auth/token and send "
        "`Authorization: Bearer <token>`; pages of the site may also call the API with their session. "
        'Errors: `{"errors": [{"field": ..., "message": ...}]}` with 401, 403, 404, 409 (not possible in '
        "the current state) or 422 (a field breaks a rule)."
    ),
    urls_namespace="api",
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth()],
    parser=JsonBodyParser(),  # refuses lone surrogates, NaN and huge numbers (jiedao.common.jsonbody)
)


def error_body(message, field=None):
    return {"errors": [{"field": field, "message": str(message)}]}


@api.exception_handler(ValidationFailed)
def on_validation_failed(request, exc):
    return api.create_response(request, {"errors": exc.errors}, status=422)


@api.exception_handler(DomainError)
def on_domain_error(request, exc):
    return api.create_response(request, error_body(exc.message), status=exc.http_status)


@api.exception_handler(Throttled)
def on_throttled(request, exc):
    response = api.create_response(request, error_body(exc.message), status=429)
    response["Retry-After"] = str(exc.wait)
    return response


# Pydantic's error types in the user's language; each message names the field.
_SCHEMA_MESSAGES = {
    "missing": "“%(field)s”为必填项。",
    "string_type": "“%(field)s”应为文本。",
    "string_too_long": "“%(field)s”过长。",
    "int_parsing": "“%(field)s”应为整数。",
    "int_type": "“%(field)s”应为整数。",
    "int_from_float": "“%(field)s”应为整数。",
    "float_parsing": "“%(field)s”应为数字。",
    "float_type": "“%(field)s”应为数字。",
    "bool_parsing": "“%(field)s”应为 true 或 false。",
    "bool_type": "“%(field)s”应为 true 或 false。",
    "list_type": "“%(field)s”应为列表。",
    "json_invalid": "请求内容不是有效的 JSON。",
    "model_attributes_type": "请求内容应为 JSON 对象。",
    "dict_type": "请求内容应为 JSON 对象。",
    "greater_than_equal": "“%(field)s”不能小于 %(limit)s。",
    "less_than_equal": "“%(field)s”不能大于 %(limit)s。",
}


def _schema_message(error, field):
    template = _SCHEMA_MESSAGES.get(error.get("type", ""))
    if template is None:
        return error.get("msg", "")
    ctx = error.get("ctx") or {}
    limit = ctx.get("ge", ctx.get("le", ""))
    return _(template) % {"field": field or "", "limit": limit}


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc):
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path", "payload")]
        field = ".".join(loc) or None
        errors.append({"field": field, "message": _schema_message(error, field)})
    return api.create_response(request, {"errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return api.create_response(request, error_body(_("请先登录或提供有效的令牌。")), status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    message = str(exc)
    if exc.status_code == 403 and "CSRF" in message:
        message = _("页面已过期（CSRF 校验失败），请刷新页面后重试。")
    elif exc.status_code == 429:
        message = _("请求过于频繁，请稍后再试。")
    elif exc.status_code == 400 and isinstance(exc.__cause__, ValidationFailed):
        # The body parser refused a value (a lone surrogate, NaN, a huge number), naming its field.
        return on_validation_failed(request, exc.__cause__)
    elif exc.status_code == 400 and message.startswith("Cannot parse request body"):
        # A body that is not JSON is a validation failure like any other.
        return api.create_response(request, error_body(_("请求内容不是有效的 JSON，请以 JSON 对象提交。")), status=422)
    return api.create_response(request, error_body(message), status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body(_("未找到。")), status=404)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    # Only photos can make a request this large (text fields are short).
    return api.create_response(
        request, error_body(_("上传内容过大：每张照片不能超过10 MB，请压缩后再上传。"), field="photos"), status=422
    )


def _register_routers():
    api.add_router("", org_router)
    api.add_router("", open311_router)  # before cases: /cases/export is not a case number
    api.add_router("", cases_router)
    api.add_router("", geo_router)
    api.add_router("", registry_router)
    api.add_router("", duties_router)
    api.add_router("", hall_router)
    api.add_router("", emergency_router)
    api.add_router("", participation_router)
    api.add_router("", evaluation_router)
    api.add_router("", intelligence_router)


_register_routers()
