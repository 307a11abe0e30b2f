"""重复投诉: a case received within REPEAT_DAYS of the closing of a case by the same reporter (the
same phone or account), or of the same category within REPEAT_METERS, carries the 重复投诉
marker on its page, linked to the earlier case; 重复投诉率 counts them over the cases received."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiedao.cases import repeats, services
from jiedao.cases.models import Case
from tests.cases.lifecycle import HOUR, LAMPS, SANITATION, handler_for
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
HERE = (39.905, 116.405)
# 0.00045° of latitude is 50 m, 0.00135° is 150 m (a degree of latitude is 111.2 km here).
NEAR = (39.905 + 0.00045, 116.405)
FAR = (39.905 + 0.00135, 116.405)


def call(street, phone, *, at, category=SANITATION, where=HERE, description="小区门口垃圾没人清运"):
    """A 12345 call taken by the operator, with the caller's phone."""
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description=description,
        reporter_name="张三",
        reporter_phone=phone,
        lat=where[0],
        lng=where[1],
        category_code=category,
        at=at,
    )
    return case


def closed(street, case, *, at):
    """``case`` dispatched, handled and rated satisfied on the phone; closed at ``at`` + 3 h."""
    u = street.users
    services.dispatch(u.dispatcher, number=case.number, at=at)
    handler = handler_for(street, Case.objects.get(pk=case.pk))
    services.respond(handler, number=case.number, at=at + HOUR)
    services.resolve(handler, number=case.number, result="已清运完毕", at=at + 2 * HOUR)
    case = Case.objects.get(pk=case.pk)
    if case.status == "verifying":
        services.verify(u.dispatcher, number=case.number, passed=True, reason="电话与居民核实", at=at + 2 * HOUR)
    services.rate(u.operator, number=case.number, resolved=True, satisfaction="satisfied", at=at + 3 * HOUR)
    case = Case.objects.get(pk=case.pk)
    assert case.status == "closed"
    return case


