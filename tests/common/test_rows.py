"""Rows made ready before the transaction (``rows.prepare``) and inserted in it
(``rows.insert_prepared``): the same row as ``insert`` writes, with the late fields read when
inserted and everything else as it was when prepared."""

import datetime as dt

import pytest
from django.db import connection, transaction

from jiedao.cases.models import Case, CaseEvent, Channel, Status
from jiedao.common import rows
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db


def new_case(street, phone="13812345678"):
    return Case(
        channel=Channel.HOTLINE_12345,
        status=Status.NEW,
        description="东湖小区北门的路灯坏了三天",
        reporter_phone=phone,
        street_id=street.street.pk,
        created_at=WEDNESDAY,
    )


def event(case, action, seq):
    return CaseEvent(case=case, seq=seq, at=WEDNESDAY, action=action, from_status="", to_status=Status.NEW, data={})


def stored_phone(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_prepared_case_and_its_events_are_written_with_the_late_number_and_key(street):
    case = new_case(street)
    events = [event(case, "create", 1), event(case, "dispatch", 2)]
    ready_case = rows.prepare([case], late=("number",))
    ready_events = rows.prepare(events, late=("case_id",))
    with transaction.atomic():
        case.number = "JD2026111800001"
        rows.insert_prepared(ready_case)
        rows.insert_prepared(ready_events)
    stored = Case.objects.get(pk=case.pk)
    assert stored.number == "JD2026111800001"
    assert stored.reporter_phone == "13812345678"
    assert "13812345678" not in str(stored_phone(case.pk))  # encrypted when prepared
    assert list(CaseEvent.objects.filter(case=stored).order_by("seq").values_list("action", flat=True)) == [
        "create",
        "dispatch",
    ]
    assert all(e.pk is not None for e in events)


def test_what_is_not_late_is_written_as_it_was_when_prepared(street):
    case = new_case(street, phone="13812345678")
    ready = rows.prepare([case], late=("number",))
    case.reporter_phone = "13987654321"  # changed after preparing: not what is written
    case.number = "JD2026111800002"
    rows.insert_prepared(ready)
    assert Case.objects.get(pk=case.pk).reporter_phone == "13812345678"


def test_a_prepared_row_and_an_inserted_one_are_the_same_row(street):
    prepared, inserted = new_case(street), new_case(street)
    prepared.number, inserted.number = "JD2026111800003", "JD2026111800004"
    rows.insert_prepared(rows.prepare([prepared]))
    rows.insert([inserted])
    fields = [f.attname for f in Case._meta.concrete_fields if f.attname not in ("id", "number", "updated_at")]
    a, b = Case.objects.filter(pk__in=[prepared.pk, inserted.pk]).order_by("number").values(*fields)
    assert a == b


def test_an_unsaved_related_row_is_refused_unless_its_key_is_late(street):
    case = new_case(street)
    with pytest.raises(ValueError, match="unsaved related object 'case'"):
        rows.prepare([event(case, "create", 1)])
    ready = rows.prepare([event(case, "create", 1)], late=("case_id",))
    with pytest.raises(ValueError, match="unsaved related object 'case'"):
        rows.insert_prepared(ready)  # the case was never inserted


def test_times_are_stored_as_django_stores_them(street):
    """An aware time of any zone goes to the database as ``Model.save`` sends it (on SQLite the
    text of the UTC time), so look-ups by time find rows written either way."""
    beijing = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 11, 18, 9, 30, 15, 123456, tzinfo=beijing)
    written, saved = new_case(street), new_case(street)
    written.number, saved.number = "JD2026111800005", "JD2026111800006"
    written.created_at = saved.created_at = written.dispatched_at = saved.dispatched_at = at
    rows.insert([written])
    saved.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT created_at, dispatched_at FROM cases_case WHERE id IN (%s, %s) ORDER BY number",
            [written.pk, saved.pk],
        )
        first, second = cursor.fetchall()
    assert first == second
    assert Case.objects.filter(created_at=at).count() == 2
