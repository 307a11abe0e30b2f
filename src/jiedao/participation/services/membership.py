"""Residents and the council: a resident joins a community (or moves to another; staff may
register one), which opens their points account; the committee records its deliberation
council's members (自荐 or 推选) and ends their terms."""

import datetime as dt

from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors, NotAllowed, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, User

from .. import rules
from ..models import CouncilMember, Membership
from .base import require_staff, text
from .points import account_for


@transaction.atomic
def join_community(
    actor: User, *, user: User, community: Community, person: Model | None = None, party_member: bool = False
) -> Membership:
    """A resident joins (or moves to) a community; staff may register a resident too."""
    permissions.require(actor, "participation.join" if actor == user else "participation.deliberation")
    if actor != user and not rules.may_run(actor, community):
        raise NotAllowed()
    if not user.has_role("resident"):
        raise ValidationFailed("user", _("只有居民账号可以登记为社区居民。"))
    member, _created = Membership.objects.update_or_create(
        user=user, defaults={"community": community, "person": person, "party_member": party_member}
    )
    account_for(user, community=community)
    return member


@transaction.atomic
def add_council_member(
    user: User, *, community: Community, name: str, origin: str, start: dt.date, member_user: User | None = None
) -> CouncilMember:
    permissions.require(user, "participation.deliberation")
    require_staff(user, community=community)
    errors = FieldErrors()
    name = text(errors, field="name", value=name, label=_("姓名"), max_length=50)
    if origin not in CouncilMember.Origin.values:
        errors.add("origin", _("请选择产生方式（自荐或推选）。"))
    errors.raise_if_any()
    return CouncilMember.objects.create(community=community, name=name, origin=origin, start=start, user=member_user)


@transaction.atomic
def end_council_member(user: User, *, member_id: int, end: dt.date) -> CouncilMember:
    permissions.require(user, "participation.deliberation")
    member = CouncilMember.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise NotFound(_("议事会成员不存在。"))
    require_staff(user, community=member.community_id)
    member.end = end
    member.save(update_fields=["end"])
    return member
