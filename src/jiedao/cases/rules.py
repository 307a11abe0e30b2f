"""Who may act on which case: the scopes of the case lifecycle's table (``states.py``).

A row of the table names ``(role, scope)`` pairs; the role comes from the permission table,
the scope says which cases of that role's holder the row covers. ``any`` (every case of the
streets the user answers for) and ``public`` (the reporter who proved it with the case's
phone) are the engine's own (``common.lifecycle``); the cases' own scopes are:

- ``own_unit``: the user's unit holds the case;
- ``summoned_unit``: the user's unit was summoned to the case (a whistle or a co-handling task);
- ``own_report``: the user reported the case;
- ``own_grid``: the case lies in one of the user's grids (or in no grid).

Each check is ``check(user, case, context) -> bool`` for a signed-in user who holds the row's
role. Nothing here writes: services (which refuse) and selectors (which offer the actions a
page shows) both ask these rules.

The deadline rule is here too, for the same reason: ``urgency_at`` says whether a case the
unit still owes is green, yellow (临期: less than ``JIEDAO["YELLOW_SHARE"]`` of its time
left) or red (超期: past its response limit while waiting for the response, or past its
completion limit). The case page's badge, the deadline sweep and the unit's workbench
counts all ask it, so 临期 and 超期 mean the same on every one of them.
"""

import datetime as dt
from typing import cast

from django.conf import settings

from jiedao.common.lifecycle import Context, ScopeCheck

from .models import Case, Rating, Status, Urgency, WhistleSummons

OWN_UNIT = "own_unit"
SUMMONED = "summoned_unit"
OWN_REPORT = "own_report"
OWN_GRID = "own_grid"


def holds_case(user, case, context: Context) -> bool:
    """The user's unit is the unit holding the case."""
    return user.unit_id is not None and user.unit_id == case.unit_id


def summoned_to_case(user, case, context: Context) -> bool:
    """The user's unit was summoned to the case by a whistle or a co-handling task."""
    return user.unit_id is not None and WhistleSummons.objects.filter(whistle__case=case, unit_id=user.unit_id).exists()


def reported_case(user, case, context: Context) -> bool:
    """The user reported the case."""
    return case.reporter_id is not None and case.reporter_id == user.pk


def case_in_own_grid(user, case, context: Context) -> bool:
    """The case lies in one of the user's grids, or in no grid at all."""
    return case.grid_id is None or user.grids.filter(pk=case.grid_id).exists()


SCOPES: dict[str, ScopeCheck] = {
    OWN_UNIT: holds_case,
    SUMMONED: summoned_to_case,
    OWN_REPORT: reported_case,
    OWN_GRID: case_in_own_grid,
}


def urgency_at(case: Case, *, now: dt.datetime, reopened_at: dt.datetime | None = None) -> str:
    """green / yellow (< 20 % of the time left) / red (overdue) for a case the unit still owes.

    ``reopened_at``: when the last reopening rating was given, if the caller knows it
    (otherwise it is read from the ratings)."""
    if case.status not in (Status.DISPATCHED, Status.IN_PROGRESS) or case.dispatched_at is None:
        return Urgency.GREEN
    due = case.completion_due
    if case.status == Status.DISPATCHED and case.response_due is not None and now > case.response_due:
        return Urgency.RED
    if due is None:
        return Urgency.GREEN
    if now > due:
        return Urgency.RED
    # The share of time left is of the current allowance: after a reopening (重办) the
    # clock restarted at the rating that reopened the case, not at the first dispatch.
    start = case.dispatched_at
    if case.rework_count:
        if reopened_at is None:
            reopened_at = (
                Rating.objects.filter(case_id=case.pk).order_by("-rated_at").values_list("rated_at", flat=True).first()
            )
        start = max(start, reopened_at) if reopened_at else start
    total = (due - start).total_seconds()
    left = (due - now).total_seconds()
    if total > 0 and left / total < cast(float, settings.JIEDAO["YELLOW_SHARE"]):
        return Urgency.YELLOW
    return Urgency.GREEN
