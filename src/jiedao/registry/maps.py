"""The registry on the map: the special-care layer (特殊关爱人群) — buildings with residents of
the care groups, counted by tag, never names, identity numbers or phones."""

from django.utils.translation import gettext as _

from jiedao.common.errors import NotAllowed
from jiedao.geo.selectors import collection, feature, may_see_care

from .models import Building, Person, PersonTag


def care_points(user):
    """The special-care residents (独居老人, 低保, 残疾人 …) as GeoJSON point features,
    one per building of the registry (一户一档) that has a position:
    ``{"building", "grid", "tags": ["独居老人 2", …], "count": persons}`` — never names,
    identity numbers or phones. Persons who moved away or died are left out.

    [] for anybody outside ``geo.selectors.CARE_ROLES``. Leaders and administrators get the
    whole street; a grid worker only the buildings of their own grids."""
    if not may_see_care(user):
        return []
    at_building = "person__household__house__building"
    marks = PersonTag.objects.filter(
        tag__active=True,
        **{f"{at_building}__lat__isnull": False, f"{at_building}__lng__isnull": False},
    ).exclude(person__status__in=(Person.Status.MOVED, Person.Status.DECEASED))
    if not user.has_role("leader", "admin"):
        marks = marks.filter(**{f"{at_building}__grid__in": user.grids.all()})
    persons, tags = {}, {}
    for building_id, person_id, tag in marks.values_list(f"{at_building}_id", "person_id", "tag__name"):
        persons.setdefault(building_id, set()).add(person_id)
        counts = tags.setdefault(building_id, {})
        counts[tag] = counts.get(tag, 0) + 1
    features = []
    for building in Building.objects.filter(pk__in=list(persons)).select_related("grid").order_by("code"):
        features.append(
            feature(
                {"type": "Point", "coordinates": [building.lng, building.lat]},
                {
                    "building": building.name,
                    "grid": building.grid.code if building.grid_id else "",
                    "tags": [f"{name} {n}" for name, n in sorted(tags[building.pk].items())],
                    "count": len(persons[building.pk]),
                },
            )
        )
    return features


def care_layer(user):
    if not may_see_care(user):
        raise NotAllowed(_("特殊关爱人群图层仅对街道领导、管理员和本网格网格员开放。"))
    return collection(care_points(user))
