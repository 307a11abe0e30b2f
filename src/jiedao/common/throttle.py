"""Rate limits outside the API's own throttles: the public report form and Open311 keys.

The counts live in Django's cache, which is the database cache (table ``jiedao_cache``), so
that every web process of the server shares them. A limit is "N/s", "N/m", "N/h" or "N/d";
an empty limit switches it off."""

from django.conf import settings
from ninja.throttling import SimpleRateThrottle


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
    rate = settings.JIEDAO.get(limit_name)
    if not rate:
        return None
    throttle = _Throttle(scope, ident, rate)
    if throttle.allow_request(request):
        return None
    return max(1, int(throttle.wait() or 1))
