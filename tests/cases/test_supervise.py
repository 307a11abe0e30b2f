"""督办 with a reply deadline and the reply it requires: the unit and its head (负责人) are told,
the unit answers, an unanswered 督办 is raised to the leaders once by the sweep, and the
leaders' figures. Also what a unit is told when its return (退单) or extension (延期) is decided."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jiedao.cases import selectors, services
from jiedao.cases.bulk import Routes, write_cases
from jiedao.cases.models import Case, CaseEvent, Supervision
from jiedao.cases.reminders import beijing
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.messaging.models import Notification
from jiedao.org.models import Unit
from tests.cases.lifecycle import HOUR, LAMPS, drive, snapshot
from tests.cases.test_bulk import draft_like_intake
from tests.factories import WEDNESDAY, make_user

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
ISSUED = WEDNESDAY + 3 * HOUR  # after drive(..., "in_progress"): dispatched, responded


def notes_of(case, kind):
    return list(Notification.objects.filter(link=f"/cases/{case.number}/", kind=kind).order_by("id"))


def field_of(error):
    return error.errors[0]["field"], error.errors[0]["message"]


def supervise(street, case, *, due, at=ISSUED, note="请于明日前说明清运安排并答复"):
    return services.supervise(street.users.leader, number=case.number, note=note, due=due, at=at)


# --- issuing a 督办 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "message"),
    [
        (None, "请填写答复时限"),
        ("", "请填写答复时限"),
        ("明天下午", "答复时限格式应为日期和时间"),
        (ISSUED - MIN, "答复时限必须晚于现在"),
        (ISSUED + dt.timedelta(days=30, minutes=1), "答复时限最多为 30 天之后"),
        ("9999-12-31T23:59", "答复时限最多为 30 天之后"),
    ],
)
def test_a_deadline_missing_past_or_too_far_is_refused_and_nothing_is_written(street, due, message):
    case = drive(street, "in_progress")
    before = snapshot(case.number)
    with pytest.raises(ValidationFailed) as refused:
        supervise(street, case, due=due)
    field, text = field_of(refused.value)
    assert field == "due" and message in text
    assert snapshot(case.number) == before
    assert not Supervision.objects.exists() and notes_of(case, "supervise") == []


def test_a_requirement_is_required_and_reported_with_the_deadline(street):
    case = drive(street, "in_progress")
    with pytest.raises(ValidationFailed) as refused:
        supervise(street, case, due=None, note="  ")
    assert {e["field"] for e in refused.value.errors} == {"note", "due"}
    assert not Supervision.objects.exists()


def test_the_unit_and_its_head_are_told_the_deadline_and_the_requirement(street):
    unit = street.units.committee1
    head = make_user("head_jwh", "handler", unit=unit, display_name="张主任")
    Unit.objects.filter(pk=unit.pk).update(head=head)
    case = drive(street, "in_progress")
    due = ISSUED + 20 * HOUR
    case = supervise(street, case, due=due)
    assert case.supervised is True
    [supervision] = Supervision.objects.filter(case=case)
    assert (supervision.due, supervision.unit, supervision.issued_by) == (due, unit, street.users.leader)
    notes = notes_of(case, "supervise")
    assert {(n.unit_id, n.user_id) for n in notes} == {(unit.pk, None), (None, head.pk)}
    for note in notes:
        assert beijing(due) in note.message and "请于明日前说明清运安排并答复" in note.message
    event = CaseEvent.objects.get(case=case, action="supervise")
    assert event.data["due"] == due.isoformat() and event.note == "请于明日前说明清运安排并答复"


def test_a_unit_without_head_is_told_alone(street):
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + HOUR)
    assert [(n.unit, n.user) for n in notes_of(case, "supervise")] == [(street.units.committee1, None)]


def test_a_naive_deadline_is_beijing_time(street):
    case = drive(street, "in_progress")
    supervise(street, case, due="2026-11-19T17:00")  # 17:00 Beijing = 09:00 UTC
    assert Supervision.objects.get(case=case).due == dt.datetime(2026, 11, 19, 9, 0, tzinfo=dt.UTC)


def test_one_supervision_waits_at_a_time(street):
    case = drive(street, "in_progress")
    supervise(street, case, due=ISSUED + HOUR)
    with pytest.raises(InvalidTransition):
        supervise(street, case, due=ISSUED + 2 * HOUR, at=ISSUED + MIN)
    assert Supervision.objects.filter(case=case).count() == 1


# --- the unit's reply --------------------------------------------------------------------------------


def test_the_unit_replies_and_the_issuer_is_told(street):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    with pytest.raises(ValidationFailed) as empty:
        services.reply_to_supervision(u.handler_committee, number=case.number, reply=" ", at=ISSUED + HOUR)
    assert field_of(empty.value) == ("reply", "答复督办请填写答复内容。")
    with pytest.raises(NotAllowed):
        services.reply_to_supervision(u.handler, number=case.number, reply="不是我们的", at=ISSUED + HOUR)
    services.reply_to_supervision(
        u.handler_committee, number=case.number, reply="已增派清运车，明早8点前清完", at=ISSUED + HOUR
    )
    supervision = Supervision.objects.get(case=case)
    assert supervision.reply == "已增派清运车，明早8点前清完" and supervision.replied_by == u.handler_committee
    assert supervision.replied_at == ISSUED + HOUR and not supervision.late
    event = CaseEvent.objects.get(case=case, action="supervise_reply")
    assert event.data["on_time"] is True and event.actor_unit == street.units.committee1
    [told] = notes_of(case, "supervise_reply")
    assert told.user == u.leader and "已增派清运车" in told.message
    with pytest.raises(InvalidTransition):
        services.reply_to_supervision(u.handler_committee, number=case.number, reply="再说一次", at=ISSUED + 2 * HOUR)


def test_the_case_page_offers_the_reply_and_shows_it(street, login):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    client = login(u.handler_committee)
    page = client.get(reverse("cases:case", args=[case.number]))
    assert "supervise_reply" in {f["action"] for f in page.context["action_forms"]}
    url = reverse("cases:action", args=[case.number, "supervise_reply"])
    refused = client.post(url, {"reply": ""})
    assert refused.status_code == 422 and "答复督办请填写答复内容。" in refused.content.decode()
    done = client.post(url, {"reply": "已安排今晚清运"}, follow=True)
    text = done.content.decode()
    assert "已安排今晚清运" in text and "已答复" in text
    assert "supervise_reply" not in {f["action"] for f in done.context["action_forms"]}


def test_the_case_page_refuses_a_supervision_without_deadline_by_field(street, login):
    case = drive(street, "in_progress")
    client = login(street.users.leader)
    url = reverse("cases:action", args=[case.number, "supervise"])
    response = client.post(url, {"note": "请加快", "due": ""})
    assert response.status_code == 422
    assert "请填写答复时限（日期和时间）。" in response.content.decode()
    response = client.post(url, {"note": "请加快", "due": "2020-01-01T09:00"})
    assert response.status_code == 422 and "答复时限必须晚于现在。" in response.content.decode()
    assert not Supervision.objects.exists()


# --- the sweep raises an unanswered 督办 -----------------------------------------------------------


def test_an_unanswered_supervision_is_raised_to_the_leaders_once(street):
    u = street.users
    second_leader = make_user("leader2", "leader")
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 2 * HOUR)
    services.sweep_deadlines(ISSUED + 2 * HOUR - MIN)
    assert notes_of(case, "supervise_overdue") == []
    services.sweep_deadlines(ISSUED + 2 * HOUR + MIN)
    services.sweep_deadlines(ISSUED + 2 * HOUR + 2 * MIN)
    notes = notes_of(case, "supervise_overdue")
    assert {n.user for n in notes} == {u.leader, second_leader} and len(notes) == 2
    assert all(street.units.committee1.name in n.message and "请于明日前说明" in n.message for n in notes)
    assert CaseEvent.objects.filter(case=case, action="supervise_overdue").count() == 1
    assert Supervision.objects.get(case=case).escalated_at == ISSUED + 2 * HOUR + MIN
    # Answered late, it counts as late and is not raised again.
    services.reply_to_supervision(u.handler_committee, number=case.number, reply="已处理", at=ISSUED + 3 * HOUR)
    services.sweep_deadlines(ISSUED + 4 * HOUR)
    assert len(notes_of(case, "supervise_overdue")) == 2
    assert Supervision.objects.get(case=case).late


def test_an_answered_supervision_is_never_raised(street):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 2 * HOUR)
    services.reply_to_supervision(u.handler_committee, number=case.number, reply="已处理", at=ISSUED + HOUR)
    services.sweep_deadlines(ISSUED + 3 * HOUR)
    assert notes_of(case, "supervise_overdue") == []
    assert not CaseEvent.objects.filter(case=case, action="supervise_overdue").exists()


def test_the_overdue_reminder_also_tells_the_unit_head(street):
    unit = street.units.committee1
    head = make_user("head_jwh", "handler", unit=unit)
    Unit.objects.filter(pk=unit.pk).update(head=head)
    case = drive(street, "dispatched")
    services.sweep_deadlines(case.response_due + MIN)
    assert {n.user for n in notes_of(case, "overdue") if n.user} == {street.users.dispatcher, head}


def test_a_head_must_belong_to_the_unit(street):
    unit = street.units.committee1
    unit.head = street.users.handler  # of the enforcement team
    with pytest.raises(ValidationError) as refused:
        unit.full_clean()
    assert "负责人必须是本单位的人员。" in refused.value.message_dict["head"]
    unit.head = street.users.handler_committee
    unit.full_clean()


# --- a return or an extension decided: the unit is told -------------------------------------------


def test_a_return_accepted_tells_the_returning_unit(street):
    case = drive(street, "returned")
    services.dispatch(
        street.users.dispatcher, number=case.number, unit_code="ZHZF", note="确属执法队职责", at=WEDNESDAY + 2 * HOUR
    )
    [told] = notes_of(case, "return_decided")
    assert told.unit == street.units.committee1
    assert "退单已接受" in told.message and "综合执法队" in told.message and "确属执法队职责" in told.message
    assert CaseEvent.objects.get(case=case, action="dispatch", seq__gt=3).data["return_accepted"] is True


def test_a_return_refused_tells_the_unit_with_the_reason(street):
    case = drive(street, "returned")
    services.dispatch(
        street.users.dispatcher,
        number=case.number,
        unit_code="JWH01",
        note="垃圾桶在小区公共区域，属居委会职责",
        at=WEDNESDAY + 2 * HOUR,
    )
    [told] = notes_of(case, "return_decided")
    assert told.unit == street.units.committee1
    assert "退单未被接受" in told.message and "属居委会职责" in told.message
    assert Case.objects.get(pk=case.pk).unit == street.units.committee1


def test_a_dispatch_that_decides_no_return_tells_nothing_of_it(street):
    case = drive(street, "dispatched")
    assert notes_of(case, "return_decided") == []


def test_an_extension_approved_tells_the_unit_the_new_deadline(street):
    u = street.users
    case = drive(street, "in_progress")
    services.request_extension(u.handler_committee, number=case.number, extra_workdays=2, reason="等配件", at=ISSUED)
    services.decide_extension(u.leader, number=case.number, approve=True, note="同意", at=ISSUED + HOUR)
    case.refresh_from_db()
    [told] = notes_of(case, "extension")
    assert told.unit == street.units.committee1
    assert "已批准" in told.message and beijing(case.completion_due) in told.message and "同意" in told.message


def test_an_extension_refused_tells_the_unit_the_reason(street):
    u = street.users
    case = drive(street, "in_progress")
    services.request_extension(u.handler_committee, number=case.number, extra_workdays=2, reason="等配件", at=ISSUED)
    services.decide_extension(u.leader, number=case.number, approve=False, note="配件本地可购", at=ISSUED + HOUR)
    [told] = notes_of(case, "extension")
    assert told.unit == street.units.committee1
    assert "驳回" in told.message and "配件本地可购" in told.message


# --- the leaders' figures and list ---------------------------------------------------------------------


def _four_answered_differently(street):
    """Four 督办 issued at ISSUED (one answered on time, one late, one unanswered past its
    deadline, one unanswered with time left at ISSUED + 10h) and one issued an hour earlier."""
    u = street.users
    reply = services.reply_to_supervision
    on_time = supervise(street, drive(street, "in_progress"), due=ISSUED + 8 * HOUR)
    reply(u.handler_committee, number=on_time.number, reply="清运车已到现场", at=ISSUED + HOUR)
    late = supervise(street, drive(street, "in_progress"), due=ISSUED + HOUR)
    reply(u.handler_committee, number=late.number, reply="已补派两名保洁员", at=ISSUED + 6 * HOUR)
    overdue = supervise(street, drive(street, "in_progress"), due=ISSUED + 2 * HOUR)
    waiting = supervise(street, drive(street, "in_progress"), due=ISSUED + 20 * HOUR)
    earlier = supervise(street, drive(street, "in_progress"), due=ISSUED + HOUR, at=ISSUED - HOUR)
    return on_time, late, overdue, waiting, earlier


def test_the_figures_of_a_period_hand_counted(street):
    u = street.users
    _four_answered_differently(street)
    period = {"start": ISSUED - 30 * MIN, "end": ISSUED + 30 * MIN}
    counts = selectors.supervision_counts(u.leader, **period, now=ISSUED + 10 * HOUR)
    assert (counts.issued, counts.on_time, counts.late, counts.overdue, counts.waiting) == (4, 1, 1, 1, 1)
    # Later, the waiting one is overdue too; earlier, the late one was still waiting.
    assert selectors.supervision_counts(u.leader, **period, now=ISSUED + 21 * HOUR).overdue == 2
    # A unit that holds none of the cases sees none of them.
    assert selectors.supervision_counts(u.handler, **period, now=ISSUED + 10 * HOUR).issued == 0


def test_the_leaders_list_shows_deadline_state_and_reply(street):
    u = street.users
    on_time, late, overdue, waiting, earlier = _four_answered_differently(street)
    rows = selectors.supervision_list(u.leader, start=ISSUED - 30 * MIN, end=ISSUED + 30 * MIN, now=ISSUED + 10 * HOUR)
    states = {row["item"].case.number: row["state"] for row in rows}
    # The earlier one is outside the period but still waits for its reply: listed, as overdue.
    assert states == {
        on_time.number: "answered",
        late.number: "answered",
        overdue.number: "overdue",
        waiting.number: "waiting",
        earlier.number: "overdue",
    }
    # Unanswered first, the earliest deadline first.
    assert [row["item"].case.number for row in rows][:3] == [earlier.number, overdue.number, waiting.number]


def test_the_overview_shows_the_supervisions_and_their_figures(street, login):
    cases = _four_answered_differently(street)
    page = login(street.users.leader).get(reverse("cases:overview"), {"month": "2026-11"})
    text = page.content.decode()
    # Seen now (after November), every unanswered 督办 is past its deadline.
    counts = page.context["supervision_counts"]
    assert (counts.issued, counts.on_time, counts.late, counts.overdue, counts.waiting) == (5, 1, 1, 3, 0)
    assert "督办 5 件：按时答复 1 件，逾期答复 1 件，超期未答复 3 件" in text
    assert text.count('data-supervision="overdue"') == 3 and text.count('data-supervision="answered"') == 2
    assert "data-supervision-overdue" in text  # the overdue/supervised list marks it too
    panel = text[text.index('id="supervisions"') :]
    assert all(case.number in panel for case in cases)
    assert "清运车已到现场" in panel and "已补派两名保洁员" in panel  # the replies themselves


# --- the bulk writer (the demo's year, imported history) writes a 督办 as the service does ----------


def test_a_bulk_written_supervision_is_the_one_the_services_write(street):
    u = street.users
    served = drive(street, "in_progress", category=LAMPS)
    services.supervise(u.leader, number=served.number, note="请说明进度", due=ISSUED + 5 * HOUR, at=ISSUED)
    services.reply_to_supervision(u.handler, number=served.number, reply="明日修复", at=ISSUED + 6 * HOUR)

    draft = draft_like_intake(street)
    draft.dispatch(Routes().decision(draft), at=WEDNESDAY, actor=u.dispatcher)
    draft.respond(at=WEDNESDAY + HOUR, actor=u.handler, note="已电话联系居民")
    draft.supervise(at=ISSUED, actor=u.leader, note="请说明进度", due=ISSUED + 5 * HOUR)
    draft.reply_to_supervision(at=ISSUED + 6 * HOUR, actor=u.handler, reply="明日修复")
    write_cases([draft])

    def supervision_of(case_id):
        s = Supervision.objects.get(case_id=case_id)
        return (s.unit_id, s.issued_by_id, s.issued_at, s.due, s.requirement, s.replied_at, s.replied_by_id, s.reply)

    def supervision_events(case_id):
        rows = CaseEvent.objects.filter(case_id=case_id, action__startswith="supervise").order_by("seq")
        supervision = Supervision.objects.get(case_id=case_id).pk
        assert all(e.data["supervision"] == supervision for e in rows)
        return [(e.action, e.at, e.note, {k: v for k, v in e.data.items() if k != "supervision"}) for e in rows]

    assert supervision_of(draft.id) == supervision_of(served.pk)
    assert supervision_events(draft.id) == supervision_events(served.pk)
    assert Supervision.objects.get(case_id=draft.id).late
