"""``jiedao registry import|template``: the operators' way to script base data."""

import pytest
from django.core.management import ManagementUtility, call_command
from openpyxl import load_workbook

from jiedao.registry.models import ImportRun, Person

from .conftest import PERSON_HEADERS, csv_bytes, make_id, person_row, wrong_check, xlsx_bytes


@pytest.fixture
def run_cli(monkeypatch):
    """Runs ``jiedao …`` as the shell would and returns the exit status. (The command
    closes the database connections when it ends; the test's own must stay open.)"""
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)

    def run(*args):
        try:
            ManagementUtility(["jiedao", *args]).execute()
        except SystemExit as exc:
            return exc.code
        return 0

    return run


def test_a_clean_file_imports_with_status_zero_and_prints_progress(registry, street, tmp_path, capsys, run_cli):
    path = tmp_path / "people.csv"
    path.write_bytes(
        csv_bytes(
            PERSON_HEADERS,
            [person_row("命令行", make_id("19700707", seq="071"), "13700007777", "B21", "1", "501", "户主")],
        )
    )
    assert run_cli("registry", "import", "persons", str(path), "--source", "公安人口库") == 0
    out = capsys.readouterr().out
    assert "检查 1/1 行" in out and "写入 1/1 行" in out and "新建档案1人" in out
    person = Person.objects.get(name="命令行")
    assert person.sources["name"]["source"] == "公安人口库"
    assert ImportRun.objects.filter(filename="people.csv", user=street.users.admin).exists()


def test_a_refused_file_exits_non_zero_and_prints_each_row(registry, street, tmp_path, capsys, run_cli):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        xlsx_bytes(
            PERSON_HEADERS,
            [
                person_row("甲", wrong_check(make_id("19700707", seq="073"))),
                person_row("乙", make_id("19700707", seq="075"), "10000000000"),
            ],
        )
    )
    before = Person.objects.count()
    assert run_cli("registry", "import", "persons", str(path)) == 1
    err = capsys.readouterr().err
    assert "第2行 身份证号: 校验位错误" in err
    assert "第3行 手机号: 格式不正确" in err
    assert "共 2 处错误，未写入任何数据" in err
    assert Person.objects.count() == before


def test_a_missing_file_or_user_exits_non_zero(registry, street, tmp_path, capsys, run_cli):
    assert run_cli("registry", "import", "persons", str(tmp_path / "none.xlsx")) == 1
    assert "文件不存在" in capsys.readouterr().err
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(PERSON_HEADERS, []))
    assert run_cli("registry", "import", "persons", str(path), "--user", "nobody") == 1
    assert run_cli("registry", "import", "persons", str(path), "--user", "leader") == 1
    assert "只有系统管理员" in capsys.readouterr().err


@pytest.mark.parametrize("kind, first", [("persons", "姓名"), ("households", "户编号"), ("buildings", "楼栋编码")])
def test_template_writes_the_columns(kind, first, tmp_path, db):
    out = tmp_path / f"{kind}.xlsx"
    call_command("registry", "template", kind, str(out))
    sheet = load_workbook(out).worksheets[0]
    assert sheet["A1"].value == first
