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
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiedao.common.errors import DomainError, NotFound, ValidationFailed

from .backends import signed_in
from .models import ApiToken, User
from .twofactor import confirmed_device, needs_second_factor

if TYPE_CHECKING:
    from django.http import HttpRequest

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


class _TokenLookup:
    """The token, its user and the user's groups in one statement, read as the ORM reads them
    (the backend's converters, ``Model.from_db``) without building the query anew for every
    request: every API call authenticates, and the query's construction cost more than its
    execution. The statement is made once per process."""

    def __init__(self):
        quote = connection.ops.quote_name
        through = User.groups.through._meta
        token_fields = [ApiToken._meta.get_field(name) for name in ("id", "expires_at", "last_used_at")]
        group_name = Group._meta.get_field("name")
        self.user_fields = list(User._meta.concrete_fields)
        fields = [*token_fields, group_name, *self.user_fields]
        aliases = ["t"] * len(token_fields) + ["g"] + ["u"] * len(self.user_fields)
        columns = ", ".join(f"{alias}.{quote(field.column)}" for alias, field in zip(aliases, fields, strict=True))
        self.sql = (
            f"SELECT {columns} FROM {quote(ApiToken._meta.db_table)} t"
            f" INNER JOIN {quote(User._meta.db_table)} u"
            f" ON u.{quote(User._meta.pk.column)} = t.{quote(ApiToken._meta.get_field('user').column)}"
            f" LEFT JOIN {quote(through.db_table)} ug ON ug.{quote(through.get_field('user').column)} = u.id"
            f" LEFT JOIN {quote(Group._meta.db_table)} g ON g.{quote(Group._meta.pk.column)}"
            f" = ug.{quote(through.get_field('group').column)}"
            f" WHERE t.{quote(ApiToken._meta.get_field('key_hash').column)} = %s"
        )
        self.converters = []
        for index, (alias, field) in enumerate(zip(aliases, fields, strict=True)):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                self.converters.append((index, found, column))
        self.attnames = [field.attname for field in self.user_fields]

    def __call__(self, key_hash):
        """``(token id, expires_at, last_used_at, user with its roles)`` or ``None``."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key_hash])
            rows = [list(row) for row in cursor.fetchall()]
        if not rows:
            return None
        for row in rows:
            for index, converters, column in self.converters:
                for converter in converters:
                    row[index] = converter(row[index], column, connection)
        first = rows[0]
        user = User.from_db(connection.alias, self.attnames, first[4:])
        user.__dict__["role_codes"] = user.roles_of(row[3] for row in rows if row[3] is not None)
        return first[0], first[1], first[2], user


_token_lookups: dict[str, _TokenLookup] = {}


def authenticate_token(key: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user owning the unexpired token ``key``, with the user's roles read in the same
    statement, or ``None``. A revoked token (its row deleted), an expired one, a user made
    inactive or given other roles: the next request sees it."""
    key = (key or "").strip()
    if not key or len(key) > 200:
        return None
    now = now or timezone.now()
    lookup = _token_lookups.get(connection.vendor)
    if lookup is None:
        lookup = _token_lookups[connection.vendor] = _TokenLookup()
    found = lookup(hash_token(key))
    if found is None:
        return None
    token_id, expires_at, last_used_at, user = found
    if expires_at <= now or not user.is_active:
        return None
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


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
