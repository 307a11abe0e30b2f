"""The merge conflicts (一数一源) waiting for a decision, and their values as a reader sees
them. A user sees the conflicts about the records they may edit; administrators all."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.masking import mask_phone

from ..models import House, Household, MergeConflict, Person
from .persons import age_on
from .scope import place_of_person, require_read, scope_of


def _pending_conflicts(user):
    require_read(user)
    scope = scope_of(user)
    qs = MergeConflict.objects.filter(choice="")
    if not user.has_role("admin"):
        places = Q(pk__in=[])
        if scope.grid_ids:
            places |= (
                Q(person__household__house__building__grid_id__in=scope.grid_ids)
                | Q(house__building__grid_id__in=scope.grid_ids)
                | Q(building__grid_id__in=scope.grid_ids)
            )
        if scope.community_ids:
            places |= (
                Q(person__household__house__building__community_id__in=scope.community_ids)
                | Q(house__building__community_id__in=scope.community_ids)
                | Q(building__community_id__in=scope.community_ids)
            )
        qs = qs.filter(places)
    return qs


def pending_conflicts(user, limit=200):
    """Conflicts waiting for a decision on records the user may edit, oldest first."""
    qs = _pending_conflicts(user).select_related(
        "person__household__house__building", "house__building", "building", "import_run"
    )
    return list(qs.order_by("created_at", "id")[:limit])


def pending_conflict_count(user):
    return _pending_conflicts(user).count()


def conflict_place(conflict):
    """(grid id, community id) of the record a conflict is about."""
    if conflict.person_id:
        return place_of_person(conflict.person)
    building = conflict.building if conflict.building_id else conflict.house.building
    return building.grid_id, building.community_id


def display_value(conflict_field, value, unmasked=False):
    """A conflict's stored value as a reader sees it: labels for codes, phones masked, a
    birth date as an age unless ``unmasked``."""
    if value in (None, ""):
        return ""
    if conflict_field == "phone" and not unmasked:
        return mask_phone(value)
    if conflict_field == "birth_date" and not unmasked:
        try:
            age = age_on(dt.date.fromisoformat(value), timezone.localdate())
        except ValueError:
            return "****"
        return _("%(age)s岁") % {"age": age}
    choices = {"gender": Person.Gender, "relation": Person.Relation, "status": Person.Status, "use": House.Use}
    if conflict_field in choices:
        return str(dict(choices[conflict_field].choices).get(value, value))
    if conflict_field == "household":
        household = Household.objects.filter(number=value).select_related("house__building").first()
        return f"{value}（{household.house}）" if household else value
    return value
