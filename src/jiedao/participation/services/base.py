"""What the services of 多元共治 share: the moment of an act, the checks that the person is
committee staff or a resident of the community (403 otherwise), and free text held to its
column."""

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors, NotAllowed
from jiedao.org.models import Community, User

from .. import rules
from ..models import Membership


def now(at: dt.datetime | None = None) -> dt.datetime:
    return at or timezone.now()


def require_staff(user: User, *, community: Community | int | None) -> None:
    if not rules.may_run(user, community):
        raise NotAllowed(_("只有本社区居委会工作人员或街道领导可以执行此操作。"))


def require_member(user: User, *, community: Community | int | None = None) -> Membership:
    """The user's membership; a resident of ``community`` when it is given."""
    member = rules.membership(user)
    if member is None or not user.has_role("resident"):
        raise NotAllowed(_("请先登记为本社区居民。"))
    if community is not None and member.community_id != getattr(community, "pk", community):
        raise NotAllowed(_("只有本社区居民可以参与。"))
    return member


def text(
    errors: FieldErrors, *, field: str, value: str | None, label: Any, max_length: int, required: bool = True
) -> str:
    """``value`` stripped; a field error when it is required and empty, or longer than ``max_length``."""
    typed = (value or "").strip()
    if required and not typed:
        errors.add(field, _("请填写%(label)s。") % {"label": label})
    elif len(typed) > max_length:
        errors.add(field, _("%(label)s不能超过%(n)s个字。") % {"label": label, "n": max_length})
    return typed
