"""The working calendar: Chinese public holidays and make-up workdays (调休).

Years 2004–2026 come from the ``chinesecalendar`` package (whatever years the
installed release knows). For later years an
administrator enters the State Council's notice (``CalendarDay`` rows, and a
``CalendarYear`` row to say the year is complete). Entered days always win over
the package. For a year known to neither, Monday–Friday are workdays and
``unknown_years`` reports the year so that pages can warn administrators.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import CalendarDay, CalendarYear

if TYPE_CHECKING:
    from collections.abc import Iterable

SHANGHAI = ZoneInfo("Asia/Shanghai")
_FIRST_PACKAGE_YEAR = 2004


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Beijing time (dates on pages and in rollups are
    Beijing dates)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


@cache
def _package_knows(year: int) -> bool:
    """Whether the installed package has the year's holidays (it raises for years it lacks,
    so a newer package release extends the known years without a code change)."""
    if year < _FIRST_PACKAGE_YEAR:
        return False
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


# --- entered days and their cache ---------------------------------------------
#
# ``is_workday`` is called for every day a deadline spans, so the entered days of a
# year are read once and kept in memory. Two ways keep that copy honest:
#
# - in the process that saves or deletes a ``CalendarDay``/``CalendarYear`` (the
#   admin), the ``post_save``/``post_delete`` signals (``workcal.signals``) call
#   ``invalidate()`` at once;
# - every other process (web workers, the task worker) cannot hear those signals, so
#   each cached year also carries the time it was read and is read again from the
#   database once it is older than ``ENTERED_TTL`` seconds. Re-reading a year is one
#   small query (a notice has a few dozen rows), cheaper than any "generation" check
#   that would also have to notice a row whose kind was edited in place.
#
# So a notice entered by an administrator reaches every process within ENTERED_TTL.

ENTERED_TTL = 30.0
_clock = time.monotonic
# ("days", year) or ("known", None) -> (loaded_at, generation, value)
_cache: dict[tuple[str, int | None], tuple[float, int, Any]] = {}
_generation = [0]


def _cached(key, load):
    now = _clock()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < ENTERED_TTL and hit[1] == _generation[0]:
        return hit[2]
    generation = _generation[0]
    value = load()
    _cache[key] = (now, generation, value)
    return value


def _entered_days(year: int) -> dict:
    """{date: (kind, name)} of the days an administrator entered for the year."""

    def load():
        rows = CalendarDay.objects.filter(date__year=year).values_list("date", "kind", "name")
        return {day: (kind, name) for day, kind, name in rows}

    return _cached(("days", year), load)


def _entered_years() -> dict:
    """{year: notice} of the years whose notice was marked as completely entered."""

    return _cached(("known", None), lambda: dict(CalendarYear.objects.values_list("year", "notice")))


def invalidate(**kwargs: Any) -> None:
    """Forget the cached entered days (connected to saves and deletes of the notice tables)."""
    _generation[0] += 1
    _cache.clear()
    _workday_sets.clear()


def year_is_known(year: int) -> bool:
    return _package_knows(year) or year in _entered_years()


def year_source(year: int) -> str | None:
    """Where the holidays of ``year`` come from: "entered", "package" or None (unknown).

    An entered notice wins: its days override the package's."""
    if year in _entered_years():
        return "entered"
    if _package_knows(year):
        return "package"
    return None


def unknown_years(years: Iterable[int]) -> list[int]:
    return [y for y in sorted(set(years)) if not year_is_known(y)]


def is_workday(day: dt.date) -> bool:
    return day in _workdays(day.year)


# A deadline asks about several days, and the package answers one day in about 25 µs: the
# working days of a year are kept as one set, the package's (or Monday–Friday) made once per
# process, with the entered days laid over them again whenever the entered days are read again
# (the set belongs to one copy of them, so it is exactly as fresh).
_workday_sets: dict[int, tuple[dict, frozenset[dt.date]]] = {}


@cache
def _package_workdays(year: int) -> frozenset[dt.date]:
    """The year's working days by the package, or Monday–Friday for a year it does not know."""
    day, days = dt.date(year, 1, 1), []
    while day.year == year:
        days.append(day)
        if day == dt.date.max:
            break
        day += dt.timedelta(days=1)
    if _package_knows(year):
        return frozenset(d for d in days if chinese_calendar.is_workday(d))
    return frozenset(d for d in days if d.weekday() < 5)


def _workdays(year: int) -> frozenset[dt.date]:
    entered = _entered_days(year)
    held = _workday_sets.get(year)
    if held is None or held[0] is not entered:
        workdays = set(_package_workdays(year))
        for day, (kind, _name) in entered.items():
            if kind == "workday":
                workdays.add(day)
            else:
                workdays.discard(day)
        held = _workday_sets[year] = (entered, frozenset(workdays))
    return held[1]


# Names of the package's holidays in Chinese.
PACKAGE_HOLIDAY_NAMES = {
    "New Year's Day": _("元旦"),
    "Spring Festival": _("春节"),
    "Tomb-sweeping Day": _("清明节"),
    "Labour Day": _("劳动节"),
    "Dragon Boat Festival": _("端午节"),
    "National Day": _("国庆节"),
    "Mid-autumn Festival": _("中秋节"),
    "Anti-Fascist 70th Day": _("中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"),
}


@dataclass(frozen=True)
class DayInfo:
    """Why a day is a workday or not.

    ``reason``: "holiday" (法定节假日), "makeup" (调休上班), "weekend" or "weekday".
    ``source``: "entered" (an administrator's notice), "package" (chinesecalendar) or
    "fallback" (a year known to neither: Monday–Friday).
    """

    date: dt.date
    workday: bool
    reason: str
    name: str
    source: str


def day_info(day: dt.date) -> DayInfo:
    entered = _entered_days(day.year)
    weekend = day.weekday() >= 5
    if day in entered:
        kind, name = entered[day]
        workday = kind == "workday"
        if workday:
            reason = "makeup" if weekend else "weekday"
        else:
            reason = "holiday"
        return DayInfo(day, workday, reason, name, "entered")
    if _package_knows(day.year):
        workday = chinese_calendar.is_workday(day)
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
        name = str(PACKAGE_HOLIDAY_NAMES.get(name, name or ""))
        if workday:
            reason = "makeup" if weekend else "weekday"
        else:
            reason = "weekend" if weekend and not name else "holiday"
        if reason in ("weekday", "weekend"):
            name = ""
        return DayInfo(day, workday, reason, name, "package")
    return DayInfo(day, not weekend, "weekend" if weekend else "weekday", "", "fallback")


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
    for _day in range(3700):  # ten years of days at most
        if is_workday(day):
            for begin, end in _office_periods():
                period_start = dt.datetime.combine(day, begin, SHANGHAI)
                period_end = dt.datetime.combine(day, end, SHANGHAI)
                if period_end <= local:
                    continue
                period_start = max(period_start, local)
                available = period_end - period_start
                if remaining <= available:
                    return (period_start + remaining).astimezone(dt.UTC)
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("deadline too far in the future")


def workday_deadline(start: dt.datetime, days: int) -> dt.datetime:
    """End of the ``days``-th working day after the local date of ``start`` (23:59:59 Shanghai)."""
    local_date = start.astimezone(SHANGHAI).date()
    due = add_workdays(local_date, days)
    return dt.datetime.combine(due, dt.time(23, 59, 59), SHANGHAI).astimezone(dt.UTC)
