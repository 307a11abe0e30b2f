"""``jiedao check``: is this installation ready for production?

Django's own deployment checks (``check --deploy``: HTTPS, cookies, hosts …) and
Jiedao's (secret key, encryption keys, holiday data for this and next year, the worker's
heartbeat, recent backups, files other users can read, the proxy setting), each problem in
plain words with how to fix it. Exits with
status 1 when anything is wrong; ``--fail-level ERROR`` tolerates warnings.
"""

from django.core.management.base import CommandError
from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = "检查本系统能否投入生产使用：Django 的部署检查，以及密钥、节假日数据、后台任务心跳、备份、文件权限、反向代理设置。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(deploy=True, fail_level="WARNING")

    def handle(self, *app_labels, **options):
        try:
            super().handle(*app_labels, **options)
        except CommandError as problems:
            self.stderr.write(str(problems))
            self.stderr.write("发现上面列出的问题，请逐条处理后再运行 jiedao check。")
            raise CommandError("检查未通过。", returncode=1) from None
        self.stdout.write("检查通过：可以投入生产使用。")
