"""The rating link (好差评短信链接): it lets the applicant open the application and rate it
without signing in.

The link carries the application's number, signed with the site's secret key and the time
it was made (Django's timestamped signature), so it cannot be made for another application
without the key, and it stops working ``JIEDAO["RATING_LINK_DAYS"]`` days (30 by default)
after it was made: the page then says the link has expired and what to do instead."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from jiedao.common.errors import DomainError

RATING_SALT = "jiedao.hall.rating"
DEFAULT_DAYS = 30


class LinkExpired(DomainError):
    """A genuine rating link, too old to use (HTTP 410)."""

    http_status = 410

    def __init__(self):
        self.message = _(
            "这个评价链接已超过 %(days)d 天有效期，不能再用来查看和评价办件。"
            "如需评价，请到便民服务中心窗口评价，或请工作人员重新发送评价链接。"
        ) % {"days": link_days()}
        super().__init__(self.message)


def link_days() -> int:
    return int(settings.JIEDAO.get("RATING_LINK_DAYS", DEFAULT_DAYS))


def rating_token(app) -> str:
    """The signed, timestamped token of ``app``'s rating link."""
    return signing.dumps(app.number, salt=RATING_SALT)


def rating_link(app) -> str:
    """The application's page with its rating token: the link of the 好差评 SMS, and the one the
    clerk sees on the application's page."""
    return reverse("hall:application", args=[app.number]) + "?t=" + rating_token(app)


def _signed_number(token, max_age=None):
    return signing.loads(token, salt=RATING_SALT, max_age=max_age)


def token_matches(app, token) -> bool:
    """Whether ``token`` is a rating link of ``app`` that is still valid."""
    if not token:
        return False
    try:
        return _signed_number(token, max_age=dt.timedelta(days=link_days())) == app.number
    except signing.BadSignature:  # forged, damaged, or expired (SignatureExpired)
        return False


def token_expired(app, token) -> bool:
    """Whether ``token`` is a genuine rating link of ``app`` that has expired."""
    if not token:
        return False
    try:
        _signed_number(token, max_age=dt.timedelta(days=link_days()))
    except signing.SignatureExpired:
        try:
            return _signed_number(token) == app.number
        except signing.BadSignature:
            return False
    except signing.BadSignature:
        return False
    return False
