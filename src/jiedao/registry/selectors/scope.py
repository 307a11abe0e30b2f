"""Who may read and keep which part of the registry, and the records of that part.

A user's scope (``scope_of``) is the whole street (administrators, leaders, dispatchers and
the street's section staff; in a city, the communities of their street), or their grids (grid
workers) and their community (a community's staff). Reading is allowed inside the scope;
editing (tags, visits, conflicts) to administrators, the grid's workers and the community's
staff (``may_edit_place``); the complete identity number and phone to administrators and the
grid workers of the person's grid (``may_unmask``). ``visible_*`` give the records in scope.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.org.models import Community, Grid, Unit

from ..models import Building, CareTag, Household, Person

STREET_WIDE_ROLES = ("admin", "leader", "dispatcher")


@dataclass
class Scope:
    everything: bool = False
    grid_ids: frozenset = field(default_factory=frozenset)
    community_ids: frozenset = field(default_factory=frozenset)

    @property
    def empty(self):
        return not (self.everything or self.grid_ids or self.community_ids)

    def covers(self, grid_id, community_id):
        return (
            self.everything
            or (grid_id is not None and grid_id in self.grid_ids)
            or (community_id is not None and community_id in self.community_ids)
        )


def _unit_kind(user):
    if user.has_role("handler") and user.unit_id is not None:
        return user.unit.kind
    return None


def scope_of(user) -> Scope:
    """What part of the street's base data the user may read."""
    if user is None or not user.is_authenticated:
        return Scope()
    cache = getattr(user, "_registry_scope", None)
    if cache is not None:
        return cache
    kind = _unit_kind(user)
    if user.has_role(*STREET_WIDE_ROLES) or kind == Unit.Kind.SECTION:
        if user.covers_all_streets:
            scope = Scope(everything=True)
        else:  # a city: the communities of their street (a section: of its unit's street)
            streets = user.street_ids if user.has_role(*STREET_WIDE_ROLES) else {user.unit.street_id}
            scope = Scope(
                community_ids=frozenset(Community.objects.filter(street_id__in=streets).values_list("id", flat=True))
            )
    else:
        grids = frozenset(user.grids.values_list("id", flat=True)) if user.has_role("grid") else frozenset()
        communities: frozenset[int] = frozenset()
        if kind == Unit.Kind.COMMUNITY and user.unit.community_id is not None:
            communities = frozenset({user.unit.community_id})
        scope = Scope(grid_ids=grids, community_ids=communities)
    user._registry_scope = scope
    return scope


def may_read(user) -> bool:
    return not scope_of(user).empty


def require_read(user):
    if not may_read(user):
        raise NotAllowed(_("只有网格员、社区和街道工作人员可以查看一户一档。"))


def may_import(user) -> bool:
    return user is not None and user.is_authenticated and user.has_role("admin")


def place_of_person(person):
    household = person.household
    if household is None:
        return None, None
    building = household.house.building
    return building.grid_id, building.community_id


def may_unmask(user, person) -> bool:
    """Administrators, and grid workers for the persons of their own grids."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role("admin"):
        return True
    grid_id, _community = place_of_person(person)
    return user.has_role("grid") and grid_id is not None and grid_id in scope_of(user).grid_ids


def may_edit_somewhere(user) -> bool:
    """Whether the user keeps some part of the base data (visits, tags, conflicts):
    administrators, grid workers with grids, community staff."""
    if user is None or not user.is_authenticated:
        return False
    scope = scope_of(user)
    return user.has_role("admin") or bool(scope.grid_ids or scope.community_ids)


def may_edit_place(user, grid_id, community_id) -> bool:
    """Tag, record visits, decide conflicts: administrators, the grid's workers and the
    community's staff."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role("admin"):
        return True
    scope = scope_of(user)
    return (grid_id is not None and grid_id in scope.grid_ids) or (
        community_id is not None and community_id in scope.community_ids
    )


def may_edit(user, person) -> bool:
    return may_edit_place(user, *place_of_person(person))


def place_filter(scope, prefix, community_path=None):
    """Records placed by ``{prefix}grid`` and ``{prefix}community`` (or ``community_path``)."""
    if scope.everything:
        return Q()
    condition = Q(pk__in=[])
    if scope.grid_ids:
        condition |= Q(**{f"{prefix}grid_id__in": scope.grid_ids})
    if scope.community_ids:
        condition |= Q(**{f"{community_path or prefix + 'community_id'}__in": scope.community_ids})
    return condition


def visible_persons(user):
    scope = scope_of(user)
    if scope.empty:
        return Person.objects.none()
    return Person.objects.filter(place_filter(scope, "household__house__building__"))


def visible_buildings(user):
    scope = scope_of(user)
    if scope.empty:
        return Building.objects.none()
    return Building.objects.filter(place_filter(scope, ""))


def visible_households(user):
    scope = scope_of(user)
    if scope.empty:
        return Household.objects.none()
    return Household.objects.filter(place_filter(scope, "house__building__"))


def visible_grids(user):
    scope = scope_of(user)
    grids = Grid.objects.select_related("community").order_by("code")
    if scope.everything:
        return grids
    if scope.empty:
        return grids.none()
    return grids.filter(Q(id__in=scope.grid_ids) | Q(community_id__in=scope.community_ids))


def active_tags():
    return list(CareTag.objects.filter(active=True).order_by("order", "code"))


def grid_or_error(user, code):
    grid = visible_grids(user).filter(code=code).first()
    if grid is None:
        raise ValidationFailed("grid", _("网格“%(code)s”不存在或不在您的范围内。") % {"code": code})
    return grid


def tag_or_error(value):
    tag = CareTag.objects.filter(Q(code=value) | Q(name=value)).first()
    if tag is None:
        raise ValidationFailed("tag", _("关怀标签“%(tag)s”不存在。") % {"tag": value})
    return tag
