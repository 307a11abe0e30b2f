"""Phones and identity numbers typed into free text: found in every common writing and
masked (first three and last four kept), while dates, amounts, case numbers, house numbers
and postcodes are left as they were."""

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jiedao.common.masking import find_personal_numbers, mask_address, mask_personal_text

FULL_WIDTH = str.maketrans("0123456789Xx+-()", "０１２３４５６７８９Ｘｘ＋－（）")
WORDS = st.text(alphabet="东湖路小区楼道灯不亮请尽快处理居民反映垃圾没人清运，。！、：我家门口", max_size=12)


def shown_of(text):
    """The digits (and an identity number's X) still readable in a text."""
    plain = text.translate(str.maketrans("０１２３４５６７８９Ｘ", "0123456789X"))
    return "".join(ch for ch in plain if ch.isdigit() or ch == "X")


# --- the tester's writings, and other plain examples ------------------------------------------


@pytest.mark.parametrize(
    "text, masked",
    [
        ("请联系138 1234 5678", "请联系138****5678"),
        ("电话１３８１２３４５６７８", "电话138****5678"),
        ("138-0013-8000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("＋８６ １３８ ００１３ ８０００", "138****8000"),
        ("0086-13800138000", "138****8000"),
        ("86-138-0013-8000", "138****8000"),
        ("（+86）13800138000回电", "138****8000回电"),
        ("138.0013.8000", "138****8000"),
        ("1 3 8 0 0 1 3 8 0 0 0", "138****8000"),
        ("13800138000 13900139000", "138****8000 139****9000"),
        ("座机010-88886666", "座机010****6666"),
        ("(010) 8888 6666", "010****6666"),
        ("（０７５５）８８８８６６６", "075****8666"),
        ("+86 10 8888 6666", "010****6666"),
        ("电话：62345678", "电话：****5678"),
        ("身份证110101 19900307 8910", "身份证110***********8910"),
        ("110101199003078910", "110***********8910"),
        ("身份证号11010519491231002x，", "身份证号110***********002X，"),
        ("身份证号11010519491231002Ｘ", "身份证号110***********002X"),
        ("老证号110105491231002", "老证号110********1002"),
        ("房号86 13800138000", "房号86 138****8000"),  # without a "+", 86 and a space are a number of their own
    ],
)
def test_personal_numbers_are_masked_in_every_writing(text, masked):
    assert mask_personal_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06 上午十点",
        "2026.12.06",
        "2026/12/06",
        "20261206",
        "2026年12月6日 13:45",
        "工单JD2026120100001已办结",
        "JD2026120100001 JD2026120100002",
        "3号楼2单元501室",
        "东湖路161号3单元1202",
        "邮编100101",
        "费用1500元，押金3,800.50元",
        "约13800元",
        "增长13.5%",
        "12345678901",  # eleven digits, but no mobile starts with 12
        "第2次来电，2026-12-06 13:00",
        "138****5678",  # already masked
        "邮编110000 20000101 1000元",  # a postcode, a date and an amount side by side
        "1号楼1单元130 10000000元",
        "1号楼1单元130 20261206",
    ],
)
def test_ordinary_numbers_are_kept(text):
    assert mask_personal_text(text) == text
    assert find_personal_numbers(text) == []


def test_the_finder_names_the_kind_and_the_place():
    text = "张先生13800138000，身份证110101199003078910，座机010-88886666"
    found = find_personal_numbers(text)
    assert [(f.kind, f.value) for f in found] == [
        ("mobile", "13800138000"),
        ("id_number", "110101199003078910"),
        ("landline", "01088886666"),
    ]
    assert [text[f.start : f.end] for f in found] == ["13800138000", "110101199003078910", "010-88886666"]


def test_an_address_with_a_phone_in_it_is_masked():
    assert mask_address("13800138000东湖小区3号楼2单元501") == "138****8000东湖小区3号楼****"


def test_empty_text_stays_empty():
    assert mask_personal_text("") == "" and mask_personal_text(None) == ""


# --- property-based: any phone or identity number in any writing --------------------------------


