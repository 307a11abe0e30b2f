"""XML and JSON as GeoReport v2 writes them, and its error list.

Responses are built from plain Python values: a list of dicts for the collections
(``<services><service>…``), a dict for single documents (``<service_definition>``).
Lists inside a dict become a wrapper element holding one element per item, named
by ``ITEM_TAGS`` (``attributes`` → ``attribute``)."""

import datetime as dt
import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from jiedao.workcal.calendar import SHANGHAI

CONTENT_TYPES = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
CONTENT_TYPES_PLAIN = ("text/xml", "application/json")
ITEM_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# The longest description an error gives: one that echoes what the client sent (a code, an
# identifier) is cut there, so that a parameter of thousands of characters does not come back whole.
MAX_DESCRIPTION = 300


def _cut(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


class Open311Error(Exception):
    """An answer in the standard's error list: ``http_status`` is the HTTP code, each
    description one ``<error>`` (at most ``MAX_DESCRIPTION`` characters)."""

    def __init__(self, http_status, *descriptions):
        self.descriptions = [_cut(str(d)) for d in descriptions]
        super().__init__("; ".join(self.descriptions))
        self.http_status = http_status


def iso(value):
    """ISO 8601 with the offset (Beijing time), e.g. 2026-11-18T09:30:00+08:00."""
    if value is None:
        return None
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return iso(value)
    return _NOT_XML.sub("", str(value))


def _append(parent, tag, value):
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, (list, tuple)):
        item_tag = ITEM_TAGS.get(tag, "item")
        for item in value:
            _append(element, item_tag, item)
    else:
        element.text = _text(value)


def to_xml(root_tag, data, item_tag=None):
    root = ET.Element(root_tag)
    if isinstance(data, dict):
        for key, value in data.items():
            _append(root, key, value)
    else:
        for item in data:
            _append(root, item_tag, item)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


def _json_default(value):
    if isinstance(value, dt.datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(data):
    return json.dumps(data, ensure_ascii=False, default=_json_default)


def respond(fmt, root_tag, data, item_tag=None, status=200):
    body = to_xml(root_tag, data, item_tag) if fmt == "xml" else to_json(data)
    return HttpResponse(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def format_of(path):
    """The format a path asks for: ``json`` when its last part ends in ``.json`` (in any case),
    else ``xml``, the standard's required format."""
    last = path.rsplit("/", 1)[-1]
    return "json" if last.lower().endswith(".json") else "xml"


def error_response(fmt, error):
    items = [{"code": error.http_status, "description": d} for d in error.descriptions]
    return respond(fmt if fmt in CONTENT_TYPES else "xml", "errors", items, item_tag="error", status=error.http_status)
