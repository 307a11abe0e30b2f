"""Writes of the operations app: heartbeats and scheduled backups."""

import os
import socket

from django.conf import settings
from django.utils import timezone

from . import backup
from .models import Heartbeat

WORKER = "worker"


def beat(name=WORKER, now=None) -> Heartbeat:
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
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )


def take_scheduled_backup(now=None) -> dict:
    """One backup into the backup directory, then keep only the configured number of the newest."""
    path, header = backup.take_backup(now=now)
    removed = backup.prune_backups(int(settings.JIEDAO.get("BACKUP_KEEP", 7)))
    return {"path": str(path), "rows": header["rows"], "removed": [str(p) for p in removed]}
