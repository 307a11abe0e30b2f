"""The service hall's lifecycles as tables of the one engine (``common.lifecycle``): which
action moves a record from which state to which, who may take it as ``(role, scope)``, whether
it needs a note and which time fields it stamps. The services move records only through
``take``; pages ask ``can_take`` which buttons to show.

- ``APPLICATIONS`` (办件): 前台综合受理 (the window accepts for any item) → 后台分类审批
  (the responsible unit approves) → 统一窗口出件 (the window issues the result), then 好差评.
  Its roles are the permission table's ``hall.application.<action>`` rows (checked at
  import); every step is an ``ApplicationEvent``.
- ``MATERIALS``: a material accepted as missing (容缺) is supplied later: missing → provided.
- ``RECTIFICATIONS`` (差评整改): a bad rating's unit fixes the cause, then the applicant is
  called back: open → fixed → closed. Both steps are recorded on the application.
- ``TICKETS`` (排队号): waiting → called → done or missed.
- ``APPOINTMENTS`` (预约): booked → cancelled.

The last four keep no log of their own. Scopes are the rules of ``rules.py``; ``any`` is every
user of the role, ``public`` whoever holds the application's rating link.
"""

from django.utils.translation import gettext_lazy as _

from jiedao.common.lifecycle import ANY, PUBLIC, Lifecycle, Transition
from jiedao.org.permissions import signed_in_roles

from . import rules
from .models import ApplicationEvent, Appointment, MaterialStatus, Rectification, TicketStatus
from .models import Status as S
from .rules import APPLICANT, OWN, OWN_UNIT


def everyone_of(permission: str) -> tuple:
    """Every role the permission table names for ``permission``, on any record."""
    return tuple((role, ANY) for role in sorted(signed_in_roles(permission)))


T = Transition
WINDOW = (("operator", ANY), ("admin", ANY))
APPROVERS = (("handler", OWN_UNIT), ("leader", ANY), ("admin", ANY))

APPLICATIONS = Lifecycle(
    name="hall.application",
    noun=_("办件"),
    transitions={
        t.action: t
        for t in [
            T("accept", _("受理"), (S.SUBMITTED,), S.ACCEPTED, WINDOW, stamps=("accepted_at",)),
            T("refuse", _("不予受理"), (S.SUBMITTED,), S.REFUSED, WINDOW, needs_note=True),
            T("supply", _("补正材料"), (S.ACCEPTED,), None, (*WINDOW, ("resident", APPLICANT))),
            T("approve", _("审批通过"), (S.ACCEPTED,), S.APPROVED, APPROVERS, stamps=("decided_at",)),
            T("reject", _("不予批准"), (S.ACCEPTED,), S.REJECTED, APPROVERS, needs_note=True, stamps=("decided_at",)),
            T("issue", _("出件"), (S.APPROVED,), S.ISSUED, WINDOW, stamps=("issued_at",)),
            T(
                "rate",
                _("好差评"),
                (S.ISSUED, S.REJECTED),
                None,
                (("operator", ANY), ("resident", APPLICANT), (None, PUBLIC)),
            ),
        ]
    },
    # Recorded by the system or by a step of another record, never taken by a person here.
    system_actions={
        "create": _("网上申请"),
        "window_accept": _("窗口受理"),
        "remind": _("补正提醒"),
        "complete": _("一件事全部办结"),
        "rectify": _("差评整改"),
        "callback": _("整改回访"),
        "appeal": _("差评申诉"),
        "review": _("申诉复核"),
        "anonymise": _("申请人信息匿名化"),
    },
    event_model=ApplicationEvent,
    permission_prefix="hall.application",
    permission_roles=signed_in_roles,
    scopes={OWN_UNIT: rules.own_unit, APPLICANT: rules.applicant},
)

MATERIALS = Lifecycle(
    name="hall.material",
    noun=_("材料"),
    transitions={
        "supply": T(
            "supply",
            _("补正材料"),
            (MaterialStatus.MISSING,),
            MaterialStatus.PROVIDED,
            APPLICATIONS.transitions["supply"].who,
            stamps=("supplied_at",),
        )
    },
    number=lambda row: row.material.name,
    scopes={APPLICANT: rules.material_applicant},
)

RECTIFICATIONS = Lifecycle(
    name="hall.rectification",
    noun=_("差评整改"),
    transitions={
        t.action: t
        for t in [
            T(
                "rectify",
                _("整改"),
                (Rectification.State.OPEN,),
                Rectification.State.FIXED,
                APPROVERS,
                needs_note=True,
                stamps=("fixed_at",),
            ),
            T(
                "rectify_callback",
                _("整改回访"),
                (Rectification.State.FIXED,),
                Rectification.State.CLOSED,
                (("operator", ANY), ("leader", ANY), ("admin", ANY)),
                stamps=("callback_at",),
            ),
        ]
    },
    status_field="state",
    permission_prefix="hall",
    permission_roles=signed_in_roles,
    scopes={OWN_UNIT: rules.own_unit},
)

QUEUE = everyone_of("hall.queue")
TICKETS = Lifecycle(
    name="hall.ticket",
    noun=_("排队号"),
    transitions={
        t.action: t
        for t in [
            T("call", _("叫号"), (TicketStatus.WAITING,), TicketStatus.CALLED, QUEUE, stamps=("called_at",)),
            T("finish", _("办毕"), (TicketStatus.CALLED,), TicketStatus.DONE, QUEUE, stamps=("finished_at",)),
            T("miss", _("过号"), (TicketStatus.CALLED,), TicketStatus.MISSED, QUEUE, stamps=("finished_at",)),
        ]
    },
)

APPOINTMENTS = Lifecycle(
    name="hall.appointment",
    noun=_("预约"),
    transitions={
        "cancel": T(
            "cancel",
            _("取消预约"),
            (Appointment.State.BOOKED,),
            Appointment.State.CANCELLED,
            tuple((role, OWN) for role in sorted(signed_in_roles("hall.cancel_booking"))),
        )
    },
    status_field="state",
    scopes={OWN: rules.own_booking},
)
