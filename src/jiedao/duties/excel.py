"""The responsibility list as an Excel sheet in the layout street offices use:
one row per item, Chinese column headers, first sheet, header in the first row."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from jiedao.common.errors import ValidationFailed

from .models import DutyStatus, Level, ListType, PowerType

# Column header → field. The order is the export order.
COLUMNS = [
    ("事项编码", "code"),
    ("事项名称", "name"),
    ("清单类型", "list_type"),
    ("权力类型", "power_type"),
    ("层级", "level"),
    ("主办单位", "responsible_unit"),
    ("协办单位", "collaborating_units"),
    ("对应工单分类", "categories"),
    ("设定依据", "basis_statute"),
    ("条款", "basis_article"),
    ("依据内容", "basis_text"),
    ("响应时限(小时)", "response_hours"),
    ("办结时限(工作日)", "completion_workdays"),
    ("需现场核查", "needs_verification"),
    ("完整执法权", "full_enforcement"),
    ("状态", "status"),
    ("生效日期", "effective_from"),
    ("失效日期", "effective_to"),
    ("办理指引", "how_to"),
    ("常见问题关键词", "keywords"),
]
REQUIRED_HEADERS = ("事项编码", "事项名称", "权力类型", "层级", "设定依据", "生效日期")
FIELD_LABELS = {fieldname: header for header, fieldname in COLUMNS}


def read_rows(uploaded):
    """Reads an .xlsx file into row dicts keyed by field; ``row`` is the sheet's line number."""
    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise ValidationFailed("file", _("无法读取文件：请上传 Excel（.xlsx）文件。")) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("file", _("文件是空的。"))
    header = [str(h).strip() if h is not None else "" for h in header]
    missing = [h for h in REQUIRED_HEADERS if h not in header]
    if missing:
        raise ValidationFailed("file", _("缺少必需的列：%(columns)s。") % {"columns": "、".join(missing)})
    by_header = dict(COLUMNS)
    result = []
    for line, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        row = {"row": line}
        for header_name, value in zip(header, values, strict=False):
            fieldname = by_header.get(header_name)
            if fieldname:
                row[fieldname] = "" if value is None else value
        result.append(row)
    workbook.close()
    return result


def _label(choices, value):
    return str(dict(choices.choices).get(value, value))


def write_workbook(versions) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "权责清单"
    sheet.append([header for header, _f in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B22222")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for v in versions:
        sheet.append(
            [
                v.item.code,
                v.name,
                _label(ListType, v.list_type),
                _label(PowerType, v.power_type),
                _label(Level, v.level),
                v.responsible_unit.code if v.responsible_unit else "",
                "；".join(u.code for u in v.collaborating_units.all()),
                "；".join(c.code for c in v.categories.all()),
                v.basis_statute,
                v.basis_article,
                v.basis_text,
                float(v.response_hours) if v.response_hours is not None else None,
                v.completion_workdays,
                "是" if v.needs_verification else "否",
                "是" if v.full_enforcement else "否",
                _label(DutyStatus, v.status),
                v.effective_from,
                v.effective_to,
                v.how_to,
                v.keywords,
            ]
        )
    widths = [14, 30, 12, 8, 8, 12, 16, 20, 30, 14, 40, 10, 10, 8, 8, 8, 12, 12, 30, 24]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
