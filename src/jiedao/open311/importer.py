"""Importing a hotline's history: past work orders from CSV or Excel become cases with
their original numbers and times, their event log and their ratings, so that they
count in the measures of their months.

A mapping file (YAML, see docs/open311.md) names the columns and how their values
translate. The import is all or nothing: every row is checked, and if any row is bad
nothing is written and every bad row is reported with its line number and reason.
Rows whose number already exists are left alone, so importing the same file again
changes nothing.

Each row becomes a case of the cases' bulk writer (``cases.bulk``), with its original
number (the day's counter moves past a number in our own format): the steps its times and
status tell are taken as the case lifecycle allows them, with the services' events; where
the history skipped the steps before one (a result without a response time), an ``import``
event sets the state it starts from. A unit of another street than the place's is refused,
as at dispatch. Rows are written a thousand at a time, without signals: imports send no
webhooks and no notifications.
"""

import csv
import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from zipfile import BadZipFile
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from jiedao.cases import routing
from jiedao.cases.bulk import CaseBatch, CaseDraft
from jiedao.cases.models import Case, Category, Channel, Rating, Status
from jiedao.cases.routing import RouteDecision
from jiedao.cases.validation import normalise_phone
from jiedao.geo import locate
from jiedao.org.models import Grid, Street, Unit

FIELDS = (
    "number",
    "created",
    "dispatched",
    "responded",
    "resolved",
    "closed",
    "deadline",
    "response_due",
    "unit",
    "category",
    "address",
    "lat",
    "lng",
    "status",
    "text",
    "channel",
    "reporter_name",
    "reporter_phone",
    "rating_resolved",
    "rating_satisfaction",
    "rated",
    "rating_comment",
)
REQUIRED = ("number", "created", "text")
SETTINGS = (
    "format",
    "encoding",
    "delimiter",
    "sheet",
    "header_row",
    "timezone",
    "datetime_formats",
    "channel",
    "missing_categories",
    "columns",
    "values",
)
BATCH = 1000
# The event that sets a state the imported steps do not reach by themselves.
IMPORT_ACTION = "import"
IMPORT_ROOT_CODE = "IMP"
IMPORT_ROOT_NAME = "导入"  # a category name: data, kept in Chinese like the rest of the tree
MAX_NUMBER = Case._meta.get_field("number").max_length

# Values understood without a mapping (a mapping's ``values`` add to these and win).
STATUS_WORDS = {
    **{s: s for s in Status.values},
    **{str(label): value for value, label in Status.choices},
    "open": "open",
    "closed": Status.CLOSED,
    "已办结": Status.CLOSED,
    "办结": Status.CLOSED,
    "结案": Status.CLOSED,
    "已关闭": Status.CLOSED,
    "办理中": Status.IN_PROGRESS,
    "处理中": Status.IN_PROGRESS,
    "已派单": Status.DISPATCHED,
    "未派单": Status.NEW,
    "已受理": Status.NEW,
    "fixed": Status.CLOSED,
    "duplicate": Status.MERGED,
    "in_progress": Status.IN_PROGRESS,
    "investigating": Status.IN_PROGRESS,
    "action_scheduled": Status.DISPATCHED,
}
SATISFACTION_WORDS = {
    **{s: s for s in Rating.Satisfaction.values},
    **{str(label): value for value, label in Rating.Satisfaction.choices},
    "非常满意": Rating.Satisfaction.SATISFIED,
    "比较满意": Rating.Satisfaction.BASIC,
    "一般": Rating.Satisfaction.BASIC,
    "很不满意": Rating.Satisfaction.UNSATISFIED,
}
YES_NO = {
    "是": True,
    "已解决": True,
    "解决": True,
    "否": False,
    "未解决": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "resolved": True,
    "unresolved": False,
}
_LOOSE_TIME = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?)?\s*$"
)
_DATE_ONLY = re.compile(r"^\s*\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*$")


class MappingError(Exception):
    """The mapping or the file cannot be used at all (before any row is looked at)."""


class RowError(Exception):
    pass


