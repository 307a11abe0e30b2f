"""``jiedao worker``: the background worker.

It does two things in one process, one after the other in a single loop:

- runs the tasks waiting in the database queue (``django_tasks_db``'s worker, in
  batch mode: everything that is ready, then back to the loop);
- queues the periodic jobs that the apps declare (``ops.jobs``: ``periodic_jobs`` on each
  app's ``AppConfig``): at every round those marked ``ROUND`` (webhook deliveries), every
  ``--interval`` seconds (a sweep) the others — the case deadline sweep, unless one is
  still waiting or running, so sweeps never pile up; the jobs with a period (hourly,
  daily …), each queued at most once per period; a backup when scheduled backups are due;
- every 15 seconds a heartbeat (``ops.Heartbeat``) for ``/healthz`` and ``jiedao check``.

It imports no domain app: what runs is what the apps declare. Each sweep logs one line
with its counts. SIGTERM or SIGINT (Ctrl+C) stops it gracefully: a task in hand is
finished, then the command exits with code 0; a second signal stops at once with code 1.

``jiedao worker --once`` does the work of the jobs declared with ``once`` (the case
deadline sweep) right away, without the queue, prints their lines and exits (for
operators and tests).

It refuses to start with the secret key published in the source (``jiedao.common.sitekey``).
"""

import logging
import os
import signal
import sys
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django_tasks_db.management.commands.db_worker import Worker

from jiedao.common import sitekey
from jiedao.ops.jobs import registered_jobs
from jiedao.ops.services import beat, requeue_interrupted_tasks

logger = logging.getLogger("jiedao.worker")

# How often the queue is looked at for other tasks (notifications, imports …), in seconds.
POLL_SECONDS = 1.0
# How often the worker records that it is alive (read by /healthz and `jiedao check`), in seconds.
HEARTBEAT_SECONDS = 15.0


def positive_seconds(value):
    try:
        seconds = float(value)
    except ValueError:
        raise CommandError(
            _("参数 --interval 应为正数（秒），收到“%(value)s”。") % {"value": value}, returncode=2
        ) from None
    if not 0 < seconds <= 86400:
        raise CommandError(
            _("参数 --interval 应在 0 到 86400 秒之间，收到“%(value)s”。") % {"value": value}, returncode=2
        )
    return seconds


class Command(BaseCommand):
    help = _("后台任务：执行任务队列，并定时巡检工单时限（临期变黄、超期变红并通知承办单位）。")

    def add_arguments(self, parser):
        parser.add_argument("--interval", default="60", help=_("每隔多少秒巡检一次时限（默认 60）。"))
        parser.add_argument("--once", action="store_true", help=_("立即巡检一次并打印结果，然后退出。"))

    def handle(self, *args, interval="60", once=False, verbosity=1, **options):
        if sitekey.refusal():  # the secret key published in the source signs forged links
            raise CommandError(sitekey.refusal())
        interval = positive_seconds(interval)
        jobs = registered_jobs()
        for job in jobs:
            job.check()
        if once:
            for job in jobs:
                if job.once:
                    self.stdout.write(job.run_now())
            return
        self._configure_logging(verbosity)
        self.stopping = False
        self._wake = threading.Event()
        self.worker = Worker(
            queue_names=["*"],
            interval=0.2,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        self._install_signals()
        requeued = requeue_interrupted_tasks()
        if requeued:
            logger.warning(_("上次后台任务异常退出：%(count)d 个中断的任务已重新排队。") % {"count": requeued})
        logger.info(
            _("后台任务已启动：每 %(interval)g 秒巡检一次工单时限；发送 SIGTERM 或按 Ctrl+C 停止。")
            % {"interval": interval}
        )
        try:
            self._loop(interval, jobs)
        finally:
            self._restore_signals()
            close_old_connections()
        logger.info(_("后台任务已停止。"))

    # --- the loop ------------------------------------------------------------------

    def _loop(self, interval, jobs):
        at_every_round = [job for job in jobs if job.at_every_round]
        at_every_sweep = [job for job in jobs if not job.at_every_round]
        next_sweep = next_beat = time.monotonic()
        while not self.stopping:
            now = time.monotonic()
            if now >= next_beat:
                try:
                    beat()
                    next_beat = now + HEARTBEAT_SECONDS
                except OperationalError as error:  # the database is away: the heartbeat waits
                    logger.warning(_("心跳写入失败，稍后重试：%(error)s") % {"error": error})
                    next_beat = now + POLL_SECONDS
            if now >= next_sweep:
                try:
                    for job in at_every_sweep:
                        job.enqueue_if_due()
                    next_sweep = now + interval
                except OperationalError as error:  # e.g. the database is busy: try again soon
                    logger.warning(_("巡检排队失败，稍后重试：%(error)s") % {"error": error})
                    next_sweep = now + POLL_SECONDS
            for job in at_every_round:  # e.g. webhook deliveries that are due
                job.enqueue_if_due()
            if self.stopping:
                break
            self.worker.running = True
            try:
                self.worker.run()
            except (OperationalError, InterfaceError) as error:  # the database went away: wait, reconnect
                logger.warning(_("数据库暂时不可用，稍后重试：%(error)s") % {"error": error})
                close_old_connections()
                self._wake.wait(POLL_SECONDS)
                continue
            if self.stopping:
                break
            self._wake.wait(max(0.0, min(POLL_SECONDS, next_sweep - time.monotonic())))

    # --- signals ---------------------------------------------------------------------

    def _install_signals(self):
        self._previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in self._previous:
            signal.signal(sig, self._on_signal)

    def _restore_signals(self):
        for sig, handler in getattr(self, "_previous", {}).items():
            signal.signal(sig, handler)

    def _on_signal(self, signum, frame):
        if self.stopping:
            logger.warning(_("再次收到 %(signal)s，立即退出。") % {"signal": signal.Signals(signum).name})
            self._restore_signals()
            sys.stdout.flush()
            os._exit(1)
        logger.warning(_("收到 %(signal)s，处理完手头任务后停止。") % {"signal": signal.Signals(signum).name})
        self.stopping = True
        self.worker.running = False
        self._wake.set()

    def _configure_logging(self, verbosity):
        level = logging.WARNING if verbosity == 0 else logging.INFO
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        for name in ("jiedao.worker", "django_tasks_db"):
            named = logging.getLogger(name)
            named.setLevel(level if name == "jiedao.worker" else logging.WARNING)
            named.handlers = [handler]
            named.propagate = False
