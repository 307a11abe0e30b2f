"""Tracking a case without an account (查询进度): the case number and the reporter's phone.

Case numbers are sequential, so a phone is all that protects a case from a neighbour who
knows it. Look-ups are limited per client (TRACK_RATE), and failed ones per case number
(TRACK_NUMBER_RATE) and per phone (TRACK_PHONE_RATE) whatever the address, so that neither a
number's phone nor a phone's numbers can be guessed from many addresses. The tracking page and
the API count together. Once a limit is reached the right phone is refused too until the
window has moved on, and the message says so without telling whether the number exists."""

from django.utils.translation import gettext_lazy

from jiedao.common.throttle import Limit, guard

from . import selectors
from .validation import normalise_phone

LIMITS = (
    Limit("TRACK_RATE"),
    Limit("TRACK_NUMBER_RATE", per="number", failures=True),
    Limit("TRACK_PHONE_RATE", per="phone", failures=True),
)
REFUSED = gettext_lazy(
    "查询次数过多，请 %(wait)s后再试。为保护报事人的信息，在此之前即使工单编号和手机号都正确也查不到；"
    "急事请拨打 12345。"
)


def find(request, number, phone):
    """The case with this number and phone (``NotFound`` otherwise), counted against the
    limits (``Throttled`` when one is reached)."""
    with guard(request, *LIMITS, message=REFUSED, number=(number or "").strip(), phone=normalise_phone(phone)):
        return selectors.public_case(number, phone)
