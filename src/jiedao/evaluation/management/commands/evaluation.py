"""``jiedao evaluation``: compute indicator results, check warnings.

    jiedao evaluation compute --period month --at 2026-10 [--to 2026-12]
    jiedao evaluation tick                   (what the worker does: current periods, rollup, warnings)

Exit status: 0 done; 2 wrong arguments."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed

from ... import compute, periods, services
from ...tasks import describe


class Command(BaseCommand):
    help = _("效能评价：计算指标结果（可补算历史周期）、巡检预警。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        comp = sub.add_parser("compute", help=_("计算一个或一段周期的指标结果"))
        comp.add_argument("--period", required=True, choices=periods.KINDS)
        comp.add_argument("--at", required=True, help=_("周期，如 2026-10、2026-W44、2026-Q4、2026"))
        comp.add_argument("--to", default=None, help=_("补算到此周期（含）"))
        comp.add_argument("--warnings", action="store_true", help=_("计算周结果后检查指标预警"))
        sub.add_parser("tick", help=_("执行一次后台评价（当前周期、汇总、预警）"))

    def handle(self, *args, action, **options):
        if action == "tick":
            self.stdout.write(describe(services.tick()))
            return
        kind, first, last = options["period"], options["at"], options["to"] or options["at"]
        try:
            start, end = periods.parse(first, kind), periods.parse(last, kind)
        except ValidationFailed as exc:
            raise CommandError(exc.errors[0]["message"], returncode=2) from None
        if end.start < start.start:
            raise CommandError(_("--to 不能早于 --at。"), returncode=2)
        compute.refresh_daily_counts(start.start.date(), end.end.date())
        compute.refresh_heat_cells(start.start.date(), end.end.date())
        now = timezone.now()

        def report(key, count):
            self.stdout.write(_("%(period)s：写入指标结果 %(count)d 条") % {"period": key, "count": count})
            if options["warnings"] and kind == "week":
                counts = services.evaluate_indicator_warnings(periods.parse(key, "week"), now=now)
                self.stdout.write(_("  预警：新 %(opened)d，升级 %(escalated)d，恢复 %(recovered)d") % counts)

        compute.compute_many(kind, start.key, end.key, now=now, out=report)
