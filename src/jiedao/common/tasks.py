"""Helpers for background work that the worker queues on a schedule."""

from django.utils import timezone
from django_tasks_db.models import DBTaskResult


def enqueue_unless_queued_within(task, every, now=None):
    """Queue ``task`` unless it was queued (waiting, running or done) within ``every``.

    The worker asks at every round; the queue remembers across restarts and workers, so the
    task runs once per period. Returns the result, or None when nothing was queued."""

    now = now or timezone.now()
    if DBTaskResult.objects.filter(task_path=task.module_path, enqueued_at__gt=now - every).exists():
        return None
    return task.enqueue()
