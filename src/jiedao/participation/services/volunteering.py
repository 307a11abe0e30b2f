"""Volunteers and their activities (志愿服务): residents register as volunteers (party members
reporting to their residential community — 双报到 — too); the committee registers enterprises'
teams (驻区单位志愿队) and publishes activities with places; volunteers sign up (one place each,
never more than the places), are checked in by the organiser, and the organiser verifies their
hours (0–24, once). Verified hours earn points (hours × the activity's points per hour) or, if
the organiser chooses, are deposited in the time bank."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors, InvalidTransition, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, User

from ..models import Activity, SignUp, Volunteer
from .base import now, require_member, require_staff, text
from .points import issue
from .timebank import deposit, hours_of


@transaction.atomic
def register_volunteer(
    actor: User,
    *,
    community: Community,
    name: str = "",
    kind: str = Volunteer.Kind.RESIDENT,
    user: User | None = None,
    organisation: str = "",
) -> Volunteer:
    """A resident signs up as a volunteer (or a party member reports — 双报到); staff may
    also register an enterprise's team."""
    if user is not None and actor == user:
        permissions.require(actor, "participation.volunteer")
        require_member(user, community=community)
    else:
        permissions.require(actor, "participation.volunteering")
        require_staff(actor, community=community)
    if kind not in Volunteer.Kind.values:
        raise ValidationFailed("kind", _("请选择志愿者类型。"))
    name = (name or (str(user) if user else "")).strip()
    if not name:
        raise ValidationFailed("name", _("请填写姓名或队名。"))
    if user is not None and Volunteer.objects.filter(user=user).exists():
        raise ValidationFailed("user", _("已经登记为志愿者。"))
    return Volunteer.objects.create(
        community=community, user=user, name=name[:100], kind=kind, organisation=(organisation or "").strip()[:100]
    )


@transaction.atomic
def create_activity(
    user: User,
    *,
    community: Community,
    title: str,
    starts_at: dt.datetime,
    place: str = "",
    capacity: int = 20,
    points_per_hour: int = 10,
) -> Activity:
    permissions.require(user, "participation.volunteering")
    require_staff(user, community=community)
    errors = FieldErrors()
    title = text(errors, field="title", value=title, label=_("活动"), max_length=100)
    if starts_at is None:
        errors.add("starts_at", _("请填写开始时间。"))
    if not isinstance(capacity, int) or capacity < 1:
        errors.add("capacity", _("名额应为正整数。"))
    if not isinstance(points_per_hour, int) or points_per_hour < 0:
        errors.add("points_per_hour", _("每小时积分不能为负数。"))
    errors.raise_if_any()
    return Activity.objects.create(
        community=community,
        title=title,
        starts_at=starts_at,
        place=(place or "").strip()[:200],
        capacity=capacity,
        points_per_hour=points_per_hour,
        organiser=user,
    )


@transaction.atomic
def sign_up(
    user: User, *, activity_id: int, volunteer: Volunteer | None = None, at: dt.datetime | None = None
) -> SignUp:
    """A volunteer signs up (a resident signs themselves; staff may sign up a team)."""
    own = volunteer is None or volunteer.user_id == getattr(user, "pk", None)
    permissions.require(user, "participation.volunteer" if own else "participation.volunteering")
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFound()
    if volunteer is None:
        volunteer = Volunteer.objects.filter(user=user).first()
        if volunteer is None:
            volunteer = register_volunteer(user, community=activity.community, user=user)
    elif volunteer.user_id != getattr(user, "pk", None):
        require_staff(user, community=activity.community_id)
    if activity.signups.count() >= activity.capacity:
        raise ValidationFailed("activity", _("名额已满。"))
    try:
        with transaction.atomic():
            return SignUp.objects.create(activity=activity, volunteer=volunteer, signed_at=now(at))
    except IntegrityError:
        raise ValidationFailed("activity", _("已经报名了。")) from None


def _locked_signup(signup_id) -> SignUp:
    signup = (
        SignUp.objects.select_for_update(of=("self",))
        .select_related("activity", "volunteer")
        .filter(pk=signup_id)
        .first()
    )
    if signup is None:
        raise NotFound()
    return signup


@transaction.atomic
def check_in_volunteer(user: User, *, signup_id: int, at: dt.datetime | None = None) -> SignUp:
    permissions.require(user, "participation.volunteering")
    signup = _locked_signup(signup_id)
    require_staff(user, community=signup.activity.community_id)
    if signup.checked_in_at is None:
        signup.checked_in_at = now(at)
        signup.save(update_fields=["checked_in_at"])
    return signup


@transaction.atomic
def verify_hours(
    user: User,
    *,
    signup_id: int,
    hours: Decimal | float | str | None,
    bank: bool = False,
    at: dt.datetime | None = None,
) -> SignUp:
    """The organiser verifies the hours of a checked-in volunteer. They earn points
    (hours × the activity's points per hour), or with ``bank`` the hours are deposited in
    the time bank instead."""
    permissions.require(user, "participation.volunteering")
    signup = _locked_signup(signup_id)
    activity = signup.activity
    if signup.checked_in_at is None:
        raise InvalidTransition(_("志愿者签到后才能核定时长。"))
    if signup.verified_at is not None:
        raise InvalidTransition(_("时长已经核定过了。"))
    require_staff(user, community=activity.community_id)
    hours = hours_of(hours)
    if not Decimal("0") < hours <= Decimal("24"):
        raise ValidationFailed("hours", _("时长应在 0 到 24 小时之间。"))
    moment = now(at)
    signup.hours = hours
    signup.verified_at = moment
    signup.verified_by = user
    signup.save(update_fields=["hours", "verified_at", "verified_by"])
    person = signup.volunteer.user
    if person is not None:
        if bank:
            deposit(person, hours=hours, signup=signup, actor=user, at=moment)
        else:
            points = int(hours * activity.points_per_hour)
            if points > 0:
                issue(
                    person,
                    points=points,
                    reason=_("志愿服务：%(title)s %(h)s 小时") % {"title": activity.title, "h": hours},
                    community=activity.community_id,
                    at=moment,
                )
    return signup
