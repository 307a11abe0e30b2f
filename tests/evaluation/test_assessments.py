"""考核建议: a leader records the street's opinion of a seconded person (派驻人员) for a period
on the page; it is listed, and exported per department as CSV and Excel; bad input is refused
field by field with nothing written; only leaders and administrators may record."""

import csv
import io

import pytest
from openpyxl import load_workbook

from jiedao.evaluation.models import Assessment

pytestmark = pytest.mark.django_db
PAGE = "/evaluation/assessments/"


def record(client, **fields):
    data = {"person": "handler_zj", "period": "2026-Q4", "grade": "competent", "opinion": "报到及时，协办任务完成较好"}
    return client.post(PAGE, {**data, **fields}, follow=True)


def test_a_leader_records_an_opinion_and_exports_it_for_the_department(street, login):
    client = login(street.users.leader)
    form = client.get(PAGE).content.decode()
    assert "区住建委派驻组" in form and 'value="handler_zj"' in form
    assert 'value="handler"' not in form  # the enforcement team is the street's own section
    page = record(client).content.decode()
    assert "考核建议已保存" in page and "报到及时，协办任务完成较好" in page and "称职" in page
    row = Assessment.objects.get()
    assert (row.person, row.unit.code, row.period, row.entered_by) == (
        street.users.handler_housing,
        "ZJ",
        "2026-Q4",
        street.users.leader,
    )
    # Recording the same person and period again replaces the opinion.
    record(client, grade="excellent", opinion="牵头完成老旧小区改造协调")
    assert Assessment.objects.count() == 1 and Assessment.objects.get().get_grade_display() == "优秀"

    exported = client.get(PAGE, {"unit": "ZJ", "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv") and "attachment" in exported["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["派驻部门", "派驻人员", "考核期", "考核等次", "考核建议"]
    assert rows[1][:5] == [
        "区住建委派驻组",
        str(street.users.handler_housing),
        "2026-Q4",
        "优秀",
        "牵头完成老旧小区改造协调",
    ]
    assert len(rows) == 2

    workbook = load_workbook(io.BytesIO(client.get(PAGE, {"unit": "ZJ", "format": "xlsx"}).content))
    sheet = workbook.active
    assert [c.value for c in sheet[2]][:4] == ["区住建委派驻组", str(street.users.handler_housing), "2026-Q4", "优秀"]
    # Another department's export holds none of them.
    other = client.get(PAGE, {"unit": "ZHZF", "format": "csv"}).content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(other)))) == 1


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(street, login):
    client = login(street.users.leader)
    page = record(client, person="handler", period="2026-W44", grade="good", opinion="好").content.decode()
    assert "派驻人员：请选择本街道的一名区级部门派驻人员" in page
    assert "考核期：应为月、季度或年度" in page
    assert "考核等次：请选择优秀、称职、基本称职或不称职" in page
    assert "考核建议：请至少写 4 个字" in page
    page = record(client, period="2026-13").content.decode()
    assert "考核期：" in page and "无效" in page
    assert not Assessment.objects.exists()


def test_only_leaders_and_administrators_record_but_evaluators_read(street, login, evaluator):
    record(login(street.users.leader))
    reader = login(evaluator)
    assert record(reader, opinion="另一条意见").status_code == 403
    page = reader.get(PAGE).content.decode()
    assert "报到及时，协办任务完成较好" in page and 'name="opinion"' not in page
    assert record(login(street.users.admin), period="2026-11").status_code == 200
    assert Assessment.objects.count() == 2
