"""Appointments by half-hour slot: office hours of working days, capacity, cancelling."""

import datetime as dt

import pytest
from django.test import Client

from jiedao.common.errors import InvalidTransition, ValidationFailed
from jiedao.hall import selectors, services
from jiedao.workcal.calendar import SHANGHAI
from tests.factories import make_user

from .conftest import NOW

THURSDAY_NINE = dt.datetime(2026, 11, 19, 9, 0, tzinfo=SHANGHAI)


def test_slot_fills_up_at_capacity(hall, street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "HALL_SLOT_CAPACITY": 2}
    services.book(street.users.resident, item_code="11010500100001", starts_at=THURSDAY_NINE, now=NOW)
    with pytest.raises(InvalidTransition):
        services.book(
            street.users.resident, item_code="11010500100001", starts_at=THURSDAY_NINE, now=NOW
        )  # the same person again
    services.book(street.users.resident_other, item_code="11010500100001", starts_at=THURSDAY_NINE, now=NOW)
    with pytest.raises(InvalidTransition):
        services.book(make_user("neighbour", "resident"), item_code="11010500100001", starts_at=THURSDAY_NINE, now=NOW)
    assert THURSDAY_NINE not in [s for s, _left in selectors.free_slots(now=NOW)]


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI),  # Saturday
        dt.datetime(2026, 11, 19, 12, 30, tzinfo=SHANGHAI),  # lunch break
        dt.datetime(2026, 11, 19, 9, 10, tzinfo=SHANGHAI),  # not the start of a slot
        dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI),  # in the past
    ],
)
def test_only_future_office_slots_can_be_booked(hall, street, when):
    with pytest.raises(ValidationFailed):
        services.book(street.users.resident, item_code="11010500100001", starts_at=when, now=NOW)


def test_booking_and_cancelling_on_the_pages(hall, street):
    client = Client()
    client.force_login(street.users.resident)
    page = client.get("/hall/items/11010500100001/").content.decode()
    assert "预约办理" in page
    slot = selectors.free_slots()[0][0]
    response = client.post("/hall/items/11010500100001/book/", {"starts_at": slot.isoformat()}, follow=True)
    assert "已预约" in response.content.decode()
    appointment = street.users.resident.hall_appointments.get()
    client.post("/hall/mine/", {"appointment": appointment.pk})
    appointment.refresh_from_db()
    assert appointment.state == "cancelled"
