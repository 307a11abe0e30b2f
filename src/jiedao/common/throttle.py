"""Rate limits: how often one client may call an anonymous page or API operation, and how
often anyone may guess at one target of a look-up by a secret-ish key (a case number and the
reporter's phone).

A limit is named by its key in ``settings.JIEDAO`` (each with an environment override; the
table is in docs/operations.md): a rate "N/s", "N/m", "N/h" or "N/d", or "N/10m" for N per
ten minutes; an empty rate switches it off. A ``Limit`` counts per client — the signed-in
user, else the client's address (``client_address``) — or, with ``per`` naming a target, per
value of that target (a case number, a phone) whatever the address. With ``failures=True``
only failed look-ups (``NotFound``, ``Http404``) keep their place; once the limit is reached
every attempt is refused until the window has moved on, the right answer included.

One line declares the limits of a page, an API operation or a look-up:

    @limited(Limit("SEARCH_RATE"))                                    # a page: a 429 page
    @router.get(..., throttle=api_limits(Limit("PUBLIC_PAGE_RATE")))  # a ninja operation
    with guard(request, *TRACKING, number=number, phone=phone):       # a look-up: ``Throttled``
        case = selectors.public_case(number, phone)

Refusals are 429 with ``Retry-After`` and a message in the user's language.

The counts live in Django's cache, the database cache (table ``jiedao_cache``), so that every
web process shares them: per key, the times of the attempts within the window (a sliding
window). An attempt takes its place under a short lock on the key before it is served, so
parallel requests cannot slip past a limit; a refused attempt takes no place. Keys hold a
keyed hash of the address or target, never a phone or an address in clear."""

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, wraps

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext
from ninja.throttling import BaseThrottle, SimpleRateThrottle

from .errors import DomainError, NotFound


class _Throttle(SimpleRateThrottle):
    def __init__(self, scope, ident, rate):
        self.scope, self.ident = scope, ident
        super().__init__(rate)

    def get_cache_key(self, request):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies report (NINJA_NUM_PROXIES)."""
    return _Throttle("address", "", "1/s").get_ident(request) or "unknown"


def wait_seconds(request, scope, ident, limit_name):
    """None if the request may go ahead (and it is counted), else the seconds to wait."""
    rate = _rate(limit_name)
    if rate is None:
        return None
    try:
        wait, _stamp = _take(f"throttle:{scope}:{_digest(ident)}", rate)
    except Throttled as busy:
        return busy.wait
    return None if wait is None else _whole_seconds(wait)


# --- declared limits ----------------------------------------------------------------------

# A lock left behind by a process that died frees itself after LOCK_SECONDS; a request waits at
# most LOCK_PATIENCE seconds for a counter that others keep busy, then it is refused.
LOCK_SECONDS = 5
LOCK_PATIENCE = 2.0
DEFAULT_MESSAGE = gettext_lazy("请求过于频繁，请 %(wait)s后再试。")


@dataclass(frozen=True)
class Limit:
    """One limit: ``setting`` names its rate in settings.JIEDAO; ``per`` is "client" (the
    signed-in user, else the address) or the name of a target; ``failures``: only failed
    look-ups keep their place."""

    setting: str
    per: str = "client"
    failures: bool = False


class Throttled(DomainError):
    """Refused by a limit: 429, ``wait`` seconds until the next attempt may go ahead."""

    http_status = 429

    def __init__(self, wait, message=None):
        self.wait = _whole_seconds(wait)
        self.message = str(message or DEFAULT_MESSAGE) % {"wait": wait_text(self.wait)}
        super().__init__(self.message)


def wait_text(seconds):
    """A wait in words: "40 秒", "3 分钟", "2 小时"."""
    if seconds < 60:
        return ngettext("%(n)d 秒", "%(n)d 秒", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return ngettext("%(n)d 分钟", "%(n)d 分钟", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)d 小时", "%(n)d 小时", hours) % {"n": hours}


def _whole_seconds(wait):
    return max(1, math.ceil(wait or 1))


@lru_cache(maxsize=64)
def _parse(rate):
    """(requests, seconds) of a rate, read the way ninja's throttles read it."""
    throttle = SimpleRateThrottle(rate)
    return throttle.num_requests, throttle.duration


def _rate(setting):
    rate = settings.JIEDAO.get(setting)
    return _parse(rate) if rate else None


def _digest(ident):
    return salted_hmac("jiedao.common.throttle", str(ident), algorithm="sha256").hexdigest()[:32]


def _key(limit, ident):
    return f"throttle:{limit.setting.lower()}:{limit.per}:{_digest(ident)}"


def _ident(request, limit, targets):
    """What the limit counts this request by, or None when it does not apply."""
    if limit.per != "client":
        value = targets.get(limit.per)
        value = "" if value is None else str(value).strip()
        return value or None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user-{user.pk}"
    return f"address-{client_address(request)}"


