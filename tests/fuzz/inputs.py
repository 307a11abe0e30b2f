"""Hypothesis strategies for the input that breaks servers: dates of every year Python knows and
beyond, months 0–13 and days 0–32 in ISO and odd writings, cursors of random bytes and JSON
shapes, strings with lone surrogates, NUL, full-width digits, right-to-left marks and great
length, and numbers too large, negative or not numbers at all.

``EDGES`` are the sharpest values of each kind, tried one by one before any random example;
``kind_of`` tells a parameter's kind from its name (``month``, ``starts_at``, ``cursor`` …),
and ``value_for`` aims the random values at it.

Values are text, as a query string or a form carries them. ``as_bytes`` encodes text the way a
hostile client can (a lone surrogate as the three bytes UTF-8 would give it, which are not
valid UTF-8), and ``form_body`` / ``query_string`` put such bytes on the wire."""

import base64
import json
import re
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

FULL_WIDTH = str.maketrans("0123456789-:", "０１２３４５６７８９－：")
RTL_MARKS = ["\u200f", "\u202e", "\u2067", "\u061c"]
ODD_CHARACTERS = [
    "\ud800",
    "\udfff",
    "\ud83d",
    "\x00",
    "\u200b",
    "\ufeff",
    "\u0301",
    "\uffff",
    "\U0010ffff",
    *RTL_MARKS,
]

# The edges come up half of the time: that is where date arithmetic overflows.
years = st.one_of(
    st.sampled_from([0, 1, 2, 999, 1999, 2000, 2026, 2100, 2101, 9998, 9999, 10000]), st.integers(1, 9999)
)
months = st.one_of(st.sampled_from([0, 1, 2, 12, 13]), st.integers(0, 13))
days = st.one_of(st.sampled_from([0, 1, 28, 29, 30, 31, 32]), st.integers(0, 32))


def _write(year, month, day, form, hour, zone, wide):
    text = form.format(y=year, m=month, d=day, h=hour)
    text += zone
    return text.translate(FULL_WIDTH) if wide else text


date_text = st.builds(
    _write,
    years,
    months,
    days,
    st.sampled_from(
        [
            "{y:04d}-{m:02d}-{d:02d}",
            "{y}-{m}-{d}",
            "{y:04d}/{m:02d}/{d:02d}",
            "{y:04d}{m:02d}{d:02d}",
            "{y:04d}-{m:02d}-{d:02d}T{h:02d}:30",
            "{y:04d}-{m:02d}-{d:02d}T{h:02d}:00:00",
            "{y:04d}-{m:02d}-{d:02d} {h:02d}:59:59",
            "{d:02d}.{m:02d}.{y:04d}",
            "{y}年{m}月{d}日",
        ]
    ),
    st.integers(0, 25),
    st.sampled_from(["", "", "+08:00", "Z", "-12:00", "+14:00", "+99:00"]),
    st.booleans(),
)

month_text = st.builds(
    _write,
    years,
    months,
    days,
    st.sampled_from(
        [
            "{y:04d}-{m:02d}",
            "{y}-{m}",
            "{y:04d}/{m:02d}",
            "{y:04d}{m:02d}",
            "{y:04d}-W{m:02d}",
            "{y:04d}-Q{m}",
            "{y:04d}",
            "{y}年{m}月",
        ]
    ),
    st.just(0),
    st.just(""),
    st.booleans(),
)

year_text = st.one_of(
    years.map(str), st.integers().map(str), st.sampled_from(["-5", "0", "²", "２０２６", "1e3", "2026.0", " 2026 "])
)

number_text = st.one_of(
    st.integers().map(str),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-0", "１２", "9" * 40, "0x10", "1_000", "", " "]),
)


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10), date_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)

cursor_text = st.one_of(
    st.binary(max_size=40).map(_b64),
    json_values.map(lambda v: _b64(json.dumps(v).encode())),
    st.tuples(date_text, st.one_of(st.integers(), st.text(max_size=3))).map(
        lambda v: _b64(json.dumps(list(v)).encode())
    ),
    st.text(max_size=30),
)

