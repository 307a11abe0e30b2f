"""Measures of 智能分拨 for the indicator library. Rates are 0..1, or None without data.

- routing_accuracy (分拨准确率): of the cases that got a proposal and have a category now,
  the share whose category is still the proposed one (the operator or dispatcher kept it), or
  for the starter model's top-level proposals lies under it.
- auto_dispatch_share (自动派单占比): of the cases registered in the period and dispatched (calls
  settled at the desk, void calls and merged duplicates are never dispatched and are left out),
  the share dispatched automatically.
- reply_flag_rate (答复质量提示率): of the results submitted, the share flagged and not overridden.
``unit`` filters by the case's unit (the checked reply's unit for replies)."""

from django.db.models import Count, F, Q

from jiedao.cases.models import NOT_MATTERS, Case

from .models import Proposal, ReplyCheck


def _rate(numerator, denominator):
    return None if not denominator else numerator / denominator


def routing_accuracy(start, end, unit=None):
    rows = Proposal.objects.filter(created_at__gte=start, created_at__lt=end, case__category__isnull=False)
    if unit is not None:
        rows = rows.filter(case__unit=unit)
    # A proposal of the starter model names a top-level category: kept when the case's
    # category lies under it (category codes extend their parent's).
    kept = Q(case__category_id=F("category_id")) | Q(
        version__level=1, case__category__code__startswith=F("category__code")
    )
    counts = rows.aggregate(shown=Count("id"), kept=Count("id", filter=kept))
    return _rate(counts["kept"], counts["shown"])


def auto_dispatch_share(start, end, unit=None):
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end, dispatched_at__isnull=False).exclude(
        status__in=NOT_MATTERS
    )
    if unit is not None:
        cases = cases.filter(unit=unit)
    counts = cases.aggregate(dispatched=Count("id"), auto=Count("id", filter=Q(proposal__auto=True)))
    return _rate(counts["auto"], counts["dispatched"])


def reply_flag_rate(start, end, unit=None):
    rows = ReplyCheck.objects.filter(checked_at__gte=start, checked_at__lt=end)
    if unit is not None:
        rows = rows.filter(unit=unit)
    counts = rows.aggregate(all=Count("id"), flagged=Count("id", filter=Q(flagged=True, overridden_at__isnull=True)))
    return _rate(counts["flagged"], counts["all"])


def reply_flag_rates_by_unit(start, end):
    """[(unit_id, submitted, flagged)] for the units that submitted results in the period."""
    return list(
        ReplyCheck.objects.filter(checked_at__gte=start, checked_at__lt=end, unit__isnull=False)
        .values("unit_id", "unit__name")
        .annotate(submitted=Count("id"), flagged=Count("id", filter=Q(flagged=True, overridden_at__isnull=True)))
        .order_by("unit__name")
    )
