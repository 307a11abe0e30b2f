"""Reminders that chase (催办提醒), sent by the deadline sweep.

- 30 minutes (``REMIND_BEFORE_RESPONSE_MINUTES``) before the response limit of a case still
  waiting for its response (待响应): the unit, kind ``response_soon``;
- when a case turns overdue (超期, the rule of ``rules.overdue_q``): the unit, its head (负责人)
  when it has one, and the street's dispatchers, kind ``overdue``, once per case and limit (a
  new limit after an extension is chased again);
- 60 minutes (``REMIND_BEFORE_REPORT_MINUTES``) before the report deadline of a whistle
  (吹哨) a summoned unit has not reported to: that unit, kind ``report_soon``;
- a report deadline passed with units not reported (未报到): the street's leaders, kind
  ``report_missed``, and the ``report_missed`` event in the case's timeline;
- a 督办 not answered by its deadline (自动升级): the street's leaders, kind
  ``supervise_overdue``, and the ``supervise_overdue`` event in the case's timeline, once per
  督办 (its ``escalated_at``). Not bounded by ``CATCH_UP``: a 督办 is raised however late.
- 督办 raised by a rule (自动督办), issued by the system (no issuer; the ``supervise`` event
  without actor, its data naming the rule): an open case overdue by more than
  ``SUPERVISE_AUTO_OVERDUE_WORKDAYS`` working days (rule ``overdue``, default 1), or reworked
  ``SUPERVISE_AUTO_REWORKS`` times (rule ``rework``, default 2); the reply is due
  ``SUPERVISE_AUTO_REPLY_HOURS`` later (default 24); the unit and its head are told, kind
  ``supervise``. Once per case and rule, and never while a 督办 of the case waits for its reply.

Each reminder is remembered by an event of the case (``remind``, with the kind and the
limit; ``report_missed`` for the escalation), written in the transaction of its
notification, so a sweep every minute never sends it twice. The queries are bounded by the
limits: the cases whose limit falls in the coming minutes, or passed within ``CATCH_UP``
(a worker stopped longer than that does not send stale reminders; the case is red on every
page anyway)."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.messaging.services import notify
from jiedao.org.models import User
from jiedao.org.roles import DISPATCHER, LEADER
from jiedao.workcal.calendar import SHANGHAI, add_workdays

from .dispatching import case_page
from .models import OPEN_STATUSES, WORKING_STATUSES, Case, CaseEvent, Status, Supervision, Whistle, WhistleSummons
from .states import CASE

CATCH_UP = dt.timedelta(days=1)
KINDS = ("response_soon", "overdue", "report_soon", "report_missed", "supervise_overdue")


def _minutes(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(minutes=int(cast(int, settings.JIEDAO.get(name, default))))


def beijing(moment: dt.datetime) -> str:
    """A limit as people read it: Beijing time, to the minute."""
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _staff(case: Case, role: str) -> list[User]:
    """The active users of ``role`` answering for the case's street (or for every street)."""
    where = Q(street__isnull=True) if case.street_id is None else Q(street_id=case.street_id) | Q(street__isnull=True)
    return list(User.objects.filter(where, groups__name=role, is_active=True).distinct().order_by("pk"))


def _reminded(case_ids: set[int], kind: str) -> set[tuple]:
    """(case, due, unit) of the reminders of ``kind`` already sent for these cases."""
    rows = CaseEvent.objects.filter(case_id__in=case_ids, action="remind", data__kind=kind)
    return {(row.case_id, row.data.get("due"), row.data.get("unit")) for row in rows.only("case_id", "data")}


def _locked(pk: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)


def _remember(case: Case, *, kind: str, due: dt.datetime, now: dt.datetime, unit: str | None = None) -> bool:
    """Write the ``remind`` event unless the reminder was already sent (checked under the case's
    lock). Returns whether it is new."""
    if (case.pk, _iso(due), unit) in _reminded({case.pk}, kind):
        return False
    data = {"kind": kind, "due": _iso(due)}
    if unit is not None:
        data["unit"] = unit
    CASE.record(case, "remind", None, at=now, data=data)
    return True


