"""Request metrics in the Prometheus text format, and one structured log line per request.

Under ``jiedao serve`` several processes answer requests; they share their counters
through files in ``PROMETHEUS_MULTIPROC_DIR`` (set by the serve command), so a scrape of
any process reports the whole server. Figures that live in the database (the task queue,
the worker's heartbeat, and what the apps declare: ``metric_gauges`` on an app's
``AppConfig``, each ``(name, description, dotted path of the function that reads it)``,
e.g. open and overdue cases) are read at scrape time; this app imports no domain app.
"""

import logging
import os
import time

from django.apps import apps
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from jiedao.common.throttle import client_address

from . import selectors

logger = logging.getLogger("jiedao.request")

REQUESTS = Counter("jiedao_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "jiedao_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestMetricsMiddleware:
    """Counts and times every request by its route (the URL pattern's name, never the raw path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = _route(request)
        method = request.method if request.method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} else "OTHER"
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        LATENCY.labels(method, route).observe(elapsed)
        if logger.isEnabledFor(logging.INFO):
            user = getattr(request, "user", None)
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                    "user_id": getattr(user, "pk", None),
                    "client": client_address(request),
                },
            )
        return response


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self):

        for config in apps.get_app_configs():
            for name, documentation, read in getattr(config, "metric_gauges", ()):
                yield _gauge(name, documentation, import_string(read)())
        queue = selectors.queue_depth()
        yield _gauge("jiedao_task_queue_waiting", "Background tasks waiting in the queue", queue["waiting"])
        yield _gauge("jiedao_task_queue_running", "Background tasks being run", queue["running"])
        seen = selectors.worker_seen_seconds()
        yield _gauge(
            "jiedao_worker_heartbeat_age_seconds",
            "Seconds since the worker was last seen (-1: never)",
            -1 if seen is None else seen,
        )


def _gauge(name, documentation, value):
    """A gauge of one value, or of several labelled ones (a list of (labels, value))."""
    if isinstance(value, list):
        names = sorted({key for labels, _value in value for key in labels})
        family = GaugeMetricFamily(name, documentation, labels=names)
        for labels, one in value:
            family.add_metric([str(labels.get(key, "")) for key in names], one)
        return family
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def scrape() -> bytes:
    """The text Prometheus reads: request metrics of every process, then the database gauges."""

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return generate_latest(requests) + generate_latest(database)


class DatabaseUnavailableMiddleware:
    """While the database is unreachable (restarting, network cut), answer 503 with Retry-After
    and a plain message — JSON for the API — instead of an error page; the next request
    connects again by itself (connection health checks)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):

        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None

        if connection.connection is not None and connection.is_usable():
            return None  # the database answers: an error of this request, not an outage
        connection.close()  # the next request connects afresh
        logger.warning("database unavailable: %s", exception)
        message = _("系统正忙或正在维护，请稍后再试，您填写的内容尚未提交。")
        if request.path.startswith("/api/") or request.path.startswith("/open311/"):
            response = JsonResponse(
                {"errors": [{"field": None, "message": message}]}, status=503, json_dumps_params={"ensure_ascii": False}
            )
        else:
            response = HttpResponse(
                f"<!doctype html><meta charset=utf-8><title>503</title><p>{message}</p>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        response["Retry-After"] = "5"
        return response
