"""Import and export of the list as Excel: all or nothing, errors row by row."""

import io

from openpyxl import Workbook, load_workbook

from jiedao.common.errors import ValidationFailed
from jiedao.duties import excel, services
from jiedao.duties.models import DutyItem, DutyVersion

HEADER = [h for h, _f in excel.COLUMNS]


def sheet(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append([row.get(h, "") for h in HEADER])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


GOOD = {
    "事项编码": "IMP-1",
    "事项名称": "违法建设查处",
    "清单类型": "街道权责清单",
    "权力类型": "处罚",
    "层级": "街道",
    "主办单位": "综合执法队",
    "对应工单分类": "010102",
    "设定依据": "《城乡规划法》",
    "条款": "第六十五条",
    "响应时限(小时)": 24,
    "办结时限(工作日)": 3,
    "完整执法权": "是",
    "生效日期": "2026-01-01",
}


def test_a_good_file_imports_every_row(street):
    rows = excel.read_rows(sheet([GOOD, {**GOOD, "事项编码": "IMP-2", "事项名称": "门前三包检查"}]))
    counts = services.import_rows(street.users.admin, rows=rows, reason="年度调整")
    assert counts == {"created": 2, "updated": 0, "unchanged": 0}
    version = DutyItem.objects.get(code="IMP-1").current
    assert version.responsible_unit == street.units.enforcement and version.full_enforcement
    # Importing the same file again changes nothing.
    assert (
        services.import_rows(street.users.admin, rows=excel.read_rows(sheet([GOOD])), reason="再导入")["unchanged"] == 1
    )


def test_a_bad_row_imports_nothing_and_every_error_names_its_row(street):
    bad = [
        GOOD,
        {**GOOD, "事项编码": "IMP-2", "主办单位": "不存在的单位"},
        {**GOOD, "事项编码": "IMP-3", "对应工单分类": "999999", "设定依据": ""},
    ]
    rows = excel.read_rows(sheet(bad))
    try:
        services.import_rows(street.users.admin, rows=rows, reason="年度调整")
    except ValidationFailed as exc:
        messages = [f"{e['field']} {e['message']}" for e in exc.errors]
    else:
        raise AssertionError("the import should have failed")
    assert any(m.startswith("第3行 responsible_unit") and "不存在的单位" in m for m in messages)
    assert any(m.startswith("第4行 categories") for m in messages)
    assert any(m.startswith("第4行 basis_statute") and "设定依据" in m for m in messages)
    assert DutyVersion.objects.count() == 0


def test_a_file_without_required_columns_is_refused():
    wb = Workbook()
    wb.active.append(["名称", "单位"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    try:
        excel.read_rows(buffer)
    except ValidationFailed as exc:
        assert "事项编码" in exc.errors[0]["message"]
    else:
        raise AssertionError("expected a refusal")


def test_export_then_import_round_trips(duties):
    from jiedao.duties import selectors

    data = excel.write_workbook(sorted(selectors.in_force_now(), key=lambda v: v.item.code))
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == HEADER
    assert ws.max_row == 4
    rows = excel.read_rows(io.BytesIO(data))
    assert services.import_rows(duties.users.admin, rows=rows, reason="核对")["unchanged"] == 3