def _response_soon(now: dt.datetime) -> int:
    ahead = now + _minutes("REMIND_BEFORE_RESPONSE_MINUTES", 30)
    due = Case.objects.filter(
        status=Status.DISPATCHED, unit__isnull=False, response_due__gt=now, response_due__lte=ahead
    ).values_list("pk", "response_due")
    candidates = list(due)
    done = _reminded({pk for pk, _due in candidates}, "response_soon")
    sent = 0
    for pk, limit in candidates:
        if (pk, _iso(limit), None) in done:
            continue
        with transaction.atomic():
            case = _locked(pk)
            if case.status != Status.DISPATCHED or case.response_due != limit or not case.unit_id:
                continue
            if not _remember(case, kind="response_soon", due=limit, now=now):
                continue
            notify(
                unit=case.unit,
                link=case_page(case),
                kind="response_soon",
                at=now,
                message=_("工单 %(number)s 尚未响应，响应时限为 %(due)s（北京时间），请尽快响应。")
                % {"number": case.number, "due": beijing(limit)},
            )
            sent += 1
    return sent


def _overdue_limit(case: Case, now: dt.datetime) -> dt.datetime | None:
    """The limit the case passed (the response limit while waiting for the response, else the
    completion limit), or None when it is not overdue."""
    if case.status not in WORKING_STATUSES:
        return None
    if case.status == Status.DISPATCHED and case.response_due is not None and case.response_due < now:
        return case.response_due
    if case.completion_due is not None and case.completion_due < now:
        return case.completion_due
    return None


def _overdue(now: dt.datetime) -> int:
    since = now - CATCH_UP
    passed = Q(status=Status.DISPATCHED, response_due__gte=since, response_due__lt=now) | Q(
        status__in=WORKING_STATUSES, completion_due__gte=since, completion_due__lt=now
    )
    fields = ("pk", "status", "response_due", "completion_due", "unit_id")
    candidates = list(Case.objects.filter(passed).only(*fields))
    done = _reminded({c.pk for c in candidates}, "overdue")
    sent = 0
    for candidate in candidates:
        limit = _overdue_limit(candidate, now)
        if limit is None or (candidate.pk, _iso(limit), None) in done:
            continue
        with transaction.atomic():
            case = _locked(candidate.pk)
            limit = _overdue_limit(case, now)
            if limit is None or not _remember(case, kind="overdue", due=limit, now=now):
                continue
            message = (
                _("工单 %(number)s 已超过响应时限 %(due)s（北京时间），请尽快响应并督促办理。")
                if case.status == Status.DISPATCHED and limit == case.response_due
                else _("工单 %(number)s 已超过办结时限 %(due)s（北京时间），请督促办理。")
            )
            people = _staff(case, DISPATCHER)
            head = case.unit.head if case.unit is not None else None
            if head is not None and head.is_active and head not in people:
                people.append(head)
            notify(
                unit=case.unit,
                users=people,
                link=case_page(case),
                kind="overdue",
                at=now,
                message=message % {"number": case.number, "due": beijing(limit)},
            )
            sent += 1
    return sent


def _open_summonses(whistles: Q):
    return (
        WhistleSummons.objects.filter(
            reported_at__isnull=True, whistle__kind=Whistle.Kind.WHISTLE, whistle__case__status__in=OPEN_STATUSES
        )
        .filter(whistles)
        .select_related("unit", "whistle")
        .order_by("whistle_id", "pk")
    )


def _report_soon(now: dt.datetime) -> int:
    ahead = now + _minutes("REMIND_BEFORE_REPORT_MINUTES", 60)
    summonses = list(_open_summonses(Q(whistle__report_due__gt=now, whistle__report_due__lte=ahead)))
    done = _reminded({s.whistle.case_id for s in summonses}, "report_soon")
    sent = 0
    for summons in summonses:
        limit = summons.whistle.report_due
        if (summons.whistle.case_id, _iso(limit), summons.unit.code) in done:
            continue
        with transaction.atomic():
            case = _locked(summons.whistle.case_id)
            if WhistleSummons.objects.filter(pk=summons.pk, reported_at__isnull=False).exists():
                continue
            if not _remember(case, kind="report_soon", due=limit, now=now, unit=summons.unit.code):
                continue
            notify(
                unit=summons.unit,
                link=case_page(case),
                kind="report_soon",
                at=now,
                message=_("工单 %(number)s 吹哨报到：贵单位尚未报到，报到时限为 %(due)s（北京时间）。")
                % {"number": case.number, "due": beijing(limit)},
            )
            sent += 1
    return sent


