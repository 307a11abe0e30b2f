"""``jiedao import``: bringing history in.

    jiedao import cases FILE --mapping MAPPING.yaml [--dry-run] [--max-errors N]

Imports past work orders from CSV or Excel (see docs/open311.md for the mapping).
All or nothing: if any row is bad, nothing is written and every bad row is listed with
its line number and reason. Rows whose number already exists are skipped, so a second
import of the same file changes nothing. ``--dry-run`` checks and reports only.

Exit status: 0 imported (or, with --dry-run, the file would import); 1 bad rows, nothing
written; 2 the file or the mapping cannot be used.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ...importer import MappingError, import_cases, load_mapping


class Command(BaseCommand):
    help = _("导入历史数据：jiedao import cases 文件 --mapping 映射.yaml [--dry-run]")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        cases = sub.add_parser("cases", help=_("从 CSV 或 Excel 导入历史工单"))
        cases.add_argument("file")
        cases.add_argument("--mapping", required=True, help=_("列与取值的映射（YAML）"))
        cases.add_argument("--dry-run", action="store_true", help=_("只检查并报告，不写入"))
        cases.add_argument("--max-errors", type=int, default=200, help=_("最多列出多少个错误行（默认 200）"))

    def handle(self, *args, what, **options):
        getattr(self, f"do_{what}")(**options)

    def do_cases(self, file, mapping, dry_run=False, max_errors=200, **options):
        started = time.monotonic()
        try:
            report = import_cases(file, load_mapping(mapping), dry_run=dry_run, out=self.stdout)
        except MappingError as exc:
            raise CommandError(str(exc), returncode=2) from None
        seconds = time.monotonic() - started
        for line, reason in report.bad[:max_errors]:
            self.stderr.write(_("第 %(line)d 行：%(reason)s") % {"line": line, "reason": reason})
        if len(report.bad) > max_errors:
            self.stderr.write(_("……另有 %(n)d 个错误行未列出。") % {"n": len(report.bad) - max_errors})
        if report.new_categories:
            verb = _("将新建") if (dry_run or report.bad) else _("已新建")
            self.stdout.write(
                _("%(verb)s分类（在“导入”下，停用状态）：%(names)s")
                % {"verb": verb, "names": "、".join(report.new_categories)}
            )
        summary = {
            "rows": report.rows,
            "created": report.created,
            "unchanged": report.unchanged,
            "bad": len(report.bad),
            "events": report.events,
            "ratings": report.ratings,
            "seconds": seconds,
            "rate": report.rows / seconds if seconds else 0,
        }
        if report.bad:
            raise CommandError(_("导入失败：共 %(rows)d 行，%(bad)d 行有错误，未写入任何数据。") % summary)
        if dry_run:
            self.stdout.write(
                _("试运行（未写入）：共 %(rows)d 行，可新增 %(created)d 件，已存在 %(unchanged)d 件，没有错误行。")
                % summary
            )
            return
        self.stdout.write(
            _(
                "导入完成：共 %(rows)d 行，新增工单 %(created)d 件（流转记录 %(events)d 条，回访评价 "
                "%(ratings)d 条），已存在未改动 %(unchanged)d 件；用时 %(seconds).1f 秒（%(rate).0f 行/秒）。"
            )
            % summary
        )
