"""Reads of the operations app: is the installation healthy, what do its counters say."""

import datetime as dt
import shutil
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from . import backup
from .models import WORKER, Heartbeat


def worker_seen_seconds(now=None):
    """Seconds since the worker's last heartbeat, or None if it was never seen."""
    seen = Heartbeat.objects.filter(name=WORKER).values_list("seen_at", flat=True).first()
    if seen is None:
        return None
    return max(0.0, ((now or timezone.now()) - seen).total_seconds())


def newest_backup_age_hours(now=None, directory=None):
    """Hours since the newest backup file was written, or None if there is none."""
    files = backup.list_backups(directory)
    if not files:
        return None
    written = dt.datetime.fromtimestamp(files[0].stat().st_mtime, tz=dt.UTC)
    return max(0.0, ((now or timezone.now()) - written).total_seconds() / 3600)


def health(now=None) -> dict:
    """What /healthz answers. ``status``: ok, degraded (the site works, the worker is late) or fail."""
    options: dict[str, Any] = settings.JIEDAO
    checks: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    except Exception as error:  # any database failure is reported, not raised
        checks["database"] = {
            "ok": False,
            "error": str(error).splitlines()[0][:200] if str(error) else type(error).__name__,
        }
    if checks["database"]["ok"]:
        seen = worker_seen_seconds(now)
        limit = options.get("WORKER_LATE_SECONDS", 180)
        checks["worker"] = {
            "ok": seen is not None and seen <= limit,
            "seen_seconds_ago": None if seen is None else round(seen),
        }
    else:
        checks["worker"] = {"ok": False, "seen_seconds_ago": None}
    usage = shutil.disk_usage(settings.DATA_DIR)
    minimum = options.get("DISK_MIN_FREE_BYTES", 1 << 30)
    checks["disk"] = {"ok": usage.free >= minimum, "free_bytes": usage.free, "min_free_bytes": minimum}
    if not checks["database"]["ok"] or not checks["disk"]["ok"]:
        status = "fail"
    elif not checks["worker"]["ok"]:
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "checks": checks}


def queue_depth() -> dict:
    """Background tasks waiting (READY) and running, from the database queue."""
    rows = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    counts = {"READY": 0, "RUNNING": 0}
    for status in rows.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return {"waiting": counts["READY"], "running": counts["RUNNING"]}


def pending_rounds(task, *, now: dt.datetime, stale_after: dt.timedelta):
    """The rounds of ``task`` waiting in the queue or being run now — a round still running after
    ``stale_after`` was left by a worker that died and does not count. The apps' worker jobs
    (``enqueue_*_if_*``) queue a round only when there is none."""
    rounds = DBTaskResult.objects.filter(task_path=task.module_path)
    return rounds.filter(status=TaskResultStatus.READY) | rounds.filter(
        status=TaskResultStatus.RUNNING, started_at__gte=now - stale_after
    )
