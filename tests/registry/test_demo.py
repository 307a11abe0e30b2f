"""The demo street's 一户一档: synthetic but valid, inside the grids, with visit history."""

import datetime as dt

from shapely.geometry import Point, shape

from jiedao.registry import selectors, services
from jiedao.registry.demo import build_registry
from jiedao.registry.models import Building, CareTag, Enterprise, Facility, Household, Person, PersonTag, Visit
from jiedao.registry.validation import MOBILE, credit_check_char, is_valid_id_number
from tests.factories import WEDNESDAY


def test_build_registry_fills_every_grid_with_valid_records(street):
    counts = build_registry(street.street, street.grids, WEDNESDAY, households=200)
    assert counts["households"] == Household.objects.count() == 200
    assert counts["persons"] == Person.objects.count() > 400
    for grid in street.grids:
        polygon = shape(grid.boundary)
        buildings = list(Building.objects.filter(grid=grid))
        assert buildings and all(polygon.contains(Point(b.lng, b.lat)) for b in buildings)
        assert Household.objects.filter(house__building__grid=grid).count() == 50
        facilities = list(Facility.objects.filter(grid=grid))
        assert facilities and all(polygon.contains(Point(f.lng, f.lat)) for f in facilities)
    persons = list(Person.objects.all())
    assert all(is_valid_id_number(p.id_number) for p in persons)
    assert len({p.id_index for p in persons}) == len(persons)
    assert all(MOBILE.match(p.phone) for p in persons if p.phone)
    assert all(e.credit_code[-1] == credit_check_char(e.credit_code[:17]) for e in Enterprise.objects.all())
    assert all(h.head and h.head.household_id == h.pk for h in Household.objects.select_related("head"))
    tagged = PersonTag.objects.values("person").distinct().count()
    assert 0.03 < tagged / len(persons) < 0.16
    # Visits: the last twelve weeks, by the grid's own workers.
    visits = list(Visit.objects.select_related("person__household__house__building", "worker"))
    assert visits
    assert all(WEDNESDAY - dt.timedelta(weeks=12) <= v.at < WEDNESDAY for v in visits)
    workers = {g.pk: set(g.workers.values_list("pk", flat=True)) for g in street.grids}
    for visit in visits:
        grid_id = visit.person.household.house.building.grid_id
        if workers[grid_id]:  # the test street's fourth grid has no worker of its own
            assert visit.worker_id in workers[grid_id]
    # The measures have something to show, and a second call changes nothing.
    rate = selectors.visits_per_week(street.users.admin, weeks=4, end=WEDNESDAY)
    assert rate.persons > 0 and rate.rate > 1
    assert build_registry(street.street, street.grids, WEDNESDAY) == {"skipped": True}
    assert Household.objects.count() == 200


def test_demo_tags_exist_even_after_a_flush(street):
    CareTag.objects.all().delete()
    tags = services.ensure_default_tags()
    assert {"alone_elderly", "empty_nest", "disabled", "subsistence", "chronic", "key_person"} <= set(tags)
