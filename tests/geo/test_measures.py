"""The grid measures against small examples counted by hand."""

import datetime as dt

import pytest

from jiedao.cases import grid_measures as measures
from jiedao.cases import services as cs
from tests.factories import WEDNESDAY, make_user

NOV = "2026-11"
DAY = dt.timedelta(days=1)
# Points inside the four grids of the test street.
G11, G12, G21, G22 = (39.905, 116.405), (39.905, 116.415), (39.915, 116.405), (39.915, 116.415)


def report(street, where, at, channel="grid", user=None, category="010101", unit=None, dispatch=True):
    user = user or (street.users.grid if channel == "grid" else street.users.resident)
    case, _ = cs.submit_case(user, channel=channel, description="楼道堆放杂物", lat=where[0], lng=where[1], at=at)
    if category:
        cs.classify(street.users.dispatcher, number=case.number, category_code=category, at=at)
        if dispatch:
            cs.dispatch(street.users.dispatcher, number=case.number, unit_code=unit, at=at)
    case.refresh_from_db()
    return case


def handle(case, handler, at, resolver=None):
    cs.respond(handler, number=case.number, at=at)
    cs.resolve(resolver or handler, number=case.number, result="已清理", at=at + dt.timedelta(hours=1))


def close(street, case, at):
    case.refresh_from_db()
    if case.status == "verifying":
        cs.verify(street.users.grid, number=case.number, passed=True, reason="电话核实", at=at - dt.timedelta(hours=1))
    cs.rate(street.users.operator, number=case.number, resolved=True, satisfaction="satisfied", at=at)


@pytest.fixture
def month_of_cases(street):
    """Cases of November 2026 (and one either side):

    ====  =======  ======  ==========  ======================================
    case  channel  grid    received    handling
    ====  =======  ======  ==========  ======================================
    G1    grid     g11     Nov 18      due Nov 23, resolved Nov 19 (on time)
    G2    grid     g12     Nov 18      due Nov 23, resolved Dec 1 (late)
    G3    grid     g21     Nov 18      due Nov 23, never resolved
    G4    grid     g22     Nov 30      due Dec 3
    P1    portal   g11     Nov 18      resolved on time (not a grid case)
    P2    portal   g11     Nov 18      merged into P1 (a duplicate)
    O1    grid     g11     Oct 20      due Oct 23
    ====  =======  ======  ==========  ======================================
    """
    u = street.users
    g1 = report(street, G11, WEDNESDAY)
    g2 = report(street, G12, WEDNESDAY)
    g3 = report(street, G21, WEDNESDAY)
    g4 = report(street, G22, WEDNESDAY + 12 * DAY)
    p1 = report(street, G11, WEDNESDAY, channel="portal")
    p2 = report(street, G11, WEDNESDAY, channel="portal", category=None)
    cs.merge(u.dispatcher, number=p2.number, master_number=p1.number, at=WEDNESDAY + dt.timedelta(hours=1))
    report(street, G11, WEDNESDAY - 29 * DAY)
    handle(g1, u.handler_committee, WEDNESDAY + DAY)
    handle(g2, u.handler_committee, WEDNESDAY + 13 * DAY)
    handle(p1, u.handler_committee, WEDNESDAY + DAY)
    assert g1.completion_due.date() == dt.date(2026, 11, 23) and g4.completion_due.date() == dt.date(2026, 12, 3)
    return {"g1": g1, "g2": g2, "g3": g3, "g4": g4}


def test_active_discovery_rate_counts_grid_reports_among_the_months_cases(month_of_cases):
    # November: G1–G4 of 5 cases (P2 was merged, O1 is October's).
    street_wide = measures.active_discovery(NOV)
    assert (street_wide.numerator, street_wide.denominator) == (4, 5)
    assert street_wide.value == pytest.approx(0.8)
    assert measures.active_discovery(NOV, "11010500101").as_dict() == {
        "value": pytest.approx(2 / 3),
        "numerator": 2,
        "denominator": 3,
    }
    assert measures.active_discovery("2026-12").value is None  # no cases: no data, not 0 %


