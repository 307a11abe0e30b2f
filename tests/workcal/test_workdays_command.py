"""``jiedao workdays``: anyone can check the calendar from the command line."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiedao.workcal.models import CalendarDay, CalendarYear


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("workdays", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start, n, due",
    [
        ("2026-09-30", "3", "2026-10-10"),  # National Day; the 10th is a make-up Saturday
        ("2026-02-13", "5", "2026-02-27"),  # Spring Festival
        ("2026-11-18", "0", "2026-11-18"),
        ("2026-11-20", "1", "2026-11-23"),  # Friday → Monday
    ],
)
def test_add_prints_the_date_n_working_days_later(start, n, due):
    out, err = run("add", start, n)
    assert out == due
    assert err == ""


@pytest.mark.django_db
def test_add_into_an_unknown_year_warns_on_stderr():
    out, err = run("add", "2026-12-30", "3")
    # Thu 31 Dec 2026, then Mon–Fri fallback in 2027: Fri 1 Jan, Mon 4 Jan.
    assert out == "2027-01-04"
    assert "2027年" in err and "周一至周五" in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day, expected",
    [
        ("2026-10-01", ["休息日", "国庆节放假", "chinesecalendar"]),
        ("2026-10-10", ["工作日", "国庆节调休上班", "星期六"]),
        ("2026-02-14", ["工作日", "春节调休上班"]),
        ("2026-02-18", ["休息日", "春节放假"]),
        ("2026-11-21", ["休息日", "周末"]),
        ("2026-11-18", ["工作日", "平常工作日"]),
        ("2027-01-01", ["工作日", "2027年放假通知尚未录入", "周一至周五"]),
    ],
)
def test_is_says_whether_and_why(day, expected):
    out, _ = run("is", day)
    assert out.startswith(day)
    for text in expected:
        assert text in out


@pytest.mark.django_db
def test_is_names_an_entered_notice_as_the_source():
    CalendarDay.objects.create(date="2027-01-01", kind="holiday", name="元旦", notice="国办发明电〔2026〕测试")
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕测试")
    out, _ = run("is", "2027-01-01")
    assert "休息日" in out and "元旦放假" in out and "管理员录入的放假通知（国办发明电〔2026〕测试）" in out


@pytest.mark.django_db
def test_check_reports_known_and_unknown_years():
    out, _ = run("check", "2026")
    assert out.startswith("2026年：已知") and "chinesecalendar" in out and "调休上班 6 天" in out
    out, _ = run("check", "2027")
    assert out.startswith("2027年：未知") and "周一至周五" in out and "节假日安排" in out
    CalendarDay.objects.create(date="2027-01-01", kind="holiday", name="元旦")
    out, _ = run("check", "2027")
    assert "已录入 1 天" in out and "尚未" in out
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕测试")
    out, _ = run("check", "2027")
    assert out.startswith("2027年：已知") and "国办发明电〔2026〕测试" in out and "放假 1 天" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, names",
    [
        (["add", "2026-13-01", "3"], "DATE"),
        (["add", "30/09/2026", "3"], "DATE"),
        (["add", "2026-09-30", "three"], "N"),
        (["add", "2026-09-30", "-3"], "N"),
        (["add", "2026-09-30", "5000"], "N"),
        (["add", "2026-09-30"], "N"),
        (["add"], "DATE"),
        (["is", "tomorrow"], "DATE"),
        (["check", "27"], "YEAR"),
        (["check"], "YEAR"),
        (["is", "2026-10-01", "2026-10-02"], "多余的参数"),
        (["when", "2026-10-01"], "子命令"),
        ([], "子命令"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(args, names):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert error.value.returncode == 2
    assert names in str(error.value)


def test_the_real_command_exits_with_code_2_and_a_chinese_message(tmp_path):
    env = {**os.environ, "JIEDAO_DATA_DIR": str(tmp_path)}
    jiedao = Path(sys.executable).with_name("jiedao")
    result = subprocess.run(
        [str(jiedao), "workdays", "add", "2026-02-30", "5"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "参数 DATE 不是有效日期" in result.stderr and "2026-02-30" in result.stderr
    assert result.stdout == ""
