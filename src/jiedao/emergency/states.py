"""The lifecycles of 应急管理 as tables of the one engine (``common.lifecycle``).

``EMERGENCIES``, in the documents' four stages: 监测预警 (reported) → 快速响应 (dispatched,
arrived) → 协同处置 (engaged) → 恢复重建 (recovered, closed); a false report is cancelled
before anyone is engaged. Each step names the roles that may take it (the permission table's
``emergency.step.<action>`` rows, checked at import) and the emergency's time field it stamps
(``dispatched_at`` … ``closed_at``, which the measures read). ``services.transition`` moves an
emergency only through ``take``, which writes the ``EmergencyEvent``; the other entries of the
timeline (report, notes, supplies, care checks) are recorded with ``record``.

``ALERTS``: an open alert is confirmed or dismissed by the duty roles (``emergency.alert``).
``DRILLS``: a planned drill is recorded as held (``emergency.drill``). Neither keeps a log.
"""

from django.utils.translation import gettext_lazy as _

from jiedao.common.lifecycle import ANY, Lifecycle, Transition
from jiedao.org.permissions import signed_in_roles

from .models import Alert, Drill, EmergencyEvent
from .models import Status as S

COMMAND = ("leader", "dispatcher", "admin")
FIELD = (*COMMAND, "handler", "grid")


def anyone(*roles) -> tuple:
    return tuple((role, ANY) for role in roles)


def everyone_of(permission: str) -> tuple:
    """Every role the permission table names for ``permission``, on any record."""
    return anyone(*sorted(signed_in_roles(permission)))


T = Transition
EMERGENCIES = Lifecycle(
    name="emergency",
    noun=_("突发事件"),
    transitions={
        t.action: t
        for t in [
            T("dispatch", _("调度响应"), (S.REPORTED,), S.DISPATCHED, anyone(*COMMAND), stamps=("dispatched_at",)),
            T("arrive", _("先期到场"), (S.DISPATCHED,), S.ARRIVED, anyone(*FIELD), stamps=("arrived_at",)),
            T("engage", _("协同处置"), (S.ARRIVED,), S.ENGAGED, anyone(*COMMAND), stamps=("engaged_at",)),
            T(
                "recover",
                _("处置完毕"),
                (S.ENGAGED,),
                S.RECOVERED,
                anyone(*COMMAND),
                needs_note=True,
                stamps=("recovered_at",),
            ),
            T(
                "close",
                _("恢复重建完成"),
                (S.RECOVERED,),
                S.CLOSED,
                anyone(*COMMAND),
                needs_note=True,
                stamps=("closed_at",),
            ),
            T(
                "cancel",
                _("撤销（误报）"),
                (S.REPORTED, S.DISPATCHED),
                S.CANCELLED,
                anyone(*COMMAND),
                needs_note=True,
                stamps=("closed_at",),
            ),
        ]
    },
    # On the timeline, but not steps of the lifecycle.
    system_actions={
        "report": _("报告"),
        "note": _("进展"),
        "calloff": _("调用协议物资"),
        "supply": _("物资出库"),
        "check": _("关怀核查"),
        "escalate": _("接警升级"),
        "ack": _("确认接警"),
        "flag": _("标记舆情/群体事件"),
    },
    event_model=EmergencyEvent,
    permission_prefix="emergency.step",
    permission_roles=signed_in_roles,
)

ALERTS = Lifecycle(
    name="emergency.alert",
    noun=_("预警"),
    transitions={
        t.action: t
        for t in [
            T(
                "confirm",
                _("确认预警"),
                (Alert.Status.OPEN,),
                Alert.Status.CONFIRMED,
                everyone_of("emergency.alert"),
                stamps=("decided_at",),
            ),
            T(
                "dismiss",
                _("排除预警"),
                (Alert.Status.OPEN,),
                Alert.Status.DISMISSED,
                everyone_of("emergency.alert"),
                stamps=("decided_at",),
            ),
        ]
    },
    number=lambda alert: alert.message[:30],
)

DRILLS = Lifecycle(
    name="emergency.drill",
    noun=_("演练"),
    transitions={
        "complete": T(
            "complete", _("登记完成"), (Drill.Status.PLANNED,), Drill.Status.DONE, everyone_of("emergency.drill")
        )
    },
    number=lambda drill: drill.title,
)

# The documents' four stages, with the states that belong to each.
STAGES = (
    ("monitor", _("监测预警"), (S.REPORTED,)),
    ("respond", _("快速响应"), (S.DISPATCHED, S.ARRIVED)),
    ("coordinate", _("协同处置"), (S.ENGAGED,)),
    ("recover", _("恢复重建"), (S.RECOVERED, S.CLOSED)),
)


def stage_of(status):
    for code, _label, states in STAGES:
        if status in states:
            return code
    return ""
