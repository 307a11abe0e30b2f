"""重复投诉: the case a case repeats, and the share of cases received that repeat one.

A case repeats an earlier case when that case was closed (结案) within ``JIEDAO["REPEAT_DAYS"]``
days before it was received, and came from the same reporter (the same phone, found by its
blind index, or the same account) or was of the same category within ``JIEDAO["REPEAT_METERS"]``
metres. The rule is ``rules.repeat_reason`` for two cases in hand and ``rules.repeat_branches``
in SQL; the look-ups read indexed columns only (the phone index, the reporter, the category, each with
the closing time), never the whole table.

- ``repeated_case(case)``: the latest closed case ``case`` repeats, with the reason — the case
  page's 重复投诉 marker;
- ``with_repeat(cases)``: a queryset of cases annotated ``repeats`` (true or false), for a
  measure grouped by street, community, grid or unit in one query;
- ``repeat_rate(start=…, end=…, street=…)``: 重复投诉率 = the cases received in [start, end)
  that repeat an earlier closed case / the cases received then (merged duplicates and void
  calls left out, as in every count of cases received). docs/measures.md has it with a worked
  example.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery, Value

from jiedao.org.models import Street

from .models import NOT_MATTERS, Case
from .rules import repeat_branches, repeat_days, repeat_meters, repeat_reason

__all__ = ["Repeat", "RepeatRate", "repeat_rate", "repeated_case", "with_repeat"]


@dataclass(frozen=True)
class Repeat:
    """The earlier case a case repeats, and why: "reporter" (same phone or account) or "place"
    (same category, near)."""

    case: Case
    reason: str


@dataclass(frozen=True)
class RepeatRate:
    repeats: int
    received: int

    @property
    def rate(self) -> float | None:
        return self.repeats / self.received if self.received else None


def repeated_case(case: Case) -> Repeat | None:
    """The latest closed case that ``case`` repeats, or None."""
    days, meters = repeat_days(), repeat_meters()
    values = {
        "created_at": case.created_at,
        "reporter_phone_index": case.reporter_phone_index,
        "reporter": case.reporter_id,
        "category": case.category_id,
        "lat": case.lat,
        "lng": case.lng,
    }
    found = []
    for branch in repeat_branches(lambda name: Value(values[name]), days=days, meters=meters):
        latest = Case.objects.filter(branch).exclude(pk=case.pk).order_by("-closed_at", "-pk").first()
        if latest is not None:
            found.append(latest)
    for earlier in sorted(found, key=lambda c: (c.closed_at, c.pk), reverse=True):
        reason = repeat_reason(case, earlier, days=days, meters=meters)
        if reason is not None:
            return Repeat(earlier, reason)
    return None


def with_repeat(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` annotated ``repeats``: whether each repeats an earlier closed case.

    Each way of repeating asks for the latest earlier case closing within the window (``ORDER
    BY closed_at DESC LIMIT 1``) rather than whether one exists: the database then walks its
    index from the newest closing and stops at the first that fits, where an existence test lets
    it gather every closing of the window first — on a street with thousands of same-category
    closings a month, the difference between reading a few rows and reading them all."""
    branches = repeat_branches(OuterRef, days=repeat_days(), meters=repeat_meters())
    latest = {
        f"_repeats_{index}": Subquery(
            Case.objects.filter(branch).exclude(pk=OuterRef("pk")).order_by("-closed_at").values("pk")[:1]
        )
        for index, branch in enumerate(branches)
    }
    found = Q(_repeats_0__isnull=False) | Q(_repeats_1__isnull=False) | Q(_repeats_2__isnull=False)
    return cases.alias(**latest).annotate(repeats=ExpressionWrapper(found, output_field=BooleanField()))


def repeat_rate(*, start: dt.datetime, end: dt.datetime, street: Street | None = None) -> RepeatRate:
    """重复投诉率 over the cases received in [start, end), of one street or of all."""
    received = Case.objects.filter(created_at__gte=start, created_at__lt=end).exclude(status__in=NOT_MATTERS)
    if street is not None:
        received = received.filter(street=street)
    total = received.count()
    repeats = with_repeat(received).filter(repeats=True).count() if total else 0
    return RepeatRate(repeats=repeats, received=total)
