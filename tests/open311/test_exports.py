"""Exporting cases to CSV and Excel: only the cases the user may see, filtered, with the
reporter masked unless the user may see it, from the page and from the API."""

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiedao.cases import services as case_services
from jiedao.cases.models import Case
from jiedao.cases.selectors import may_see_reporter
from jiedao.common.models import AccessLog
from jiedao.open311.exports import reporter_rule
from jiedao.org import services as org_services
from tests.factories import PASSWORD


def submit(street, category="010101", lat=39.905, lng=116.405, **values):
    defaults = {
        "channel": "phone",
        "description": "路灯坏了",
        "reporter_name": "张三丰",
        "reporter_phone": "13812345678",
        "address": "东湖小区3号楼2单元401",
        "category_code": category,
        "lat": lat,
        "lng": lng,
    }
    defaults.update(values)
    case, _ = case_services.submit_case(street.users.operator, **defaults)
    return case


@pytest.fixture
def cases(street):
    """A sanitation case of the committee (grid 1), a lamp case of the enforcement team
    (grid 1) and a repair case of the housing group (grid 4, west), all dispatched."""
    made = []
    for category, lat, lng in (("010101", 39.905, 116.405), ("010102", 39.905, 116.405), ("010201", 39.915, 116.415)):
        case = submit(street, category, lat, lng)
        made.append(case_services.dispatch(street.users.dispatcher, number=case.number))
    return made


def download_csv(client, **params):
    response = client.get("/exports/cases/", {"download": "csv", **params})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_exports_every_case_with_the_reporter_and_it_is_logged(street, cases):
    rows = download_csv(signed_in(street.users.operator))
    assert {r["工单编号"] for r in rows} == {c.number for c in cases}
    assert all(r["联系电话"] == "13812345678" and r["诉求人"] == "张三丰" for r in rows)
    log = AccessLog.objects.get(user=street.users.operator)
    assert log.object_id == "export:3" and "reporter_phone" in log.fields


def test_a_leader_sees_every_case_but_the_reporter_masked(street, cases):
    rows = download_csv(signed_in(street.users.leader))
    assert len(rows) == 3
    assert all(r["联系电话"] == "138****5678" for r in rows)
    assert all("张三丰" not in r["诉求人"] and "401" not in r["地址"] for r in rows)
    assert not AccessLog.objects.filter(user=street.users.leader).exists()


def test_a_handler_exports_only_the_cases_of_their_unit(street, cases):
    rows = download_csv(signed_in(street.users.handler))
    assert [r["工单编号"] for r in rows] == [cases[1].number]
    assert rows[0]["承办单位"] == "综合执法队"
    assert rows[0]["联系电话"] == "13812345678"


def test_the_masking_rule_is_the_case_pages_rule(street, cases):
    users = list(vars(street.users).values())
    for user in users:
        rule = reporter_rule(user)
        for case in Case.objects.all():
            assert rule(case) == may_see_reporter(user, case), (user.username, case.number)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"unit": "ZJ"}, [2]),
        ({"category": "0101"}, [0, 1]),  # a category with its sub-categories
        ({"status": "dispatched"}, [0, 1, 2]),
        ({"status": "closed"}, []),
        ({"status": "open"}, [0, 1, 2]),
    ],
)
def test_filters(street, cases, params, expected):
    rows = download_csv(signed_in(street.users.operator), **params)
    assert sorted(r["工单编号"] for r in rows) == sorted(cases[i].number for i in expected)


def test_month_filter_is_the_month_of_intake(street, cases):
    month = cases[0].created_at.astimezone().strftime("%Y-%m")
    client = signed_in(street.users.operator)
    assert len(download_csv(client, month=month)) == 3
    assert download_csv(client, month="2001-01") == []


def test_a_bad_filter_is_shown_on_the_page(street, cases):
    response = signed_in(street.users.operator).get("/exports/cases/", {"download": "csv", "unit": "NOPE"})
    assert response.status_code == 422
    assert "NOPE" in response.content.decode()


def test_excel_export_has_a_header_and_real_times(street, cases):
    response = signed_in(street.users.operator).get("/exports/cases/", {"download": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("工单编号", "受理时间", "来源渠道")
    assert len(rows) == 4
    assert hasattr(rows[1][1], "year")  # a date-time cell, not text


def test_text_that_a_spreadsheet_would_run_is_written_as_text(street):
    submit(street, description='=HYPERLINK("http://evil.example","点我")')
    rows = download_csv(signed_in(street.users.operator))
    assert rows[0]["诉求内容"].startswith("'=")


def test_residents_cannot_open_the_export_page(client, street):
    client.force_login(street.users.resident)
    assert client.get("/exports/cases/").status_code == 403


def test_the_page_shows_the_filters_and_is_linked_from_the_overview_and_workbench(street):
    page = signed_in(street.users.leader).get("/exports/cases/")
    assert page.status_code == 200 and 'name="download"' in page.content.decode()
    assert "/exports/cases/" in signed_in(street.users.leader).get("/cases/overview/").content.decode()
    assert "/exports/cases/" in signed_in(street.users.handler).get("/cases/workbench/").content.decode()


# --- the API ----------------------------------------------------------------------------------


def api_get(user, **params):
    headers = {}
    if user is not None:
        token, _ = org_services.create_token(user.username, password=PASSWORD)
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().get("/api/v1/cases/export", params, **headers)


def test_api_export_in_both_formats(street, cases):
    response = api_get(street.users.operator, format="csv", unit="ZHZF")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert cases[1].number in text and cases[0].number not in text
    response = api_get(street.users.leader, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][8] == "138****5678"


@pytest.mark.parametrize(
    "who, params, status",
    [
        (None, {}, 401),
        ("resident", {}, 403),
        ("operator", {"format": "pdf"}, 422),
        ("operator", {"month": "March"}, 422),
        ("operator", {"status": "lost"}, 422),
    ],
)
def test_api_export_errors(street, who, params, status):
    user = getattr(street.users, who) if who else None
    response = api_get(user, **params)
    assert response.status_code == status
    assert response.json()["errors"]


def test_export_path_is_not_taken_for_a_case_number(street, cases):
    # /cases/export must not be read as the case numbered "export".
    response = api_get(street.users.operator)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
