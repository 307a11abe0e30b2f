"""How often persons may be looked up by a complete identity number or phone (精确查找).

Who may look up, and the access log of each look-up, are the selectors' (``person_list``);
the page and the API count each look-up here first, per user (REGISTRY_LOOKUP_RATE) and per
number whoever asks (REGISTRY_LOOKUP_TARGET_RATE), so that guessing the hidden digits of a
masked value one candidate at a time is refused long before it succeeds: ``Throttled`` (429
with Retry-After). The counters hold a keyed hash of the number, never the number."""

from django.utils.translation import gettext_lazy

from jiedao.common.throttle import Limit, check

from . import selectors

LIMITS = (Limit("REGISTRY_LOOKUP_RATE"), Limit("REGISTRY_LOOKUP_TARGET_RATE", per="number"))
MESSAGE = gettext_lazy("按身份证号或手机号查找过于频繁，请 %(wait)s后再试；按姓名查找不受限制。")


def count(request, q):
    """Counts the look-up that ``q`` names, if it names one and the user may make it (those who
    may not are refused by ``person_list``, without counting)."""
    lookup = selectors.lookup_in(q)
    if lookup is not None and selectors.may_look_up(request.user):
        check(request, *LIMITS, message=MESSAGE, number=f"{lookup.kind}:{lookup.value}")