def page(login, street, case):
    response = login(street.users.dispatcher).get(reverse("cases:case", args=[case.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_same_caller_again_within_30_days_of_closing_is_marked_with_a_link(street, login):
    first = closed(street, call(street, "13511112222", at=WEDNESDAY), at=WEDNESDAY)
    again = call(street, "135 1111 2222", at=first.closed_at + 10 * DAY, category=LAMPS, description="路灯又不亮了")
    html = page(login, street, again)
    assert "重复投诉" in html
    assert f'href="/cases/{first.number}/"' in html
    assert "同一诉求人" in html
    # The earlier case itself repeats nothing.
    assert "重复投诉" not in page(login, street, first)


def test_the_same_caller_after_the_window_is_no_repeat_and_the_window_is_a_setting(street, login, settings):
    first = closed(street, call(street, "13511112222", at=WEDNESDAY), at=WEDNESDAY)
    late = call(street, "13511112222", at=first.closed_at + 31 * DAY)
    soon = call(street, "13511112222", at=first.closed_at + 10 * DAY)
    assert "重复投诉" not in page(login, street, late)
    assert "重复投诉" in page(login, street, soon)
    settings.JIEDAO = dict(settings.JIEDAO, REPEAT_DAYS=7)
    assert "重复投诉" not in page(login, street, soon)


def test_the_same_resident_account_is_the_same_reporter(street, login):
    first, _ = services.submit_case(
        street.users.resident, channel="portal", description="楼道灯坏了", lat=HERE[0], lng=HERE[1], at=WEDNESDAY
    )
    services.classify(street.users.dispatcher, number=first.number, category_code=SANITATION)
    first = closed(street, first, at=WEDNESDAY + HOUR)
    # Far away, another matter: still the same resident within the window.
    again, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="门口井盖松动",
        lat=FAR[0],
        lng=FAR[1],
        at=first.closed_at + 2 * DAY,
    )
    html = page(login, street, again)
    assert "同一诉求人" in html and first.number in html
    other, _ = services.submit_case(
        street.users.resident_other, channel="portal", description="门口井盖松动", at=first.closed_at + 2 * DAY
    )
    assert "重复投诉" not in page(login, street, other)


def test_another_caller_at_the_same_place_about_the_same_matter_is_a_repeat(street, login):
    first = closed(street, call(street, "13511112222", at=WEDNESDAY), at=WEDNESDAY)
    near = call(street, "13933334444", at=first.closed_at + 5 * DAY, where=NEAR)
    far = call(street, "13955556666", at=first.closed_at + 5 * DAY, where=FAR)
    other_matter = call(street, "13977778888", at=first.closed_at + 5 * DAY, where=NEAR, category=LAMPS)
    html = page(login, street, near)
    assert "同一地点附近的同类诉求" in html and first.number in html
    assert "重复投诉" not in page(login, street, far)
    assert "重复投诉" not in page(login, street, other_matter)
    found = repeats.repeated_case(near)
    assert found is not None and found.case == first and found.reason == "place"


def test_an_open_earlier_case_is_no_repeat(street, login):
    first = call(street, "13511112222", at=WEDNESDAY)
    again = call(street, "13511112222", at=WEDNESDAY + 2 * DAY)
    assert first.status != "closed"
    assert "重复投诉" not in page(login, street, again)


def test_the_marker_names_a_case_the_user_may_not_open_without_a_link(street, login):
    # The street lamp went to the enforcement team; the same caller's sanitation call goes to
    # the community committee, whose handler cannot open the enforcement team's case.
    first = closed(street, call(street, "13511112222", at=WEDNESDAY, category=LAMPS), at=WEDNESDAY)
    again = call(street, "13511112222", at=first.closed_at + DAY)
    services.dispatch(street.users.dispatcher, number=again.number, at=first.closed_at + DAY)
    html = login(street.users.handler_committee).get(reverse("cases:case", args=[again.number])).content.decode()
    assert "重复投诉" in html and first.number in html
    assert f'href="/cases/{first.number}/"' not in html
    assert login(street.users.handler_committee).get(reverse("cases:case", args=[first.number])).status_code == 404


def test_repeat_rate_counts_the_cases_received_that_repeat_a_closed_case(street):
    # Before the period: two cases closed on 2026-11-18 (UTC 04:30).
    by_phone = closed(street, call(street, "13511112222", at=WEDNESDAY), at=WEDNESDAY)
    at_place = closed(street, call(street, "13611112222", at=WEDNESDAY, category=LAMPS), at=WEDNESDAY)
    start = WEDNESDAY + 2 * DAY
    end = start + 30 * DAY
    received = [
        call(street, "13511112222", at=start + DAY),  # same phone: a repeat
        call(street, "13700000001", at=start + 2 * DAY, where=NEAR, category=LAMPS),  # 50 m: a repeat
        call(street, "13700000002", at=start + 3 * DAY, where=FAR, category=LAMPS),  # 150 m: not
        call(street, "13700000003", at=start + 4 * DAY),  # the sanitation case's place and matter: a repeat
        call(street, "13511112222", at=start + 6 * DAY, where=(None, None)),  # same phone, no position: a repeat
        call(street, "13700000004", at=start + 7 * DAY, where=(None, None)),  # no position, another phone: not
    ]
    # A void call by the first caller: neither received nor a repeat.
    void = call(street, "13511112222", at=start + 5 * DAY)
    services.settle(street.users.operator, number=void.number, outcome="voided", void_reason="prank")
    # After the period, not counted.
    call(street, "13511112222", at=end + HOUR)

    rate = repeats.repeat_rate(start=start, end=end)
    # Hand count: received 6 (the void call left out); repeats: the 1st (phone), the 2nd (50 m
    # from the lamp case), the 4th (at the sanitation case's place) and the 5th (phone, though it
    # gives no position) = 4.
    assert (rate.repeats, rate.received) == (4, 6)
    assert rate.rate == pytest.approx(4 / 6)
    assert repeats.repeat_rate(start=start, end=end, street=street.street).received == 6

    marked = {c.number: c.repeats for c in repeats.with_repeat(Case.objects.filter(pk__in=[c.pk for c in received]))}
    assert marked == {
        received[0].number: True,
        received[1].number: True,
        received[2].number: False,
        received[3].number: True,
        received[4].number: True,
        received[5].number: False,
    }
    assert {repeats.repeated_case(c).case for c in (received[0], received[3])} == {by_phone}
    assert repeats.repeated_case(received[1]).case == at_place


def test_a_period_without_cases_has_no_rate(street):
    rate = repeats.repeat_rate(start=WEDNESDAY, end=WEDNESDAY + DAY)
    assert (rate.repeats, rate.received, rate.rate) == (0, 0, None)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan is SQLite's; PostgreSQL plans by its statistics")
def test_the_look_ups_read_the_indexes_not_the_whole_table(street):
    case = call(street, "13511112222", at=WEDNESDAY)
    plans = []
    with CaptureQueriesContext(connection) as queries:
        repeats.repeated_case(case)
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plans.append(" ".join(str(row[-1]) for row in cursor.fetchall()))
    received = Case.objects.filter(created_at__gte=WEDNESDAY)
    plans.append(repeats.with_repeat(received).filter(repeats=True).explain())
    for plan in plans:
        assert "SCAN cases_case" not in plan and "SCAN U0" not in plan, plan
    assert all(
        name in " ".join(plans) for name in ("case_phone_closed", "case_reporter_closed", "case_category_closed")
    )
