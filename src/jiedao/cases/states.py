"""The case lifecycle as data: which action moves a case from which state to which, who may
take it, whether it needs a note and which time fields it stamps — a table the one lifecycle
engine (``common.lifecycle``) applies. No code outside the engine sets a case's status.

Each row's ``who`` lists ``(role, scope)`` pairs. Scopes:

- ``any``: every user with the role (street-wide roles), within the streets they answer for.
- ``own_unit``: the user's unit is the unit holding the case.
- ``summoned_unit``: the user's unit was summoned by a whistle (or a co-handling task) on the case.
- ``own_report``: the user reported the case.
- ``own_grid``: the case lies in one of the user's grids (or has no grid).
- ``public``: anyone who proves to be the reporter (case number + phone).

The checks of the cases' own scopes are in ``rules.py``. Which roles may take an action at
all is also a row of the permission table (``org/permissions.py``, ``case.<action>``; the public
rating is ``public.rate_case``), which pages, the API and the permission matrix test read: the
roles named here must be the roles named there, and this module refuses to load otherwise.

The order of the checks and their answers is the engine's (docs/api.md, "Errors"): the role
(403, before the case is looked up), the action (422), the state (409), the scope (403), the
note (422 on the note's own field, ``NOTES``).

Every event of a case's log also names the unit of the person who acted and the unit holding
the case after the event; ``CaseLifecycle`` adds both to what the engine writes, and tells the
subscribers of ``hooks.case_event_recorded`` once the event is committed.
"""

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from jiedao.common import events
from jiedao.common.lifecycle import ANY, PUBLIC, Lifecycle, Transition
from jiedao.org import permissions

from . import hooks, rules
from .models import CaseEvent
from .models import Status as S
from .rules import OWN_GRID, OWN_REPORT, OWN_UNIT, SUMMONED

__all__ = ["ANY", "CASE", "OWN_GRID", "OWN_REPORT", "OWN_UNIT", "PUBLIC", "SUMMONED", "TRANSITIONS"]

