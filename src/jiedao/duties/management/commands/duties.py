"""jiedao duties import FILE --reason R [--approval-doc D] [--user admin]
jiedao duties export FILE
jiedao duties count [--date YYYY-MM-DD]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jiedao.common.errors import ValidationFailed
from jiedao.org.models import User

from ... import excel, selectors, services


class Command(BaseCommand):
    help = "权责清单：导入、导出 Excel，统计在册事项数"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入 Excel（整个文件全部成功才写入）")
        imp.add_argument("file")
        imp.add_argument("--reason", required=True, help="调整理由")
        imp.add_argument("--approval-doc", default="", help="批准文号")
        imp.add_argument("--user", default="admin", help="以哪个管理员的名义导入")
        exp = sub.add_parser("export", help="导出当前有效事项为 Excel")
        exp.add_argument("file")
        cnt = sub.add_parser("count", help="某日在册的街道权责事项数")
        cnt.add_argument("--date", default=None)

    def handle(self, *args, action, **options):
        if action == "import":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户“{options['user']}”不存在。")
            try:
                with open(options["file"], "rb") as handle:
                    rows = excel.read_rows(handle)
                counts = services.import_rows(
                    user, rows=rows, reason=options["reason"], approval_doc=options["approval_doc"]
                )
            except FileNotFoundError:
                raise CommandError(f"文件不存在：{options['file']}") from None
            except ValidationFailed as exc:
                for error in exc.errors:
                    self.stderr.write(f"{error['field']}: {error['message']}")
                raise CommandError(f"导入失败，共 {len(exc.errors)} 处错误，未写入任何事项。") from None
            self.stdout.write(
                f"导入完成：新增 {counts['created']}，修改 {counts['updated']}，未变 {counts['unchanged']}。"
            )
        elif action == "export":
            versions = sorted(selectors.in_force_now(), key=lambda v: v.item.code)
            with open(options["file"], "wb") as handle:
                handle.write(excel.write_workbook(versions))
            self.stdout.write(f"已导出 {len(versions)} 项到 {options['file']}")
        else:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
            self.stdout.write(str(selectors.count_in_force(day)))
