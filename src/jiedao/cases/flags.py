"""舆情 and 群体事件: the cases staff flagged (the lifecycle action "flag", ``services.flag``).

A flag is a field of the case (``Case.sensitive``) and an event of its log (who, when, why, the
flag before and after). ``flagged_cases(since)`` gives the cases flagged since a moment that
still carry their flag — what turns the evaluation's warning red — and every flag is also told
to the subscribers of ``hooks.case_event_recorded`` (action "flag") once committed.
``check_flag`` is the rule of a flag asked for, for a case or (the emergency app) an emergency.
"""

import datetime as dt

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors
from jiedao.org.models import Street

from .models import Case, CaseEvent, Sensitive

__all__ = ["MAX_FLAG_NOTE", "check_flag", "flagged_cases"]

MAX_FLAG_NOTE = 500


def check_flag(errors: FieldErrors, *, current: str, kind: str, note: str, noun: str) -> None:
    """Add to ``errors`` what is wrong with flagging a record that carries ``current`` as ``kind``
    (blank: taking the flag off) with ``note``: a kind that is not 舆情 or 群体事件, the flag it
    already has (or none to take off), a note longer than ``MAX_FLAG_NOTE``. ``noun`` names the
    record in the messages (本工单, 本事件)."""
    if len(note) > MAX_FLAG_NOTE:
        errors.add("note", _("标记理由不能超过 %(max)d 个字。") % {"max": MAX_FLAG_NOTE})
    if kind not in Sensitive.values:
        errors.add("kind", _("请选择“舆情”或“群体事件”，或选择取消标记。"))
    elif kind == current and kind:
        errors.add(
            "kind", _("%(noun)s已标记为“%(kind)s”，无需重复标记。") % {"noun": noun, "kind": Sensitive(kind).label}
        )
    elif kind == current:
        errors.add("kind", _("%(noun)s没有舆情或群体事件标记，无需取消。") % {"noun": noun})


def flagged_cases(since: dt.datetime, *, street: Street | None = None) -> QuerySet[Case]:
    """The cases flagged 舆情 or 群体事件 at or after ``since`` that still carry the flag, newest
    case first (read through the events' (action, at) index)."""
    flagged = CaseEvent.objects.filter(action="flag", at__gte=since).exclude(data__to="").values("case_id")
    cases = Case.objects.filter(pk__in=flagged).exclude(sensitive="")
    if street is not None:
        cases = cases.filter(street=street)
    return cases.order_by("-created_at")
