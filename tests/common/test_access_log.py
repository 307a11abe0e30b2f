"""The access-log review page: administrators see who looked at which personal data,
filter it, page through it by key and export it to Excel; nobody else may open it."""

import datetime as dt
import io

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jiedao.cases import services
from jiedao.common.audit import log_unmasked_view
from jiedao.common.models import AccessLog

pytestmark = pytest.mark.django_db

PAGE = reverse("common:access_log")
EXPORT = reverse("common:access_log_export")


@pytest.fixture
def case(street):
    case, _ = services.submit_case(
        street.users.operator,
        channel="phone",
        description="楼道灯不亮",
        reporter_name="张三丰",
        reporter_phone="13812345678",
        address="东湖小区3号楼",
    )
    AccessLog.objects.all().delete()
    return case


def rows_of(response):
    return [row.id for row in response.context["rows"]]


def test_an_unmasked_view_shows_up_for_the_administrator(street, case, login):
    login(street.users.dispatcher).get(reverse("cases:case", args=[case.number]))
    page = login(street.users.admin).get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    [row] = page.context["rows"]
    assert row.user == street.users.dispatcher and row.case_number == case.number
    assert "dispatcher" in html and case.number in html
    assert "联系电话" in html and "诉求人姓名" in html  # the fields seen, by their names
    assert "13812345678" not in html  # the log names fields, never their values


@pytest.mark.parametrize("who", ["leader", "dispatcher", "operator", "handler", "grid", "resident"])
def test_nobody_but_administrators_may_open_it(street, login, who):
    client = login(getattr(street.users, who))
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and reverse("web:login") in response["Location"]


def test_the_navigation_links_it_for_administrators_only(street, login):
    assert PAGE in login(street.users.admin).get(reverse("web:home"), follow=True).content.decode()
    assert PAGE not in login(street.users.leader).get(reverse("web:home"), follow=True).content.decode()


def test_filters_by_user_dates_and_record_type(street, case, login):
    u = street.users
    log_unmasked_view(u.operator, case, ["reporter_phone"], purpose="api")
    AccessLog.objects.update(at=timezone.now() - dt.timedelta(days=40))
    log_unmasked_view(u.dispatcher, case, ["reporter_phone"], purpose="case page")
    log_unmasked_view(u.admin, u.resident, ["phone"], purpose="admin")
    ids = {row.purpose: row.id for row in AccessLog.objects.all()}
    client = login(u.admin)

    assert set(rows_of(client.get(PAGE))) == set(ids.values())
    assert rows_of(client.get(PAGE, {"user": "dispatcher"})) == [ids["case page"]]
    recent = {
        "date_from": (timezone.localdate() - dt.timedelta(days=7)).isoformat(),
        "date_to": timezone.localdate().isoformat(),
    }
    assert set(rows_of(client.get(PAGE, recent))) == {ids["case page"], ids["admin"]}
    assert rows_of(client.get(PAGE, {**recent, "object_type": "org.user"})) == [ids["admin"]]
    assert rows_of(client.get(PAGE, {"object_type": "cases.case"})) == [ids["case page"], ids["api"]]


def test_a_date_range_that_ends_before_it_starts_is_explained(street, case, login):
    log_unmasked_view(street.users.operator, case, ["reporter_phone"])
    response = login(street.users.admin).get(PAGE, {"date_from": "2026-11-20", "date_to": "2026-11-01"})
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert response.context["rows"] == []


def test_pages_follow_the_id_without_gaps_or_repeats(street, case, login):
    for _ in range(57):
        log_unmasked_view(street.users.operator, case, ["reporter_phone"], purpose="api")
    client = login(street.users.admin)
    first = client.get(PAGE, {"user": "operator"})
    assert len(first.context["rows"]) == 50
    second = client.get(PAGE + first.context["next_url"])
    assert "user=operator" in first.context["next_url"]
    assert len(second.context["rows"]) == 7 and second.context["next_url"] is None
    seen = rows_of(first) + rows_of(second)
    assert seen == sorted(AccessLog.objects.values_list("id", flat=True), reverse=True)


def test_the_page_costs_the_same_number_of_queries_for_few_or_many_rows(street, case, login):
    client = login(street.users.admin)
    client.get(PAGE)  # warm the session and the user's roles

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE).status_code == 200
        return len(captured)

    log_unmasked_view(street.users.operator, case, ["reporter_phone"])
    log_unmasked_view(street.users.admin, street.users.resident, ["phone"], purpose="admin")
    few = queries()
    for user in (street.users.dispatcher, street.users.grid, street.users.handler, street.users.operator):
        for _ in range(10):
            log_unmasked_view(user, case, ["reporter_phone", "address"])
            log_unmasked_view(user, street.users.resident, ["phone"], purpose="admin")
    assert queries() == few


def test_excel_export_holds_the_filtered_rows(street, case, login):
    u = street.users
    log_unmasked_view(u.dispatcher, case, ["reporter_phone", "address"], purpose="case page")
    log_unmasked_view(u.operator, case, ["reporter_phone"], purpose="api")
    response = login(u.admin).get(EXPORT, {"user": "dispatcher"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert "用户名" in header and "工单编号" in header
    [row] = rows
    values = dict(zip(header, row, strict=False))
    assert values["用户名"] == "dispatcher" and values["工单编号"] == case.number
    assert values["查看的字段"] == "联系电话、地址" and values["用途"] == "工单页面"


def test_the_admin_site_shows_the_log_read_only_even_to_superusers(street, case, rf):
    log_unmasked_view(street.users.dispatcher, case, ["reporter_phone"])
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    model_admin = site._registry[AccessLog]
    request = rf.get("/admin/common/accesslog/")
    request.user = admin
    row = AccessLog.objects.get()
    assert model_admin.has_view_permission(request, row)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
