"""Periods (week, month, quarter, year) in Beijing time, half-open [start, end).

Keys: ``2026-W44`` (ISO week), ``2026-10``, ``2026-Q4``, ``2026``, in the supported years
(``jiedao.common.params``: 2000–2100)."""

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.errors import ValidationFailed
from jiedao.workcal.calendar import SHANGHAI

KINDS = ("week", "month", "quarter", "year")
_PATTERNS = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


def _at(day):
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Period:
    kind: str
    key: str
    start: dt.datetime
    end: dt.datetime

    @property
    def label(self):
        if self.kind == "week":
            first = self.start.date()
            return _("%(key)s（%(start)s 至 %(end)s）") % {
                "key": self.key,
                "start": first.isoformat(),
                "end": (first + dt.timedelta(days=6)).isoformat(),
            }
        return self.key

    def previous(self):
        return of(self.kind, self.start - dt.timedelta(seconds=1))

    def next(self):
        return of(self.kind, self.end)

    def contains(self, moment):
        return self.start <= moment < self.end


def of(kind, moment=None):
    """The period of ``kind`` containing ``moment`` (default now)."""
    moment = (moment or timezone.now()).astimezone(SHANGHAI)
    day = moment.date()
    if kind == "week":
        year, week, _weekday = day.isocalendar()
        return _parse(f"{year}-W{week:02d}")
    if kind == "month":
        return _parse(f"{day.year}-{day.month:02d}")
    if kind == "quarter":
        return _parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if kind == "year":
        return _parse(f"{day.year}")
    raise ValidationFailed("period", _("周期应为 week、month、quarter 或 year。"))


def parse(key, kind=None):
    """A period from its key, in the supported years; ``kind`` (if given) must match the key's form."""
    return _parse(key, kind, bounded=True)


def _parse(key, kind=None, bounded=False):
    """A period from its key. Periods the platform computes itself (the one before or after a
    period, the one of a moment) may lie just outside the supported years; keys people send may not."""
    key = (key or "").strip()
    for name, pattern in _PATTERNS.items():
        match = pattern.match(key)
        if not match or (kind and kind != name):
            continue
        year = int(match.group(1))
        if bounded:
            params.check_year(year, "period")
        try:
            if name == "week":
                start = dt.date.fromisocalendar(year, int(match.group(2)), 1)
                end = start + dt.timedelta(days=7)
            elif name == "month":
                month = int(match.group(2))
                start = dt.date(year, month, 1)
                end = dt.date(year + (month == 12), month % 12 + 1, 1)
            elif name == "quarter":
                quarter = int(match.group(2))
                start = dt.date(year, 3 * quarter - 2, 1)
                end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
            else:
                start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        except (ValueError, OverflowError):
            break
        suffix = {"week": "-W%02d", "month": "-%02d", "quarter": "-Q%d"}.get(name, "")
        key = f"{year:04d}" + (suffix % int(match.group(2)) if suffix else "")  # digits typed full-width too
        return Period(name, key, _at(start), _at(end))
    raise ValidationFailed(
        "period", _("周期“%(key)s”无效：应为 2026-W44、2026-10、2026-Q4 或 2026 这样的写法。") % {"key": key}
    )


def recent(kind, count, moment=None):
    """The last ``count`` periods of ``kind`` up to the one containing ``moment``, oldest first."""
    period = of(kind, moment)
    periods = [period]
    for _i in range(count - 1):
        period = period.previous()
        periods.append(period)
    return list(reversed(periods))


def months_in(period):
    """The month keys a period covers (a week may straddle two months)."""
    keys, day = [], period.start
    while day < period.end:
        keys.append(f"{day:%Y-%m}")
        day = _parse(keys[-1]).end
    return keys
