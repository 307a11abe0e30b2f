"""``jiedao backup``: an encrypted backup of the whole database.

    jiedao backup                    one backup into the backup directory (JIEDAO_BACKUP_DIR, default var/backups)
    jiedao backup --out DIR          into DIR
    jiedao backup --keep 7           then delete all but the 7 newest
    jiedao backup --list             list the backups, newest first

SQLite is copied online (the site may keep running); PostgreSQL with pg_dump from one
snapshot. The file is encrypted with the installation's backup key (see docs/operations.md).
"""

from django.core.management.base import BaseCommand, CommandError

from jiedao.common.errors import ValidationFailed
from jiedao.ops import backup


class Command(BaseCommand):
    help = "备份整个数据库（加密），可指定目录和保留份数；--list 列出已有备份。"

    def add_arguments(self, parser):
        parser.add_argument("--out", help="备份目录（默认 JIEDAO_BACKUP_DIR 或 var/backups）")
        parser.add_argument("--keep", type=int, help="备份完成后只保留最新的几份")
        parser.add_argument("--list", dest="show_list", action="store_true", help="列出已有的备份")

    def handle(self, *args, out=None, keep=None, show_list=False, **options):
        if show_list:
            files = backup.list_backups(out)
            if not files:
                self.stdout.write("还没有备份。")
            for path in files:
                header = backup.read_header(path)
                self.stdout.write(
                    f"{path}  {header.get('created_at', '')}  {header.get('engine')}  "
                    f"{header.get('rows', 0)} 行  {path.stat().st_size / 1e6:.1f} MB"
                )
            return
        try:
            path, header = backup.take_backup(out)
            removed = backup.prune_backups(keep, out) if keep else []
        except (backup.BackupError, ValidationFailed) as error:
            raise CommandError(
                str(error.errors[0]["message"] if isinstance(error, ValidationFailed) else error)
            ) from error
        self.stdout.write(f"已备份 {len(header['tables'])} 张表、{header['rows']} 行（{header['engine']}）。")
        for old in removed:
            self.stdout.write(f"已删除旧备份 {old}")
        self.stdout.write(str(path))
