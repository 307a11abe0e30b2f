"""The REST API (django-ninja): one NinjaAPI, routers from each app, errors mapped once."""

from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError as NinjaValidationError

from jiedao.common.errors import DomainError, ValidationFailed

api = NinjaAPI(
    title="Jiedao 街道 API",
    version="1",
    description="接诉即办 and the street office's other services. Staff authenticate with a bearer token "
                "from POST /api/v1/auth/token.",
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(ValidationFailed)
def on_validation_failed(request, exc):
    return api.create_response(request, {"errors": exc.errors}, status=422)


@api.exception_handler(DomainError)
def on_domain_error(request, exc):
    return api.create_response(request, {"errors": [{"field": None, "message": exc.message}]},
                               status=exc.http_status)


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc):
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path", "payload")]
        errors.append({"field": ".".join(loc) or None, "message": error.get("msg", "")})
    return api.create_response(request, {"errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return api.create_response(request, {"errors": [{"field": None, "message": "请先登录或提供有效的令牌。"}]},
                               status=401)


def _register_routers():
    from jiedao.cases.api import router as cases_router
    from jiedao.org.api import router as org_router

    api.add_router("", org_router)
    api.add_router("", cases_router)


_register_routers()
