"""The worker's schedule: the periodic jobs that the apps declare.

Each app lists its jobs in ``periodic_jobs`` on its ``AppConfig``; ``jiedao worker`` finds
them through Django's app registry, in the order of ``INSTALLED_APPS``, and imports no
domain app. A job is:

- ``name``: how the schedule and the tests name it, ``<app>.<job>``, unique;
- ``enqueue``: the dotted path of the function that queues the job's task when it is due,
  returning the task's result, or None when nothing was queued (one is waiting or running,
  or was queued within its period: the queue remembers across restarts and workers);
- ``every``: when the worker asks that function —
  ``ROUND`` at every turn of its loop (about once a second),
  ``SWEEP`` at every sweep (``jiedao worker --interval``, 60 seconds by default),
  or a period (``HOURLY``, ``DAILY``, any ``timedelta``): asked at every sweep with
  ``every=<the period>``, so that the task is queued at most once per period;
- ``once``: the dotted path of a function that does the job's work at once, without the
  queue, and returns one line for the operator; ``jiedao worker --once`` runs these.

The paths are dotted strings because an ``AppConfig`` is read before the models can be
imported; the worker resolves them all when it starts, so a wrong one stops it at once."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

ROUND = "round"
SWEEP = "sweep"
HOURLY = dt.timedelta(hours=1)
DAILY = dt.timedelta(days=1)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    enqueue: str
    every: str | dt.timedelta = SWEEP
    once: str = ""

    def __post_init__(self):
        if self.every not in (ROUND, SWEEP) and not (
            isinstance(self.every, dt.timedelta) and self.every > dt.timedelta(0)
        ):
            raise ImproperlyConfigured(f"{self.name}: every must be ROUND, SWEEP or a positive timedelta")

    @property
    def at_every_round(self) -> bool:
        return self.every == ROUND

    @cached_property
    def _enqueue(self) -> Callable[..., object]:
        return import_string(self.enqueue)

    def enqueue_if_due(self) -> object:
        """Ask the job's function to queue its task; the result, or None when nothing was queued."""
        if isinstance(self.every, dt.timedelta):
            return self._enqueue(every=self.every)
        return self._enqueue()

    def run_now(self) -> str:
        """Do the job's work at once, without the queue; one line for the operator."""
        return import_string(self.once)()

    def check(self) -> None:
        """Raise ImproperlyConfigured when a dotted path does not lead to a function."""
        for path in (self.enqueue, self.once):
            if not path:
                continue
            try:
                target = import_string(path)
            except ImportError as error:
                raise ImproperlyConfigured(f"{self.name}: {error}") from error
            if not callable(target):
                raise ImproperlyConfigured(f"{self.name}: {path} is not a function")


def registered_jobs() -> list[PeriodicJob]:
    """Every app's periodic jobs, in the order of ``INSTALLED_APPS``."""
    jobs = [job for config in apps.get_app_configs() for job in getattr(config, "periodic_jobs", ())]
    names = [job.name for job in jobs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ImproperlyConfigured(f"periodic jobs declared twice: {', '.join(duplicates)}")
    return jobs
