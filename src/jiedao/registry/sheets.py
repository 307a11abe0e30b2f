"""The sheets street offices keep, as files: one template per kind of record (Chinese
column headers, first sheet, header in the first row), reading .xlsx and .csv files
into rows, and writing the assistance list (帮扶清单) to Excel."""

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from jiedao.common.errors import ValidationFailed

MAX_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    required: bool = False
    help: str = ""
    example: str = ""
    width: int = 14


PERSON_COLUMNS = [
    Column("姓名", "name", True, gettext_lazy("不超过50个字"), "张桂兰", 10),
    Column(
        "身份证号",
        "id_number",
        True,
        gettext_lazy("18位居民身份证号码，最后一位可为X；同一身份证号只建一个档案"),
        "11010519491231002X",
        22,
    ),
    Column("性别", "gender", False, gettext_lazy("男 或 女；留空时按身份证号推定"), "女", 6),
    Column("出生日期", "birth_date", False, gettext_lazy("如 1949-12-31；留空时取自身份证号"), "1949-12-31", 12),
    Column("手机号", "phone", False, gettext_lazy("11位手机号"), "13812345678", 14),
    Column(
        "户编号", "household_number", False, gettext_lazy("已有户的编号；新户可留空，按楼栋、单元、房号归户"), "", 20
    ),
    Column("楼栋编码", "building_code", False, gettext_lazy("须是已登记的楼栋"), "110105018010101", 18),
    Column("单元", "unit", False, gettext_lazy("如 2；没有单元留空"), "2", 6),
    Column("楼层", "floor", False, gettext_lazy("整数，地下层为负数"), "3", 6),
    Column("房号", "room", False, gettext_lazy("填写楼栋编码时必填，如 301"), "301", 8),
    Column(
        "与户主关系",
        "relation",
        False,
        gettext_lazy("户主、配偶、子女、父母、孙辈、祖父母、兄弟姐妹、其他"),
        "户主",
        10,
    ),
    Column("居住状态", "status", False, gettext_lazy("在住、外出、已迁出、已故；留空为在住"), "在住", 8),
    Column(
        "关怀标签",
        "tags",
        False,
        gettext_lazy("多个用顿号分隔，如 独居老人、慢性病；须是系统中已有的标签"),
        "独居老人、慢性病",
        20,
    ),
    Column("备注", "note", False, gettext_lazy("不超过200个字"), "", 20),
]

HOUSEHOLD_COLUMNS = [
    Column("户编号", "household_number", False, gettext_lazy("留空时自动编号（楼栋编码-单元-房号）"), "", 20),
    Column("楼栋编码", "building_code", True, gettext_lazy("须是已登记的楼栋"), "110105018010101", 18),
    Column("单元", "unit", False, gettext_lazy("如 2；没有单元留空"), "2", 6),
    Column("楼层", "floor", False, gettext_lazy("整数"), "3", 6),
    Column("房号", "room", True, gettext_lazy("如 301"), "301", 8),
    Column("房屋用途", "use", False, gettext_lazy("自住、出租、空置、经营"), "自住", 8),
    Column("户主姓名", "head_name", False, gettext_lazy("填写户主身份证号时必填"), "张桂兰", 10),
    Column("户主身份证号", "head_id_number", False, gettext_lazy("18位居民身份证号码"), "11010519491231002X", 22),
    Column("户主手机号", "head_phone", False, gettext_lazy("11位手机号"), "13812345678", 14),
]

BUILDING_COLUMNS = [
    Column("楼栋编码", "code", True, gettext_lazy("全街道唯一，如 网格编码+两位序号"), "110105018010101", 18),
    Column("楼栋名称", "name", True, gettext_lazy("如 东湖家园1号楼"), "东湖家园1号楼", 16),
    Column("地址", "address", True, gettext_lazy("门牌地址"), "东湖路12号", 24),
    Column("社区", "community", True, gettext_lazy("社区名称或代码"), "东湖社区", 12),
    Column("网格编码", "grid", False, gettext_lazy("留空时按经纬度落格"), "", 16),
    Column("纬度", "lat", False, gettext_lazy("WGS-84，如 39.9123"), "39.9123", 10),
    Column("经度", "lng", False, gettext_lazy("WGS-84，如 116.4321"), "116.4321", 10),
    Column("层数", "floors", False, gettext_lazy("整数"), "6", 6),
    Column("楼栋长账号", "head", False, gettext_lazy("楼栋长在本系统的登录账号"), "", 12),
]

COLUMNS = {"persons": PERSON_COLUMNS, "households": HOUSEHOLD_COLUMNS, "buildings": BUILDING_COLUMNS}
KIND_LABELS = {"persons": gettext_lazy("人员"), "households": gettext_lazy("户"), "buildings": gettext_lazy("楼栋")}
SHEET_TITLES = {"persons": "人员", "households": "户", "buildings": "楼栋"}


def column_label(kind, field):
    for column in COLUMNS[kind]:
        if column.field == field:
            return column.header
    return field


