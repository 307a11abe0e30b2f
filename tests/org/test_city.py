"""A city on one installation: two streets of one district. Street staff see and act on
their own street only; intake and routing stay inside the case's street; a district user
reads across the streets and ranks them by the monthly 三率."""

import datetime as dt
from types import SimpleNamespace

import pytest

from jiedao.cases import selectors as case_selectors
from jiedao.cases import services
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.evaluation import compute, periods
from jiedao.evaluation import selectors as evaluation
from jiedao.org.models import Community, Grid, Street, Unit, User
from jiedao.workcal.calendar import SHANGHAI
from tests.factories import make_user, square


def bj(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def city(street, in_chinese):
    """The test street (A, 示范街道) and a second street (B, 城南街道) in the same district."""
    # Every account of street A now says so: with two streets, nobody belongs to "the" street.
    User.objects.filter(street=None).update(street=street.street)
    for name, user in vars(street.users).items():
        setattr(street.users, name, User.objects.get(pk=user.pk))
    b = Street.objects.create(district=street.district, code="110105002", name="城南街道")
    community = Community.objects.create(street=b, code="11010500201", name="南湖社区")
    grid = Grid.objects.create(
        community=community, code="1101050020101", name="第一网格", boundary=square(116.50, 39.80)
    )
    service = Unit.objects.create(street=b, code="CN-GGFW", name="城南公共服务部", kind=Unit.Kind.SECTION)
    enforcement = Unit.objects.create(street=b, code="CN-ZHZF", name="城南综合执法队", kind=Unit.Kind.SECTION)
    b.default_unit = service
    b.save()

    def staff(username, role, unit=None):
        user = make_user(username, role, unit=unit)
        user.street = b
        user.save()
        return User.objects.get(pk=user.pk)

    users_b = SimpleNamespace(
        operator=staff("operator_b", "operator"),
        dispatcher=staff("dispatcher_b", "dispatcher"),
        leader=staff("leader_b", "leader"),
        handler=staff("handler_b", "handler", unit=service),
    )
    district_user = make_user("district", "district")
    district_user.district = street.district
    district_user.save()
    return SimpleNamespace(
        a=street,
        b=SimpleNamespace(
            street=b, community=community, grid=grid, service=service, enforcement=enforcement, users=users_b
        ),
        district=User.objects.get(pk=district_user.pk),
    )


def _case_in_a(city, text="东湖小区垃圾桶满了", at=None):
    a = city.a
    case, _ = services.submit_case(
        a.users.operator,
        channel="12345",
        description=text,
        reporter_phone="13800138001",
        grid_code=a.grids[0].code,
        category_code="010101",
        dispatch=True,
        at=at,
    )
    return case


def _case_in_b(city, text="南湖小区路灯不亮", at=None, category="010102"):
    case, _ = services.submit_case(
        city.b.users.operator,
        channel="12345",
        description=text,
        reporter_phone="13800138002",
        grid_code=city.b.grid.code,
        category_code=category,
        dispatch=True,
        at=at,
    )
    return case


def test_a_case_belongs_to_its_street_and_is_routed_inside_it(city):
    in_b = _case_in_b(city)
    assert in_b.street == city.b.street
    # The rule "市政管理归综合执法队" names street A's unit: it does not apply in street B.
    assert in_b.unit == city.b.service and "默认承办单位" in in_b.routed_by
    in_a = _case_in_a(city)
    assert in_a.street == city.a.street and in_a.unit.street == city.a.street


def test_street_staff_see_only_their_street_and_the_district_sees_both(city, login):
    in_a, in_b = _case_in_a(city), _case_in_b(city)
    numbers = lambda user: set(case_selectors.visible_cases(user).values_list("number", flat=True))
    assert numbers(city.a.users.leader) == {in_a.number}
    assert numbers(city.b.users.leader) == {in_b.number}
    assert numbers(city.a.users.dispatcher) == {in_a.number}
    assert numbers(city.district) == {in_a.number, in_b.number}
    with pytest.raises(NotFound):
        case_selectors.case_for(city.a.users.leader, in_b.number)
    # The API and the case page answer "not found" across streets, as for any case one may not see.
    client = login(city.a.users.leader)
    assert client.get(f"/api/v1/cases/{in_b.number}").status_code == 404
    assert client.get(f"/api/v1/cases/{in_a.number}").status_code == 200
    listed = [row["number"] for row in client.get("/api/v1/cases").json()["items"]]
    assert listed == [in_a.number]
    assert login(city.b.users.leader).get(f"/cases/{in_a.number}/").status_code == 404


def test_nobody_acts_on_another_streets_case_or_sends_it_to_another_streets_unit(city):
    in_b = _case_in_b(city)
    services.return_case(city.b.users.handler, number=in_b.number, reason="不属于本单位职责")
    with pytest.raises((NotAllowed, NotFound)):
        services.dispatch(city.a.users.dispatcher, number=in_b.number, unit_code="ZHZF")
    with pytest.raises(ValidationFailed) as refused:
        services.dispatch(city.b.users.dispatcher, number=in_b.number, unit_code="ZHZF")
    assert refused.value.errors[0]["field"] == "unit" and "不属于本工单的受理街道" in refused.value.errors[0]["message"]
    case = services.dispatch(city.b.users.dispatcher, number=in_b.number, unit_code="CN-ZHZF")
    assert case.unit == city.b.enforcement


def test_no_street_raises_an_emergency_from_another_streets_case(city):
    from jiedao.emergency import services as emergency_services

    in_b = _case_in_b(city, text="南湖小区地下车库进水")
    with pytest.raises(NotFound):
        emergency_services.emergency_from_case(city.a.users.dispatcher, case_number=in_b.number, kind="flood")
    assert (
        emergency_services.emergency_from_case(city.b.users.dispatcher, case_number=in_b.number, kind="flood").case
        == in_b
    )


def test_intake_without_a_place_takes_the_staff_members_street_and_refuses_when_unknown(city):
    case, _ = services.submit_case(
        city.b.users.operator, channel="phone", description="咨询养老补贴", reporter_phone="13800138003"
    )
    assert case.street == city.b.street
    with pytest.raises(ValidationFailed) as refused:
        services.submit_case(None, channel="portal", description="路面塌陷", reporter_phone="13800138004")
    assert refused.value.errors[0]["field"] == "community" and "多个街道" in refused.value.errors[0]["message"]
    # A position inside street B's grid settles it.
    case, _ = services.submit_case(
        None, channel="portal", description="路面塌陷", reporter_phone="13800138004", lat=39.805, lng=116.505
    )
    assert case.street == city.b.street and case.grid == city.b.grid


def _rated_month(city):
    """November: street A's case rated resolved and satisfied; street B's rated not resolved and
    unsatisfied (so it is reopened)."""
    a_case = _case_in_a(city, at=bj("2026-11-02 09:00"))
    services.respond(city.a.users.handler_committee, number=a_case.number, at=bj("2026-11-02 09:30"))
    services.resolve(city.a.users.handler_committee, number=a_case.number, result="已清运", at=bj("2026-11-03 10:00"))
    services.rate(
        city.a.users.operator, number=a_case.number, resolved=True, satisfaction="satisfied", at=bj("2026-11-04 10:00")
    )
    b_case = _case_in_b(city, "南湖社区老人咨询助餐", at=bj("2026-11-02 09:00"), category="020101")
    services.respond(city.b.users.handler, number=b_case.number, at=bj("2026-11-02 15:00"))
    services.resolve(city.b.users.handler, number=b_case.number, result="已修复", at=bj("2026-11-05 10:00"))
    services.rate(
        city.b.users.operator,
        number=b_case.number,
        resolved=False,
        satisfaction="unsatisfied",
        at=bj("2026-11-06 10:00"),
    )
    month = periods.parse("2026-11", "month")
    compute.compute_period(month, bj("2026-11-30 12:00"))
    return month


def test_the_district_ranks_its_streets_by_the_three_rates(city, login):
    month = _rated_month(city)
    ranking = evaluation.street_ranking(city.district, month)
    rows = {row["street"]: row for row in ranking["rows"]}
    assert [row["street"] for row in ranking["rows"]] == ["110105001", "110105002"]
    assert rows["110105001"]["rank"] == 1 and rows["110105002"]["rank"] == 2
    assert rows["110105001"]["resolution_rate"] == 1 and rows["110105002"]["resolution_rate"] == 0
    assert rows["110105001"]["satisfaction_rate"] == 1 and rows["110105002"]["satisfaction_rate"] == 0
    assert rows["110105002"]["resolution_rate_display"] == "0.0%"
    # A street's leader sees their own street only; the API and the page say the same.
    assert [r["street"] for r in evaluation.street_ranking(city.b.users.leader, month)["rows"]] == ["110105002"]
    api = login(city.district).get("/api/v1/rankings/streets?period=2026-11").json()
    assert [r["name"] for r in api["rows"]] == ["示范街道", "城南街道"]
    page = login(city.district).get("/evaluation/streets/?period=2026-11").content.decode()
    assert page.index("示范街道") < page.index("城南街道") and "100.0%" in page


def test_each_street_has_its_own_cockpit_and_figures(city, login):
    month = _rated_month(city)
    values_a = evaluation.values(city.a.users.leader, "satisfaction_rate", "street", month.key)["values"]
    assert [(v["scope_code"], v["value"]) for v in values_a] == [("110105001", 1.0)]
    values_b = evaluation.values(city.district, "satisfaction_rate", "street", month.key, street="110105002")
    assert [(v["scope_code"], v["value"]) for v in values_b["values"]] == [("110105002", 0.0)]
    # Communities and units of the other street are not in a street's figures or rankings.
    communities = evaluation.values(city.a.users.leader, "cases_received", "community", month.key)["values"]
    assert {v["scope_code"] for v in communities} == {"11010500101", "11010500102"}
    now = bj("2026-11-20 12:00")
    live_b = evaluation.cockpit_live(city.district, now=now, street="110105002")
    assert live_b["street_name"] == "城南街道"
    assert {c["key"]: c["value"] for c in live_b["counters"]}["open"] == 1  # reopened after the rating
    live_a = evaluation.cockpit_live(city.a.users.leader, now=now)
    assert live_a["street_name"] == "示范街道"
    assert {c["key"]: c["value"] for c in live_a["counters"]}["open"] == 0
    with pytest.raises(NotFound):
        evaluation.cockpit_live(city.a.users.leader, street="110105002")
    client = login(city.a.users.leader)
    assert client.get("/api/v1/cockpit/live?street=110105002").status_code == 404
    assert client.get("/cockpit/?street=110105002").status_code == 404
    # The district user gets a street picker on the cockpit.
    page = login(city.district).get("/cockpit/?street=110105002").content.decode()
    assert 'name="street"' in page and "城南街道" in page


def test_a_measure_of_the_whole_installation_is_no_streets_figure(city):
    """Service-hall figures are kept for the installation as a whole: in a city no street gets
    them (rather than another street's number)."""
    month = _rated_month(city)
    rows = compute.compute_values(month, bj("2026-11-30 12:00"), codes=["hall_one_visit_rate"], scopes=["street"])
    assert {code: value.value for _i, _k, code, _n, value in rows} == {"110105001": None, "110105002": None}


def test_grids_and_maps_of_another_street_are_not_shown(city, login):
    from jiedao.cases import maps
    from jiedao.geo import selectors as geo

    names = [g.code for block in maps.grid_list(city.b.users.leader) for g in block["grids"]]
    assert names == ["1101050020101"]
    with pytest.raises(NotFound):
        geo.grid_for(city.b.users.leader, city.a.grids[0].code)
    assert login(city.b.users.leader).get(f"/grids/{city.a.grids[0].code}/").status_code == 404
