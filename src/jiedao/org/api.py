"""POST and DELETE /api/v1/auth/token, GET /api/v1/me, and how API callers authenticate."""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.throttling import AnonRateThrottle

from jiedao.common.schemas import ErrorsOut

from . import selectors, services
from .permissions import permission
from .twofactor import verified

router = Router(tags=["auth"])


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from POST /auth/token."""

    def authenticate(self, request, token):
        user = services.authenticate_token(token)
        if user is not None:
            request.user = user
            request.bearer_token = token
        return user


class SessionAuth(APIKeyCookie):
    """The site's own session, so that pages can call the API. CSRF is checked only
    for a signed-in session, so a caller without valid credentials gets 401."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        if not request.COOKIES.get(self.param_name) or not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):

        if key and request.user.is_authenticated and verified(request):
            return request.user
        return None


class TokenIn(Schema):
    username: str = Field("", max_length=150)  # as long as a user name can be
    password: str = ""
    otp: str = ""  # the authenticator's 6-digit code, for staff who can see personal data (两步验证)


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


class UnitOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    username: str
    display_name: str
    roles: list[str]
    role_labels: list[str]
    unit: UnitOut | None


# Sign-in attempts per address, against password guessing.
TOKEN_RATE = "60/m"


@router.post(
    "/auth/token",
    response={200: TokenOut, 401: ErrorsOut, 422: ErrorsOut},
    auth=None,
    throttle=[AnonRateThrottle(TOKEN_RATE)],
    summary="Issue a bearer token (登录取令牌)",
)
@permission("account.sign_in")
def issue_token(request, payload: TokenIn):
    """Exchange a user name and password for a bearer token. The token is shown once."""
    plain, token = services.create_token(payload.username, password=payload.password, request=request, otp=payload.otp)
    return {"token": plain, "expires_at": timezone.localtime(token.expires_at)}


@router.delete(
    "/auth/token", response={204: None, 401: ErrorsOut}, auth=TokenAuth(), summary="Revoke this token (作废当前令牌)"
)
@permission("account.tokens")
def revoke_token(request):
    """Revoke the bearer token this request carries: it answers 401 from now on. The user's
    other tokens stay valid (the page 我的接口令牌 lists and revokes them; a new password
    revokes them all)."""
    services.revoke_token(request.bearer_token)
    return Status(204, None)


@router.get("/me", response=MeOut, summary="The signed-in user (当前用户)")
def me(request):
    return selectors.me(request.user)