nasty_text = st.one_of(
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=40),
    st.lists(
        st.sampled_from(
            [
                "楼道",
                "１３８００１３８０００",
                "138 0013 8000",
                *ODD_CHARACTERS,
                "<script>",
                "'",
                "%",
                "\\",
                "\r\n",
                "１２",
                " ",
            ]
        ),
        max_size=8,
    ).map("".join),
    st.sampled_from(["x" * 100_000, "堆" * 70_000, "\u202e" * 5_000]),
)

any_value = st.one_of(date_text, month_text, year_text, number_text, cursor_text, nasty_text)


# The edges themselves, tried one by one on every parameter of their kind before the random
# examples: where parsers, date arithmetic, databases and encodings give way.
def _crafted_cursors():
    shapes = [
        [1],
        5,
        "x",
        {"a": 1},
        [[1], 2],
        ["2026-01-01T00:00:00+08:00", "x"],
        [10**400, 1],
        [None, 1],
        ["0001-01-01T00:00:00+08:00", 1],
        ["9999-12-31T23:59:59-12:00", 2**63],
    ]
    return [_b64(json.dumps(shape).encode()) for shape in shapes] + ["!!!", "AAAA", "翻页"]


EDGES = {
    "date": [
        "0001-01-01",
        "9999-12-31",
        "0000-00-00",
        "2026-02-30",
        "10000-01-01",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "２０２６-１１-１８",
        "2026-11-18T25:61",
    ],
    "month": [
        "9999-12",
        "0001-01",
        "0000-00",
        "2026-13",
        "10000-01",
        "２０２６-１１",
        "9999-W52",
        "0001-W01",
        "9999-Q4",
        "0001",
        "9999",
    ],
    "year": ["9999", "10000", "0", "-5", "1000000000000", "9" * 30, "²", "２０２６"],
    "number": ["-1", "0", "9" * 20, "9223372036854775808", "1e400", "NaN", "²", "１２"],
    "cursor": _crafted_cursors(),
    "text": ["\ud800", "\x00", "x" * 100_000, "\u202e١٢٣", "²", "%", "'\"<>"],
}


def kind_of(name):
    """What a parameter of that name holds, by its name: date, month, year, cursor, number or text."""
    if re.search(r"month|period", name):
        return "month"
    if "year" in name:
        return "year"
    if re.search(r"^(start|end|since|until|date|at|due|before|after|planned|held)|_(at|on|due)$|date", name):
        return "date"
    if "cursor" in name:
        return "cursor"
    if re.search(
        r"limit|days|weeks|last|id$|pk|quantity|points|score|progress|hours|cost|budget|seats|capacity|"
        r"demand|choices|served|participants|amount|level|stock|workdays|radius|_m$|confidence|minutes|"
        r"threshold|value|^(lat|lng|long)$",
        name,
    ):
        return "number"
    return "text"


AIMED = {
    "month": month_text,
    "year": year_text,
    "date": date_text,
    "cursor": cursor_text,
    "number": number_text,
    "text": nasty_text,
}


def edges_for(name):
    """The edge values for a parameter of that name; the first text edges for all."""
    kind = kind_of(name)
    return EDGES["text"] if kind == "text" else EDGES[kind] + EDGES["text"][:3]


# The sharpest few of each kind, for sweeping every field of every form.
SHARP = {
    "date": ["0001-01-01", "9999-12-31T23:59:59-12:00", "2026-13-01T00:00"],
    "month": ["9999-12", "0001-01"],
    "year": ["1000000000000", "-5"],
    "number": ["9" * 20, "-1", "1e400"],
    "cursor": _crafted_cursors()[:2],
    "text": ["x" * 100_000, "\ud800"],
}


def sharp_edges_for(name):
    kind = kind_of(name)
    return SHARP[kind] if kind == "text" else SHARP[kind] + SHARP["text"]


def value_for(name):
    """Random values aimed at what a parameter of that name holds, mixed with anything at all."""
    aimed = AIMED[kind_of(name)]
    return st.one_of(aimed, aimed, any_value)


def as_bytes(text):
    """Text as a hostile client sends it: UTF-8, lone surrogates as their (invalid) three bytes."""
    return text.encode("utf-8", "surrogatepass")


def query_string(params):
    return "&".join(f"{quote_from_bytes(as_bytes(k))}={quote_from_bytes(as_bytes(v))}" for k, v in params.items())


def form_body(data):
    return query_string(data).encode("ascii")
