"""The map page and its data: each user gets only the cases they may see, and the
special-care layer exists only for the roles allowed to see it."""

import datetime as dt
import math

import pytest
from django.urls import reverse

from jiedao.cases import services as cs
from jiedao.cases.maps import heat_scale_top
from jiedao.evaluation import compute
from jiedao.evaluation import services as evaluation_services

G11, G21 = (39.905, 116.405), (39.915, 116.405)


@pytest.fixture
def two_units(street):
    """One open case of 东湖社区居委会 (in g11) and one of the enforcement team (in g21)."""
    u = street.users
    cases = {}
    for key, (lat, lng) in {"committee": G11, "enforcement": G21}.items():
        case, _ = cs.submit_case(u.resident, channel="portal", description="垃圾清运不及时", lat=lat, lng=lng)
        cs.classify(u.dispatcher, number=case.number, category_code="010101")
        cs.dispatch(u.dispatcher, number=case.number)
        case.refresh_from_db()
        cases[key] = case
    assert cases["committee"].unit == street.units.committee1
    assert cases["enforcement"].unit == street.units.enforcement
    return cases


def numbers(collection):
    return {f["properties"]["number"] for f in collection["features"]}


def test_case_points_are_scoped_to_what_each_user_may_see(street, login, two_units):
    committee, enforcement = two_units["committee"].number, two_units["enforcement"].number
    seen = {}
    for who in ("leader", "dispatcher", "handler", "handler_committee", "grid", "grid_other"):
        response = login(getattr(street.users, who)).get("/api/v1/geo/cases")
        assert response.status_code == 200
        seen[who] = numbers(response.json())
    assert seen["leader"] == seen["dispatcher"] == {committee, enforcement}
    assert seen["handler"] == {enforcement}  # the enforcement team does not see the committee's case
    assert seen["handler_committee"] == {committee}
    assert seen["grid"] == {committee}  # g11 and g12
    assert seen["grid_other"] == {enforcement}  # g21


def test_case_points_carry_urgency_colour_and_the_case_page(street, login, two_units):
    case = two_units["enforcement"]
    # Past its completion limit: red by the case page's rule, whatever the last sweep stored.
    case.completion_due = case.dispatched_at - dt.timedelta(hours=1)
    case.save(update_fields=["completion_due"])
    data = login(street.users.handler).get("/api/v1/geo/cases").json()
    point = data["features"][0]
    assert point["geometry"] == {"type": "Point", "coordinates": [116.405, 39.915]}
    assert point["properties"]["urgency"] == "red" and point["properties"]["colour"] == "#dc2626"
    assert point["properties"]["url"] == f"/cases/{case.number}/"
    assert login(street.users.handler).get(point["properties"]["url"]).status_code == 200


def centre(lat, lng):
    """The centre of the heat-map cell (0.001°) a position falls in."""
    return (math.floor(lat * 1000) + 0.5) / 1000, (math.floor(lng * 1000) + 0.5) / 1000


def test_heat_layer_is_scoped_and_limited_to_30_days(street, login, two_units):
    old, _ = cs.submit_case(
        street.users.resident, channel="portal", description="很久以前的诉求", lat=39.906, lng=116.406
    )
    old.created_at = old.created_at.replace(year=old.created_at.year - 1)
    old.save(update_fields=["created_at"])
    compute.refresh_heat_cells(dt.date(2000, 1, 1), dt.date(2100, 1, 1))
    leader = login(street.users.leader).get("/api/v1/geo/heat").json()
    assert leader["days"] == 30
    assert sorted(map(tuple, leader["points"])) == [(*centre(*G11), 1), (*centre(*G21), 1)]
    assert leader["max"] == 1
    handler = login(street.users.handler).get("/api/v1/geo/heat").json()
    assert handler["points"] == [[*centre(*G21), 1]]


def test_heat_layer_counts_cases_per_cell_and_reads_earlier_days_from_the_worker_rollup(street, login):
    """Three reports at one spot, one a few metres away (same cell) and one elsewhere; two of
    them came in three days ago. The leader's layer reads the rollup the worker keeps for
    the days before today and counts today live; the handler's is counted from their cases."""
    u = street.users
    spots = [(39.9051, 116.4051), (39.9051, 116.4051), (39.9053, 116.4058), (39.9151, 116.4051), (39.9051, 116.4051)]
    made = []
    for lat, lng in spots:
        case, _ = cs.submit_case(u.resident, channel="portal", description="路灯不亮", lat=lat, lng=lng)
        made.append(case)
    for case in made[:2]:
        case.created_at -= dt.timedelta(days=3)
        case.save(update_fields=["created_at"])
    leader = login(u.leader)
    # Before the worker has run, only today's cases are on the leader's map.
    assert sorted(map(tuple, leader.get("/api/v1/geo/heat").json()["points"])) == [
        (*centre(39.9051, 116.4051), 2),
        (*centre(39.9151, 116.4051), 1),
    ]
    evaluation_services.tick()
    data = leader.get("/api/v1/geo/heat").json()
    assert data["points"][0] == [*centre(39.9051, 116.4051), 4]  # busiest first
    assert sorted(map(tuple, data["points"])) == [(*centre(39.9051, 116.4051), 4), (*centre(39.9151, 116.4051), 1)]
    assert data["max"] == 4
    assert sum(p[2] for p in data["points"]) == len(spots)
    # The same figure for the dispatcher (whole street); a handler counts their own cases live.
    assert login(u.dispatcher).get("/api/v1/geo/heat").json()["points"] == data["points"]
    for case in made:
        cs.classify(u.dispatcher, number=case.number, category_code="010101")
        cs.dispatch(u.dispatcher, number=case.number, unit_code=u.handler.unit.code)
    handler = login(u.handler).get("/api/v1/geo/heat").json()
    assert sorted(map(tuple, handler["points"])) == sorted(map(tuple, data["points"]))
    # A case merged into another leaves the map at the next run.
    cs.merge(u.dispatcher, number=made[4].number, master_number=made[0].number)
    evaluation_services.tick()
    assert leader.get("/api/v1/geo/heat").json()["max"] == 3


