"""The working calendar: Chinese public holidays and make-up workdays (调休).

Years 2004–2026 come from the ``chinesecalendar`` package. For later years an
administrator enters the State Council's notice (``CalendarDay`` rows, and a
``CalendarYear`` row to say the year is complete). Entered days always win over
the package. For a year known to neither, Monday–Friday are workdays and
``unknown_years`` reports the year so that pages can warn administrators.
"""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PACKAGE_YEARS = range(2004, 2027)


def _package_knows(year: int) -> bool:
    if year not in _PACKAGE_YEARS:
        return False
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=64)
def _entered_days(year: int, generation: int) -> dict:
    from .models import CalendarDay

    return dict(CalendarDay.objects.filter(date__year=year).values_list("date", "kind"))


_generation = [0]


def invalidate(**kwargs):
    """Called when administrators change entered days."""
    _generation[0] += 1


def year_is_known(year: int) -> bool:
    from .models import CalendarYear

    return _package_knows(year) or CalendarYear.objects.filter(year=year).exists()


def unknown_years(years) -> list:
    return [y for y in sorted(set(years)) if not year_is_known(y)]


def is_workday(day: dt.date) -> bool:
    entered = _entered_days(day.year, _generation[0])
    if day in entered:
        return entered[day] == "workday"
    if _package_knows(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_workdays(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_workday(current):
            count += 1
    return count


def _office_periods():
    periods = []
    for begin, end in settings.JIEDAO["OFFICE_HOURS"]:
        periods.append((dt.time.fromisoformat(begin), dt.time.fromisoformat(end)))
    return periods


def add_hours(start: dt.datetime, hours: float, office_hours_only: bool) -> dt.datetime:
    """A deadline ``hours`` after ``start``: around the clock, or counting office hours of workdays."""
    if not office_hours_only:
        return start + dt.timedelta(hours=hours)
    local = start.astimezone(SHANGHAI)
    remaining = dt.timedelta(hours=hours)
    day = local.date()
    for _ in range(3700):  # ten years of days at most
        if is_workday(day):
            for begin, end in _office_periods():
                period_start = dt.datetime.combine(day, begin, SHANGHAI)
                period_end = dt.datetime.combine(day, end, SHANGHAI)
                if period_end <= local:
                    continue
                period_start = max(period_start, local)
                available = period_end - period_start
                if remaining <= available:
                    return (period_start + remaining).astimezone(dt.timezone.utc)
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("deadline too far in the future")


def workday_deadline(start: dt.datetime, days: int) -> dt.datetime:
    """End of the ``days``-th working day after the local date of ``start`` (23:59:59 Shanghai)."""
    local_date = start.astimezone(SHANGHAI).date()
    due = add_workdays(local_date, days)
    return dt.datetime.combine(due, dt.time(23, 59, 59), SHANGHAI).astimezone(dt.timezone.utc)
