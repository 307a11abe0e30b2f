"""Cases as CSV or Excel: the rows a user may see, the reporter masked unless the
user may see it (the same rule as ``cases.selectors.may_see_reporter``) — and then the
phones and identity numbers written in the description masked too."""

import csv
import io

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from jiedao.cases import measures
from jiedao.cases.models import OPEN_STATUSES, Category, Status

# ``reporter_rule(user)``: a function ``case → bool`` with the answers of ``may_see_reporter``, the
# user's grids read once instead of once per case (a test holds the two to the same answers).
from jiedao.cases.selectors import reporter_rule, visible_cases
from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.common.masking import mask_address, mask_name, mask_personal_text, mask_phone
from jiedao.org.models import Unit

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 2000
# A cell starting with one of these would be read as a formula by a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def filtered(user, *, status="", unit="", category="", month=""):
    """The user's visible cases narrowed by status (codes, comma-separated, or ``open``),
    unit code, category code (with its sub-categories) and month of intake."""
    if user is None or not user.is_authenticated or not user.is_street_staff:
        raise NotAllowed(_("只有街道工作人员可以导出工单。"))
    qs = visible_cases(user)
    if status:
        wanted = [s for s in status.split(",") if s]
        bad = [s for s in wanted if s not in Status.values and s != "open"]
        if bad:
            raise ValidationFailed("status", _("状态“%(value)s”无效。") % {"value": ",".join(bad)})
        if "open" in wanted:
            wanted = [s for s in wanted if s != "open"] + list(OPEN_STATUSES)
        qs = qs.filter(status__in=wanted)
    if unit:
        if not Unit.objects.filter(code=unit).exists():
            raise ValidationFailed("unit", _("承办单位代码“%(code)s”不存在。") % {"code": unit})
        qs = qs.filter(unit__code=unit)
    if category:
        node = Category.objects.filter(code=category).first()
        if node is None:
            raise ValidationFailed("category", _("分类代码“%(code)s”不存在。") % {"code": category})
        qs = qs.filter(Q(category=node) | Q(category__parent=node) | Q(category__parent__parent=node))
    if month:
        start, end = measures.month_bounds(month)
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    return qs


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def header():
    return [
        _("工单编号"),
        _("受理时间"),
        _("来源渠道"),
        _("状态"),
        _("分类代码"),
        _("分类"),
        _("诉求内容"),
        _("诉求人"),
        _("联系电话"),
        _("地址"),
        _("纬度"),
        _("经度"),
        _("社区"),
        _("网格"),
        _("承办单位"),
        _("派单时间"),
        _("响应时限"),
        _("办结时限"),
        _("响应时间"),
        _("办结时间"),
        _("结案时间"),
        _("时限状态"),
        _("退单次数"),
        _("重办次数"),
        _("延期次数"),
        _("督办"),
    ]


def rows(user, **filters):
    """``(iterator of rows, [unmasked count])``: the header first, then one list per case.
    The count fills in while the rows are read."""
    qs = filtered(user, **filters).select_related("unit", "community", "grid").order_by("created_at", "id")
    paths = {}
    by_id = {c.pk: c for c in Category.objects.all()}
    for pk, category in by_id.items():
        names, node = [category.name], category
        while node.parent_id in by_id:
            node = by_id[node.parent_id]
            names.append(node.name)
        paths[pk] = " / ".join(reversed(names))
    may_see = reporter_rule(user)
    unmasked = [0]
    yes, no = _("是"), _("否")

    def generate():
        yield header()
        for case in qs.iterator(chunk_size=CHUNK):
            if may_see(case):
                unmasked[0] += 1
                name, phone, address = case.reporter_name, case.reporter_phone, case.address
                description = case.description
            else:
                name, phone, address = (
                    mask_name(case.reporter_name),
                    mask_phone(case.reporter_phone),
                    mask_address(case.address),
                )
                description = mask_personal_text(case.description)
            category = by_id.get(case.category_id)
            yield [
                case.number,
                _local(case.created_at),
                case.get_channel_display(),
                case.get_status_display(),
                category.code if category else "",
                paths.get(case.category_id, ""),
                description,
                name,
                phone,
                address,
                case.lat,
                case.lng,
                case.community.name if case.community_id else "",
                str(case.grid) if case.grid_id else "",
                case.unit.name if case.unit_id else "",
                _local(case.dispatched_at),
                _local(case.response_due),
                _local(case.completion_due),
                _local(case.responded_at),
                _local(case.resolved_at),
                _local(case.closed_at),
                case.get_urgency_display(),
                case.return_count,
                case.rework_count,
                case.extension_count,
                yes if case.supervised else no,
            ]

    return generate(), unmasked


def _safe(value):
    """Text that a spreadsheet would run as a formula is written as text ('=…)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(lines) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so that Excel opens UTF-8 Chinese correctly
    writer = csv.writer(buffer)
    for line in lines:
        writer.writerow(
            [
                "" if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else _safe(v))
                for v in line
            ]
        )
    return buffer.getvalue().encode("utf-8")


def write_xlsx(lines) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("工单"))
    bold = Font(bold=True)
    first = True
    for line in lines:
        if first:
            cells = []
            for title in line:
                cell = WriteOnlyCell(sheet, value=title)
                cell.font = bold
                cells.append(cell)
            for index, width in enumerate((18, 18, 12, 8, 10, 30, 50, 10, 14, 30), start=1):
                sheet.column_dimensions[chr(64 + index)].width = width
            sheet.append(cells)
            first = False
            continue
        row = []
        for value in line:
            if hasattr(value, "strftime"):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                row.append(cell)
            else:
                row.append(_safe(value))
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(fmt, lines):
    return write_csv(lines) if fmt == "csv" else write_xlsx(lines)
