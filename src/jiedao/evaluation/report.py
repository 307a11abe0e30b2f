"""月通报 — the monthly report: rankings, indicators against targets, warnings and
rectifications, top problems, with charts. ``monthly_data`` gathers the figures (the same
selectors as the pages); ``excel`` and ``pdf`` render them."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from jiedao.hall.notice import SC_IN_COLLECTION, _font
from jiedao.org.models import Street
from jiedao.workcal.calendar import SHANGHAI

from . import indicators as lib
from . import scoring, selectors
from .models import Rectification, Result, Scheme, Warning

SECTIONS = (_("一、考核排名"), _("二、指标完成情况"), _("三、预警与整改"), _("四、突出问题"))


def _met(indicator, value, target):
    if value is None or target is None:
        return None
    return value >= target if indicator.direction == lib.HIGHER else value <= target


def monthly_data(period, street=None):
    """The figures of ``street`` (default: the first street by code) for the month."""

    if street is None:
        street = Street.objects.order_by("code").first()
    rankings = []
    for scheme in Scheme.objects.filter(active=True).prefetch_related("items"):
        for scope, label in (("community", _("社区")), ("unit", _("承办单位"))):
            codes = selectors.scope_codes(street, scope) if street is not None else None
            rows = scoring.ranking(scheme, period, scope, codes=codes)
            rankings.append({"scheme": scheme.name, "scope": str(label), "rows": [r.as_dict() for r in rows]})
    street_values = {}

    for code, value in Result.objects.filter(
        period_kind="month", period_key=period.key, scope_kind="street", scope_code=street.code if street else ""
    ).values_list("indicator", "value"):
        street_values[code] = value
    indicator_rows = []
    for indicator in lib.INDICATORS:
        if "street" not in indicator.scopes:
            continue
        baseline, target = scoring.settings_of(indicator)
        computable = indicator.computable()
        value = street_values.get(indicator.code) if computable else None
        met = _met(indicator, value, target)
        indicator_rows.append(
            {
                "code": indicator.code,
                "name": str(indicator.name),
                "family": str(indicator.family),
                "value": value,
                "display": selectors.display(indicator, value) if computable else _("尚不可计算"),
                "target": target,
                "display_target": selectors.display(indicator, target),
                "baseline": baseline,
                "met": met,
                "met_label": "" if met is None else (_("达标") if met else _("未达标")),
            }
        )
    warnings = Warning.objects.filter(opened_at__lt=period.end).filter(
        status=Warning.Status.ACTIVE
    ) | Warning.objects.filter(opened_at__gte=period.start, opened_at__lt=period.end)
    if street is not None:
        warnings = warnings.filter(selectors.in_scopes([street]))
    warning_rows = [
        {
            "title": w.title,
            "level": str(w.get_level_display()),
            "kind": str(w.get_kind_display()),
            "status": str(w.get_status_display()),
            "detail": w.detail,
            "opened": w.opened_at.astimezone(SHANGHAI).strftime("%Y-%m-%d"),
        }
        for w in warnings.distinct().order_by("-opened_at")[:50]
    ]
    tasks = (
        Rectification.objects.select_related("unit")
        .filter(issued_at__lt=period.end, unit__street=street)
        .exclude(closed_at__lt=period.start)
        .order_by("issued_at")
    )
    now = timezone.now()
    task_rows = [
        {
            "number": t.number,
            "unit": t.unit.name,
            "title": t.title,
            "status": str(t.get_status_display()),
            "due": t.due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d"),
            "overdue": t.status != "closed" and t.due_at < min(now, period.end),
        }
        for t in tasks[:100]
    ]
    return {
        "title": _("%(street)s %(month)s 效能评价月通报")
        % {"street": street.name if street else "", "month": period.key},
        "month": period.key,
        "generated_at": now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        "rankings": rankings,
        "indicators": indicator_rows,
        "warnings": warning_rows,
        "rectifications": task_rows,
        "problems": selectors.top_problems(period, street=street),
    }


# --- Excel ---------------------------------------------------------------------------------------


def excel(data) -> bytes:

    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    sheet.title = _("考核排名")
    sheet.append([data["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([str(SECTIONS[0])])
    chart_done = False
    for block in data["rankings"]:
        sheet.append([])
        sheet.append([f"{block['scheme']} · {block['scope']}"])
        header_row = sheet.max_row + 1
        sheet.append([_("名次"), _("名称"), _("得分"), _("等次"), _("上月名次"), _("名次变化")])
        for cell in sheet[header_row]:
            cell.font = bold
        for row in block["rows"]:
            sheet.append(
                [row["rank"], row["scope_name"], row["score"], row["grade_label"], row["previous_rank"], row["change"]]
            )
        last = sheet.max_row
        if not chart_done and last > header_row:
            chart = BarChart()
            chart.title = f"{block['scheme']} · {block['scope']}"
            chart.y_axis.title = _("得分")
            chart.add_data(Reference(sheet, min_col=3, min_row=header_row, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=2, min_row=header_row + 1, max_row=last))
            chart.width, chart.height = 18, 8
            sheet.add_chart(chart, "H3")
            chart_done = True
    sheet.column_dimensions["B"].width = 24

    ind = book.create_sheet(_("指标完成情况"))
    ind.append([str(SECTIONS[1])])
    ind.append([_("指标代码"), _("指标"), _("领域"), _("本月"), _("目标"), _("是否达标")])
    for cell in ind[2]:
        cell.font = bold
    for row in data["indicators"]:
        ind.append(
            [
                row["code"],
                row["name"],
                row["family"],
                row["value"] if row["value"] is not None else row["display"],
                row["target"],
                row["met_label"],
            ]
        )
    ind.column_dimensions["B"].width = 22

    warn = book.create_sheet(_("预警与整改"))
    warn.append([str(SECTIONS[2])])
    warn.append([_("预警"), _("类型"), _("等级"), _("状态"), _("说明"), _("发出日期")])
    for row in data["warnings"]:
        warn.append([row["title"], row["kind"], row["level"], row["status"], row["detail"], row["opened"]])
    warn.append([])
    warn.append([_("指令编号"), _("责任单位"), _("整改事项"), _("状态"), _("整改时限"), _("是否超期")])
    for row in data["rectifications"]:
        warn.append(
            [row["number"], row["unit"], row["title"], row["status"], row["due"], _("超期") if row["overdue"] else ""]
        )
    warn.column_dimensions["A"].width = 40

    prob = book.create_sheet(_("突出问题"))
    prob.append([str(SECTIONS[3])])
    prob.append([_("问题分类"), _("件数")])
    for row in data["problems"]:
        prob.append([row["category"], row["count"]])
    if data["problems"]:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("受理量最多的问题")
        chart.add_data(Reference(prob, min_col=2, min_row=2, max_row=prob.max_row), titles_from_data=True)
        chart.set_categories(Reference(prob, min_col=1, min_row=3, max_row=prob.max_row))
        chart.width, chart.height = 18, 9
        prob.add_chart(chart, "D2")
    prob.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF -----------------------------------------------------------------------------------------


def pdf(data) -> bytes:

    doc = FPDF(format="A4")
    doc.set_auto_page_break(True, margin=15)
    doc.add_page()
    doc.add_font("cjk", fname=str(_font()), collection_font_number=SC_IN_COLLECTION)
    width = doc.w - doc.l_margin - doc.r_margin

    def text(value, size=10, gap=1, h=None):
        doc.set_font("cjk", size=size)
        doc.multi_cell(width, h or size * 0.55, str(value), new_x="LMARGIN", new_y="NEXT")
        doc.ln(gap)

    def table(headers, rows, widths):
        doc.set_font("cjk", size=9)
        doc.set_fill_color(230, 236, 245)
        for header, w in zip(headers, widths, strict=False):
            doc.cell(w, 7, str(header), border=1, fill=True)
        doc.ln(7)
        for row in rows:
            for value, w in zip(row, widths, strict=False):
                value = "" if value is None else str(value)
                while value and doc.get_string_width(value) > w - 1:
                    value = value[:-1]
                doc.cell(w, 6, value, border=1)
            doc.ln(6)
        doc.ln(3)

    def bars(items, label_w=45, max_w=None):
        """A horizontal bar chart: [(label, value)]."""
        max_w = max_w or width - label_w - 20
        top = max((v for _l, v in items if v), default=0) or 1
        doc.set_font("cjk", size=8)
        for label, value in items:
            doc.cell(label_w, 5, str(label)[:16])
            length = max_w * (value or 0) / top
            doc.set_fill_color(37, 99, 235)
            if length > 0:
                doc.rect(doc.get_x(), doc.get_y() + 1, length, 3.5, style="F")
            doc.set_x(doc.get_x() + length + 2)
            doc.cell(18, 5, "—" if value is None else f"{value:g}")
            doc.ln(5)
        doc.ln(3)

    text(data["title"], size=16, gap=2, h=9)
    text(_("生成时间：%(at)s") % {"at": data["generated_at"]}, size=9, gap=3)

    text(SECTIONS[0], size=13, gap=2, h=8)
    first_chart = True
    for block in data["rankings"]:
        text(f"{block['scheme']} · {block['scope']}", size=11)
        rows = [
            [
                r["rank"] or "—",
                r["scope_name"],
                "—" if r["score"] is None else f"{r['score']:.1f}",
                r["grade_label"],
                r["previous_rank"] or "—",
                "—" if r["change"] is None else f"{r['change']:+d}",
            ]
            for r in block["rows"]
        ]
        table([_("名次"), _("名称"), _("得分"), _("等次"), _("上月名次"), _("变化")], rows, [14, 62, 22, 22, 24, 20])
        if first_chart and block["rows"]:
            bars([(r["scope_name"], r["score"]) for r in block["rows"][:12]])
            first_chart = False

    text(SECTIONS[1], size=13, gap=2, h=8)
    table(
        [_("指标"), _("领域"), _("本月"), _("目标"), _("是否达标")],
        [[r["name"], r["family"], r["display"], r["display_target"], r["met_label"]] for r in data["indicators"]],
        [60, 34, 32, 32, 24],
    )

    text(SECTIONS[2], size=13, gap=2, h=8)
    if data["warnings"]:
        table(
            [_("预警"), _("等级"), _("状态"), _("发出日期")],
            [[w["title"], w["level"], w["status"], w["opened"]] for w in data["warnings"]],
            [104, 20, 26, 30],
        )
    else:
        text(_("本月无预警。"))
    if data["rectifications"]:
        table(
            [_("指令编号"), _("责任单位"), _("整改事项"), _("状态"), _("时限")],
            [
                [t["number"], t["unit"], t["title"], t["status"] + (_("（超期）") if t["overdue"] else ""), t["due"]]
                for t in data["rectifications"]
            ],
            [30, 34, 72, 24, 22],
        )
    else:
        text(_("本月无整改指令。"))

    text(SECTIONS[3], size=13, gap=2, h=8)
    if data["problems"]:
        bars([(p["category"].split(" / ")[-1], p["count"]) for p in data["problems"]])
        table([_("问题分类"), _("件数")], [[p["category"], p["count"]] for p in data["problems"]], [150, 30])
    else:
        text(_("本月无受理记录。"))
    return bytes(doc.output())
