"""Pure rules of the evaluation app that services and selectors both apply: the scope of the
rectification lifecycle in ``states`` — a handler acts on the tasks of their own unit, the unit
responsible for the task."""

from jiedao.common.lifecycle import Context

RESPONSIBLE_UNIT = "responsible_unit"


def responsible_unit(user, task, context: Context) -> bool:
    return bool(user.unit_id) and user.unit_id == task.unit_id
