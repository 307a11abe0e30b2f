"""好差评 with rectification, callback and appeals; the queue; the measures by hand."""

import datetime as dt

import pytest

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.hall import selectors, services
from jiedao.hall.models import Rectification, Status, Ticket
from jiedao.workcal.calendar import SHANGHAI
from tests.factories import make_user

from .conftest import NOW, materials

APPLICANT = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}


@pytest.fixture
def clerk(street):
    return street.users.operator


@pytest.fixture
def service_handler(street):
    return make_user("hall_handler", "handler", unit=street.units.service)


def issued(hall, clerk, handler, at=NOW, delivery="on_the_spot", channel="window"):
    if channel == "window":
        app = services.accept_at_window(
            clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=at
        )
    else:
        app = services.submit_online(
            hall["street"].users.resident,
            item_code="11010500100001",
            applicant=APPLICANT,
            materials=materials(hall["elderly"]),
            now=at,
        )
        services.accept(clerk, number=app.number, now=at)
    services.approve(handler, number=app.number, now=at + dt.timedelta(minutes=10))
    return services.issue(clerk, number=app.number, delivery=delivery, now=at + dt.timedelta(minutes=20))


def test_rating_needs_a_completed_application(hall, clerk):
    app = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    with pytest.raises(InvalidTransition):
        services.rate(clerk, number=app.number, level=5, now=NOW)


def test_a_rating_is_given_once(hall, clerk, service_handler):
    app = issued(hall, clerk, service_handler)
    services.rate(clerk, number=app.number, level=5, now=NOW + dt.timedelta(hours=1))
    with pytest.raises(InvalidTransition):
        services.rate(clerk, number=app.number, level=1, now=NOW + dt.timedelta(hours=2))


def test_the_sms_link_lets_the_applicant_rate_without_signing_in(hall, clerk, service_handler):
    from django.contrib.auth.models import AnonymousUser

    app = issued(hall, clerk, service_handler)
    with pytest.raises(NotAllowed):
        services.rate(AnonymousUser(), number=app.number, level=4, channel="sms", token="forged", now=NOW)
    rating = services.rate(
        AnonymousUser(), number=app.number, level=4, channel="sms", token=services.rating_token(app), now=NOW
    )
    assert rating.channel == "sms" and rating.level == 4


def test_bad_rating_opens_rectification_with_five_working_days(hall, clerk, service_handler):
    app = issued(hall, clerk, service_handler)
    rating = services.rate(clerk, number=app.number, level=2, comment="等了很久", now=NOW)  # Wednesday
    rect = rating.rectification
    assert rect.unit == hall["street"].units.service
    assert rect.due_at.astimezone(SHANGHAI).date() == dt.date(2026, 11, 25)
    with pytest.raises(InvalidTransition):
        services.callback(clerk, rect_id=rect.pk, satisfied=True, note="回访", now=NOW)  # not fixed yet
    with pytest.raises(NotAllowed):
        services.fix(hall["street"].users.handler, rect_id=rect.pk, note="整改", now=NOW)  # another unit
    services.fix(service_handler, rect_id=rect.pk, note="增设窗口，优化叫号", now=NOW + dt.timedelta(days=2))
    rect = services.callback(clerk, rect_id=rect.pk, satisfied=True, note="申请人认可", now=NOW + dt.timedelta(days=3))
    assert rect.state == Rectification.State.CLOSED and rect.on_time
    assert list(app.events.filter(action__in=["rectify", "callback"]).values_list("action", flat=True)) == [
        "rectify",
        "callback",
    ]


def test_rectification_days_are_configurable(hall, clerk, service_handler, settings):
    settings.JIEDAO = {**settings.JIEDAO, "HALL_RECTIFY_DAYS": 2}
    app = issued(hall, clerk, service_handler)
    rating = services.rate(clerk, number=app.number, level=1, now=NOW)
    assert rating.rectification.due_at.astimezone(SHANGHAI).date() == dt.date(2026, 11, 20)


def test_good_rating_opens_no_rectification(hall, clerk, service_handler):
    app = issued(hall, clerk, service_handler)
    rating = services.rate(clerk, number=app.number, level=3, now=NOW)
    assert not Rectification.objects.filter(rating=rating).exists()


