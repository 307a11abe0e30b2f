"""``jiedao report monthly 2026-10 --out DIR``: the monthly report (月通报) as Excel and
PDF, written into DIR; the two paths are printed (``--street CODE`` in a city installation).
Exit status: 0 done; 2 wrong arguments."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.org.models import Street

from ... import periods, report


class Command(BaseCommand):
    help = _("月通报：生成 Excel 和 PDF 文件。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        monthly = sub.add_parser("monthly", help=_("月通报"))
        monthly.add_argument("month", help=_("月份，如 2026-10"))
        monthly.add_argument("--out", default=".", help=_("输出目录（默认当前目录）"))
        monthly.add_argument("--street", default="", help=_("街道代码（多街道安装时必填；默认唯一的街道）"))

    def handle(self, *args, kind, month, out, street="", **options):

        try:
            period = periods.parse(month, "month")
        except ValidationFailed as exc:
            raise CommandError(exc.errors[0]["message"], returncode=2) from None
        streets = Street.objects.order_by("code")
        if street:
            chosen = streets.filter(code=street).first()
            if chosen is None:
                raise CommandError(_("街道代码“%(code)s”不存在。") % {"code": street}, returncode=2)
        elif streets.count() > 1:
            raise CommandError(
                _("本系统有多个街道，请用 --street 指定街道代码：%(codes)s")
                % {"codes": "、".join(f"{s.code} {s.name}" for s in streets[:20])},
                returncode=2,
            )
        else:
            chosen = streets.first()
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        data = report.monthly_data(period, chosen)
        name = f"{chosen.name}-{period.key}" if street else period.key
        xlsx = folder / f"月通报-{name}.xlsx"
        pdf = folder / f"月通报-{name}.pdf"
        xlsx.write_bytes(report.excel(data))
        pdf.write_bytes(report.pdf(data))
        self.stdout.write(str(xlsx))
        self.stdout.write(str(pdf))
