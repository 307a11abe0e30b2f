"""Booking limits of the hall: only within the booking horizon (today and the next
HALL_BOOKING_WORKDAYS working days), only on open days and slots, at most
HALL_BOOKING_MAX_OPEN appointments not yet due per person and one per item and day — the
last held by a lock, so twenty requests at once cannot pass it. The tester booked eight
slots in 2099 and one on 9999-12-30 with one account."""

import datetime as dt
import json
import sqlite3
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from jiedao.hall import services
from jiedao.hall.models import Appointment
from jiedao.org import services as org_services
from jiedao.workcal.calendar import SHANGHAI, add_workdays
from tests.factories import PASSWORD, make_user

ITEMS = ("11010500100001", "11010500100002", "11010500100003")


class Resident:
    """The resident's API client (a real token) and page client."""

    def __init__(self, user):
        self.token, _row = org_services.create_token(user.username, password=PASSWORD)
        self.client = Client(raise_request_exception=False)

    def book(self, item, starts_at):
        when = starts_at if isinstance(starts_at, str) else starts_at.isoformat()
        return self.client.post(
            "/api/v1/hall/appointments",
            json.dumps({"item_code": item, "starts_at": when}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )


def first_slots(count, skip_today=True):
    """The first slot of each open day in the horizon, from tomorrow: (day, slot)."""
    first, last = services.booking_window()
    day, out = first, []
    while day <= last and len(out) < count:
        if day > first or not skip_today:
            slots = services.slots_of(day)
            if slots:
                out.append((day, slots[0]))
        day += dt.timedelta(days=1)
    return out


def error_of(response):
    errors = response.json()["errors"]
    assert len(errors) == 1
    return errors[0]["field"], errors[0]["message"]


@pytest.fixture
def resident(hall, street):
    return Resident(street.users.resident)


def test_the_testers_eight_slots_in_2099_are_refused_naming_the_field(resident):
    first, last = services.booking_window()
    for hour in (9, 10, 11, 14, 15, 16, 17):
        response = resident.book(ITEMS[0], dt.datetime(2099, 3, 4, hour, 0, tzinfo=SHANGHAI))
        assert response.status_code == 422
        field, message = error_of(response)
        assert field == "starts_at"
        assert "预约时段" in message and first.isoformat() in message and last.isoformat() in message
    response = resident.book(ITEMS[1], "2099-03-05T09:00:00+08:00")
    assert response.status_code == 422 and error_of(response)[0] == "starts_at"
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize(
    "when",
    [
        "9999-12-30T09:00:00+08:00",
        "9999-12-31T23:30:00",
        "0001-01-01T09:00:00",
        "0001-01-01T00:00:00+08:00",
        "1999-01-04T09:00:00+08:00",
    ],
)
def test_slots_at_the_ends_of_the_calendar_are_refused_not_a_server_error(resident, when):
    response = resident.book(ITEMS[0], when)
    assert response.status_code == 422
    assert error_of(response)[0] == "starts_at"
    assert Appointment.objects.count() == 0


def test_the_last_day_of_the_horizon_is_bookable_and_the_next_is_not(resident, settings):
    settings.JIEDAO = {**settings.JIEDAO, "HALL_BOOKING_WORKDAYS": 3}
    first, last = services.booking_window()
    assert last == add_workdays(first, 3)
    assert resident.book(ITEMS[0], services.slots_of(last)[0]).status_code == 201
    beyond = add_workdays(last, 1)
    response = resident.book(ITEMS[0], services.slots_of(beyond)[0])
    assert response.status_code == 422
    assert "3 个工作日" in error_of(response)[1]


def test_a_closed_day_and_the_lunch_break_are_refused(resident):
    first, _last = services.booking_window()
    day = first + dt.timedelta(days=1)
    while services.slots_of(day):
        day += dt.timedelta(days=1)  # a weekend day or a holiday within the horizon
    response = resident.book(ITEMS[0], dt.datetime.combine(day, dt.time(9, 0), SHANGHAI))
    assert response.status_code == 422 and "开放日" in error_of(response)[1]
    open_day = first_slots(1)[0][0]
    response = resident.book(ITEMS[0], dt.datetime.combine(open_day, dt.time(12, 30), SHANGHAI))
    assert response.status_code == 422 and error_of(response)[0] == "starts_at"


def test_the_fourth_open_appointment_is_refused_until_one_is_cancelled(resident, street):
    days = first_slots(4)
    for _day, slot in days[:3]:
        assert resident.book(ITEMS[0], slot).status_code == 201
    response = resident.book(ITEMS[0], days[3][1])
    assert response.status_code == 409
    assert "最多同时保留 3 个" in error_of(response)[1]
    mine = Appointment.objects.filter(user=street.users.resident).order_by("starts_at")
    assert mine.count() == 3
    # Cancelling one (on the page) frees a place; the limit is a setting.
    page = Client()
    page.force_login(street.users.resident)
    page.post("/hall/mine/", {"appointment": mine[0].pk})
    assert resident.book(ITEMS[0], days[3][1]).status_code == 201


def test_appointments_already_past_do_not_count(hall, street):
    user = street.users.resident
    later = first_slots(3)
    for _day, slot in later[:3]:
        services.book(user, item_code=ITEMS[0], starts_at=slot)
    # The same three, seen a week after they were due: none is open any more.
    after = later[2][1] + dt.timedelta(days=7)
    next_day = after.astimezone(SHANGHAI).date()
    while not services.slots_of(next_day):
        next_day += dt.timedelta(days=1)
    assert services.book(
        user, item_code=ITEMS[0], starts_at=services.slots_of(next_day)[0], now=after - dt.timedelta(hours=1)
    )


def test_one_appointment_per_item_and_day(resident):
    ((_day, slot),) = first_slots(1)
    assert resident.book(ITEMS[0], slot).status_code == 201
    response = resident.book(ITEMS[0], slot + dt.timedelta(minutes=30))
    assert response.status_code == 409 and "同一事项每天只能预约一次" in error_of(response)[1]
    assert resident.book(ITEMS[1], slot + dt.timedelta(minutes=30)).status_code == 201


def test_the_page_shows_the_refusal(hall, street):
    client = Client()
    client.force_login(street.users.resident)
    response = client.post(f"/hall/items/{ITEMS[0]}/book/", {"starts_at": "2099-03-04T09:00"}, follow=True)
    assert "预约时段须在" in response.content.decode()
    assert Appointment.objects.count() == 0


@pytest.fixture
def deployed_database(tmp_path):
    """Call it once the test's rows are written: from then on the test's threads write to the
    database as deployed, and it returns a function counting rows there. PostgreSQL: the test
    database itself. SQLite: the tests keep theirs in memory, where a second writer fails at
    once instead of waiting its turn; the threads get a copy of it in a file (WAL mode, writers
    queueing in jiedao.common.sqlite)."""
    shared = connections.settings["default"]  # the settings every thread's connection is made from
    memory = shared["NAME"]

    def use():
        if connection.vendor != "sqlite":
            return lambda sql: _count(connection, sql)
        path = tmp_path / "deployed.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        connection.connection.backup(copy)
        copy.close()
        shared["NAME"] = str(path)
        return lambda sql: sqlite3.connect(path).execute(sql).fetchone()[0]

    yield use
    shared["NAME"] = memory


def _count(conn, sql):
    with conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_at_once_leave_exactly_the_limit(hall, street, deployed_database):
    """One person sends twenty bookings at the same moment, each for another item or day
    (so that only the limit of open appointments can refuse them): three are booked, on
    SQLite (one writer at a time) and on PostgreSQL (the person's row is locked)."""
    user = street.users.resident
    wanted = [(item, slot) for _day, slot in first_slots(7) for item in ITEMS][:20]
    assert len(wanted) == 20
    clients = [Resident(user) for _ in wanted]
    count = deployed_database()
    start = threading.Barrier(len(wanted))
    answers = [None] * len(wanted)

    def book(index):
        try:
            start.wait()
            item, slot = wanted[index]
            answers[index] = clients[index].book(item, slot).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(wanted))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(answers) == [201] * 3 + [409] * 17
    assert count(f"SELECT COUNT(*) FROM hall_appointment WHERE user_id = {user.pk} AND state = 'booked'") == 3


@pytest.mark.django_db(transaction=True)
def test_ten_residents_booking_the_same_slot_at_once_fill_it_and_no_more(hall, street, deployed_database):
    """Ten residents send a booking for the same slot at the same moment: exactly as many as the
    slot holds are booked (HALL_SLOT_CAPACITY, 4), the others are told it is full."""
    residents = [make_user(f"resident_slot_{i}", "resident") for i in range(10)]
    _day, slot = first_slots(1)[0]
    clients = [Resident(user) for user in residents]
    count = deployed_database()
    start = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def book(index):
        try:
            start.wait()
            answers[index] = clients[index].book(ITEMS[index % len(ITEMS)], slot)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    capacity = services.slot_capacity()
    assert sorted(a.status_code for a in answers) == [201] * capacity + [409] * (len(clients) - capacity)
    assert all("该时段已约满" in a.json()["errors"][0]["message"] for a in answers if a.status_code == 409)
    assert count("SELECT COUNT(*) FROM hall_appointment WHERE state = 'booked'") == capacity
