"""Visits (探访): a grid worker, or the community's staff, visits a person of their area at
home or calls them; the visit measure and the assistance list count them.

- Only those who may edit the person record a visit (their grids, their community,
  administrators); a person outside the reader's view is not found.
- A visit is at most five minutes in the future (clocks differ) and may be logged up to
  ``VISIT_BACKDATE_DAYS`` after it happened; its note holds at most ``VISIT_NOTE_MAX``
  characters. A visit is never changed afterwards.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.errors import FieldErrors, NotAllowed, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import User

from .. import selectors
from ..models import Visit
from .persons import person_or_404

VISIT_NOTE_MAX = 2000
# A visit may be logged up to this long after it happened.
VISIT_BACKDATE_DAYS = 31


@transaction.atomic
def record_visit(
    user: User, *, person_id: int, kind: str, at: dt.datetime | str | None = None, note: str = ""
) -> Visit:
    """A visit by a grid worker (or the community's staff) to a person of their area."""
    permissions.require(user, "registry.visit")
    person = person_or_404(user, person_id=person_id)
    if not selectors.may_edit(user, person):
        raise NotAllowed(_("只有本网格的网格员、本社区工作人员和管理员可以登记对此人的探访。"))
    errors = FieldErrors()
    if kind not in Visit.Kind.values:
        errors.add("kind", _("探访方式应为“上门”或“电话”。"))
    now = timezone.now()
    at = at or now
    if isinstance(at, str):
        try:
            at = dt.datetime.fromisoformat(at)
        except ValueError:
            errors.add("at", _("探访时间格式不正确，应如 2026-11-18T09:30。"))
            at = now
    try:
        params.check_datetime(at, "at")
    except ValidationFailed as exc:
        errors.add("at", exc.errors[0]["message"])
        at = now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        errors.add("at", _("探访时间不能晚于现在。"))
    elif at < now - dt.timedelta(days=VISIT_BACKDATE_DAYS):
        errors.add("at", _("只能补登%(days)d天内的探访。") % {"days": VISIT_BACKDATE_DAYS})
    note = (note or "").strip()
    if len(note) > VISIT_NOTE_MAX:
        errors.add("note", _("情况记录不能超过%(max)d个字。") % {"max": VISIT_NOTE_MAX})
    errors.raise_if_any()
    return Visit.objects.create(person=person, worker=user, at=at, kind=kind, note=note, created_at=now)
