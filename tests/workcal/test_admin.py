"""The administrator enters holiday notices in the admin and is warned about unknown years."""

import datetime as dt

import pytest
from django.urls import reverse

from jiedao.workcal import calendar, selectors
from jiedao.workcal.models import CalendarDay, CalendarYear

LATE_2026 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_client(client, street):
    user = street.users.admin
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def late_2026(monkeypatch):
    monkeypatch.setattr(selectors.timezone, "now", lambda: LATE_2026)


def page(response):
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("model", ["calendarday", "calendaryear"])
def test_lists_warn_about_next_year_while_it_is_unknown(admin_client, late_2026, model):
    html = page(admin_client.get(reverse(f"admin:workcal_{model}_changelist")))
    assert "2027年的法定节假日和调休安排尚未录入" in html
    assert "2026年的法定节假日" not in html


def test_warning_goes_once_the_year_is_entered(admin_client, late_2026):
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕测试")
    html = page(admin_client.get(reverse("admin:workcal_calendarday_changelist")))
    assert "尚未录入" not in html


def test_entering_a_day_in_the_admin_changes_deadlines_at_once(admin_client):
    assert calendar.is_workday(dt.date(2027, 2, 8))
    response = admin_client.post(
        reverse("admin:workcal_calendarday_add"),
        {"date": "2027-02-08", "kind": "holiday", "name": "春节", "notice": "国办发明电〔2026〕测试"},
    )
    assert response.status_code == 302
    assert not calendar.is_workday(dt.date(2027, 2, 8))
    day = CalendarDay.objects.get(date="2027-02-08")
    response = admin_client.post(reverse("admin:workcal_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert calendar.is_workday(dt.date(2027, 2, 8))


def test_a_make_up_day_must_fall_on_a_weekend(admin_client):
    html = page(
        admin_client.post(
            reverse("admin:workcal_calendarday_add"), {"date": "2027-02-10", "kind": "workday", "name": "春节"}
        )
    )
    assert "调休上班日应是周六或周日" in html and "星期三" in html
    assert not CalendarDay.objects.exists()


def test_a_holiday_needs_its_name(admin_client):
    html = page(
        admin_client.post(
            reverse("admin:workcal_calendarday_add"), {"date": "2027-02-10", "kind": "holiday", "name": ""}
        )
    )
    assert "放假日请填写节日名称" in html
    assert not CalendarDay.objects.exists()


def test_list_filters_by_year_and_kind(admin_client):
    CalendarDay.objects.create(date="2027-02-08", kind="holiday", name="春节")
    CalendarDay.objects.create(date="2027-02-20", kind="workday", name="春节")
    CalendarDay.objects.create(date="2028-01-03", kind="holiday", name="元旦")
    url = reverse("admin:workcal_calendarday_changelist")
    html = page(admin_client.get(url, {"year": "2027", "kind": "holiday"}))
    assert "2027-02-08" in html or "2027年2月8日" in html
    rows = admin_client.get(url, {"year": "2027", "kind": "holiday"}).context["cl"].result_list
    assert [str(d.date) for d in rows] == ["2027-02-08"]
    rows = admin_client.get(url, {"year": "2028"}).context["cl"].result_list
    assert [str(d.date) for d in rows] == ["2028-01-03"]


def test_year_list_counts_entered_days(admin_client):
    CalendarDay.objects.create(date="2027-02-08", kind="holiday", name="春节")
    CalendarDay.objects.create(date="2027-02-09", kind="holiday", name="春节")
    CalendarDay.objects.create(date="2027-02-20", kind="workday", name="春节")
    year = CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕测试")
    response = admin_client.get(reverse("admin:workcal_calendaryear_changelist"))
    page(response)
    admin = response.context["cl"].model_admin
    assert (admin.holidays(year), admin.makeup_days(year)) == (2, 1)


def test_admin_home_page_carries_the_warning(admin_client, late_2026):
    html = page(admin_client.get(reverse("admin:index")))
    assert "2027年的法定节假日和调休安排尚未录入" in html
