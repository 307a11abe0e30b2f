"""Person-scope measures of handlers and grid workers, hand-counted on cases built through the
case services, and stored for every grid worker, handler and window clerk by the worker.

November 2026: the 东湖 committee's handler (handler_jwh) resolves case A on time (rated 满意)
and case B an hour after its deadline (rated 基本满意); the enforcement team's handler resolves a
street-lamp case C (waiting for verification, not rated). The grid worker reports case D and
fixes it on the spot (closed at grid level); case E, a resident's, the grid worker also settles,
but did not report it."""

import datetime as dt

import pytest

from jiedao.cases import services
from jiedao.cases.models import Case
from jiedao.cases.rules import basic_satisfied_weight
from jiedao.evaluation import compute, periods
from jiedao.evaluation import indicators as lib
from jiedao.evaluation.models import Result
from jiedao.hall import services as hall_services
from jiedao.hall.models import Rectification as HallRectification
from tests.cases.lifecycle import HOUR, LAMPS, drive
from tests.cases.test_grid_worker import CASE_AT, photo
from tests.factories import make_user
from tests.hall.conftest import NOW, hall, materials  # noqa: F401 (the fixture)
from tests.hall.test_ratings_queue_measures import APPLICANT, issued
from tests.registry.conftest import registry  # noqa: F401 (the fixture)

from .conftest import MONTH_END, bj

pytestmark = pytest.mark.django_db


def values(code, now=MONTH_END):
    computed = lib.get(code).compute(periods.parse("2026-11"), "person", lib.Run(now=now))
    return {c: (v.value, v.numerator, v.denominator) for c, v in computed.items()}


@pytest.fixture
def november(street):
    u = street.users
    drive(street, "closed", at=bj("2026-11-02 09:00"))
    b = drive(street, "in_progress", at=bj("2026-11-03 09:00"))
    late = Case.objects.get(pk=b.pk).completion_due + HOUR
    services.resolve(u.handler_committee, number=b.number, result="已清运完毕", at=late)
    services.rate(u.resident, number=b.number, resolved=True, satisfaction="basic", at=late + HOUR)
    drive(street, "verifying", category=LAMPS, at=bj("2026-11-04 09:00"))
    services.submit_case(
        u.grid,
        channel="grid",
        description="D 楼道灯泡松了",
        lat=CASE_AT[0],
        lng=CASE_AT[1],
        outcome="self_resolved",
        answer="已拧紧",
        photos=[photo()],
        at=bj("2026-11-05 10:00"),
    )
    e = drive(street, "new", at=bj("2026-11-06 09:00"))
    services.self_resolve(u.grid, number=e.number, result="已清运", photos=[photo()], at=bj("2026-11-06 10:00"))


def test_handlers_cases_resolved_on_time_and_satisfaction(november):
    resolved = values("person_cases_resolved")
    assert resolved["handler_jwh"] == (2, 2, None)
    assert resolved["handler"] == (1, 1, None)
    assert values("person_on_time_rate")["handler_jwh"] == (0.5, 1, 2)
    weight = basic_satisfied_weight()
    got = values("person_satisfaction_rate")
    assert got["handler_jwh"] == (pytest.approx((1 + weight) / 2), pytest.approx(1 + weight), 2)
    assert "handler" not in got  # case C is not rated yet


def test_a_grid_worker_counts_what_they_reported_and_settled(november):
    assert values("person_grid_self_resolved") == {"grid": (1, 1, None)}  # D; E was not their report
    # Ratings of cases in their grids: A 满意 and B 基本满意 (D and E, settled at grid level, unrated).
    weight = basic_satisfied_weight()
    assert values("person_grid_satisfaction") == {
        "grid": (pytest.approx((1 + weight) / 2), pytest.approx(1 + weight), 2)
    }


def test_the_worker_stores_person_figures_for_handlers_clerks_and_grid_workers(november):
    compute.compute_period(periods.parse("2026-11"), MONTH_END, codes=["person_cases_resolved"])
    stored = dict(
        Result.objects.filter(indicator="person_cases_resolved", period_key="2026-11").values_list(
            "scope_code", "value"
        )
    )
    assert stored["handler_jwh"] == 2 and stored["handler"] == 1
    assert stored["grid"] == 0 and stored["operator"] == 0  # counted as none, not left out
    assert "resident" not in stored and "leader" not in stored


