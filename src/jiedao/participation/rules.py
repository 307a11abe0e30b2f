"""Who is who in 多元共治, as rules that the services, the selectors and the lifecycle tables
(``states``) all read; nothing here writes.

- A **resident of a community** is a resident account with a membership of that community
  (``membership``).
- **Committee staff** run a community: signed-in staff whose unit is the community's committee
  (居委会); street leaders and administrators run every community (``may_run``).
- The **support threshold** in force (``PARTICIPATION_SUPPORT_THRESHOLD``, default 5) is stored
  on each proposal when it is made.

The lifecycle scopes (``SCOPES``) apply the same rules to a record: ``committee`` — the user's
unit is the committee of the record's community; ``member`` — the user is a resident of it;
``proposer`` — the user proposed it. A record's community is its own, or its proposal's (an
adopted proposal's tracked action)."""

from django.conf import settings

from jiedao.org.models import Unit
from jiedao.org.roles import ADMIN, LEADER

from .models import Membership

STREET_WIDE = (LEADER, ADMIN)
DEFAULT_THRESHOLD = 5

COMMITTEE = "committee"
MEMBER = "member"
PROPOSER = "proposer"


def support_threshold() -> int:
    return int(getattr(settings, "PARTICIPATION_SUPPORT_THRESHOLD", DEFAULT_THRESHOLD))


def membership(user) -> Membership | None:
    """The resident's community membership, or None."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.participation
    except Membership.DoesNotExist:
        return None


def _community_id(community) -> int | None:
    return getattr(community, "pk", community)


def on_committee(user, community) -> bool:
    """The user is staff of the community's committee (居委会)."""
    unit = user.unit
    return (
        unit is not None
        and unit.kind == Unit.Kind.COMMUNITY
        and unit.community_id == _community_id(community)
        and user.is_street_staff
    )


def may_run(user, community) -> bool:
    """Staff of the community's committee (居委会), street leaders and admins."""
    if user is None or not user.is_authenticated:
        return False
    return user.has_role(*STREET_WIDE) or on_committee(user, community)


def is_member(user, community) -> bool:
    member = membership(user)
    return member is not None and member.community_id == _community_id(community)


def community_of(record) -> int:
    """The community a record belongs to: its own, or its proposal's."""
    if hasattr(record, "community_id"):
        return record.community_id
    return record.proposal.community_id


SCOPES = {
    COMMITTEE: lambda user, record, context: on_committee(user, community_of(record)),
    MEMBER: lambda user, record, context: is_member(user, community_of(record)),
    PROPOSER: lambda user, record, context: record.proposer_id is not None and record.proposer_id == user.pk,
}