def _check_kind(kind):
    if kind not in COLUMNS:
        raise ValidationFailed("kind", _("导入类型应为 persons（人员）、households（户）或 buildings（楼栋）。"))


# --- reading ---------------------------------------------------------------------------


def _xlsx_rows(data):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise ValidationFailed("file", _("无法读取文件：请上传 Excel（.xlsx）或 CSV 文件。")) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def _csv_rows(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed("file", _("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码。"))
    yield from csv.reader(io.StringIO(text))


def _clean_header(value):
    text = "" if value is None else str(value).strip()
    return text.rstrip("*＊").strip()


def read_rows(kind, data: bytes, filename: str):
    """The data rows of a file as dicts keyed by field, with ``row`` = the line in the sheet.

    Raises ValidationFailed for a file that cannot be read or lacks required columns."""
    _check_kind(kind)
    name = (filename or "").lower()
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx") or name.endswith(".xlsm") or (not name.endswith(".xls") and data[:2] == b"PK"):
        rows = _xlsx_rows(data)
    else:
        raise ValidationFailed(
            "file", _("只能导入 Excel（.xlsx）或 CSV（.csv）文件；旧版 .xls 请在 Excel 中另存为 .xlsx。")
        )
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("file", _("文件是空的。"))
    header = [_clean_header(h) for h in header]
    columns = COLUMNS[kind]
    missing = [c.header for c in columns if c.required and c.header not in header]
    if missing:
        raise ValidationFailed(
            "file", _("缺少必需的列：%(columns)s。请下载模板对照列名。") % {"columns": "、".join(missing)}
        )
    by_header = {c.header: c.field for c in columns}
    positions = [(index, by_header[h]) for index, h in enumerate(header) if h in by_header]
    result = []
    for line, values in enumerate(rows, start=2):
        if not values or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(result) >= MAX_ROWS:
            raise ValidationFailed("file", _("一个文件最多 %(max)d 行，请拆分后分别导入。") % {"max": MAX_ROWS})
        row = {"row": line}
        for index, fieldname in positions:
            value = values[index] if index < len(values) else None
            row[fieldname] = "" if value is None else value
        result.append(row)
    if not result:
        raise ValidationFailed("file", _("文件中没有数据行（第一行应为列名，从第二行起填写数据）。"))
    return result


# --- writing ---------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="B22222")
OPTIONAL_FILL = PatternFill("solid", fgColor="666666")


def _style_header(sheet, required_flags=None):
    for index, cell in enumerate(sheet[1]):
        cell.font = Font(bold=True, color="FFFFFF")
        required = required_flags[index] if required_flags else True
        cell.fill = HEADER_FILL if required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = "A2"


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook(kind) -> bytes:
    """An empty sheet with the kind's columns (required ones in red) and a second
    sheet that explains each column with an example."""
    _check_kind(kind)
    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLES[kind]
    sheet.append([c.header for c in columns])
    _style_header(sheet, [c.required for c in columns])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        # Identity numbers, phones and codes are text: Excel would round 18 digits.
        for row in range(2, 1002):
            sheet.cell(row=row, column=index).number_format = "@"
    notes = workbook.create_sheet(_("填写说明"))
    notes.append([_("列名"), _("必填"), _("说明"), _("示例")])
    _style_header(notes)
    for column in columns:
        notes.append([column.header, _("是") if column.required else _("否"), str(column.help), column.example])
    for letter, width in zip("ABCD", (14, 6, 60, 22), strict=False):
        notes.column_dimensions[letter].width = width
    notes.append([])
    notes.append([_("整个文件全部正确才会写入；有错误时不写入任何一行，并按行列出错误。")])
    notes.append(
        [_("同一身份证号的人已在系统中时，空白信息会被补全，相同信息刷新确认时间，不同信息列入冲突待人工决定。")]
    )
    return _save(workbook)


ASSISTANCE_HEADERS = [
    gettext_lazy("序号"),
    gettext_lazy("姓名"),
    gettext_lazy("性别"),
    gettext_lazy("年龄"),
    gettext_lazy("身份证号"),
    gettext_lazy("手机号"),
    gettext_lazy("住址"),
    gettext_lazy("社区"),
    gettext_lazy("网格"),
    gettext_lazy("关怀标签"),
    gettext_lazy("近4周探访次数"),
    gettext_lazy("最近探访"),
]


def assistance_workbook(rows, title) -> bytes:
    """The assistance list as one sheet; ``rows`` are already masked for the reader."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("帮扶清单")
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([str(h) for h in ASSISTANCE_HEADERS])
    for cell in sheet[2]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for number, row in enumerate(rows, start=1):
        sheet.append(
            [
                number,
                row["name"],
                row["gender"],
                row["age"],
                row["id_number"],
                row["phone"],
                row["address"],
                row["community"],
                row["grid"],
                "、".join(row["tags"]),
                row["recent_visits"],
                row["last_visit"] or "",
            ]
        )
    for index, width in enumerate((6, 10, 6, 6, 22, 14, 30, 12, 12, 22, 12, 18), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    return _save(workbook)


def template_filename(kind):
    return f"registry-{kind}-template.xlsx"