def _report_missed(now: dt.datetime) -> int:
    summonses = list(_open_summonses(Q(whistle__report_due__gte=now - CATCH_UP, whistle__report_due__lt=now)))
    whistles: dict[int, Whistle] = {}
    for summons in summonses:
        whistles.setdefault(summons.whistle_id, summons.whistle)
    cases = {w.case_id for w in whistles.values()}
    done = set(
        CaseEvent.objects.filter(case_id__in=cases, action="report_missed").values_list("data__whistle", flat=True)
    )
    sent = 0
    for whistle in whistles.values():
        if whistle.pk in done:
            continue
        with transaction.atomic():
            case = _locked(whistle.case_id)
            if CaseEvent.objects.filter(case=case, action="report_missed", data__whistle=whistle.pk).exists():
                continue
            missing = list(
                WhistleSummons.objects.filter(whistle=whistle, reported_at__isnull=True)
                .select_related("unit")
                .order_by("unit__code")
            )
            if not missing:
                continue
            data = {"whistle": whistle.pk, "due": _iso(whistle.report_due), "units": [s.unit.code for s in missing]}
            CASE.record(case, "report_missed", None, at=now, data=data)
            notify(
                users=_staff(case, LEADER),
                link=case_page(case),
                kind="report_missed",
                at=now,
                message=_("工单 %(number)s 吹哨报到已过时限 %(due)s（北京时间），未报到单位：%(units)s。")
                % {
                    "number": case.number,
                    "due": beijing(whistle.report_due),
                    "units": "、".join(s.unit.name for s in missing),
                },
            )
            sent += 1
    return sent


def _supervise_overdue(now: dt.datetime) -> int:
    """Raise each 督办 of an open case left unanswered past its deadline to the leaders, once."""
    waiting = Supervision.objects.filter(
        replied_at__isnull=True, escalated_at__isnull=True, due__lt=now, case__status__in=OPEN_STATUSES
    )
    sent = 0
    for pk, case_id in list(waiting.order_by("due", "pk").values_list("pk", "case_id")):
        with transaction.atomic():
            case = _locked(case_id)
            supervision = (
                Supervision.objects.select_for_update(of=("self",))
                .filter(pk=pk, replied_at__isnull=True, escalated_at__isnull=True)
                .select_related("unit")
                .first()
            )
            if supervision is None:
                continue
            supervision.escalated_at = now
            supervision.save(update_fields=["escalated_at"])
            unit = supervision.unit or case.unit
            data = {"supervision": supervision.pk, "due": _iso(supervision.due), "unit": unit.code if unit else None}
            CASE.record(case, "supervise_overdue", None, at=now, data=data)
            notify(
                users=_staff(case, LEADER),
                link=case_page(case),
                kind="supervise_overdue",
                at=now,
                message=_(
                    "工单 %(number)s 的督办已过答复时限 %(due)s（北京时间），%(unit)s尚未答复，已自动升级。督办要求：%(requirement)s"
                )
                % {
                    "number": case.number,
                    "due": beijing(supervision.due),
                    "unit": unit.name if unit else "",
                    "requirement": supervision.requirement,
                },
            )
            sent += 1
    return sent


def _setting(name: str, default: int) -> int:
    return int(cast(int, settings.JIEDAO.get(name, default)))


def _overdue_by(case: Case, workdays: int, now: dt.datetime) -> bool:
    """Whether the case's completion limit passed more than ``workdays`` working days ago: the
    same time of day, that many working days after the limit's day, is behind ``now``."""
    if case.completion_due is None:
        return False
    local = timezone.localtime(case.completion_due, SHANGHAI)
    later = dt.datetime.combine(add_workdays(local.date(), workdays), local.time(), SHANGHAI)
    return later < now