def test_grid_completion_counts_grid_cases_due_in_the_month(month_of_cases):
    after = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    # G1 on time; G2 late; G3 overdue and unresolved; G4 due in December; P1 not a grid case.
    assert measures.grid_completion(NOV, now=after).as_dict() == {
        "value": pytest.approx(1 / 3),
        "numerator": 1,
        "denominator": 3,
    }
    assert (
        measures.grid_completion(NOV, "11010500102", now=after).numerator,
        measures.grid_completion(NOV, "11010500102", now=after).denominator,
    ) == (0, 1)
    # On Nov 20 nothing was due yet: only the resolved cases count.
    early = WEDNESDAY + 2 * DAY
    result = measures.grid_completion(NOV, now=early)
    assert (result.numerator, result.denominator) == (1, 2)


def test_grid_level_share_counts_cases_closed_by_the_committee_of_the_place_or_a_grid_worker(street):
    u = street.users
    grid_handler = make_user("gw_handler", "handler", "grid", unit=street.units.enforcement, grids=[street.grids[3]])
    closing = WEDNESDAY + 3 * DAY
    # A: 东湖社区 case, handled by 东湖社区居委会 → grid level.
    a = report(street, G11, WEDNESDAY)
    handle(a, u.handler_committee, WEDNESDAY + DAY)
    close(street, a, closing)
    # B: street lamp in 东湖社区, handled by the enforcement team → not grid level.
    b = report(street, G12, WEDNESDAY, category="010102")
    handle(b, u.handler, WEDNESDAY + DAY)
    close(street, b, closing)
    # C: 西园社区 case resolved by a grid worker of another grid (g22) → not grid level.
    c = report(street, G21, WEDNESDAY)
    handle(c, u.handler, WEDNESDAY + DAY, resolver=grid_handler)
    close(street, c, closing)
    # D: 西园社区 case sent to 东湖社区居委会 → the committee of another community: not grid level.
    d = report(street, G21, WEDNESDAY, unit="JWH01")
    handle(d, u.handler_committee, WEDNESDAY + DAY)
    close(street, d, closing)
    # E: g22 case resolved by the grid worker of g22 → grid level.
    e = report(street, G22, WEDNESDAY)
    handle(e, u.handler, WEDNESDAY + DAY, resolver=grid_handler)
    close(street, e, closing)
    # F: like A, but closed in December → not in November's count.
    f = report(street, G11, WEDNESDAY)
    handle(f, u.handler_committee, WEDNESDAY + DAY)
    close(street, f, dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC))

    result = measures.grid_level_share(NOV)
    assert (result.numerator, result.denominator) == (2, 5)
    east = measures.grid_level_share(NOV, "11010500101")
    west = measures.grid_level_share(NOV, "11010500102")
    assert (east.numerator, east.denominator) == (1, 2)
    assert (west.numerator, west.denominator) == (1, 3)
    december = measures.grid_level_share("2026-12")
    assert (december.numerator, december.denominator) == (1, 1)


def test_measures_api_and_page_show_the_same_figures(month_of_cases, login, street):
    client = login(street.users.leader)
    data = client.get("/api/v1/geo/measures", {"month": NOV}).json()
    assert data["active_discovery"] == {"value": pytest.approx(0.8), "numerator": 4, "denominator": 5}
    rows = {row["community_code"]: row for row in data["communities"]}
    assert rows["11010500102"]["active_discovery"]["numerator"] == 2
    one = client.get("/api/v1/geo/measures", {"month": NOV, "community": "11010500101"}).json()
    assert one["community_name"] == "东湖社区" and one["communities"] == []
    assert one["active_discovery"]["denominator"] == 3

    page = client.get("/grids/measures/", {"month": NOV}).content.decode()
    assert 'data-measure="active_discovery">80%' in page
    assert 'data-community="11010500101"' in page

    bad = client.get("/api/v1/geo/measures", {"month": "2026-13"})
    assert bad.status_code == 422
    unknown = client.get("/api/v1/geo/measures", {"month": NOV, "community": "999"})
    assert unknown.status_code == 422 and "999" in unknown.json()["errors"][0]["message"]
    assert login(street.users.resident).get("/api/v1/geo/measures").status_code == 403
