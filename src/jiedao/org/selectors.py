"""Reads for the organisation app, scoped by the user asking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import NotAllowed

from .models import ApiToken, Unit

if TYPE_CHECKING:
    import datetime as dt

    from django.db.models import QuerySet

    from .models import User

_M = TypeVar("_M", bound=Model)

# Roles that may see the figures of every unit and of the whole street.
METRICS_ALL_UNITS_ROLES = ("leader", "admin", "dispatcher")


def in_streets(user: User, path: str = "street") -> Q:
    """A filter keeping the records of the streets ``user`` may see; ``path`` leads from
    the record to its street (``"street"``, ``"community__street"``, ``"grid__community__street"``)."""
    ids = user.street_ids
    if ids is None:
        return Q()
    return Q(**{f"{path}__in": sorted(ids)})


def street_records(user: User, qs: QuerySet[_M], path: str = "street") -> QuerySet[_M]:
    """``qs`` kept to the streets ``user`` sees (``path`` leads to the street); the whole of it
    when those are all the installation's streets (records tied to no place included)."""
    if user.covers_all_streets:
        return qs
    return qs.filter(in_streets(user, path))


def unit_out(unit: Unit | None) -> dict[str, str] | None:
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def me(user: User) -> dict[str, Any]:
    """What the signed-in user is: name, roles and unit."""
    codes = sorted(user.role_codes)
    return {
        "username": user.username,
        "display_name": user.display_name or user.username,
        "roles": codes,
        "role_labels": user.role_labels,
        "unit": unit_out(user.unit),
    }


def metrics_scope(user: User, unit_code: str | None = None) -> tuple[str | None, bool]:
    """Which unit's figures the user may read. Returns ``(unit_code, street_wide)``:
    ``unit_code`` is None for the whole street; ``street_wide`` says whether the list
    of every unit may be shown.

    Leaders, administrators and dispatchers see every unit and the street; a unit
    handler sees only their own unit (asked without a unit, they get their own);
    everybody else is refused.
    """
    unit_code = (unit_code or "").strip() or None
    if user.has_role(*METRICS_ALL_UNITS_ROLES):
        if (
            unit_code is not None
            and not user.covers_all_streets
            and not Unit.objects.filter(in_streets(user), code=unit_code).exists()
        ):
            raise NotAllowed(_("您只能查看本街道承办单位的考核数据。"))
        return unit_code, unit_code is None
    if user.has_role("handler") and user.unit is not None:
        own = user.unit.code
        if unit_code is None or unit_code == own:
            return own, False
        raise NotAllowed(_("您只能查看本单位（%(name)s）的考核数据。") % {"name": user.unit.name})
    raise NotAllowed(_("只有街道领导、派单员、管理员和承办单位可以查看考核数据。"))


def tokens_of(user: User, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The user's own API tokens, newest first: when made, last used and expiring, and whether
    still valid. Never the token itself (only its hash is kept)."""
    now = now or timezone.now()
    return [
        {
            "id": token.pk,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "expires_at": token.expires_at,
            "active": token.expires_at > now,
        }
        for token in ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
    ]
