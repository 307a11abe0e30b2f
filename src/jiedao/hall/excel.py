"""The catalogue as an Excel workbook: sheet 事项 (one row per item) and sheet 材料 (one
row per material, by the item's implementing code). Header in the first row."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from jiedao.common.errors import ValidationFailed

ITEM_COLUMNS = [
    ("实施编码", "code"),
    ("基本编码", "basic_code"),
    ("事项名称", "name"),
    ("事项类型", "item_type"),
    ("行使层级", "level"),
    ("取号分组", "group"),
    ("实施主体", "unit"),
    ("设定依据", "legal_basis"),
    ("受理条件", "conditions"),
    ("法定办结时限(工作日)", "statutory_days"),
    ("承诺办结时限(工作日)", "promised_days"),
    ("容缺补正时限(工作日)", "supply_days"),
    ("收费标准", "fee"),
    ("收费依据", "fee_basis"),
    ("办理地点", "place"),
    ("办理时间", "hours"),
    ("网办深度", "online_depth"),
    ("到现场次数", "visits_required"),
    ("支持预约", "appointment_allowed"),
    ("可告知承诺", "pledge_allowed"),
    ("服务对象", "target_group"),
]
MATERIAL_COLUMNS = [
    ("实施编码", "item"),
    ("序号", "order"),
    ("材料名称", "name"),
    ("核心材料", "core"),
    ("材料形式", "form"),
    ("来源渠道", "source"),
    ("份数", "copies"),
    ("可共享获取", "shared"),
    ("填报须知", "note"),
]
REQUIRED_ITEM = ("实施编码", "事项名称", "事项类型", "实施主体", "法定办结时限(工作日)", "承诺办结时限(工作日)")
REQUIRED_MATERIAL = ("实施编码", "材料名称")


def _yes(value):
    return "是" if value else "否"


def write_workbook(items) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "事项"
    sheet.append([h for h, _f in ITEM_COLUMNS])
    materials = workbook.create_sheet("材料")
    materials.append([h for h, _f in MATERIAL_COLUMNS])
    for item in items:
        sheet.append(
            [
                item.code,
                item.basic_code,
                item.name,
                item.get_item_type_display(),
                item.get_level_display(),
                item.get_group_display(),
                item.unit.code,
                item.legal_basis,
                item.conditions,
                item.statutory_days,
                item.promised_days,
                item.supply_days,
                item.fee,
                item.fee_basis,
                item.place,
                item.hours,
                item.online_depth,
                item.visits_required,
                _yes(item.appointment_allowed),
                _yes(item.pledge_allowed),
                item.target_group,
            ]
        )
        for m in item.materials.all():
            materials.append(
                [
                    item.code,
                    m.order,
                    m.name,
                    _yes(m.core),
                    m.get_form_display(),
                    m.get_source_display(),
                    m.copies,
                    _yes(m.shared),
                    m.note,
                ]
            )
    for ws in (sheet, materials):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rows(sheet, columns, required, sheet_name):
    rows = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in (next(rows, None) or [])]
    missing = [h for h in required if h not in header]
    if missing:
        raise ValidationFailed(
            "file",
            _("工作表“%(sheet)s”缺少必需的列：%(columns)s。") % {"sheet": sheet_name, "columns": "、".join(missing)},
        )
    by_header = dict(columns)
    result = []
    for line, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        row = {"row": line}
        for name, value in zip(header, values, strict=False):
            if name in by_header:
                row[by_header[name]] = "" if value is None else value
        result.append(row)
    return result


def read_workbook(uploaded):
    """(item rows, material rows); each row has its sheet line number in ``row``."""
    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise ValidationFailed("file", _("无法读取文件：请上传 Excel（.xlsx）文件。")) from exc
    names = workbook.sheetnames
    if "事项" not in names:
        raise ValidationFailed("file", _("缺少工作表“事项”。"))
    items = _rows(workbook["事项"], ITEM_COLUMNS, REQUIRED_ITEM, "事项")
    materials = _rows(workbook["材料"], MATERIAL_COLUMNS, REQUIRED_MATERIAL, "材料") if "材料" in names else []
    workbook.close()
    return items, materials
