"""jiedao registry import persons|households|buildings FILE.xlsx|FILE.csv [--source NAME] [--user USERNAME]
jiedao registry template persons|households|buildings OUT.xlsx

``import`` is all or nothing: a file with any bad row is refused, each error is
printed as ``第N行 列名: 问题`` and the command exits with status 1; nothing is written.
Progress is printed while a large file is checked and written."""

import time

from django.core.management.base import BaseCommand, CommandError

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.org.models import User

from ... import sheets
from ...importing import import_file
from ...selectors import describe_counts

KINDS = list(sheets.COLUMNS)
PHASES = {"check": "检查", "write": "写入"}


class Command(BaseCommand):
    help = "一户一档：导入人员、户、楼栋（Excel/CSV，整个文件全部正确才写入），或生成导入模板"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入 .xlsx 或 .csv 文件（有错误时不写入任何数据，退出码1）")
        imp.add_argument("kind", choices=KINDS)
        imp.add_argument("file")
        imp.add_argument("--source", default="", help="数据来源，如 公安人口库；留空时记为文件名")
        imp.add_argument("--user", default="", help="以哪个管理员的名义导入（默认第一个系统管理员）")
        tpl = sub.add_parser("template", help="生成某类数据的导入模板（.xlsx）")
        tpl.add_argument("kind", choices=KINDS)
        tpl.add_argument("out")

    def handle(self, *args, action, **options):
        if action == "template":
            with open(options["out"], "wb") as handle:
                handle.write(sheets.template_workbook(options["kind"]))
            self.stdout.write(f"已生成{sheets.KIND_LABELS[options['kind']]}导入模板：{options['out']}")
            return
        user = self._user(options["user"])
        started = time.monotonic()
        last = {"at": 0.0, "step": None}

        def progress(phase, done, total):
            now = time.monotonic()
            if last["step"] == (phase, done):
                return
            if done in (0, total) or now - last["at"] >= 1.0:
                last.update(at=now, step=(phase, done))
                percent = 100 * done // total if total else 100
                self.stdout.write(f"{PHASES.get(phase, phase)} {done}/{total} 行（{percent}%）")
                self.stdout.flush()

        try:
            run = import_file(
                user, kind=options["kind"], file=options["file"], source=options["source"], progress=progress
            )
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(f"{error['field']}: {error['message']}" if error.get("row") else error["message"])
            raise CommandError(f"导入失败：共 {len(exc.errors)} 处错误，未写入任何数据。", returncode=1) from None
        except NotAllowed as exc:
            raise CommandError(exc.message, returncode=1) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"导入完成（用时 {time.monotonic() - started:.1f} 秒）。{describe_counts(run.kind, run.counts)}"
            )
        )
        if run.counts.get("conflicts"):
            self.stdout.write("有不一致的信息已列为冲突，请在“一户一档 › 数据冲突”页面决定。")

    def _user(self, username):
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"用户“{username}”不存在。", returncode=1)
            return user
        user = (
            User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
            or User.objects.filter(groups__name="admin", is_active=True).order_by("id").first()
        )
        if user is None:
            raise CommandError("没有系统管理员账号：请先创建（jiedao createsuperuser）或用 --user 指定。", returncode=1)
        return user
