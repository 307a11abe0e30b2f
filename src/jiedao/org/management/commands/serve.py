"""``jiedao serve``: the production web server (gunicorn, threaded workers).

Static files are collected first and served by WhiteNoise from ``STATIC_ROOT``.
It refuses to start with the secret key published in the source (``jiedao.common.sitekey``).
SIGTERM stops the server gracefully: workers finish the requests in hand.
The worker processes share their request metrics (``/metrics``) through files in
``PROMETHEUS_MULTIPROC_DIR`` (default: ``prometheus/`` in the data directory, emptied at start).
"""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

from jiedao.common import sitekey


def default_workers() -> int:
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(2, 2 * (os.cpu_count() or 1))


def prepare_metrics_directory() -> Path:
    """An empty directory for the processes' shared metrics, named in the environment before any
    worker process starts (the metrics library reads it when it is first imported)."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(settings.DATA_DIR) / "prometheus")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def child_exit(server, worker):
    """Gunicorn hook: a worker process has gone; its live gauges are dropped, its counters kept."""
    # Imported only now: the metrics library reads PROMETHEUS_MULTIPROC_DIR when first imported.
    from prometheus_client import multiprocess  # noqa: PLC0415 (after the directory is named)

    multiprocess.mark_process_dead(worker.pid)


def build_application(options):
    class JiedaoServer(BaseApplication):
        def __init__(self, settings):
            self.settings = settings
            super().__init__()

        def load_config(self):
            for key, value in self.settings.items():
                self.cfg.set(key, value)

        def load(self):
            # Each worker process loads the project itself, after gunicorn forks it.
            from jiedao.wsgi import application  # noqa: PLC0415 (loaded in the worker process)

            return application

    return JiedaoServer(options)


class Command(BaseCommand):
    help = "以生产方式启动网站（gunicorn 多进程、多线程；静态文件由 WhiteNoise 提供）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=None, help="工作进程数（默认为 CPU 核数的 2 倍，或环境变量 WEB_CONCURRENCY）"
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("JIEDAO_THREADS", "4")))
        parser.add_argument("--access-log", action="store_true", help="输出访问日志（默认关闭）")
        parser.add_argument("--timeout", type=int, default=60)

    def handle(self, *args, **options):
        refused = sitekey.refusal(host=options["host"])
        if refused:
            raise CommandError(refused)
        call_command("collectstatic", interactive=False, verbosity=0)
        prepare_metrics_directory()
        workers = options["workers"] or default_workers()
        settings = {
            "bind": f"{options['host']}:{options['port']}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": options["threads"],
            "timeout": options["timeout"],
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": "-" if options["access_log"] else None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "jiedao",
            "child_exit": child_exit,
        }
        self.stdout.write(
            f"街道 Jiedao 已启动：http://{options['host']}:{options['port']}/ "
            f"（{workers} 个进程 × {options['threads']} 线程，Ctrl-C 停止）"
        )
        self.stdout.flush()
        # Workers are forked from this process: none may inherit an open database connection.
        connections.close_all()
        build_application(settings).run()