T = Transition
TRANSITIONS = {
    t.action: t
    for t in [
        T("classify", _("分类"), (S.NEW, S.RETURNED), None, (("operator", ANY), ("dispatcher", ANY), ("admin", ANY))),
        T(
            "dispatch",
            _("派单"),
            (S.NEW, S.RETURNED),
            S.DISPATCHED,
            (("dispatcher", ANY), ("leader", ANY), ("admin", ANY)),
            stamps=("dispatched_at",),
        ),
        T("return", _("退单"), (S.DISPATCHED,), S.RETURNED, (("handler", OWN_UNIT),), needs_note=True),
        T("respond", _("响应"), (S.DISPATCHED,), S.IN_PROGRESS, (("handler", OWN_UNIT),), stamps=("responded_at",)),
        T(
            "note",
            _("办理进展"),
            (S.IN_PROGRESS,),
            None,
            (("handler", OWN_UNIT), ("handler", SUMMONED)),
            needs_note=True,
        ),
        T(
            "request_extension",
            _("申请延期"),
            (S.DISPATCHED, S.IN_PROGRESS),
            None,
            (("handler", OWN_UNIT),),
            needs_note=True,
        ),
        T("approve_extension", _("批准延期"), (S.DISPATCHED, S.IN_PROGRESS), None, (("leader", ANY), ("admin", ANY))),
        T(
            "refuse_extension",
            _("驳回延期"),
            (S.DISPATCHED, S.IN_PROGRESS),
            None,
            (("leader", ANY), ("admin", ANY)),
            needs_note=True,
        ),
        T(
            "whistle",
            _("吹哨"),
            (S.DISPATCHED, S.IN_PROGRESS),
            None,
            (("dispatcher", ANY), ("leader", ANY)),
            needs_note=True,
        ),
        T("report", _("报到"), (S.DISPATCHED, S.IN_PROGRESS), None, (("handler", SUMMONED),), needs_note=True),
        T(
            "resolve",
            _("办结反馈"),
            (S.IN_PROGRESS,),
            # On-site verification first when the category asks for it.
            (S.VERIFYING, S.RATING),
            (("handler", OWN_UNIT),),
            needs_note=True,
            stamps=("resolved_at",),
        ),
        # On site: a photo and the phone's position near the case, or a written reason
        # (services.verify); the dispatcher checks from the office, with a reason.
        T("verify_pass", _("核查通过"), (S.VERIFYING,), S.RATING, (("grid", OWN_GRID), ("dispatcher", ANY))),
        T(
            "verify_fail",
            _("核查不通过"),
            (S.VERIFYING,),
            S.IN_PROGRESS,
            (("grid", OWN_GRID), ("dispatcher", ANY)),
            needs_note=True,
        ),
        T(
            "rate",
            _("回访评价"),
            (S.RATING,),
            # Resolved and satisfied closes the case; anything else reopens it (重办).
            (S.CLOSED, S.IN_PROGRESS),
            (("resident", OWN_REPORT), ("operator", ANY), ("dispatcher", ANY), (None, PUBLIC)),
        ),
        T(
            "close",
            _("结案"),
            (S.RATING,),
            S.CLOSED,
            (("dispatcher", ANY), ("leader", ANY)),
            needs_note=True,
            stamps=("closed_at",),
        ),
        T(
            "merge",
            _("并案"),
            (S.NEW, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS),
            S.MERGED,
            (("dispatcher", ANY), ("leader", ANY)),
            stamps=("closed_at",),
        ),
        # A callback (回访) that did not reach the resident: counted, retried later.
        T("unreached", _("回访未接通"), (S.RATING,), None, (("operator", ANY), ("dispatcher", ANY))),
        # 告知诉求人: the reporter was told the result before the callback (how and what, in the note).
        T(
            "inform",
            _("告知诉求人"),
            (S.RATING,),
            None,
            (("operator", ANY), ("dispatcher", ANY)),
            needs_note=True,
        ),
        # 舆情 / 群体事件: staff flag an open case (or take the flag off), saying why; the cockpit's
        # warning turns red.
        T(
            "flag",
            _("标记舆情/群体事件"),
            (S.NEW, S.DISPATCHED, S.RETURNED, S.IN_PROGRESS, S.VERIFYING, S.RATING),
            None,
            (("dispatcher", ANY), ("leader", ANY)),
            needs_note=True,
        ),
        # 三事分流 at intake: a call settled by the desk instead of being dispatched.
        T(
            "answer",
            _("直接答复"),
            (S.NEW,),
            S.CLOSED,
            (("operator", ANY), ("dispatcher", ANY)),
            needs_note=True,
            stamps=("closed_at",),
        ),
        T(
            "advise",
            _("私事告知"),
            (S.NEW,),
            S.CLOSED,
            (("operator", ANY), ("dispatcher", ANY)),
            needs_note=True,
            stamps=("closed_at",),
        ),
        T(
            "void",
            _("无效来电"),
            (S.NEW,),
            S.VOIDED,
            (("operator", ANY), ("dispatcher", ANY)),
            stamps=("closed_at",),
        ),
        # 小事不出网格: a small matter of their own grid the grid worker fixed on the spot, with
        # the result and a photo; closed at once (also when reported so: intake's outcome).
        T(
            "self_resolve",
            _("已自行处置"),
            (S.NEW, S.RETURNED),
            S.CLOSED,
            (("grid", OWN_GRID),),
            needs_note=True,
            stamps=("closed_at",),
        ),
        T(
            "supervise",
            _("督办"),
            (S.DISPATCHED, S.IN_PROGRESS, S.VERIFYING, S.RATING),
            None,
            (("leader", ANY), ("dispatcher", ANY)),
            needs_note=True,
        ),
        # The unit's answer to the 督办 waiting for it (services.reply_to_supervision).
        T(
            "supervise_reply",
            _("答复督办"),
            (S.DISPATCHED, S.IN_PROGRESS, S.VERIFYING, S.RATING),
            None,
            (("handler", OWN_UNIT),),
            needs_note=True,
        ),
        # The decision on the unit's reply (services.decide_supervision): a leader, or the
        # dispatcher who issued the 督办 (the service checks that it was they).
        T(
            "supervise_accept",
            _("认可答复"),
            (S.DISPATCHED, S.IN_PROGRESS, S.VERIFYING, S.RATING),
            None,
            (("leader", ANY), ("dispatcher", ANY)),
        ),
        T(
            "supervise_return",
            _("退回重答"),
            (S.DISPATCHED, S.IN_PROGRESS, S.VERIFYING, S.RATING),
            None,
            (("leader", ANY), ("dispatcher", ANY)),
            needs_note=True,
        ),
    ]
}

