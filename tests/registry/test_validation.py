"""The rules a person's identity number, an enterprise's credit code and a phone must meet."""

import datetime as dt

import pytest

from jiedao.common.errors import FieldErrors
from jiedao.registry import validation

from .conftest import make_id


def check_id(value, **kwargs):
    errors = FieldErrors()
    result = validation.check_id_number(errors, "id_number", value, **kwargs)
    return result, [e["message"] for e in errors.errors]


def test_the_standards_own_example_with_x_is_valid():
    # GB 11643-1999's worked example: 11010519491231002X.
    value, messages = check_id("11010519491231002X")
    assert messages == [] and value == "11010519491231002X"


def test_a_lower_case_x_and_spaces_are_accepted_and_normalised():
    value, messages = check_id(" 11010519491231002x ")
    assert messages == [] and value == "11010519491231002X"


@pytest.mark.parametrize("wrong", ["110105194912310020", "110105194912310021", "110105194912310029"])
def test_a_wrong_check_character_is_refused_naming_the_field_and_the_right_character(wrong):
    _value, messages = check_id(wrong)
    assert len(messages) == 1
    assert "身份证号" in messages[0] and "校验位错误" in messages[0] and "“X”" in messages[0]


def test_a_digit_check_character_is_computed_from_the_weights():
    # 1*7+1*9+0*10+1*5+0*8+1*4+1*2+9*1+5*6+2*3+0*7+2*9+0*10+2*5+1*8+2*4+3*2 = 122;
    # 122 % 11 = 1, and position 1 of "10X98765432" is "0".
    assert validation.id_check_char("11010119520202123") == "0"
    assert check_id("110101195202021230")[1] == []
    assert check_id("110101195202021235")[1] != []


@pytest.mark.parametrize(
    "value, rule",
    [
        ("11010519491231002", "应为18位"),
        ("1101051949123100X2", "前17位应为数字"),
        ("990105194912310021", "省级行政区划代码"),
        ("110105194913310025", "出生日期"),  # month 13
        ("110105203012310028", "出生日期"),  # in the future
    ],
)
def test_other_broken_numbers_say_which_rule(value, rule):
    _value, messages = check_id(value, today=dt.date(2026, 11, 18))
    assert messages and rule in messages[0]


def test_the_birth_date_and_gender_come_from_the_number():
    number = make_id("19520202", seq="031")
    assert validation.id_birth_date(number) == dt.date(1952, 2, 2)
    assert validation.id_gender(number) == "male"
    assert validation.id_gender(make_id("19520202", seq="042")) == "female"


def test_an_empty_number_is_an_error_only_when_required():
    assert check_id("")[1] == []
    assert "必须填写" in check_id("", required=True)[1][0]


@pytest.mark.parametrize(
    "code, ok",
    [
        ("91350100M000100Y43", True),
        ("91330100799655058B", True),
        ("91350100M000100Y44", False),
        ("91350100M000100Y4", False),
        ("91350100M0001O0Y43", False),  # the letter O is not used
    ],
)
def test_unified_social_credit_codes(code, ok):
    errors = FieldErrors()
    validation.check_credit_code(errors, "credit_code", code)
    assert (not errors) == ok
    if not ok:
        assert "统一社会信用代码" in errors.errors[0]["message"]


@pytest.mark.parametrize(
    "phone, ok",
    [
        ("13812345678", True),
        ("+86 138 1234 5678", True),
        ("19912345678", True),
        ("12812345678", False),
        ("1381234567", False),
        ("010-12345678", False),
    ],
)
def test_mainland_mobile_numbers(phone, ok):
    errors = FieldErrors()
    value = validation.check_mobile(errors, "phone", phone)
    assert (not errors) == ok
    if ok:
        assert len(value) == 11
    else:
        assert "手机号" in errors.errors[0]["message"]
