"""The access log as an Excel sheet, for review outside the system."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from . import selectors

CHUNK = 2000


def access_log_workbook(queryset) -> bytes:
    """Every row of ``queryset`` (already filtered and scoped) as one sheet, newest first."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("个人信息查看记录"))
    header = [
        _("编号"),
        _("时间"),
        _("用户名"),
        _("姓名"),
        _("记录类型"),
        _("记录编号"),
        _("工单编号"),
        _("查看的字段"),
        _("用途"),
    ]
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cells.append(cell)
    for width, column in zip((10, 20, 16, 14, 16, 12, 20, 30, 16), "ABCDEFGHI", strict=False):
        sheet.column_dimensions[column].width = width
    sheet.append(cells)
    zone = timezone.get_default_timezone()
    batch = []
    for row in queryset.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) >= CHUNK:
            _write(sheet, batch, zone)
            batch = []
    _write(sheet, batch, zone)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write(sheet, rows, zone):
    for row in selectors.describe(rows):
        sheet.append(
            [
                row.id,
                row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                row.user.username,
                row.user.display_name,
                row.type_label,
                row.object_id,
                row.case_number or "",
                "、".join(row.field_labels),
                row.purpose_label,
            ]
        )