# Recorded by the system, never taken by a person: intake, deadline sweeps, anonymisation.
SYSTEM_ACTIONS = {
    "create": _("受理"),
    "sla": _("时限预警"),
    "absorb": _("并入重复工单"),
    # A machine alert of the same device and kind while its case is open (``alerts.submit_alert``).
    "realert": _("同一设备再次告警"),
    "anonymise": _("诉求人信息匿名化"),
    # The deadline sweep's reminders (``reminders.py``): one event per reminder sent, so none is sent twice.
    "remind": _("催办提醒"),
    "report_missed": _("吹哨未按时报到，已报街道领导"),
    # A 督办 not answered by its deadline, raised to the street's leaders (``reminders.py``).
    "supervise_overdue": _("督办超期未答复，已自动升级至街道领导"),
}

# The note a row requires: the field a person fills in and what they are told when it is empty.
NOTES = {
    "return": ("reason", _("退单必须填写理由。")),
    "note": ("note", _("请填写说明，此项为必填。")),
    "request_extension": ("reason", _("申请延期必须填写理由。")),
    "refuse_extension": ("note", _("驳回延期必须填写理由。")),
    "whistle": ("reason", _("吹哨必须说明事由。")),
    "report": ("part", _("报到时请说明本单位承担的工作。")),
    "resolve": ("result", _("请填写办理结果。")),
    "verify_fail": ("note", _("核查不通过时请写明原因。")),
    "close": ("note", _("未经评价直接结案时请写明原因（如多次回访未接通）。")),
    "supervise": ("note", _("督办请写明要求。")),
    "supervise_reply": ("reply", _("答复督办请填写答复内容。")),
    "inform": ("note", _("请写明告知诉求人的方式和内容。")),
    "flag": ("note", _("标记或取消舆情、群体事件时请写明理由。")),
    "supervise_return": ("reason", _("退回重答必须填写理由。")),
    "answer": ("answer", _("直接答复时请填写答复内容。")),
    "advise": ("answer", _("私事告知时请填写给诉求人的建议。")),
    "self_resolve": ("result", _("请填写当场处置的结果。")),
}

_HOLDING_UNIT = object()


class CaseLifecycle(Lifecycle):
    """The engine, writing what every case event names besides the engine's fields: the unit
    of the person who acted (``actor_unit``: theirs unless the service says otherwise, e.g. the
    unit that returned the case) and the unit holding the case after the event (``unit``)."""

    def record(self, record, action, user, *, actor_unit=None, unit=_HOLDING_UNIT, **kwargs):
        event = super().record(record, action, user, **_units(record, user, actor_unit, unit), **kwargs)
        hooks.event_recorded(event)
        return event

    def unsaved(self, record, action, user, *, before, after, at, seq, note="", data=None, unit=_HOLDING_UNIT):
        """The event ``record`` would write, not yet saved: the intake inserts a new case's first
        events at once (and tells ``hooks.event_recorded`` itself after the insert)."""
        return events.build(
            self.event_model,
            record,
            action=action,
            actor=user,
            at=at,
            from_status=before,
            to_status=after,
            note=note,
            data=data,
            seq=seq,
            **_units(record, user, None, unit),
        )


def _units(case, user, actor_unit, unit) -> dict:
    return {
        "actor_unit": actor_unit if actor_unit is not None else getattr(user, "unit", None),
        "unit": case.unit if unit is _HOLDING_UNIT else unit,
    }


CASE = CaseLifecycle(
    name="case",
    noun=_("工单"),
    transitions=TRANSITIONS,
    event_model=CaseEvent,
    system_actions=SYSTEM_ACTIONS,
    permission_prefix="case",
    permission_roles=permissions.signed_in_roles,
    scopes=rules.SCOPES,
)

if {action for action, t in TRANSITIONS.items() if t.needs_note} != set(NOTES):
    raise ImproperlyConfigured("cases.states: NOTES must name exactly the rows that need a note")


def action_label(action: str) -> str:
    """The label of an action of the table or of the system (the action itself when unknown)."""
    return CASE.label(action)
