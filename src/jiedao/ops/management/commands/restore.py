"""``jiedao restore FILE``: restore an encrypted backup.

    jiedao restore var/backups/jiedao-20261123-020000-sqlite.jdbk
    jiedao restore FILE --database-url postgres://…/jiedao_new     into another (empty) database
    jiedao restore FILE --replace                                   overwrite a database that has data

Stop ``jiedao serve`` and ``jiedao worker`` first. The backup is checked (key, every
chunk, completeness) before anything is written, and the row count of every table is
compared with the counts the backup recorded.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from jiedao.ops import backup


class Command(BaseCommand):
    help = "从加密备份恢复数据库（先停止网站和后台任务）。"
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="备份文件（.jdbk）")
        parser.add_argument("--database-url", help="恢复到这个数据库（默认：当前配置的数据库）")
        parser.add_argument("--replace", action="store_true", help="目标数据库已有数据时，用备份覆盖")

    def handle(self, *args, file, database_url=None, replace=False, **options):
        try:
            target = backup.Target.from_url(database_url) if database_url else backup.Target.default()
            if target.engine == "sqlite" and not database_url:
                connections.close_all()  # the file is about to be replaced
            result = backup.restore_backup(file, target, replace=replace)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        tables = result["tables"]
        self.stdout.write(
            f"已恢复 {len(tables)} 张表、{sum(tables.values())} 行，"
            f"与备份记录逐表核对一致（备份时间 {result['header'].get('created_at')}）。"
        )
