"""Dates, months, years, row ids and list cursors from requests, parsed in one place, with bounds.

Every date, time, month or year that a page, a form or the API receives must fall in the
supported years, ``FIRST_YEAR``–``LAST_YEAR`` (2000–2100). Python's dates hold the years 1–9999,
and the platform adds to what it receives (the next month, the end of a day, Beijing time to
UTC): bounding the input keeps every such step far from the edge, so that ``9999-12`` or
``0001-01-01`` is a clear answer and never a server error. A value outside is a
``ValidationFailed`` naming the field and the allowed range; a value that is not a date at all
names the field and the form expected. Both messages are in the user's language and name the
field by its label (``LABELS``: 月份 for ``month``), the error's ``field`` by its parameter.

Words to search for are at most ``SEARCH_MAX`` characters; ``check_length`` holds a text to the
size of the column it goes to, ``whole_number`` a number typed in a form to what an integer
column holds. List cursors (key-set pagination) are made and read here too:
``Cursor`` is a fixed shape, a list of typed values, and its ``decode`` accepts only what its
``encode`` can make, so a cursor written by hand (a number, a string, nested objects, wrong
types, huge ints, bad base64) is a ``ValidationFailed`` on ``cursor``.
"""

import base64
import binascii
import datetime as dt
import re
from typing import Annotated

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import AwareDatetime, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from .errors import ValidationFailed

FIRST_YEAR = 2000
LAST_YEAR = 2100
FIRST_DAY = dt.date(FIRST_YEAR, 1, 1)
LAST_DAY = dt.date(LAST_YEAR, 12, 31)
# The largest id a database row can have (a signed 64-bit key), and the largest number an
# integer column holds (PostgreSQL's integer; SQLite's are larger).
MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{1,4})\s*$")

# How messages name the parameters that pages and the API share (the error's ``field`` keeps
# the parameter's own name); any other field is named as it is written, in quotes.
LABELS = {
    "month": gettext_lazy("月份"),
    "year": gettext_lazy("年份"),
    "period": gettext_lazy("周期"),
    "start": gettext_lazy("开始日期"),
    "since": gettext_lazy("开始日期"),
    "end": gettext_lazy("结束日期"),
    "until": gettext_lazy("结束日期"),
    "date": gettext_lazy("日期"),
    "at": gettext_lazy("时间"),
    "starts_at": gettext_lazy("开始时间"),
    "due": gettext_lazy("完成时限"),
    "milestones": gettext_lazy("节点日期"),
    "q": gettext_lazy("搜索"),
    "catq": gettext_lazy("分类搜索"),
    "number": gettext_lazy("工单编号"),
    "words": gettext_lazy("诉求内容"),
    "address": gettext_lazy("地址"),
}


def label_of(field: str) -> str:
    label = LABELS.get(field) or LABELS.get(field.split(".")[0])
    return str(label) if label else f"“{field}”"


def _range_error(field, label=None):
    return ValidationFailed(
        field,
        _("%(label)s超出支持的范围：应在 %(first)s 年至 %(last)s 年之间。")
        % {"label": label or label_of(field), "first": FIRST_YEAR, "last": LAST_YEAR},
    )


def check_year(year: int, field: str, label=None) -> int:
    """``year`` if it is one of the supported years; ``label`` names the field in the message."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _range_error(field, label)
    return year


def parse_year(value, field: str = "year") -> int:
    """A year written as digits (``2026``), within the supported years."""
    if isinstance(value, int) and not isinstance(value, bool):
        return check_year(value, field)
    match = _YEAR.match(str(value or ""))
    if not match:
        raise ValidationFailed(field, _("%(label)s格式应为四位数字，例如 2026。") % {"label": label_of(field)})
    return check_year(int(match.group(1)), field)


def parse_month(value, field: str = "month") -> dt.date:
    """The first day of a month written ``YYYY-MM`` (``2026-11``), within the supported years."""
    match = _MONTH.match(str(value or ""))
    month = int(match.group(2)) if match else 0
    if not 1 <= month <= 12:
        raise ValidationFailed(field, _("%(label)s格式应为 YYYY-MM，例如 2026-11。") % {"label": label_of(field)})
    return dt.date(check_year(int(match.group(1)), field), month, 1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def shift_month(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` away from ``day``'s (negative: earlier)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(value, field: str = "month") -> tuple[dt.date, dt.date]:
    """A month ``YYYY-MM`` as its first day and the first day of the next month."""
    first = parse_month(value, field)
    return first, next_month(first)


def check_date(day: dt.date, field: str, label=None) -> dt.date:
    """A date (or the date of a datetime) within the supported years."""
    if not FIRST_DAY <= (day.date() if isinstance(day, dt.datetime) else day) <= LAST_DAY:
        raise _range_error(field, label)
    return day


def check_datetime(moment: dt.datetime, field: str) -> dt.datetime:
    return check_date(moment, field)


def parse_date(value, field: str) -> dt.date:
    """A date written ``YYYY-MM-DD`` (or a ``date``), within the supported years."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationFailed(
                field, _("%(label)s格式应为 YYYY-MM-DD，例如 2026-11-18。") % {"label": label_of(field)}
            ) from None
    return check_date(value, field)