def _auto_requirement(rule: str, *, workdays: int, reworks: int) -> str:
    if rule == "overdue":
        return _("超期超过%(days)d个工作日，系统自动督办：请说明原因和办结时间。") % {"days": workdays}
    return _("已重办%(times)d次，系统自动督办：请说明原因和整改措施。") % {"times": reworks}


def _auto_supervise(now: dt.datetime) -> int:
    """Issue the 督办 of the rules (自动督办) to the cases that meet one, once per case and rule."""
    workdays = _setting("SUPERVISE_AUTO_OVERDUE_WORKDAYS", 1)
    reworks = _setting("SUPERVISE_AUTO_REWORKS", 2)
    hours = _setting("SUPERVISE_AUTO_REPLY_HOURS", 24)
    sources = CASE.get("supervise").sources
    waiting = Supervision.objects.filter(case_id=OuterRef("pk"), replied_at__isnull=True)
    candidates = {
        # N working days are at least N calendar days: the rest is checked by the calendar.
        "overdue": Case.objects.filter(
            status__in=WORKING_STATUSES, completion_due__lt=now - dt.timedelta(days=workdays)
        ),
        "rework": Case.objects.filter(status__in=sources, rework_count__gte=max(reworks, 1)),
    }
    sent = 0
    for rule, cases in candidates.items():
        raised = CaseEvent.objects.filter(case_id=OuterRef("pk"), action="supervise", data__rule=rule)
        pending = cases.exclude(Exists(raised)).exclude(Exists(waiting)).order_by("pk")
        for candidate in list(pending.only("pk", "completion_due")):
            if rule == "overdue" and not _overdue_by(candidate, workdays, now):
                continue
            with transaction.atomic():
                case = _locked(candidate.pk)
                if (
                    case.status not in sources
                    or Supervision.objects.filter(case=case, replied_at__isnull=True).exists()
                ):
                    continue
                if CaseEvent.objects.filter(case=case, action="supervise", data__rule=rule).exists():
                    continue
                requirement = _auto_requirement(rule, workdays=workdays, reworks=reworks)
                issue_supervision(
                    case, by=None, requirement=requirement, due=now + dt.timedelta(hours=hours), now=now, rule=rule
                )
                sent += 1
    return sent


def issue_supervision(
    case: Case, *, by: User | None, requirement: str, due: dt.datetime, now: dt.datetime, rule: str = ""
) -> Supervision:
    """Write a 督办 of ``case`` (by a leader, or by the system's ``rule`` when ``by`` is None): the
    row, the case's marker, the timeline event, and the notice to the unit and its head."""
    supervision = Supervision.objects.create(
        case=case, unit=case.unit, issued_by=by, issued_at=now, due=due, requirement=requirement
    )
    case.supervised = True
    case.save(update_fields=["supervised", "updated_at"])
    data = {"supervision": supervision.pk, "due": _iso(due), **({"rule": rule} if rule else {})}
    CASE.record(case, "supervise", by, note=requirement, at=now, data=data)
    if case.unit is not None:
        head = case.unit.head
        notify(
            unit=case.unit,
            users=[head] if head is not None and head.is_active else [],
            link=case_page(case),
            kind="supervise",
            at=now,
            message=_("工单 %(number)s 已被督办，请于 %(due)s（北京时间）前答复。督办要求：%(note)s")
            % {"number": case.number, "due": beijing(due), "note": requirement},
        )
    return supervision


def send_reminders(*, now: dt.datetime) -> dict[str, int]:
    """Send the reminders due at ``now``; returns how many of each kind were sent."""
    return {
        "response_soon": _response_soon(now),
        "overdue": _overdue(now),
        "report_soon": _report_soon(now),
        "report_missed": _report_missed(now),
        "supervise_auto": _auto_supervise(now),
        "supervise_overdue": _supervise_overdue(now),
    }
