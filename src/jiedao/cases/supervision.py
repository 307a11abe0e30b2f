"""督办 as a small lifecycle, read from what is written: a ``Supervision`` row per 督办 and the
case events of the decisions on its reply.

- 待答复 (``waiting``): issued (or returned), no reply yet, the deadline ahead;
- 已超期 (``overdue``): no reply and the deadline passed;
- 待认可 (``answered``): the unit replied, the leader has not decided;
- 已认可 (``accepted``): a leader (or the person who issued it) accepted the reply
  (the ``supervise_accept`` event).

A return (退回重答, the ``supervise_return`` event) keeps the reply it returned in the event's
data and puts the row back to 待答复 with a new deadline. The services and the selectors both
read the decisions here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from .models import CaseEvent, Supervision

DECISIONS = ("supervise_accept", "supervise_return")

STATES = {
    "waiting": gettext_lazy("待答复"),
    "answered": gettext_lazy("待认可"),
    "accepted": gettext_lazy("已认可"),
    "overdue": gettext_lazy("已超期"),
}


@dataclass
class Decisions:
    """What was decided on one 督办's replies: accepted, and how many times returned."""

    accepted: bool = False
    returns: int = 0


def decisions(case_ids: Iterable[int] | QuerySet) -> dict[int, Decisions]:
    """The decisions on the 督办 of these cases, by the 督办's id (absent: none yet)."""
    found: dict[int, Decisions] = {}
    rows = CaseEvent.objects.filter(case_id__in=case_ids, action__in=DECISIONS).values_list("action", "data")
    for action, data in rows:
        pk = (data or {}).get("supervision")
        if not isinstance(pk, int):
            continue
        entry = found.setdefault(pk, Decisions())
        if action == "supervise_accept":
            entry.accepted = True
        else:
            entry.returns += 1
    return found


def state_of(supervision: Supervision, *, now: dt.datetime, accepted: bool) -> str:
    """The 督办's state at ``now`` (a key of ``STATES``)."""
    if supervision.replied_at is not None:
        return "accepted" if accepted else "answered"
    return "overdue" if supervision.due < now else "waiting"


def awaiting_decision(case_id: int) -> QuerySet[Supervision]:
    """The case's 督办 whose reply waits for the decision (待认可), oldest reply first."""
    accepted = [pk for pk, found in decisions([case_id]).items() if found.accepted]  # a handful per case at most
    return (
        Supervision.objects.filter(case_id=case_id, replied_at__isnull=False)
        .exclude(pk__in=accepted)
        .order_by("replied_at", "pk")
    )
