"""The API's JSON body parser: what ``json.loads`` lets through but no field may hold.

Python's JSON reader accepts three things that are not data any field of ours can keep, and
each used to fail later, deep in a write or a date step, as a server error:

- a lone UTF-16 surrogate (``"\\ud800"`` without its pair): the string cannot be encoded as
  UTF-8, so the database refuses it;
- ``NaN``, ``Infinity``, ``-Infinity`` and numbers too large for a float (``1e400``), which
  are not JSON at all (RFC 8259);
- integers beyond ±(2^53 − 1), the range every JSON reader holds exactly (RFC 8259, section 6),
  far beyond any count, id or amount of ours, and beyond what a database column can hold.

The parser refuses them when the body is read, with a ``ValidationFailed`` that names the
field (the dotted path of the value, or ``body``) in the user's language; ``jiedao.api`` answers
it with 422, like any other field error. Nothing is written.
"""

import json
import math

from django.utils.translation import gettext as _
from ninja.parser import Parser

from .errors import ValidationFailed

LARGEST_INTEGER = 2**53 - 1


def _number_error():
    return ValidationFailed(
        "body",
        _("请求内容中有无效的数字：不能使用 NaN、Infinity，整数的绝对值不能超过 %(max)s。") % {"max": LARGEST_INTEGER},
    )


def _integer(text):
    value = int(text)
    if abs(value) > LARGEST_INTEGER:
        raise _number_error()
    return value


def _float(text):
    value = float(text)
    if not math.isfinite(value):
        raise _number_error()
    return value


def _constant(text):
    raise _number_error()


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate_path(data):
    """The dotted path of the first key or string that holds a lone surrogate, or None."""
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                return ".".join(path) or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    return ".".join(path) or "body"
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), item) for index, item in enumerate(value))
    return None


def loads(body):
    """``json.loads`` with the refusals above."""
    data = json.loads(body, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    try:
        # One pass in C for the usual body; the walk that names the field only when it fails.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        field = _surrogate_path(data) or "body"
        raise ValidationFailed(
            field, _("“%(field)s”中有无法识别的字符（不成对的 UTF-16 代理项），请删除后重新提交。") % {"field": field}
        ) from None
    return data


class JsonBodyParser(Parser):
    def parse_body(self, request):
        return loads(request.body)