def _grouped(digits, sizes, separator):
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    if at < len(digits):
        parts.append(digits[at:])
    return separator.join(parts)


SEPARATORS = st.sampled_from([" ", "-", ".", "\u3000", "－", " - ", "·"])
MOBILES = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@st.composite
def written_mobile(draw):
    number = draw(MOBILES)
    layout = draw(st.sampled_from(["plain", "3-4-4", "4-4-3", "4-3-4", "spaced"]))
    if layout == "plain":
        text = number
    elif layout == "spaced":
        text = " ".join(number)
    else:
        sizes = [int(n) for n in layout.split("-")]
        text = _grouped(number, sizes, draw(SEPARATORS))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "86-", "(+86)", "（+86）", "+86-"]))
    text = prefix + text
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return number, text


AREAS = st.sampled_from(["010", "021", "022", "0755", "0571", "0898"])


@st.composite
def written_landline(draw):
    area = draw(AREAS)
    length = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("23456789")) + draw(
        st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1)
    )
    layout = draw(st.sampled_from(["{a}-{l}", "({a}){l}", "({a}) {l}", "{a} {l}", "+86 {b} {l}", "{a}-{h}-{t}"]))
    text = layout.format(a=area, l=local, b=area[1:], h=local[:4], t=local[4:])
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return area + local, text


@st.composite
def written_id(draw):
    province = draw(st.sampled_from(["11", "31", "44", "51", "65"]))
    area = province + draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)))
    seq = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    check = draw(st.sampled_from("0123456789Xx"))
    if draw(st.integers(0, 5)) == 0:  # an old 15-digit number
        number = area + born.strftime("%y%m%d") + seq
    else:
        number = area + born.strftime("%Y%m%d") + seq + check
    layout = draw(st.sampled_from(["plain", "6-8-4", "6-4-4-4", "3-3-4-4-4"]))
    if layout == "plain" or len(number) == 15:
        text = number
    else:
        text = _grouped(number, [int(n) for n in layout.split("-")], draw(st.sampled_from([" ", "-", "\u3000"])))
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return number.upper(), text


@settings(max_examples=300, deadline=None)
@given(number=st.one_of(written_mobile(), written_landline(), written_id()), before=WORDS, after=WORDS)
@example(number=("13812345678", "138 1234 5678"), before="电话", after="")
def test_a_number_written_any_way_is_always_masked(number, before, after):
    value, written = number
    text = before + written + after
    masked = mask_personal_text(text)
    # Only the first three and the last four characters of the number are still there.
    assert shown_of(masked) == value[:3] + value[-4:]
    assert masked.startswith(before) and masked.endswith(after)
    assert [f.value for f in find_personal_numbers(text)] == [value]
    assert mask_personal_text(masked) == masked  # masking twice changes nothing


ORDINARY = st.one_of(
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)).flatmap(
        lambda d: st.sampled_from(
            [
                d.isoformat(),
                d.strftime("%Y.%m.%d"),
                d.strftime("%Y/%m/%d"),
                d.strftime("%Y%m%d"),
                f"{d.year}年{d.month}月{d.day}日",
            ]
        )
    ),
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.integers(0, 99_999_999).map(lambda n: f"{n}元"),
    st.decimals(min_value=0, max_value=10**7, places=2).map(lambda n: f"{n:,}元"),
    st.integers(1, 99_999).flatmap(
        lambda n: st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)).map(
            lambda d, n=n: f"JD{d:%Y%m%d}{n:05d}"
        )
    ),
    st.tuples(st.integers(1, 40), st.integers(1, 9), st.integers(101, 3012)).map(
        lambda t: f"{t[0]}号楼{t[1]}单元{t[2]}"
    ),
    st.integers(100000, 860000).map(lambda n: f"邮编{n}"),
    st.integers(0, 100).map(lambda n: f"{n}%"),
)


@settings(max_examples=300, deadline=None)
@given(items=st.lists(ORDINARY, min_size=1, max_size=5), glue=st.sampled_from(["，", "；", " ", "、", "。"]))
def test_ordinary_numbers_are_never_masked(items, glue):
    text = "诉求：" + glue.join(items)
    assert mask_personal_text(text) == text