def test_a_window_clerks_applications_time_and_ratings(street, hall):  # noqa: F811
    """The clerk (operator) accepts three: two issued at once (rated 非常满意 and 不满意), one
    issued 8 days later, past its promised 5 working days."""
    clerk, handler = street.users.operator, make_user("hall_handler", "handler", unit=street.units.service)
    a = issued(hall, clerk, handler)
    b = issued(hall, clerk, handler, delivery="post")
    c = hall_services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    hall_services.approve(handler, number=c.number, now=NOW + dt.timedelta(days=1))
    hall_services.issue(clerk, number=c.number, delivery="window", now=NOW + dt.timedelta(days=8))  # past 5 days
    hall_services.rate(clerk, number=a.number, level=5, now=NOW + HOUR)
    hall_services.rate(clerk, number=b.number, level=2, now=NOW + HOUR)
    key = periods.of("month", NOW).key

    def person(code):
        computed = lib.get(code).compute(periods.parse(key), "person", lib.Run(now=NOW + dt.timedelta(days=30)))
        return {c: (v.value, v.numerator, v.denominator) for c, v in computed.items()}

    assert person("person_applications_accepted") == {"operator": (3, 3, None)}
    assert person("person_applications_on_time") == {"operator": (pytest.approx(2 / 3), 2, 3)}
    assert person("person_hall_satisfaction") == {"operator": (0.5, 1, 2)}
    # The 不满意 on b is put right by the unit and the applicant, called back, accepts the fix.
    assert person("person_hall_rectified") == {}
    rect = HallRectification.objects.get(rating__application=b)
    hall_services.fix(handler, rect_id=rect.pk, note="已调整窗口引导", now=NOW + 2 * HOUR)
    hall_services.callback(clerk, rect_id=rect.pk, satisfied=True, note="认可", now=NOW + 3 * HOUR)
    assert person("person_hall_rectified") == {"operator": (1.0, 1, 1)}


def test_a_grid_workers_resolution_patrols_and_visits(november, street, registry):  # noqa: F811
    """Resolution: A and B in the worker's grid were rated "resolved"; a third case there is
    rated 问题未解决: 2 of 3. Patrols: two started in November (a point and an end not counted),
    one started in October. Visits: two by the worker in November (a home visit and a call), one
    in October, one by the other worker."""
    from jiedao.geo import services as geo_services
    from jiedao.registry.models import Visit

    u = street.users
    c = drive(street, "in_progress", at=bj("2026-11-10 09:00"))
    services.resolve(u.handler_committee, number=c.number, result="已处理", at=bj("2026-11-10 12:00"))
    services.rate(u.resident, number=c.number, resolved=False, satisfaction="unsatisfied", at=bj("2026-11-10 13:00"))
    assert values("person_grid_resolution") == {"grid": (pytest.approx(2 / 3), 2, 3)}

    lat, lng = CASE_AT
    for kind, at in (
        ("start", "10-30 09:00"),
        ("end", "10-30 10:00"),
        ("start", "11-07 09:00"),
        ("point", "11-07 09:30"),
        ("end", "11-07 10:00"),
        ("start", "11-20 09:00"),
    ):
        geo_services.check_in(u.grid, kind=kind, lat=lat, lng=lng, at=bj(f"2026-{at}"))
    assert values("person_grid_patrols") == {"grid": (2, 2, None)}

    person = registry.people["张桂兰"]
    for worker, kind, at in (
        (u.grid, Visit.Kind.HOME, "2026-11-08 10:00"),
        (u.grid, Visit.Kind.PHONE, "2026-11-22 10:00"),
        (u.grid, Visit.Kind.HOME, "2026-10-28 10:00"),
        (u.grid_other, Visit.Kind.HOME, "2026-11-09 10:00"),
    ):
        Visit.objects.create(person=person, worker=worker, kind=kind, at=bj(at))
    assert values("visits_done") == {"grid": (2, 2, None), "grid2": (1, 1, None)}
