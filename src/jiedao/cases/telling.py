"""Telling the resident (短信): the receipt with the case number and a tracking link when their
request is registered, and the result with the unit's reply and a rating link when the case
waits for their rating. Written in the caller's transaction through ``messaging.services.
tell_resident`` (nothing when no SMS channel is configured or the resident opted out); a message
is about the resident's own case only.

The link opens the case on the tracking page without the phone: the case number signed with the
site's key and the time it was made (Django's timestamped signature), valid for
``RATING_LINK_DAYS`` days — the same span as the service hall's rating links."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.utils.functional import lazy

from jiedao.messaging.services import tell_resident

from .models import Case, CaseEvent, Status

SALT = "jiedao.cases.track"
TRACK_PAGE = "/portal/track/"
REPLY_LENGTH = 60


def link_days() -> int:
    return int(settings.JIEDAO.get("RATING_LINK_DAYS", 30))


def link_token(case: Case) -> str:
    return signing.dumps(case.number, salt=SALT, compress=True)


def case_link(case: Case) -> str:
    """The tracking page of ``case`` for its reporter, signed."""
    return f"{TRACK_PAGE}?t={link_token(case)}"


# The link as the message needs it: signed only when a message is written (most installations
# send no SMS, and signing is a good part of what telling costs an intake).
_link_when_used = lazy(case_link, str)


def number_from_link(token: str) -> str | None:
    """The case number a valid, unexpired link token names, else None."""
    if not token or len(token) > 200:
        return None
    try:
        number = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=link_days()))
    except signing.BadSignature:  # forged, damaged, or expired (SignatureExpired)
        return None
    return number if isinstance(number, str) else None


def receipt(case: Case, *, phone: str, at: dt.datetime) -> None:
    """受理回执 of a newly registered case to the number the resident gave."""
    if not phone or case.status in (Status.CLOSED, Status.VOIDED, Status.MERGED):
        return
    tell_resident(
        kind="resident_receipt",
        phone=phone,
        values={"编号": case.number, "分类": case.category.name if case.category_id else ""},
        link=_link_when_used(case),
        at=at,
    )


def result(case: Case, *, at: dt.datetime, reply: str | None = None) -> None:
    """办理结果 and the rating invitation, once the case waits for the resident's rating."""
    if not case.reporter_phone:
        return
    if reply is None:
        reply = (
            CaseEvent.objects.filter(case=case, action="resolve")
            .order_by("-seq")
            .values_list("note", flat=True)
            .first()
            or ""
        )
    reply = " ".join(reply.split())
    if len(reply) > REPLY_LENGTH:
        reply = reply[: REPLY_LENGTH - 1] + "…"
    tell_resident(
        kind="resident_result",
        phone=case.reporter_phone,
        values={"编号": case.number, "单位": case.unit.name if case.unit_id else "", "答复": reply},
        link=case_link(case),
        at=at,
    )
