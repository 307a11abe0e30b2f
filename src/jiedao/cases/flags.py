"""舆情 and 群体事件: the cases staff flagged (the lifecycle action "flag", ``services.flag``).

A flag is a field of the case (``Case.sensitive``) and an event of its log (who, when, why, the
flag before and after). ``flagged_cases(since)`` gives the cases flagged since a moment that
still carry their flag — what turns the evaluation's warning red — and every flag is also told
to the subscribers of ``hooks.case_event_recorded`` (action "flag") once committed.
"""

import datetime as dt

from django.db.models import QuerySet

from jiedao.org.models import Street

from .models import Case, CaseEvent

__all__ = ["flagged_cases"]


def flagged_cases(since: dt.datetime, *, street: Street | None = None) -> QuerySet[Case]:
    """The cases flagged 舆情 or 群体事件 at or after ``since`` that still carry the flag, newest
    case first (read through the events' (action, at) index)."""
    flagged = CaseEvent.objects.filter(action="flag", at__gte=since).exclude(data__to="").values("case_id")
    cases = Case.objects.filter(pk__in=flagged).exclude(sensitive="")
    if street is not None:
        cases = cases.filter(street=street)
    return cases.order_by("-created_at")
