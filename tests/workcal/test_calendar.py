"""The working calendar as the deadlines use it: 2026's Spring Festival and National
Day with their make-up Saturdays, hour limits in office hours or around the clock,
the unknown year 2027 and 2027 after an administrator enters a notice."""

import datetime as dt

import pytest

from jiedao.cases import services
from jiedao.workcal import calendar
from jiedao.workcal.models import CalendarDay, CalendarYear
from jiedao.workcal.selectors import calendar_warnings

BJ = calendar.SHANGHAI
D = dt.date.fromisoformat


def beijing(text):
    """'2026-11-20 16:00' → an aware datetime in Beijing time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=BJ)


def workdays_in(first, last):
    days = []
    day = D(first)
    while day <= D(last):
        if calendar.is_workday(day):
            days.append(day.isoformat())
        day += dt.timedelta(days=1)
    return days


# --- 2026 Spring Festival: Feb 15–23 off, Saturdays Feb 14 and Feb 28 worked ----------


@pytest.mark.django_db
def test_spring_festival_2026_days_off_and_make_up_saturdays():
    assert workdays_in("2026-02-12", "2026-03-01") == [
        "2026-02-12",
        "2026-02-13",
        "2026-02-14",  # Saturday, made up
        "2026-02-24",
        "2026-02-25",
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",  # Saturday, made up
    ]
    for day in range(15, 24):
        assert not calendar.is_workday(dt.date(2026, 2, day))


@pytest.mark.django_db
def test_five_working_days_after_friday_before_spring_festival_is_27_february():
    # Sat 14 (make-up), then Tue 24 … Fri 27 after the nine days off.
    assert calendar.add_workdays(D("2026-02-13"), 5) == D("2026-02-27")
    assert calendar.add_workdays(D("2026-02-13"), 1) == D("2026-02-14")
    assert calendar.add_workdays(D("2026-02-13"), 2) == D("2026-02-24")


@pytest.mark.django_db
def test_workdays_between_counts_across_the_festival():
    # After Fri 13 up to Fri 27: Sat 14, Tue 24 … Fri 27.
    assert calendar.workdays_between(D("2026-02-13"), D("2026-02-27")) == 5
    assert calendar.workdays_between(D("2026-02-27"), D("2026-02-13")) == 0


# --- 2026 National Day: Oct 1–7 off, Sunday Sep 20 and Saturday Oct 10 worked ---------


@pytest.mark.django_db
def test_national_day_2026_days_off_and_make_up_days():
    assert calendar.is_workday(D("2026-09-20"))  # Sunday, made up
    assert not calendar.is_workday(D("2026-09-19"))  # an ordinary Saturday
    for day in range(1, 8):
        assert not calendar.is_workday(dt.date(2026, 10, day))
    assert workdays_in("2026-10-08", "2026-10-11") == ["2026-10-08", "2026-10-09", "2026-10-10"]


@pytest.mark.django_db
def test_three_working_days_after_30_september_is_the_make_up_saturday():
    assert calendar.add_workdays(D("2026-09-30"), 3) == D("2026-10-10")


@pytest.mark.django_db
def test_completion_deadline_of_a_case_dispatched_before_national_day(street):
    u = street.users
    at = beijing("2026-09-30 16:00")
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="小区门口垃圾堆积无人清理",
        reporter_phone="13800138000",
        category_code="010101",
        at=at,
    )
    case = services.dispatch(u.dispatcher, number=case.number, unit_code="ZHZF", at=at)
    # 3 working days (环境卫生): Thu 8, Fri 9, Sat 10 (make-up) → end of 10 October.
    assert case.completion_due.astimezone(BJ) == beijing("2026-10-10 23:59:59")


@pytest.mark.django_db
def test_completion_deadline_of_a_case_dispatched_before_spring_festival(street):
    u = street.users
    at = beijing("2026-02-13 10:00")
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="楼道灯不亮，老人夜里出门不便",
        reporter_phone="13800138000",
        category_code="010101",
        at=at,
    )
    case = services.dispatch(u.dispatcher, number=case.number, unit_code="ZHZF", at=at)
    # Sat 14 (make-up), Tue 24, Wed 25.
    assert case.completion_due.astimezone(BJ) == beijing("2026-02-25 23:59:59")


# --- hour limits: office hours (09:00–12:00, 13:30–18:00 on workdays) or around the clock --


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start, hours, due",
    [
        ("2026-11-20 16:00", 4, "2026-11-23 11:00"),  # Friday 16–18, then Monday 9–11
        ("2026-11-18 11:00", 2, "2026-11-18 14:30"),  # 1 h before lunch, 1 h after 13:30
        ("2026-11-18 12:15", 1, "2026-11-18 14:30"),  # asked during lunch: the clock starts at 13:30
        ("2026-11-18 07:00", 1, "2026-11-18 10:00"),  # before the office opens
        ("2026-11-18 19:00", 1, "2026-11-19 10:00"),  # after it closes
        ("2026-11-21 10:00", 1, "2026-11-23 10:00"),  # asked on a Saturday
        ("2026-09-30 17:00", 2, "2026-10-08 10:00"),  # across the National Day holiday
        ("2026-02-13 17:00", 2, "2026-02-14 10:00"),  # into the make-up Saturday
        ("2026-11-18 09:00", 7.5, "2026-11-18 18:00"),  # one whole office day
    ],
)
def test_office_hour_limits(start, hours, due):
    assert calendar.add_hours(beijing(start), hours, office_hours_only=True).astimezone(BJ) == beijing(due)


@pytest.mark.django_db
def test_around_the_clock_limits_ignore_weekends_and_holidays():
    assert calendar.add_hours(beijing("2026-11-20 16:00"), 4, office_hours_only=False) == beijing("2026-11-20 20:00")
    assert calendar.add_hours(beijing("2026-09-30 23:00"), 2, office_hours_only=False) == beijing("2026-10-01 01:00")


@pytest.mark.django_db
def test_office_hours_come_from_settings(settings):
    friday = beijing("2026-11-20 17:45")
    # Default 09:00–12:00, 13:30–18:00: 0.25 h on Friday, 3 h Monday morning, 0.75 h after lunch.
    assert calendar.add_hours(friday, 4, True).astimezone(BJ) == beijing("2026-11-23 14:15")
    settings.JIEDAO = {**settings.JIEDAO, "OFFICE_HOURS": [("08:30", "12:00"), ("14:00", "17:30")]}
    # Friday's office is closed at 17:45; Monday 08:30–12:00 is 3.5 h, then 0.5 h after 14:00.
    assert calendar.add_hours(friday, 4, True).astimezone(BJ) == beijing("2026-11-23 14:30")


@pytest.mark.django_db
def test_response_deadline_of_an_office_hours_category_set_at_dispatch(street):
    u = street.users
    friday = beijing("2026-11-20 16:00")
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="屋顶漏水，需要维修",
        reporter_phone="13800138000",
        category_code="010201",
        at=friday,
    )
    case = services.dispatch(u.dispatcher, number=case.number, at=friday)
    # 房屋维修: respond within 4 office hours.
    assert case.response_due.astimezone(BJ) == beijing("2026-11-23 11:00")
    # 环境卫生 counts its 2 hours around the clock.
    other, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="垃圾桶满了没人清运",
        reporter_phone="13800138000",
        category_code="010101",
        at=friday,
    )
    other = services.dispatch(u.dispatcher, number=other.number, unit_code="ZHZF", at=friday)
    assert other.response_due.astimezone(BJ) == beijing("2026-11-20 18:00")


# --- the unknown year 2027 ---------------------------------------------------------------


@pytest.mark.django_db
def test_2027_is_unknown_and_falls_back_to_monday_to_friday():
    assert not calendar.year_is_known(2027)
    assert calendar.year_source(2027) is None
    assert calendar.year_source(2026) == "package"
    assert calendar.unknown_years([2026, 2027]) == [2027]
    # New Year's Day 2027 is a Friday: without a notice it counts as a working day.
    assert calendar.is_workday(D("2027-01-01"))
    assert not calendar.is_workday(D("2027-01-02"))
    assert calendar.add_workdays(D("2027-02-04"), 1) == D("2027-02-05")
    info = calendar.day_info(D("2027-01-01"))
    assert (info.workday, info.reason, info.source) == (True, "weekday", "fallback")


@pytest.mark.django_db
def test_administrators_are_warned_about_unknown_years():
    late_2026 = calendar_warnings(D("2026-11-22"))
    assert len(late_2026) == 1 and "2027年" in late_2026[0] and "周一至周五" in late_2026[0]
    spring_2027 = calendar_warnings(D("2027-03-01"))
    assert [("2027年" in m, "2028年" in m) for m in spring_2027] == [(True, False), (False, True)]
    # An aware datetime works too, taken in Beijing time.
    assert calendar_warnings(dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)) == spring_2027


# An illustrative notice for 2027 (test data, not the real one): Spring Festival off
# Fri 5 – Thu 11 February, make-up days Sunday 31 January and Saturday 20 February.
NOTICE = "国办发明电〔2026〕测试"


def enter_2027_notice(complete=True):
    for day in range(5, 12):
        CalendarDay.objects.create(date=dt.date(2027, 2, day), kind="holiday", name="春节", notice=NOTICE)
    for day in (D("2027-01-31"), D("2027-02-20")):
        CalendarDay.objects.create(date=day, kind="workday", name="春节", notice=NOTICE)
    if complete:
        CalendarYear.objects.create(year=2027, notice=NOTICE)


@pytest.mark.django_db
def test_an_entered_notice_decides_2027():
    assert calendar.is_workday(D("2027-02-08"))  # a Monday, before the notice
    enter_2027_notice()
    assert not calendar.is_workday(D("2027-02-08"))
    assert calendar.is_workday(D("2027-01-31"))  # Sunday made up
    assert calendar.is_workday(D("2027-02-20"))  # Saturday made up
    assert not calendar.is_workday(D("2027-02-13"))  # an ordinary Saturday
    assert calendar.add_workdays(D("2027-02-04"), 1) == D("2027-02-12")
    assert calendar.add_workdays(D("2027-02-04"), 3) == D("2027-02-16")
    assert calendar.year_is_known(2027) and calendar.year_source(2027) == "entered"
    info = calendar.day_info(D("2027-02-08"))
    assert (info.workday, info.reason, info.name, info.source) == (False, "holiday", "春节", "entered")


@pytest.mark.django_db
def test_the_warning_stays_until_the_year_is_marked_complete():
    enter_2027_notice(complete=False)
    assert not calendar.year_is_known(2027)
    assert calendar_warnings(D("2026-11-22"))
    CalendarYear.objects.create(year=2027, notice=NOTICE)
    assert calendar_warnings(D("2026-11-22")) == []
    assert [("2028年" in m) for m in calendar_warnings(D("2027-03-01"))] == [True]


@pytest.mark.django_db
def test_deadlines_of_2027_cases_follow_the_entered_notice(street):
    enter_2027_notice()
    u = street.users
    at = beijing("2027-02-04 10:00")
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="春节前小区垃圾清运不及时",
        reporter_phone="13800138000",
        category_code="010101",
        at=at,
    )
    case = services.dispatch(u.dispatcher, number=case.number, unit_code="ZHZF", at=at)
    # 3 working days: Fri 12, Mon 15, Tue 16.
    assert case.completion_due.astimezone(BJ) == beijing("2027-02-16 23:59:59")


@pytest.mark.django_db
def test_entered_days_win_over_the_package():
    # 2026-11-20 is an ordinary Friday, 2026-11-21 an ordinary Saturday.
    assert calendar.is_workday(D("2026-11-20")) and not calendar.is_workday(D("2026-11-21"))
    CalendarDay.objects.create(date=D("2026-11-20"), kind="holiday", name="临时放假")
    CalendarDay.objects.create(date=D("2026-11-21"), kind="workday", name="临时放假")
    assert not calendar.is_workday(D("2026-11-20")) and calendar.is_workday(D("2026-11-21"))
    assert calendar.day_info(D("2026-11-21")).reason == "makeup"
    assert calendar.year_source(2026) == "package"


# --- the cache: this process hears saves at once, other processes within ENTERED_TTL --------


@pytest.mark.django_db
def test_saving_and_deleting_a_day_is_seen_at_once():
    assert calendar.is_workday(D("2027-03-01"))
    day = CalendarDay.objects.create(date=D("2027-03-01"), kind="holiday", name="测试")
    assert not calendar.is_workday(D("2027-03-01"))
    day.kind = "workday"
    day.save()
    assert calendar.is_workday(D("2027-03-01"))
    day.delete()
    assert calendar.is_workday(D("2027-03-01"))
    CalendarYear.objects.create(year=2027)
    assert calendar.year_is_known(2027)


@pytest.mark.django_db
def test_a_change_made_by_another_process_is_seen_after_the_cache_lifetime(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(calendar, "_clock", lambda: clock[0])
    CalendarDay.objects.create(date=D("2027-03-01"), kind="holiday", name="测试")
    assert not calendar.is_workday(D("2027-03-01"))
    assert not calendar.year_is_known(2027)
    # Another process changes the rows (update and bulk_create send no signal to this one).
    CalendarDay.objects.filter(date=D("2027-03-01")).update(kind="workday")
    CalendarYear.objects.bulk_create([CalendarYear(year=2027)])
    clock[0] += 1
    assert not calendar.is_workday(D("2027-03-01"))  # still the cached copy
    assert not calendar.year_is_known(2027)
    clock[0] += calendar.ENTERED_TTL + 1
    assert calendar.is_workday(D("2027-03-01"))
    assert calendar.year_is_known(2027)
    assert calendar.ENTERED_TTL <= 60