def test_upheld_appeal_keeps_the_rating_but_leaves_it_out_of_satisfaction(hall, clerk, service_handler):
    leader = hall["street"].users.leader
    good = issued(hall, clerk, service_handler)
    bad = issued(hall, clerk, service_handler)
    services.rate(clerk, number=good.number, level=5, now=NOW + dt.timedelta(hours=1))
    rating = services.rate(clerk, number=bad.number, level=1, comment="乱评", now=NOW + dt.timedelta(hours=1))
    window = (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1))
    assert selectors.measures(*window)["satisfaction"] == 0.5
    with pytest.raises(ValidationFailed):
        services.file_appeal(service_handler, rating_id=rating.pk, reason="", now=NOW)
    appeal = services.file_appeal(service_handler, rating_id=rating.pk, reason="申请人与办件无关，系恶意差评", now=NOW)
    with pytest.raises(NotAllowed):
        services.review_appeal(service_handler, appeal_id=appeal.pk, upheld=True, note="成立", now=NOW)
    services.review_appeal(leader, appeal_id=appeal.pk, upheld=True, note="经核实为恶意差评", now=NOW)
    rating.refresh_from_db()
    assert rating.excluded and rating.level == 1  # kept, not deleted
    assert selectors.measures(*window)["satisfaction"] == 1.0


def test_queue_calls_priority_first_then_in_order(street, clerk):
    first = services.take_ticket("B", now=NOW)
    second = services.take_ticket("B", now=NOW + dt.timedelta(minutes=1))
    elder = services.take_ticket("B", priority=True, now=NOW + dt.timedelta(minutes=2))
    other_group = services.take_ticket("A", now=NOW)
    assert (first.number, second.number, elder.number, other_group.number) == ("B001", "B002", "B003", "A001")
    called = [
        services.call_next(clerk, window="3", groups=["B"], now=NOW + dt.timedelta(minutes=m)).number for m in (5, 6, 7)
    ]
    assert called == ["B003", "B001", "B002"]
    with pytest.raises(InvalidTransition):
        services.call_next(clerk, window="3", groups=["B"], now=NOW + dt.timedelta(minutes=8))
    with pytest.raises(NotAllowed):
        services.call_next(street.users.resident, window="3", now=NOW)


def test_measures_by_hand(hall, clerk, service_handler):
    # Three issued: on the spot (1 visit), by post (1 visit), at the window later (2 visits); one online.
    a = issued(hall, clerk, service_handler)
    b = issued(hall, clerk, service_handler, delivery="post")
    c = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    services.approve(service_handler, number=c.number, now=NOW + dt.timedelta(days=1))
    services.issue(
        clerk, number=c.number, delivery="window", now=NOW + dt.timedelta(days=8)
    )  # after the promised 25 Nov
    d = issued(hall, clerk, service_handler, delivery="online", channel="online")
    assert d.visits == 0
    # Tickets: waits of 10, 20, 30 and 60 minutes.
    for minutes in (10, 20, 30, 60):
        t = services.take_ticket("B", now=NOW)
        Ticket.objects.filter(pk=t.pk).update(status="called", called_at=NOW + dt.timedelta(minutes=minutes))
    services.rate(clerk, number=a.number, level=5, now=NOW + dt.timedelta(hours=1))
    services.rate(clerk, number=b.number, level=4, now=NOW + dt.timedelta(hours=1))
    services.rate(clerk, number=c.number, level=2, now=NOW + dt.timedelta(days=9))
    m = selectors.measures(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=20))
    assert m["issued"] == 4
    assert m["one_visit"] == 3 / 4
    assert m["on_the_spot"] == 1 / 4
    assert m["in_time"] == 3 / 4
    assert m["online"] == 1 / 4
    assert m["wait_avg"] == 30
    assert m["wait_p90"] == 60
    assert m["satisfaction"] == 2 / 3
    assert m["bad"] == 1
    # Of 12 materials (3 per application), none from shared data; 3 asked per application.
    assert m["shared"] == 0 and m["materials_per_item"] == 3
    assert {x.status for x in (a, b, d)} == {Status.ISSUED}


def test_percentile_is_nearest_rank():
    assert selectors.percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9) == 9
    assert selectors.percentile([], 0.9) is None
