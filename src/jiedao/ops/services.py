"""Writes of the operations app: heartbeats and scheduled backups."""

import datetime as dt
import os
import socket
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiedao.common.lifecycle import update_status

from . import backup
from .models import WORKER, Heartbeat


def beat(name: str = WORKER, *, now: dt.datetime | None = None) -> Heartbeat:
    """Record that the process ``name`` is alive now."""
    heartbeat, _created = Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": now or timezone.now(), "host": socket.gethostname()[:100], "pid": os.getpid()}
    )
    return heartbeat


def requeue_interrupted_tasks() -> int:
    """Put tasks left RUNNING by a worker that died (SIGKILL, power loss) back in the queue.

    Called when the worker starts; an installation runs one worker, so whatever is marked
    running then was abandoned. Every task of the project may run again safely (sweeps,
    anonymisation, computations and backups give the same result; webhook deliveries carry
    their event id for the receiver to drop a repeat). Returns how many were requeued."""
    return update_status(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING), TaskResultStatus.READY, started_at=None
    )


def take_scheduled_backup(now: dt.datetime | None = None) -> dict[str, Any]:
    """One backup into the backup directory, then keep only the configured number of the newest."""
    path, header = backup.take_backup(now=now)
    options: dict[str, Any] = settings.JIEDAO
    removed = backup.prune_backups(int(options.get("BACKUP_KEEP", 7)))
    return {"path": str(path), "rows": header["rows"], "removed": [str(p) for p in removed]}
