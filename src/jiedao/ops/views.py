"""/healthz and /metrics: for load balancers, monitoring and the people on call."""

import hmac
import os

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from jiedao.common.throttle import client_address

from . import selectors
from .metrics import scrape

LOOPBACK = {"127.0.0.1", "::1"}


@never_cache
@require_safe
def healthz(request):
    """200 when the site can serve (status ok, or degraded when only the worker is late); 503 otherwise."""
    report = selectors.health()
    return JsonResponse(
        report, status=503 if report["status"] == "fail" else 200, json_dumps_params={"ensure_ascii": False}
    )


def _may_scrape(request) -> bool:
    token = os.environ.get("JIEDAO_METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return client_address(request) in LOOPBACK  # behind the proxy: the client's address, not the proxy's


@never_cache
@require_safe
def metrics(request):
    """Prometheus text format. Only from this machine, or with ``Authorization: Bearer $JIEDAO_METRICS_TOKEN``."""
    if not _may_scrape(request):
        return HttpResponse(
            "指标只对本机或持有 JIEDAO_METRICS_TOKEN 的监控系统开放。\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )

    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
