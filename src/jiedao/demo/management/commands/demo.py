"""``jiedao demo``: the demo street on SQLite, with a year of history, served at once.

Repeated runs reuse the database; ``--reset`` deletes it and builds it again. With the secret
key published in the source (set by hand), it runs on this machine's own address only.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jiedao.cases.models import Case
from jiedao.common import sitekey
from jiedao.demo import builder, simulate
from jiedao.demo.builder import DEMO_ACCOUNTS, DEMO_PASSWORD
from jiedao.emergency.demo import build_emergency
from jiedao.evaluation.demo import build_evaluation
from jiedao.intelligence.demo import build_intelligence
from jiedao.participation.demo import build_participation


def _sqlite_path():
    if connections["default"].vendor != "sqlite":
        return None
    return Path(settings.DATABASES["default"]["NAME"])


class Command(BaseCommand):
    help = "建立演示街道（示范街道）并模拟近12个月的工单，然后启动网站。"

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="删除演示数据库并重新生成")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="只生成数据，不启动网站")
        parser.add_argument("--cases", type=int, default=20000, help="模拟的工单数量（默认20000）")
        parser.add_argument("--seed", type=int, default=20261122)

    def handle(self, *args, **options):
        refused = sitekey.refusal(host=options["host"], demo=True)
        if refused:
            raise CommandError(refused)
        started = time.monotonic()
        if options["reset"]:
            self._reset()
        self._migrate()
        self._populate(options)
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪（用时 {time.monotonic() - started:.1f} 秒）。"))
        self._print_accounts(options)
        if options["no_serve"]:
            return
        connections.close_all()
        self._serve(options)

    # --- data ------------------------------------------------------------------
    def _migrate(self):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)

    def _reset(self):
        path = _sqlite_path()
        connections.close_all()
        if path is None:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("已清空数据库。")
            return
        for candidate in path.parent.glob(path.name + "*"):
            candidate.unlink()
        self.stdout.write(f"已删除演示数据库 {path}。")

    def _populate(self, options):
        demo = builder.demo_street()
        if demo is None:
            self.stdout.write(
                "正在建立示范街道：8个社区、40个网格、承办单位、网格队伍、分类、权责清单（含历史版本）、约3000户一户一档、便民服务中心办事事项与一年办件、演示账号……"
            )
            builder.build()
        else:
            builder.ensure_base_map(demo.street)  # a demo database from before the base map
        if Case.objects.exists():
            self.stdout.write(f"沿用已有演示数据库（{Case.objects.count():,} 件工单）。需要重建请加 --reset。")
            return
        self.stdout.write(f"正在模拟近12个月的 {options['cases']:,} 件工单……")
        began = time.monotonic()
        counts = simulate.simulate(cases=options["cases"], seed=options["seed"], out=self.stdout)
        self.stdout.write(
            f"已生成 {counts['cases']:,} 件工单、{counts['events']:,} 条流转记录、{counts['ratings']:,} 条回访评价、"
            f"{counts['extensions']:,} 个延期申请、{counts.get('whistles', 0):,} 次吹哨、"
            f"{counts.get('cohandles', 0):,} 个协办任务"
            f"（用时 {time.monotonic() - began:.1f} 秒）。"
        )
        # Sensors and emergencies come after the history: confirming today's alerts opens new cases.
        self.stdout.write("正在建立应急物资、传感器与今日监测数据……")
        demo = builder.demo_street()
        build_emergency(demo.street, demo.grids, demo.units, demo.users, timezone.now(), out=self.stdout)
        build_intelligence(out=self.stdout.write)
        self.stdout.write("正在建立居民议事、民生项目、志愿服务与积分（近一年）……")
        build_participation(demo.street, demo.communities, demo.users, timezone.now(), out=self.stdout)
        # Last: the indicators, rankings and warnings are computed over everything above.
        self.stdout.write("正在计算效能评价指标、排名与预警……")
        build_evaluation(demo.street, demo.grids, demo.units, demo.users, timezone.now(), out=self.stdout)

    def _print_accounts(self, options):
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，仅供演示）：")
        for username, _role, _name, about in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<11} {DEMO_PASSWORD}   {about}")
        self.stdout.write(
            "  另有每个承办单位的承办人 handler_<单位代码>（如 handler_cg）和每个网格的网格员 grid_<编号>。"
        )
        self.stdout.write("")
        if not options["no_serve"]:
            self.stdout.write(f"网址：{url}    管理后台：{url}admin/    （Ctrl-C 停止）")
        else:
            self.stdout.write(
                f"启动网站：JIEDAO_STAFF_2FA=0 jiedao serve --port {options['port']}（演示账号只用密码登录，"
                f"不设两步验证），然后打开 {url}"
            )

    # --- processes ----------------------------------------------------------------
    def _serve(self, options):
        python = sys.executable
        children = []
        # The demo accounts sign in with their password alone (no authenticator app needed);
        # a real installation keeps two-factor sign-in for staff on (docs/operations.md).
        os.environ.setdefault("JIEDAO_STAFF_2FA", "0")
        if options["host"] in sitekey.LOOPBACK:  # on this machine only (see jiedao.common.sitekey)
            os.environ[sitekey.DEMO_MARK] = "1"
        if "worker" in get_commands():
            children.append(subprocess.Popen([python, "-m", "jiedao.cli", "worker"]))
        server = subprocess.Popen(
            [python, "-m", "jiedao.cli", "serve", "--host", options["host"], "--port", str(options["port"])]
        )
        children.append(server)
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.3)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 25
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("已停止。")
        if not stopping and server.returncode:
            sys.exit(server.returncode)
