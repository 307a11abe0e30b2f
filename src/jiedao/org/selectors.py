"""Reads for the organisation app, scoped by the user asking."""

from django.utils.translation import gettext as _

from jiedao.common.errors import NotAllowed

# Roles that may see the figures of every unit and of the whole street.
METRICS_ALL_UNITS_ROLES = ("leader", "admin", "dispatcher")


def unit_out(unit):
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def me(user):
    """What the signed-in user is: name, roles and unit."""
    codes = sorted(user.role_codes)
    return {
        "username": user.username,
        "display_name": user.display_name or user.username,
        "roles": codes,
        "role_labels": user.role_labels,
        "unit": unit_out(user.unit),
    }


def metrics_scope(user, unit_code=None):
    """Which unit's figures the user may read. Returns ``(unit_code, street_wide)``:
    ``unit_code`` is None for the whole street; ``street_wide`` says whether the list
    of every unit may be shown.

    Leaders, administrators and dispatchers see every unit and the street; a unit
    handler sees only their own unit (asked without a unit, they get their own);
    everybody else is refused.
    """
    unit_code = (unit_code or "").strip() or None
    if user.has_role(*METRICS_ALL_UNITS_ROLES):
        return unit_code, unit_code is None
    if user.has_role("handler") and user.unit_id is not None:
        own = user.unit.code
        if unit_code is None or unit_code == own:
            return own, False
        raise NotAllowed(_("您只能查看本单位（%(name)s）的考核数据。") % {"name": user.unit.name})
    raise NotAllowed(_("只有街道领导、派单员、管理员和承办单位可以查看考核数据。"))