def parse_datetime(value, field: str) -> dt.datetime:
    """A date and time in ISO 8601 (``2026-11-18T09:30+08:00``, or a ``datetime``), within the
    supported years."""
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationFailed(
                field, _("%(label)s格式应为日期和时间，例如 2026-11-18T09:30+08:00。") % {"label": label_of(field)}
            ) from None
    return check_datetime(value, field)


def date_range(start, end, start_field: str = "start", end_field: str = "end") -> tuple[dt.date, dt.date]:
    """Two dates within the supported years, the second not before the first."""
    first, last = parse_date(start, start_field), parse_date(end, end_field)
    if last < first:
        raise ValidationFailed(
            end_field, _("%(end)s不能早于%(start)s。") % {"end": label_of(end_field), "start": label_of(start_field)}
        )
    return first, last


def check_length(errors, field: str, value: str, column, label) -> None:
    """Adds a field error to ``errors`` when ``value`` is longer than the model field ``column``
    holds: PostgreSQL refuses a longer value (SQLite keeps it), so the service must say so first."""
    if value and column.max_length and len(value) > column.max_length:
        errors.add(field, _("%(label)s不能超过 %(max)d 个字。") % {"label": label, "max": column.max_length})


SEARCH_MAX = 100


def search_text(value, field: str = "q") -> str:
    """Words to search for, at most ``SEARCH_MAX`` characters (a search pattern has a size limit
    in the database, and no field is searched for more)."""
    text = str(value or "").strip()
    if len(text) > SEARCH_MAX:
        raise ValidationFailed(
            field, _("%(label)s不能超过 %(max)d 个字。") % {"label": label_of(field), "max": SEARCH_MAX}
        )
    return text


def whole_number(value, default=None):
    """A whole number typed in a form (``12``, ``-3``, full-width digits too) that an integer
    column can hold; anything else is ``default`` (the service then says what it expects)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if -MAX_INT <= number <= MAX_INT else default


def row_id(value) -> int | None:
    """A row id from a page's parameter (``?before=123``): a positive whole number that a row can
    have, written in ASCII digits; anything else is None (the page starts from the top)."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Cursor:
    """A key-set cursor of a fixed shape, e.g. ``Cursor(AwareDatetime, RowId)`` for
    ``[created_at, id]``: URL-safe base64 of a JSON list. ``decode`` refuses any other shape."""

    def __init__(self, *kinds):
        self._adapter = TypeAdapter(tuple[kinds], config={"strict": True})

    def encode(self, *values) -> str:
        return base64.urlsafe_b64encode(self._adapter.dump_json(values)).decode().rstrip("=")

    def decode(self, cursor: str, field: str = "cursor") -> tuple:
        invalid = ValidationFailed(field, _("翻页参数无效，请从第一页重新开始。"))
        text = str(cursor or "").strip()
        if not text.isascii() or len(text) > 500:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            values = self._adapter.validate_json(raw)
        except (binascii.Error, ValueError, PydanticValidationError):
            raise invalid from None
        for value in values:
            if isinstance(value, dt.datetime) and not FIRST_DAY <= value.date() <= LAST_DAY:
                raise invalid
        return values


__all__ = [
    "FIRST_DAY",
    "FIRST_YEAR",
    "LAST_DAY",
    "LAST_YEAR",
    "MAX_ID",
    "MAX_INT",
    "SEARCH_MAX",
    "AwareDatetime",
    "Cursor",
    "RowId",
    "check_date",
    "check_datetime",
    "check_length",
    "check_year",
    "date_range",
    "month_bounds",
    "next_month",
    "parse_date",
    "parse_datetime",
    "parse_month",
    "parse_year",
    "row_id",
    "search_text",
    "shift_month",
    "whole_number",
]