@dataclass
class Mapping:
    columns: dict
    values: dict
    format: str = ""
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str = ""
    header_row: int = 1
    timezone: object = None
    datetime_formats: list = field(default_factory=list)
    channel: str = Channel.HOTLINE_12345
    missing_categories: str = "create"


def load_mapping(path) -> Mapping:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(_("映射文件不存在：%(file)s") % {"file": path}) from None
    except UnicodeDecodeError:
        raise MappingError(_("映射文件应为 UTF-8 编码：%(file)s") % {"file": path}) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(_("映射文件不是有效的 YAML：%(error)s") % {"error": exc}) from None
    return parse_mapping(data)


def parse_mapping(data) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(_("映射文件的顶层应为键值对（columns、values 等）。"))
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise MappingError(
            _("映射文件中有不认识的设置：%(keys)s（可用：%(known)s）。")
            % {"keys": ", ".join(map(str, unknown)), "known": ", ".join(SETTINGS)}
        )
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise MappingError(_("columns 应为“字段: 列名”的键值对。"))
    bad = sorted(set(columns) - set(FIELDS))
    if bad:
        raise MappingError(
            _("columns 中有不认识的字段：%(keys)s（可用：%(known)s）。")
            % {"keys": ", ".join(map(str, bad)), "known": ", ".join(FIELDS)}
        )
    unquoted = [f for f, v in columns.items() if isinstance(v, bool)]
    if unquoted:
        raise MappingError(
            _('columns 中 %(keys)s 的列名被 YAML 读成了真假值：列名 yes、no、on、off 等请加引号，例如 number: "no"。')
            % {"keys": ", ".join(unquoted)}
        )
    missing = [f for f in REQUIRED if not columns.get(f)]
    if missing:
        raise MappingError(_("columns 必须给出这些字段的列名：%(keys)s。") % {"keys": ", ".join(missing)})
    if ("lat" in columns) != ("lng" in columns):
        raise MappingError(_("lat 和 lng 两列要同时给出。"))
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise MappingError(_("values 应为“字段: {文件中的值: 系统中的值}”。"))
    mapping = Mapping(
        columns={k: str(v) for k, v in columns.items()},
        values={k: {str(a): b for a, b in v.items()} for k, v in values.items()},
    )
    for name in ("format", "encoding", "delimiter", "sheet", "channel", "missing_categories"):
        if data.get(name) not in (None, ""):
            setattr(mapping, name, str(data[name]))
    if mapping.format and mapping.format not in ("csv", "xlsx"):
        raise MappingError(_("format 应为 csv 或 xlsx。"))
    if mapping.missing_categories not in ("create", "error"):
        raise MappingError(_("missing_categories 应为 create（在“导入”下新建）或 error（作为错误行）。"))
    if mapping.channel not in Channel.values:
        raise MappingError(
            _("channel“%(value)s”无效，可用：%(values)s。")
            % {"value": mapping.channel, "values": ", ".join(Channel.values)}
        )
    if len(mapping.delimiter) != 1:
        raise MappingError(_("delimiter 应为一个字符。"))
    try:
        mapping.header_row = int(data.get("header_row", 1))
        assert mapping.header_row >= 1
    except (TypeError, ValueError, AssertionError):
        raise MappingError(_("header_row 应为从 1 开始的行号。")) from None
    try:
        mapping.timezone = ZoneInfo(str(data.get("timezone") or settings.TIME_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(
            _("timezone“%(value)s”无效（例如 Asia/Shanghai）。") % {"value": data.get("timezone")}
        ) from None
    formats = data.get("datetime_formats") or []
    if isinstance(formats, str):
        formats = [formats]
    mapping.datetime_formats = [str(f) for f in formats]
    return mapping


# --- reading the file -------------------------------------------------------------------------


def _file_format(path, mapping):
    if mapping.format:
        return mapping.format
    suffix = Path(path).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise MappingError(_("无法从扩展名判断文件格式，请在映射中写 format: csv 或 format: xlsx。"))


def _header_index(header, mapping):
    names = [("" if h is None else str(h)).strip() for h in header]
    index = {}
    for field_name, column in mapping.columns.items():
        if column not in names:
            raise MappingError(
                _("文件的表头中没有列“%(column)s”（%(field)s）。表头是：%(header)s")
                % {"column": column, "field": field_name, "header": "、".join(n for n in names if n)}
            )
        index[field_name] = names.index(column)
    return index


def read_rows(path, mapping):
    """``(total_estimate, iterator of (line number, {field: raw value}))``."""
    if not Path(path).is_file():
        raise MappingError(_("文件不存在：%(file)s") % {"file": path})
    if _file_format(path, mapping) == "xlsx":
        return _xlsx_rows(path, mapping)
    return _csv_rows(path, mapping)


def _csv_rows(path, mapping):
    with open(path, "rb") as handle:
        total = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    handle = open(path, newline="", encoding=mapping.encoding)  # noqa: SIM115 - a generator reads it; closed in its finally
    reader = csv.reader(handle, delimiter=mapping.delimiter)
    try:
        header, record = None, 0
        for header in reader:  # noqa: B007 - the header row is what the loop leaves behind
            record += 1
            if record == mapping.header_row:
                break
        if header is None or record < mapping.header_row:
            handle.close()
            raise MappingError(_("文件是空的，或没有第 %(n)d 行表头。") % {"n": mapping.header_row})
        index = _header_index(header, mapping)
    except UnicodeDecodeError:
        handle.close()
        raise MappingError(
            _("文件不是 %(encoding)s 编码，请在映射中写明 encoding（例如 gbk）。") % {"encoding": mapping.encoding}
        ) from None

    def generate():
        with handle:
            line = reader.line_num
            try:
                for row in reader:
                    start, line = line + 1, reader.line_num
                    if not any(cell.strip() for cell in row):
                        continue
                    yield start, {f: (row[i] if i < len(row) else "") for f, i in index.items()}
            except UnicodeDecodeError:
                raise MappingError(
                    _("文件第 %(line)d 行附近不是 %(encoding)s 编码，请在映射中写明 encoding（例如 gbk）。")
                    % {"line": line + 1, "encoding": mapping.encoding}
                ) from None

    return max(total - mapping.header_row, 0), generate()


def _xlsx_rows(path, mapping):
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError) as exc:
        raise MappingError(_("无法读取 Excel 文件：%(error)s") % {"error": exc}) from None
    if mapping.sheet:
        if mapping.sheet not in book.sheetnames:
            raise MappingError(
                _("Excel 文件中没有工作表“%(sheet)s”（有：%(sheets)s）。")
                % {"sheet": mapping.sheet, "sheets": "、".join(book.sheetnames)}
            )
        sheet = book[mapping.sheet]
    else:
        sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = None
    for number, row in enumerate(rows, start=1):
        if number == mapping.header_row:
            header = row
            break
    if header is None:
        book.close()
        raise MappingError(_("文件是空的，或没有第 %(n)d 行表头。") % {"n": mapping.header_row})
    index = _header_index(header, mapping)
    total = max((sheet.max_row or 0) - mapping.header_row, 0)

    def generate():
        try:
            for number, row in enumerate(rows, start=mapping.header_row + 1):
                if not any(cell not in (None, "") for cell in row):
                    continue
                yield number, {f: (row[i] if i < len(row) else None) for f, i in index.items()}
        finally:
            book.close()

    return total, generate()


# --- values ---------------------------------------------------------------------------------------


def _blank(raw):
    return raw is None or (isinstance(raw, str) and not raw.strip())


class Parser:
    """Turns one row's raw values into checked values, with the lookups prepared once."""

    def __init__(self, mapping, dry_run=False):
        self.m = mapping
        self.dry_run = dry_run
        self.tz = mapping.timezone
        self.values = {name: mapping.values.get(name, {}) for name in FIELDS}
        self.units_by_code = {}
        self.units_by_name = {}
        for unit in Unit.objects.all():
            self.units_by_code[unit.code] = unit
            self.units_by_name.setdefault(unit.name, []).append(unit)
        self._load_categories()
        self.new_categories = {}  # name → id (or None in a dry run)
        self.grids = {grid.pk: grid for grid in Grid.objects.select_related("community").defer("boundary")}
        # The street a row belongs to: its community's, else its unit's, else the first street.
        self.first_street = Street.objects.order_by("pk").values_list("pk", flat=True).first()

    def _load_categories(self):
        rows = list(Category.objects.all())
        self.categories = {c.pk: c for c in rows}
        self.category_by_code = {c.code: c for c in rows}
        self.category_by_name = {}
        for c in rows:
            self.category_by_name.setdefault(c.name, []).append(c)
        self.category_by_path = {}
        for c in rows:
            names, node = [c.name], c
            while node.parent_id in self.categories:
                node = self.categories[node.parent_id]
                names.append(node.name)
            self.category_by_path["/".join(reversed(names))] = c

    def label(self, name):
        """How the file calls the field: its column name."""
        return self.m.columns.get(name, name)

    # --- single values
    def mapped(self, name, raw):
        if _blank(raw):
            return None
        text = str(raw).strip()
        return self.values[name].get(text, text)

    def time(self, name, raw, end_of_day=False):
        if _blank(raw):
            return None
        tz = self.tz
        if isinstance(raw, dt.datetime):
            value = raw
        elif isinstance(raw, dt.date):
            value = dt.datetime.combine(raw, dt.time(23, 59, 59) if end_of_day else dt.time())
        elif isinstance(raw, (int, float)):
            try:
                value = from_excel(raw)
            except (ValueError, OverflowError, TypeError):
                raise RowError(_("%(field)s“%(value)s”不是时间") % {"field": self.label(name), "value": raw}) from None
            if not isinstance(value, dt.datetime):
                value = dt.datetime.combine(value, dt.time())
        else:
            value = self._parse_text_time(name, str(raw).strip(), end_of_day)
        if end_of_day and value.time() == dt.time():
            value = value.replace(hour=23, minute=59, second=59)  # a deadline on a date: the end of that day
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value

    def _parse_text_time(self, name, text, end_of_day):
        if end_of_day and _DATE_ONLY.match(text):
            match = _LOOSE_TIME.match(text)
            return dt.datetime(int(match[1]), int(match[2]), int(match[3]), 23, 59, 59)
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            return dt.datetime.fromisoformat(iso)
        except ValueError:
            pass
        match = _LOOSE_TIME.match(text)
        if match:
            try:
                return dt.datetime(
                    int(match[1]),
                    int(match[2]),
                    int(match[3]),
                    int(match[4] or 0),
                    int(match[5] or 0),
                    int(match[6] or 0),
                )
            except ValueError:
                raise RowError(
                    _("%(field)s“%(value)s”不是有效的日期") % {"field": self.label(name), "value": text}
                ) from None
        for fmt in self.m.datetime_formats:
            try:
                return dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise RowError(
            _("%(field)s“%(value)s”无法识别为时间（例如 2024-03-05 14:30）")
            % {"field": self.label(name), "value": text}
        )

    def number(self, name, raw):
        if _blank(raw):
            return None
        try:
            return float(str(raw).strip())
        except ValueError:
            raise RowError(_("%(field)s“%(value)s”不是数字") % {"field": self.label(name), "value": raw}) from None

    def unit(self, raw):
        value = self.mapped("unit", raw)
        if value is None:
            return None
        if value in self.units_by_code:
            return self.units_by_code[value]
        found = self.units_by_name.get(value, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise RowError(_("承办单位名称“%(value)s”对应多个单位，请在 values.unit 中写明单位代码") % {"value": value})
        raise RowError(_("承办单位“%(value)s”不存在（可在 values.unit 中对应到单位代码）") % {"value": value})

    def category(self, raw):
        value = self.mapped("category", raw)
        if value is None:
            return None
        if value in self.category_by_code:
            return self.category_by_code[value]
        found = self.category_by_name.get(value, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise RowError(_("分类名称“%(value)s”对应多个分类，请在 values.category 中写明分类代码") % {"value": value})
        path = "/".join(part.strip() for part in re.split(r"[/／>]", value))
        if path in self.category_by_path:
            return self.category_by_path[path]
        if self.m.missing_categories != "create":
            raise RowError(
                _("分类“%(value)s”不存在（可在 values.category 中对应，或设 missing_categories: create）")
                % {"value": value}
            )
        return self._imported_category(value[:60])

    def _imported_category(self, name):
        if name in self.new_categories:
            return self.new_categories[name]
        if self.dry_run:
            category = Category(code="", name=name, level=2, active=False)
        else:
            root = Category.objects.filter(code=IMPORT_ROOT_CODE).first()
            if root is None:
                root = Category.objects.create(code=IMPORT_ROOT_CODE, name=IMPORT_ROOT_NAME, level=1, active=False)
            codes = Category.objects.filter(parent=root, code__startswith=IMPORT_ROOT_CODE).values_list(
                "code", flat=True
            )
            last = max(
                (int(c[len(IMPORT_ROOT_CODE) :]) for c in codes if c[len(IMPORT_ROOT_CODE) :].isdigit()), default=0
            )
            category = Category.objects.create(
                parent=root, code=f"{IMPORT_ROOT_CODE}{last + 1:04d}", name=name, level=2, active=False
            )
        self.new_categories[name] = category
        return category

    def status(self, raw):
        value = self.mapped("status", raw)
        if value is None:
            return None
        value = STATUS_WORDS.get(value, STATUS_WORDS.get(value.lower(), value))
        if value != "open" and value not in Status.values:
            raise RowError(
                _("状态“%(value)s”无法对应（可在 values.status 中对应到 %(values)s）")
                % {"value": raw, "values": ", ".join(Status.values)}
            )
        return value

    def satisfaction(self, raw):
        value = self.mapped("rating_satisfaction", raw)
        if value is None:
            return None
        value = SATISFACTION_WORDS.get(value, SATISFACTION_WORDS.get(value.lower(), value))
        if value not in Rating.Satisfaction.values:
            raise RowError(
                _("满意度“%(value)s”无法对应（可在 values.rating_satisfaction 中对应到 satisfied、basic、unsatisfied）")
                % {"value": raw}
            )
        return value

    def resolved(self, raw):
        value = self.mapped("rating_resolved", raw)
        if value is None or isinstance(value, bool):
            return value
        found = YES_NO.get(str(value).strip().lower())
        if found is None:
            raise RowError(
                _("是否解决“%(value)s”无法对应（可在 values.rating_resolved 中对应到 true 或 false）") % {"value": raw}
            )
        return found

    def channel(self, raw):
        value = self.mapped("channel", raw)
        if value is None:
            return self.m.channel
        if value not in Channel.values:
            labels = {str(label): code for code, label in Channel.choices}
            if value in labels:
                return labels[value]
            raise RowError(
                _("来源渠道“%(value)s”无效（可在 values.channel 中对应到 %(values)s）")
                % {"value": raw, "values": ", ".join(Channel.values)}
            )
        return value


@dataclass(slots=True)
class Row:
    line: int
    number: str
    channel: str
    status: str
    category: Category | None
    text: str
    unit: Unit | None
    address: str
    lat: float | None
    lng: float | None
    reporter_name: str
    reporter_phone: str
    created: dt.datetime
    dispatched: dt.datetime | None
    responded: dt.datetime | None
    resolved: dt.datetime | None
    closed: dt.datetime | None
    deadline: dt.datetime | None
    response_due: dt.datetime | None
    rating: tuple | None  # (resolved, satisfaction, rated_at, comment)


def parse_row(parser, line, raw):
    """One row's values checked, or RowError with every reason found."""
    reasons = []

    def attempt(call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except RowError as exc:
            reasons.append(str(exc))
            return None

    number = "" if _blank(raw.get("number")) else str(raw["number"]).strip()
    if isinstance(raw.get("number"), float) and raw["number"].is_integer():
        number = str(int(raw["number"]))
    if not number:
        reasons.append(_("缺少 %(field)s") % {"field": parser.label("number")})
    elif len(number) > MAX_NUMBER:
        reasons.append(
            _("%(field)s“%(value)s”超过%(max)d个字符")
            % {"field": parser.label("number"), "value": number, "max": MAX_NUMBER}
        )
    text = "" if _blank(raw.get("text")) else str(raw["text"]).strip()
    if not text:
        reasons.append(_("%(field)s 为空") % {"field": parser.label("text")})
    before = len(reasons)
    created = attempt(parser.time, "created", raw.get("created"))
    if created is None and len(reasons) == before:
        reasons.append(_("缺少 %(field)s") % {"field": parser.label("created")})
    times = {
        name: attempt(parser.time, name, raw.get(name), end_of_day=(name == "deadline"))
        for name in ("dispatched", "responded", "resolved", "closed", "deadline", "response_due", "rated")
    }
    unit = attempt(parser.unit, raw.get("unit"))
    category = attempt(parser.category, raw.get("category"))
    status = attempt(parser.status, raw.get("status"))
    channel = attempt(parser.channel, raw.get("channel"))
    lat = attempt(parser.number, "lat", raw.get("lat"))
    lng = attempt(parser.number, "lng", raw.get("lng"))
    if (lat is None) != (lng is None):
        reasons.append(_("纬度和经度要同时填写"))
        lat = lng = None
    elif lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        reasons.append(_("经纬度超出范围（纬度 -90～90，经度 -180～180）"))
    satisfaction = attempt(parser.satisfaction, raw.get("rating_satisfaction"))
    resolved_flag = attempt(parser.resolved, raw.get("rating_resolved"))
    address = "" if _blank(raw.get("address")) else str(raw["address"]).strip()[:500]
    reporter_name = "" if _blank(raw.get("reporter_name")) else str(raw["reporter_name"]).strip()[:50]
    reporter_phone = "" if _blank(raw.get("reporter_phone")) else normalise_phone(str(raw["reporter_phone"]))

    if created is not None:
        for name, value in times.items():
            if value is not None and name not in ("deadline", "response_due") and value < created:
                reasons.append(
                    _("%(field)s 早于 %(created)s") % {"field": parser.label(name), "created": parser.label("created")}
                )
    closed, resolved = times["closed"], times["resolved"]
    if status is None:
        status = (
            Status.CLOSED
            if closed
            else Status.RATING
            if resolved
            else Status.IN_PROGRESS
            if times["responded"]
            else Status.DISPATCHED
            if unit
            else Status.NEW
        )
    elif status == "open":
        status = Status.IN_PROGRESS if times["responded"] else Status.DISPATCHED if unit else Status.NEW
    needs_unit = status in (Status.DISPATCHED, Status.IN_PROGRESS, Status.VERIFYING, Status.RATING)
    if needs_unit and unit is None and not reasons:
        reasons.append(_("状态为“%(status)s”的工单需要承办单位") % {"status": Status(status).label})
    rating = None
    if satisfaction is not None or resolved_flag is not None:
        if satisfaction is None:
            reasons.append(_("有“是否解决”但没有满意度"))
        elif unit is None:
            reasons.append(_("有回访评价但没有承办单位"))
        else:
            if resolved_flag is None:
                resolved_flag = satisfaction != Rating.Satisfaction.UNSATISFIED
            rated = times["rated"] or closed or resolved or created
            comment = "" if _blank(raw.get("rating_comment")) else str(raw["rating_comment"]).strip()
            rating = (resolved_flag, satisfaction, rated, comment)
    if reasons:
        raise RowError("；".join(reasons))
    return Row(
        line=line,
        number=number,
        channel=channel,
        status=status,
        category=category,
        text=text,
        unit=unit,
        address=address,
        lat=lat,
        lng=lng,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        created=created,
        dispatched=times["dispatched"],
        responded=times["responded"],
        resolved=resolved,
        closed=closed,
        deadline=times["deadline"],
        response_due=times["response_due"],
        rating=rating,
    )


# --- writing ----------------------------------------------------------------------------------------


@dataclass
class Report:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    events: int = 0
    ratings: int = 0
    bad: list = field(default_factory=list)  # (line, reason)
    new_categories: list = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self):
        return not self.bad


class Progress:
    """A progress line: rewritten in place on a terminal, every 10 % otherwise."""

    def __init__(self, total, out=None):
        self.total = max(total, 1)
        self.out = out
        self.tty = out is not None and hasattr(out, "isatty") and out.isatty()
        self.last = -1

    def update(self, done, report):
        if self.out is None:
            return
        share = min(done / self.total, 1.0)
        line = _(
            "导入 %(share)3d%%  %(done)s/%(total)s 行 · 新增 %(created)s · 已存在 %(unchanged)s · 错误 %(bad)s"
        ) % {
            "share": int(share * 100),
            "done": f"{done:,}",
            "total": f"{self.total:,}",
            "created": f"{report.created:,}",
            "unchanged": f"{report.unchanged:,}",
            "bad": f"{len(report.bad):,}",
        }
        if self.tty:
            self._write("\r" + line)
        elif int(share * 10) > self.last:
            self.last = int(share * 10)
            self._write(line + "\n")

    def _write(self, text):
        try:
            self.out.write(text, ending="")  # Django's OutputWrapper adds a newline otherwise
        except TypeError:
            self.out.write(text)
        self.out.flush()

    def finish(self):
        if self.tty:
            self._write("\n")


class CaseImporter:
    def __init__(self, mapping, source="", dry_run=False, out=None):
        self.mapping = mapping
        self.source = source
        self.dry_run = dry_run
        self.out = out
        self.now = timezone.now()

    def run(self, path) -> Report:
        report = Report(dry_run=self.dry_run)
        total, rows = read_rows(path, self.mapping)
        self.progress = Progress(total, self.out)
        self.batch = CaseBatch(batch_size=None)
        self.decisions = {}  # unit id → the decision that sent a case of the history to it
        self.note = _("历史工单导入")
        seen = {}
        with transaction.atomic():
            self.parser = parser = Parser(self.mapping, dry_run=self.dry_run)
            chunk = []
            done = 0
            for line, raw in rows:
                done += 1
                try:
                    row = parse_row(parser, line, raw)
                except RowError as exc:
                    report.bad.append((line, str(exc)))
                    continue
                if row.number in seen:
                    report.bad.append(
                        (
                            line,
                            _("%(field)s %(number)s 与第 %(first)d 行重复")
                            % {"field": parser.label("number"), "number": row.number, "first": seen[row.number]},
                        )
                    )
                    continue
                seen[row.number] = line
                chunk.append(row)
                if len(chunk) >= BATCH:
                    self._chunk(chunk, report)
                    chunk = []
                    self.progress.update(done, report)
            self._chunk(chunk, report)
            report.rows = done
            self.progress.update(done, report)
            self.progress.finish()
            report.new_categories = list(parser.new_categories)
            if report.bad or self.dry_run:
                transaction.set_rollback(True)
        if report.bad:
            report.created = 0
            report.bad.sort(key=lambda bad: bad[0])
        return report

    def _chunk(self, chunk, report):
        if not chunk:
            return
        numbers = [row.number for row in chunk]
        existing = set()
        for start in range(0, len(numbers), 500):
            existing.update(
                Case.objects.filter(number__in=numbers[start : start + 500]).values_list("number", flat=True)
            )
        fresh = [row for row in chunk if row.number not in existing]
        report.unchanged += len(chunk) - len(fresh)
        report.created += len(fresh)
        placed = []
        for row, grid in zip(fresh, self._grids(fresh), strict=True):
            community = grid.community if grid is not None else None
            if community is not None and row.unit is not None and row.unit.street_id != community.street_id:
                # As at dispatch: a unit of another street does not take a case of this one.
                report.bad.append((row.line, _("承办单位“%(unit)s”不属于事发地点所在的街道") % {"unit": row.unit.name}))
                continue
            placed.append((row, grid))
        if report.bad or self.dry_run or not placed:
            return  # a refused file is still checked to the end, but nothing more is written
        events, ratings = self.batch.counts["events"], self.batch.counts["ratings"]
        for row, grid in placed:
            self.batch.add(self._draft(row, grid))
        self.batch.flush()
        report.events += self.batch.counts["events"] - events
        report.ratings += self.batch.counts["ratings"] - ratings

    def _grids(self, rows):
        """The grid (with its community) of each row's point, or None."""
        points = [(i, row.lat, row.lng) for i, row in enumerate(rows) if row.lat is not None]
        grids = [None] * len(rows)
        if not points:
            return grids
        if hasattr(locate, "grid_ids_at"):
            found = locate.grid_ids_at([p[1] for p in points], [p[2] for p in points])
        else:
            found = [locate.grid_id_at(p[1], p[2]) for p in points]
        for (i, _lat, _lng), grid_id in zip(points, found, strict=False):
            grids[i] = self.parser.grids.get(grid_id) if grid_id is not None else None
        return grids

    def _draft(self, row, grid) -> CaseDraft:
        """The case with its log as the history gives it (the original number and times).

        The steps the row's times and status tell — dispatch, return, response, result,
        rating, closing — are taken in that order as the lifecycle allows them; where the
        history skipped the steps before one (a result without a response time), an
        ``import`` event sets the state it starts from, and one sets the row's status when the
        steps do not reach it."""
        status, unit, category = row.status, row.unit, row.category
        community = grid.community if grid is not None else None
        street_id = (
            (community.street_id if community is not None else None)
            or (unit.street_id if unit is not None else None)
            or self.parser.first_street
        )
        case = CaseDraft(
            channel=row.channel,
            description=row.text,
            created_at=row.created,
            street_id=street_id,
            reporter_name=row.reporter_name,
            reporter_phone=row.reporter_phone,
            address=row.address,
            lat=row.lat,
            lng=row.lng,
            community=community,
            grid=grid,
            category=category,
            number=row.number,
            mark={"import": self.source or True, "line": row.line},
        )
        latest = max(t for t in (row.created, row.dispatched, row.responded, row.resolved, row.closed) if t is not None)
        if unit is not None and status not in (Status.NEW, Status.MERGED):
            dispatched_at = row.dispatched or row.created
            response_due = row.response_due
            if response_due is None and row.responded and category is not None and category.pk is not None:
                response_due = routing.response_due(category, dispatched_at)
            decision = self.decisions.get(unit.pk)
            if decision is None:
                decision = self.decisions[unit.pk] = RouteDecision(unit, self.note)
            case.dispatch(decision, at=dispatched_at, actor=None, manual=True, due=(response_due, row.deadline))
            if status == Status.RETURNED:
                case.return_(at=row.responded or dispatched_at, actor=None, reason="")
            elif status != Status.DISPATCHED:
                if row.responded:
                    case.respond(at=row.responded, actor=None)
                resolved = row.resolved or (row.closed if status == Status.CLOSED else None)
                reopened = status == Status.IN_PROGRESS and row.rating is not None
                if resolved and (status in (Status.VERIFYING, Status.RATING, Status.CLOSED) or reopened):
                    case.restore_for("resolve", at=resolved)
                    outcome = Status.VERIFYING if status == Status.VERIFYING else Status.RATING
                    case.resolve(at=resolved, actor=None, result="", outcome=outcome)
        if row.rating is not None:
            resolved_flag, satisfaction, rated_at, comment = row.rating
            case.restore_for("rate", at=rated_at)
            case.rate(
                at=rated_at,
                actor=None,
                resolved=resolved_flag,
                satisfaction=satisfaction,
                source=Rating.Source.CALLBACK,
                comment=comment,
                reopen=status == Status.IN_PROGRESS,
                due=(case.response_due, case.completion_due),
                unit=unit,
            )
        closed_at = row.closed or latest
        if status == Status.CLOSED and case.status != Status.CLOSED:
            case.restore_for("close", at=closed_at)
            case.close(at=closed_at, actor=None, note=self.note)
        elif status == Status.MERGED:
            case.restore_for("merge", at=closed_at)
            case.merge(None, at=closed_at, actor=None)
        elif case.status != status:
            # A state the steps above do not reach (e.g. in progress without a response time).
            case.restore(status, at=latest)
        case.closed_at = closed_at if status in (Status.CLOSED, Status.MERGED) else None
        return case


def import_cases(path, mapping, dry_run=False, out=None, source=None):
    """Import the file; returns the Report. ``mapping`` is a Mapping or a path to one."""
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    importer = CaseImporter(
        mapping,
        source=source if source is not None else Path(path).name,
        dry_run=dry_run,
        out=out if out is not None else sys.stdout,
    )
    return importer.run(path)
