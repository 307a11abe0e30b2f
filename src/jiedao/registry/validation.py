"""Input rules for the registry, each with a Chinese message that names the field.

- Resident identity numbers (GB 11643-1999): 18 characters, the first 17 digits, the
  last a check character computed from the weights below (0-9 or X); characters 7-14
  are the birth date.
- 统一社会信用代码 (GB 32100-2015): 18 characters from 0-9 and 20 capital letters (no
  I, O, Z, S, V), the last a check character modulo 31.
- Mainland mobile numbers: 1[3-9] followed by 9 digits (a leading +86 is accepted).

Each ``check_*`` function returns the normalised value and adds an error to ``errors``
(a :class:`jiedao.common.errors.FieldErrors`) when the value breaks the rule. The
messages never repeat an identity number or a phone, so that error reports can be
kept without holding personal data. ``label`` is put in front of the rule ("身份证号
校验位错误"); pass ``label=""`` where the column is already named (import reports).
"""

import datetime as dt
import re

from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors
from jiedao.common.masking import PROVINCES

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
EARLIEST_BIRTH = dt.date(1890, 1, 1)


def _say(label, message):
    return _("%(label)s%(rule)s") % {"label": label, "rule": message} if label else message


# --- identity numbers ---------------------------------------------------------------


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=False))
    return ID_CHECK_CHARS[total % 11]


def normalise_id_number(raw) -> str:
    return cell_text(raw).replace(" ", "").upper()


def id_birth_date(value: str):
    """The birth date inside an 18-character identity number, or None if it is not a date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def id_gender(value: str) -> str:
    """'male' when the 17th digit is odd, 'female' when even."""
    return "male" if int(value[16]) % 2 else "female"


def check_id_number(errors, field, raw, label=None, required=False, today=None):
    label = _("身份证号") if label is None else label
    value = normalise_id_number(raw)
    if not value:
        if required:
            errors.add(field, _say(label, _("必须填写。")))
        return ""
    if len(value) != 18:
        errors.add(field, _say(label, _("应为18位（现有%(n)d位）。") % {"n": len(value)}))
        return value
    if not value.isascii() or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        errors.add(field, _say(label, _("前17位应为数字，最后一位为数字或X。")))
        return value
    if value[:2] not in PROVINCES:
        errors.add(field, _say(label, _("前两位不是有效的省级行政区划代码。")))
        return value
    birth = id_birth_date(value)
    today = today or dt.date.today()
    if birth is None:
        errors.add(field, _say(label, _("第7至14位不是有效的出生日期。")))
        return value
    if birth > today or birth < EARLIEST_BIRTH:
        errors.add(field, _say(label, _("第7至14位的出生日期不在合理范围内。")))
        return value
    expected = id_check_char(value[:17])
    if value[17] != expected:
        errors.add(field, _say(label, _("校验位错误：按前17位计算，最后一位应为“%(char)s”。") % {"char": expected}))
    return value


def is_valid_id_number(raw) -> bool:
    errors = FieldErrors()
    check_id_number(errors, "id_number", raw)
    return not errors


# --- 统一社会信用代码 ------------------------------------------------------------------


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(char) * weight for char, weight in zip(first17, CREDIT_WEIGHTS, strict=False))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def check_credit_code(errors, field, raw, label=None, required=True):
    label = _("统一社会信用代码") if label is None else label
    value = cell_text(raw).replace(" ", "").upper()
    if not value:
        if required:
            errors.add(field, _say(label, _("必须填写。")))
        return ""
    if len(value) != 18:
        errors.add(field, _say(label, _("应为18位（现有%(n)d位）。") % {"n": len(value)}))
        return value
    bad = sorted({char for char in value if char not in CREDIT_CHARS})
    if bad:
        errors.add(
            field, _say(label, _("含有不允许的字符“%(chars)s”（不使用 I、O、Z、S、V）。") % {"chars": "".join(bad)})
        )
        return value
    expected = credit_check_char(value[:17])
    if value[17] != expected:
        errors.add(field, _say(label, _("校验位错误：按前17位计算，最后一位应为“%(char)s”。") % {"char": expected}))
    return value


# --- phones ------------------------------------------------------------------------


def normalise_phone(raw) -> str:
    value = cell_text(raw).replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def check_mobile(errors, field, raw, label=None, required=False):
    label = _("手机号") if label is None else label
    value = normalise_phone(raw)
    if not value:
        if required:
            errors.add(field, _say(label, _("必须填写。")))
        return ""
    if not MOBILE.match(value):
        errors.add(field, _say(label, _("格式不正确：应为1开头、第二位为3至9的11位数字。")))
    return value


def check_contact_phone(errors, field, raw, label=None):
    """A mobile number or a landline such as 010-12345678 (enterprises)."""
    label = _("联系电话") if label is None else label
    value = cell_text(raw).replace(" ", "")
    if value.startswith("+86"):
        value = value[3:]
    if not value:
        return ""
    if not (MOBILE.match(value) or LANDLINE.match(value)):
        errors.add(field, _say(label, _("格式不正确：手机号为1开头的11位数字，固定电话如 010-12345678。")))
    return value


# --- other fields ----------------------------------------------------------------------


def parse_date(errors, field, raw, label):
    """A date from a cell: a date object, 2026-01-31, 2026/1/31 or 20260131."""
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    errors.add(field, _say(label, _("不是有效的日期，请写成 2026-01-31。")))
    return None


def parse_float(errors, field, raw, label, low, high):
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.add(field, _say(label, _("应为数字。")))
        return None
    if not low <= value <= high:
        errors.add(field, _say(label, _("应在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}))
        return None
    return value


def parse_int(errors, field, raw, label, low, high):
    if raw in (None, ""):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        errors.add(field, _say(label, _("应为整数。")))
        return None
    if number != int(number):
        errors.add(field, _say(label, _("应为整数。")))
        return None
    number = int(number)
    if not low <= number <= high:
        errors.add(field, _say(label, _("应在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}))
        return None
    return number


def cell_text(raw) -> str:
    """A cell as text: numbers that Excel stored as floats lose their '.0'."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()
