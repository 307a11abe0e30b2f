"""Reminders that chase (催办提醒): before the response limit, at overdue, before a whistle's
report deadline and, when a summoned unit missed it, the escalation to the street's leaders —
each sent once however often the sweep runs, with its event in the case's timeline."""

import datetime as dt

import pytest
from django.db import transaction

from jiedao.cases import services
from jiedao.cases.models import Case, CaseEvent
from jiedao.cases.reminders import beijing
from jiedao.messaging.models import Notification, OutboxMessage
from tests.factories import WEDNESDAY, make_user

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


def dispatched_case(street, *, respond=False):
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="垃圾桶满了没人清运",
        reporter_phone="13800138000",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        dispatch=True,
        at=WEDNESDAY,
    )
    if respond:
        services.respond(street.users.handler_committee, number=case.number, at=WEDNESDAY + 5 * MIN)
    return Case.objects.get(pk=case.pk)


def sent(case, kind):
    return list(Notification.objects.filter(link=f"/cases/{case.number}/", kind=kind).order_by("id"))


def sweep_often(start, minutes):
    """The sweep once a minute from ``start`` for ``minutes`` minutes."""
    for step in range(minutes):
        services.sweep_deadlines(start + step * MIN)


def test_response_soon_once_before_the_limit(street):
    case = dispatched_case(street)
    due = case.response_due
    services.sweep_deadlines(due - 31 * MIN)
    assert sent(case, "response_soon") == []
    sweep_often(due - 30 * MIN, 10)
    [note] = sent(case, "response_soon")
    assert note.unit == street.units.committee1
    assert case.number in note.message and beijing(due) in note.message
    assert CaseEvent.objects.filter(case=case, action="remind", data__kind="response_soon").count() == 1


def test_no_response_reminder_for_a_responded_case(street):
    case = dispatched_case(street, respond=True)
    sweep_often(case.response_due - 30 * MIN, 5)
    services.sweep_deadlines(case.response_due + MIN)
    assert sent(case, "response_soon") == [] and sent(case, "overdue") == []


def test_overdue_tells_the_unit_and_the_dispatchers_once(street):
    case = dispatched_case(street)
    due = case.response_due
    services.sweep_deadlines(due - MIN)
    assert sent(case, "overdue") == []
    sweep_often(due + MIN, 5)
    notes = sent(case, "overdue")
    assert {n.unit for n in notes if n.unit} == {street.units.committee1}
    assert {n.user for n in notes if n.user} == {street.users.dispatcher}
    assert all(beijing(due) in n.message and case.number in n.message for n in notes)
    # Responded late, the case is chased again when it passes its completion limit, once.
    services.respond(street.users.handler_committee, number=case.number, at=due + 10 * MIN)
    case.refresh_from_db()
    sweep_often(case.completion_due + MIN, 3)
    later = sent(case, "overdue")[len(notes) :]
    assert len(later) == len(notes)
    assert all(beijing(case.completion_due) in n.message for n in later)


def whistled(street, *, hours=2):
    case = dispatched_case(street, respond=True)
    services.blow_whistle(
        street.users.dispatcher,
        number=case.number,
        unit_codes=["ZHZF", "GGFW"],
        report_hours=hours,
        reason="需执法队和公共服务部配合",
        at=WEDNESDAY + 10 * MIN,
    )
    return case, case.whistles.get()


def test_report_soon_reminds_only_the_units_not_reported(street):
    case, whistle = whistled(street)
    services.report_to_whistle(street.users.handler, number=case.number, part="执法队清理", at=WEDNESDAY + 20 * MIN)
    services.sweep_deadlines(whistle.report_due - 61 * MIN)
    assert sent(case, "report_soon") == []
    sweep_often(whistle.report_due - 60 * MIN, 5)
    [note] = sent(case, "report_soon")
    assert note.unit == street.units.service
    assert beijing(whistle.report_due) in note.message


def test_a_missed_report_goes_to_the_leader_once_with_its_event(street, client):
    case, whistle = whistled(street)
    services.report_to_whistle(street.users.handler, number=case.number, part="执法队清理", at=WEDNESDAY + 20 * MIN)
    services.sweep_deadlines(whistle.report_due - MIN)
    assert sent(case, "report_missed") == []
    sweep_often(whistle.report_due + MIN, 5)
    [note] = sent(case, "report_missed")
    assert note.user == street.users.leader
    assert "公共服务部" in note.message and "综合执法队" not in note.message
    [event] = CaseEvent.objects.filter(case=case, action="report_missed")
    assert event.data["units"] == ["GGFW"]
    client.force_login(street.users.leader)
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "吹哨未按时报到" in page


def test_no_escalation_when_every_unit_reported(street):
    case, whistle = whistled(street)
    services.report_to_whistle(street.users.handler, number=case.number, part="执法队清理", at=WEDNESDAY + 20 * MIN)
    service = make_user("handler_ggfw", "handler", unit=street.units.service)
    services.report_to_whistle(service, number=case.number, part="配合清运", at=WEDNESDAY + 30 * MIN)
    sweep_often(whistle.report_due - 60 * MIN, 3)
    services.sweep_deadlines(whistle.report_due + MIN)
    assert sent(case, "report_missed") == [] and sent(case, "report_soon") == []
    assert not CaseEvent.objects.filter(case=case, action="report_missed").exists()


def test_outbox_rows_for_people_with_an_address_in_the_same_transaction(street, settings):
    settings.EMAIL_HOST = "mail.street.example.cn"
    settings.DEFAULT_FROM_EMAIL = "jiedao@street.example.cn"
    for user, address in (
        (street.users.dispatcher, "dispatcher@example.org"),
        (street.users.handler_committee, "jwh@example.org"),
    ):
        user.email = address
        user.save(update_fields=["email"])
    case = dispatched_case(street)
    with transaction.atomic():
        services.sweep_deadlines(case.response_due + MIN)
        queued = list(OutboxMessage.objects.filter(kind="overdue", channel="email"))
        # The unit's member and the dispatcher, each at their address; people without one get no e-mail.
        assert sorted(m.address for m in queued) == ["dispatcher@example.org", "jwh@example.org"]
        assert case.number in queued[0].text
        transaction.set_rollback(True)
    assert not OutboxMessage.objects.filter(kind="overdue").exists()
    assert not CaseEvent.objects.filter(case=case, action="remind").exists()