@contextmanager
def _locked(key):
    lock = f"{key}:lock"
    give_up = time.monotonic() + LOCK_PATIENCE
    while not cache.add(lock, 1, LOCK_SECONDS):
        if time.monotonic() > give_up:
            raise Throttled(1)
        time.sleep(0.01)
    try:
        yield
    finally:
        cache.delete(lock)


def _take(key, rate):
    """Counts an attempt now: (None, its time), or (seconds to wait, None) when the window is full."""
    count, duration = rate
    with _locked(key):
        now = time.time()
        history = [at for at in cache.get(key, []) if at > now - duration]
        if len(history) >= count:
            return min(history) + duration - now, None
        history.insert(0, now)
        cache.set(key, history, duration)
        return None, now


def _give_back(key, rate, stamp):
    _count, duration = rate
    with _locked(key):
        history = cache.get(key, [])
        if stamp in history:
            history.remove(stamp)
            cache.set(key, history, duration)


def _take_all(request, limits, message, targets):
    """Takes a place in every limit that applies, or none (``Throttled`` with the longest wait)."""
    taken, waits = [], []
    try:
        for limit in limits:
            rate = _rate(limit.setting)
            ident = _ident(request, limit, targets)
            if rate is None or ident is None:
                continue
            key = _key(limit, ident)
            wait, stamp = _take(key, rate)
            if wait is None:
                taken.append((limit, key, rate, stamp))
            else:
                waits.append(wait)
    except Throttled:
        _give_all_back(taken)
        raise
    if waits:
        _give_all_back(taken)
        raise Throttled(max(waits), message)
    return taken


def _give_all_back(taken, failures_only=False):
    for limit, key, rate, stamp in taken:
        if limit.failures or not failures_only:
            _give_back(key, rate, stamp)


@contextmanager
def guard(request, *limits, message=None, failed=(NotFound, Http404), **targets):
    """Counts an attempt against ``limits`` (``Throttled`` if any is reached, with ``message``
    and its ``%(wait)s``); a look-up inside that ends in ``failed`` keeps its place in the
    failure limits, anything else gives it back."""
    taken = _take_all(request, limits, message, targets)
    failure = False
    try:
        yield
    except failed:
        failure = True
        raise
    finally:
        if not failure:
            _give_all_back(taken, failures_only=True)


def check(request, *limits, message=None, **targets):
    """Counts the request against ``limits``: ``Throttled`` if any is reached."""
    _take_all(request, limits, message, targets)


def refusal(request, refused):
    """The 429 answer of a page: the message on a page, or alone for a fragment (htmx)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(format_html('<p class="error" role="alert">{}</p>', refused.message), status=429)
    else:
        response = render(request, "common/throttled.html", {"message": refused.message}, status=429)
    response["Retry-After"] = str(refused.wait)
    return response


def limited(*limits, message=None):
    """Decorates a view: each request counts against ``limits`` (targets from the URL's
    arguments); a refused one gets ``refusal``. The view keeps its limits in ``limits``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                with guard(request, *limits, message=message, **kwargs):
                    return view(request, *args, **kwargs)
            except Throttled as refused:
                return refusal(request, refused)

        wrapped.limits = getattr(view, "limits", ()) + limits
        return wrapped

    return decorator


class _ApiLimits(BaseThrottle):
    """Limits of an API operation as a ninja throttle (ninja answers 429 with Retry-After)."""

    def __init__(self, limits):
        self.limits = limits
        self._refused = threading.local()

    def allow_request(self, request):
        match = getattr(request, "resolver_match", None)
        try:
            check(request, *self.limits, **(match.kwargs if match else {}))
        except Throttled as refused:
            self._refused.wait = refused.wait
            return False
        return True

    def wait(self):
        return getattr(self._refused, "wait", None)


def api_limits(*limits):
    """``throttle=`` of a ninja operation: every call counts against ``limits``."""
    return [_ApiLimits(limits)]


# --- attempts whose outcome is known later ----------------------------------------------------


def take_place(setting, ident):
    """Counts one attempt of ``ident`` (e.g. an address) against the limit ``setting`` now, before
    its outcome is known, and returns its place for ``give_back`` should it turn out not to count
    (a sign-in that succeeds); ``Throttled`` when the limit is reached; None when it is off."""
    rate = _rate(setting)
    if rate is None:
        return None
    key = f"throttle:{setting.lower()}:{_digest(ident)}"
    wait, stamp = _take(key, rate)
    if wait is not None:
        raise Throttled(wait)
    return key, rate, stamp


def give_back(place):
    """Takes back an attempt counted by ``take_place``."""
    if place is not None:
        _give_back(*place)