def test_grid_layer_colours_grids_by_community(street, login, two_units):
    data = login(street.users.handler).get("/api/v1/geo/grids").json()
    grids = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert set(grids) == {g.code for g in street.grids}
    assert grids["1101050010101"]["colour"] == grids["1101050010102"]["colour"]
    assert grids["1101050010101"]["colour"] != grids["1101050010201"]["colour"]
    # Counts follow the user's scope too: the handler sees only its own open case.
    assert grids["1101050010201"]["open_cases"] == 1 and grids["1101050010101"]["open_cases"] == 0


def test_residents_and_visitors_get_no_map_data(street, login, client):
    for url in ("/api/v1/geo/grids", "/api/v1/geo/cases", "/api/v1/geo/heat", "/api/v1/geo/care"):
        assert client.get(url).status_code == 401
        assert login(street.users.resident).get(url).status_code == 403
        client.logout()
    assert login(street.users.resident).get(reverse("geo:map")).status_code == 403


def test_care_layer_only_for_authorised_roles(street, login):
    for who in ("handler", "dispatcher", "operator"):
        client = login(getattr(street.users, who))
        response = client.get("/api/v1/geo/care")
        assert response.status_code == 403
        page = client.get(reverse("geo:map")).content.decode()
        assert "/api/v1/geo/care" not in page and "特殊关爱人群" not in page
    for who in ("leader", "admin", "grid"):
        client = login(getattr(street.users, who))
        assert client.get("/api/v1/geo/care").status_code == 200
        page = client.get(reverse("geo:map")).content.decode()
        assert "/api/v1/geo/care" in page and "特殊关爱人群" in page


def test_care_points_come_from_the_registry_without_names(street, login):
    from jiedao.registry.models import Building, CareTag, House, Household, Person, PersonTag

    def person_in(grid, lat, lng, code, tag_names, name):
        building = Building.objects.create(
            code=code, name=f"{code}号楼", address="东湖路1号", community=grid.community, grid=grid, lat=lat, lng=lng
        )
        house = House.objects.create(building=building, room="101")
        household = Household.objects.create(number=f"H{code}", house=house)
        person = Person.objects.create(name=name, household=household)
        for tag_name in tag_names:
            tag = CareTag.objects.filter(name=tag_name).first() or CareTag.objects.create(
                code=f"t{ord(tag_name[0])}", name=tag_name
            )
            PersonTag.objects.create(person=person, tag=tag)
        return building

    person_in(street.grids[0], 39.905, 116.405, "B1", ["独居老人", "慢性病"], "张桂兰")
    person_in(street.grids[2], 39.915, 116.405, "B2", ["低保"], "李建国")

    leader = login(street.users.leader).get("/api/v1/geo/care").json()
    assert {f["properties"]["building"] for f in leader["features"]} == {"B1号楼", "B2号楼"}
    b1 = next(f for f in leader["features"] if f["properties"]["building"] == "B1号楼")
    assert b1["properties"]["count"] == 1 and b1["properties"]["tags"] == ["慢性病 1", "独居老人 1"]
    assert "张桂兰" not in str(leader)
    # A grid worker sees only the buildings of their own grids.
    mine = login(street.users.grid).get("/api/v1/geo/care").json()
    assert [f["properties"]["building"] for f in mine["features"]] == ["B1号楼"]
    assert login(street.users.handler).get("/api/v1/geo/care").status_code == 403


def test_map_page_serves_leaflet_locally_and_tiles_come_from_the_setting(street, login, settings):
    client = login(street.users.dispatcher)
    page = client.get(reverse("geo:map")).content.decode()
    assert "/static/geo/leaflet.js" in page and "/static/geo/leaflet-heat.js" in page
    assert "http://" not in page.split("<main", 1)[1] and "https://" not in page.split("<main", 1)[1]
    assert "map-plain" in page  # no tile URL: plain background
    settings.JIEDAO = {**settings.JIEDAO, "MAP_TILE_URL": "http://tiles.local/{z}/{x}/{y}.png"}
    page = client.get(reverse("geo:map")).content.decode()
    assert "tiles.local" in page and "map-plain" not in page
    assert client.get("/static/geo/leaflet.js").status_code == 200


def test_staff_see_the_map_link_residents_do_not(street, login):
    page = login(street.users.handler).get(reverse("cases:workbench")).content.decode()
    assert reverse("geo:map") in page and "一图统览" in page
    page = login(street.users.resident).get(reverse("web:portal")).content.decode()
    assert reverse("geo:map") not in page


def test_the_heat_colour_scale_tops_out_at_the_busiest_quarter_of_the_cells():
    assert heat_scale_top([]) == 0
    assert heat_scale_top([3]) == 3
    assert heat_scale_top(list(range(1, 21))) == 15  # 20 cells: the busiest five at full colour
    # A few exceptional cells do not fade the others to nothing.
    assert heat_scale_top([1] * 16 + [500] * 4) == 1
    assert heat_scale_top([2] * 14 + [500] * 6) == 500
