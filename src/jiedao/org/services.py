"""Writes for the organisation app: API tokens and two-step sign-in.

A token is a random string handed to the user once; only its SHA-256 hash is kept
(``ApiToken.key_hash``), so a copy of the database does not give access. Tokens
expire after ``JIEDAO["API_TOKEN_DAYS"]`` days (7 by default). A user revokes the
token a request carries (``DELETE /api/v1/auth/token``) or any of their own tokens
(the page 我的接口令牌); a new password revokes all of them (``signals.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiedao.common.errors import DomainError, NotFound, ValidationFailed

from .backends import signed_in
from .models import ApiToken
from .twofactor import confirmed_device, needs_second_factor

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import User

DEFAULT_TOKEN_DAYS = 7
# ``last_used_at`` is refreshed at most this often, so that reads do not all write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class InvalidCredentials(DomainError):
    """Wrong user name or password (HTTP 401)."""

    http_status = 401

    def __init__(self, message=None):
        super().__init__(message or _("用户名或密码错误。"))
        self.message = str(self.args[0])


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(days=cast(int, settings.JIEDAO.get("API_TOKEN_DAYS", DEFAULT_TOKEN_DAYS)))


def create_token(
    username: str,
    *,
    password: str,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
    otp: str = "",
) -> tuple[str, ApiToken]:
    """Check the credentials and issue a new token. Returns ``(plain_token, ApiToken)``;
    the plain token is not stored anywhere and cannot be shown again. With the ``request``,
    failed attempts count towards the sign-in lock-out like the sign-in page's."""
    username = (username or "").strip()
    if not username:
        raise ValidationFailed("username", _("请填写用户名。"))
    if not password:
        raise ValidationFailed("password", _("请填写密码。"))
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    signed_in(request)

    if needs_second_factor(user):
        check_second_factor(user, code=otp)
    now = now or timezone.now()
    plain = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, key_hash=hash_token(plain), expires_at=now + token_lifetime(), last_used_at=now
    )
    return plain, token


def authenticate_token(key: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user owning the unexpired token ``key``, or ``None``."""
    key = (key or "").strip()
    if not key or len(key) > 200:
        return None
    now = now or timezone.now()
    try:
        token = ApiToken.objects.select_related("user").get(key_hash=hash_token(key))
    except ApiToken.DoesNotExist:
        return None
    if token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(key: str) -> bool:
    """Delete the token ``key``; True when it existed."""
    deleted, _rows = ApiToken.objects.filter(key_hash=hash_token((key or "").strip())).delete()
    return bool(deleted)


def revoke_own_token(user: User, *, token_id: int) -> None:
    """Delete one of ``user``'s own tokens; another user's or a missing one is "not found"."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise NotFound(_("这个接口令牌不存在或已经撤销。"))


def revoke_all_tokens(user: User) -> int:
    """Delete every token of ``user``; returns how many there were."""
    deleted, _rows = ApiToken.objects.filter(user=user).delete()
    return deleted


# --- two-factor sign-in (两步验证), see twofactor.py --------------------------------------------


def _code(code) -> str:
    code = "".join((code or "").split())
    if not code:
        raise ValidationFailed("otp", _("请填写身份验证器上的 6 位动态码。"))
    if not code.isdigit() or len(code) != 6:
        raise ValidationFailed("otp", _("动态码应为 6 位数字。"))
    return code


def check_second_factor(user: User, *, code: str | None) -> TOTPDevice:
    """The user's confirmed authenticator accepts ``code``; returns the device."""

    device = confirmed_device(user)
    if device is None:
        raise ValidationFailed("otp", _("您还没有设置身份验证器：请先在网页上登录，按提示扫码设置。"))
    code = _code(code)
    with transaction.atomic():
        if not device.verify_token(code):
            raise ValidationFailed("otp", _("动态码不正确或已过期，请输入身份验证器上当前显示的 6 位数字。"))
    return device


def start_authenticator(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (a new secret), made on the first visit of the set-up page."""

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("身份验证器"), confirmed=False)
    return device


def confirm_authenticator(user: User, *, code: str | None) -> TOTPDevice:
    """Confirm the set-up with one code from the app; returns the now confirmed device."""

    code = _code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ValidationFailed("otp", _("设置已过期，请刷新页面重新扫码。"))
        if not device.verify_token(code):
            raise ValidationFailed(
                "otp", _("动态码不正确：请确认已扫描本页的二维码，并输入应用上当前显示的 6 位数字。")
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return device
