"""``jiedao workdays``: check the working calendar by hand.

    jiedao workdays add DATE N    the date N working days after DATE (DATE not counted)
    jiedao workdays is DATE       whether DATE is a working day, and why
    jiedao workdays check YEAR    whether the year's holidays are known, and from where

Wrong input stops with a message naming the argument and exit code 2.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiedao.workcal import calendar
from jiedao.workcal.models import CalendarDay, CalendarYear

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
MAX_WORKDAYS = 1000
USAGE = "jiedao workdays add DATE N | is DATE | check YEAR"


def bad_input(message):
    return CommandError(message, returncode=2)


def parse_date(value, name="DATE"):
    if value is None:
        raise bad_input(_("缺少参数 %(name)s：请给出日期，格式 YYYY-MM-DD，例如 2026-09-30。") % {"name": name})
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise bad_input(
            _("参数 %(name)s 不是有效日期：“%(value)s”。请按 YYYY-MM-DD 填写，例如 2026-09-30。")
            % {"name": name, "value": value}
        ) from None


def parse_count(value, name="N"):
    if value is None:
        raise bad_input(_("缺少参数 %(name)s：请给出工作日天数，例如 3。") % {"name": name})
    text = value.strip()
    if not text.isdigit() or not 0 <= int(text) <= MAX_WORKDAYS:
        raise bad_input(
            _("参数 %(name)s 应为 0 到 %(max)d 之间的整数（工作日天数），收到“%(value)s”。")
            % {"name": name, "max": MAX_WORKDAYS, "value": value}
        )
    return int(text)


def parse_year(value, name="YEAR"):
    if value is None:
        raise bad_input(_("缺少参数 %(name)s：请给出四位年份，例如 2027。") % {"name": name})
    text = value.strip()
    if not (len(text) == 4 and text.isdigit() and 1900 <= int(text) <= 2999):
        raise bad_input(_("参数 %(name)s 应为四位年份，例如 2027，收到“%(value)s”。") % {"name": name, "value": value})
    return int(text)


def source_text(source, year):
    if source == "package":
        return _("chinesecalendar 节假日数据包")
    if source == "entered":
        notice = CalendarYear.objects.filter(year=year).values_list("notice", flat=True).first()
        if notice:
            return _("管理员录入的放假通知（%(notice)s）") % {"notice": notice}
        return _("管理员录入的放假通知")
    return _("%(year)d年放假通知尚未录入，按周一至周五推算") % {"year": year}


class Command(BaseCommand):
    help = _(
        "查工作日历：add DATE N 算 N 个工作日后的日期；is DATE 看某天是否上班及原因；"
        "check YEAR 看某年的放假安排是否已知、来自哪里。"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", help="add | is | check")
        parser.add_argument("values", nargs="*", metavar="ARG", help="add: DATE N；is: DATE；check: YEAR")

    def handle(self, *unused, action=None, values=(), **options):
        args = list(unused) + list(values or ())
        expected = {"add": 2, "is": 1, "check": 1}
        if action is None:
            raise bad_input(_("请给出子命令：%(usage)s") % {"usage": USAGE})
        if action not in expected:
            raise bad_input(
                _("未知的子命令“%(action)s”，可用：add、is、check（%(usage)s）。") % {"action": action, "usage": USAGE}
            )
        if len(args) > expected[action]:
            raise bad_input(
                _("多余的参数：%(extra)s（用法：%(usage)s）。")
                % {"extra": " ".join(args[expected[action] :]), "usage": USAGE}
            )
        args += [None] * (expected[action] - len(args))
        getattr(self, f"do_{action}")(*args)

    # --- subcommands ------------------------------------------------------------

    def do_add(self, date_text, count_text):
        start = parse_date(date_text)
        count = parse_count(count_text)
        due = calendar.add_workdays(start, count)
        self.stdout.write(due.isoformat())
        unknown = calendar.unknown_years(range(start.year, due.year + 1))
        for year in unknown:
            self.stderr.write(
                _("注意：%(year)d年的放假安排尚未录入，该年按周一至周五计算，结果可能不准。") % {"year": year}
            )

    def do_is(self, date_text):
        day = parse_date(date_text)
        info = calendar.day_info(day)
        verdict = _("工作日") if info.workday else _("休息日")
        if info.reason == "holiday":
            why = _("%(name)s放假") % {"name": info.name} if info.name else _("法定节假日放假")
        elif info.reason == "makeup":
            why = _("%(name)s调休上班") % {"name": info.name} if info.name else _("调休上班")
        elif info.reason == "weekend":
            why = _("周末")
        else:
            why = _("平常工作日")
        self.stdout.write(
            _("%(date)s %(weekday)s %(verdict)s：%(why)s。来源：%(source)s。")
            % {
                "date": day.isoformat(),
                "weekday": WEEKDAY_NAMES[day.weekday()],
                "verdict": verdict,
                "why": why,
                "source": source_text(info.source, day.year),
            }
        )

    def do_check(self, year_text):
        year = parse_year(year_text)
        source = calendar.year_source(year)
        days = [
            dt.date(year, 1, 1) + dt.timedelta(days=i)
            for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)
        ]
        infos = [calendar.day_info(d) for d in days]
        holidays = sum(1 for i in infos if i.reason == "holiday")
        makeup = sum(1 for i in infos if i.reason == "makeup")
        workdays = sum(1 for i in infos if i.workday)
        if source is None:
            entered = CalendarDay.objects.filter(date__year=year).count()
            self.stdout.write(
                _(
                    "%(year)d年：未知。尚未录入国务院办公厅的放假通知，暂按周一至周五为工作日计算"
                    "（全年 %(workdays)d 个工作日）。"
                )
                % {"year": year, "workdays": workdays}
            )
            if entered:
                self.stdout.write(
                    _(
                        "已录入 %(count)d 天的安排（已按录入生效），但尚未在“已录入放假通知的年份”中"
                        "标记%(year)d年录入完毕。"
                    )
                    % {"count": entered, "year": year}
                )
            else:
                self.stdout.write(
                    _(
                        "请在管理后台“节假日安排”中录入放假日和调休上班日，录完后在"
                        "“已录入放假通知的年份”中添加%(year)d年。"
                    )
                    % {"year": year}
                )
            return
        self.stdout.write(
            _(
                "%(year)d年：已知。来源：%(source)s。放假 %(holidays)d 天（含周末连休），"
                "调休上班 %(makeup)d 天，全年 %(workdays)d 个工作日。"
            )
            % {
                "year": year,
                "source": source_text(source, year),
                "holidays": holidays,
                "makeup": makeup,
                "workdays": workdays,
            }
        )
        if source == "package" and CalendarDay.objects.filter(date__year=year).exists():
            self.stdout.write(
                _("另有管理员录入的 %(count)d 天安排，优先于数据包生效。")
                % {"count": CalendarDay.objects.filter(date__year=year).count()}
            )
