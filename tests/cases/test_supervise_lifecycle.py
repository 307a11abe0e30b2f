"""督办 as a small lifecycle: raised by a rule (overdue by more than a working day, reworked
twice), the unit's reply accepted (认可答复) or returned (退回重答) by a leader or by whoever
issued it, and the figures per unit."""

import datetime as dt

import pytest
from django.urls import reverse

from jiedao.cases import selectors, services
from jiedao.cases.models import Case, CaseEvent, Supervision
from jiedao.cases.reminders import beijing
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.messaging.models import Notification
from jiedao.org.models import Unit
from jiedao.workcal.calendar import SHANGHAI
from tests.cases.lifecycle import HOUR, LAMPS, drive
from tests.factories import WEDNESDAY, make_user

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
ISSUED = WEDNESDAY + 3 * HOUR


def bj(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def notes_of(case, kind):
    return list(Notification.objects.filter(link=f"/cases/{case.number}/", kind=kind).order_by("id"))


def auto_events(case):
    return list(CaseEvent.objects.filter(case=case, action="supervise", actor__isnull=True).order_by("seq"))


def supervise(street, case, *, due, at=ISSUED, by=None):
    by = by or street.users.leader
    return services.supervise(by, number=case.number, note="请说明清运安排", due=due, at=at)


def reply(street, case, text, at):
    return services.reply_to_supervision(street.users.handler_committee, number=case.number, reply=text, at=at)


def decide(user, case, *, accept, at, reason="", due=None):
    return services.decide_supervision(user, number=case.number, accept=accept, reason=reason, due=due, at=at)


def state_of(case, now):
    [row] = selectors.supervisions_of(case, now=now)
    return row["state"]


# --- raised by a rule ------------------------------------------------------------------------------


def test_a_case_overdue_by_more_than_a_working_day_is_supervised_once_by_the_system(street):
    unit = street.units.committee1
    head = make_user("head_jwh", "handler", unit=unit)
    Unit.objects.filter(pk=unit.pk).update(head=head)
    case = drive(street, "in_progress")
    # Due on Friday at 17:00: the weekend does not count, the next working day is Monday.
    Case.objects.filter(pk=case.pk).update(completion_due=bj("2026-11-20T17:00"))
    services.sweep_deadlines(bj("2026-11-22T20:00"))  # Sunday evening: overdue by no working day yet
    services.sweep_deadlines(bj("2026-11-23T16:59"))
    assert auto_events(case) == [] and not Supervision.objects.filter(case=case).exists()
    raised_at = bj("2026-11-23T17:01")
    services.sweep_deadlines(raised_at)
    services.sweep_deadlines(raised_at + MIN)  # the sweep runs again: nothing new
    [event] = auto_events(case)
    assert event.data["rule"] == "overdue"
    [item] = Supervision.objects.filter(case=case)
    assert item.issued_by is None and item.unit == unit and item.due == raised_at + 24 * HOUR
    assert item.requirement == "超期超过1个工作日，系统自动督办：请说明原因和办结时间。"
    assert event.note == item.requirement
    assert Case.objects.get(pk=case.pk).supervised
    told = notes_of(case, "supervise")
    assert {(n.unit_id, n.user_id) for n in told} == {(unit.pk, None), (None, head.pk)}
    assert all(beijing(item.due) in n.message and item.requirement in n.message for n in told)
    # Answered and accepted, the case is still overdue: the rule never raises it again.
    reply(street, case, "配件周二到货，周三前完成", raised_at + HOUR)
    decide(street.users.leader, case, accept=True, at=raised_at + 2 * HOUR)
    services.sweep_deadlines(raised_at + 48 * HOUR)
    assert len(auto_events(case)) == 1 and Supervision.objects.filter(case=case).count() == 1


def test_the_working_days_and_reply_hours_are_settings(street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "SUPERVISE_AUTO_OVERDUE_WORKDAYS": 2, "SUPERVISE_AUTO_REPLY_HOURS": 4}
    case = drive(street, "in_progress")
    Case.objects.filter(pk=case.pk).update(completion_due=bj("2026-11-20T17:00"))
    services.sweep_deadlines(bj("2026-11-23T17:01"))  # one working day: not enough now
    assert auto_events(case) == []
    services.sweep_deadlines(bj("2026-11-24T17:01"))
    [item] = Supervision.objects.filter(case=case)
    assert item.due == bj("2026-11-24T21:01") and "超期超过2个工作日" in item.requirement


def test_a_case_reworked_twice_is_supervised_once_by_the_system(street):
    u = street.users
    case = drive(street, "rating")
    clock = case.updated_at
    for attempt in (1, 2):
        clock += HOUR
        services.rate(u.resident, number=case.number, resolved=False, satisfaction="unsatisfied", at=clock)
        case = Case.objects.get(pk=case.pk)
        assert case.rework_count == attempt
        if attempt == 1:
            services.sweep_deadlines(clock + MIN)  # reworked once: no 督办 yet
            assert auto_events(case) == []
            clock += HOUR
            services.resolve(u.handler_committee, number=case.number, result="再次清运", at=clock)
    services.sweep_deadlines(clock + MIN)
    services.sweep_deadlines(clock + 2 * MIN)
    [event] = auto_events(case)
    assert event.data["rule"] == "rework"
    assert Supervision.objects.get(case=case).requirement == "已重办2次，系统自动督办：请说明原因和整改措施。"
    assert [n.unit for n in notes_of(case, "supervise")] == [street.units.committee1]


def test_no_rule_raises_a_second_while_one_waits_for_its_reply(street):
    case = drive(street, "in_progress")
    Case.objects.filter(pk=case.pk).update(completion_due=bj("2026-11-20T17:00"))
    supervise(street, case, due=bj("2026-11-30T17:00"), at=bj("2026-11-23T09:00"))
    services.sweep_deadlines(bj("2026-11-24T09:00"))
    assert auto_events(case) == [] and Supervision.objects.filter(case=case).count() == 1


# --- accepted or returned -------------------------------------------------------------------------


def test_the_leader_accepts_the_reply_and_the_supervision_is_closed(street):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    with pytest.raises(InvalidTransition):  # nothing replied yet
        decide(u.leader, case, accept=True, at=ISSUED + HOUR)
    reply(street, case, "已增派清运车", ISSUED + HOUR)
    assert state_of(case, ISSUED + 2 * HOUR) == "answered"
    decide(u.leader, case, accept=True, reason="答复清楚", at=ISSUED + 2 * HOUR)
    assert state_of(case, ISSUED + 10 * HOUR) == "accepted"
    event = CaseEvent.objects.get(case=case, action="supervise_accept")
    assert event.actor == u.leader and event.note == "答复清楚" and event.data["reply"] == "已增派清运车"
    with pytest.raises(InvalidTransition):  # accepted once: nothing waits for a decision
        decide(u.leader, case, accept=True, at=ISSUED + 3 * HOUR)


def test_a_return_needs_a_reason_and_a_future_deadline_and_writes_nothing_otherwise(street):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    reply(street, case, "在处理", ISSUED + HOUR)
    before = (
        Supervision.objects.values().get(case=case),
        CaseEvent.objects.filter(case=case).count(),
        len(notes_of(case, "supervise")),
    )
    with pytest.raises(ValidationFailed) as refused:
        decide(u.leader, case, accept=False, reason=" ", due=None, at=ISSUED + 2 * HOUR)
    assert {(e["field"], e["message"]) for e in refused.value.errors} == {
        ("reason", "退回重答必须填写理由。"),
        ("due", "请填写答复时限（日期和时间）。"),
    }
    with pytest.raises(ValidationFailed) as past:
        decide(u.leader, case, accept=False, reason="太笼统", due=ISSUED + HOUR, at=ISSUED + 2 * HOUR)
    assert [(e["field"], e["message"]) for e in past.value.errors] == [("due", "答复时限必须晚于现在。")]
    after = (
        Supervision.objects.values().get(case=case),
        CaseEvent.objects.filter(case=case).count(),
        len(notes_of(case, "supervise")),
    )
    assert after == before


def test_a_returned_reply_waits_again_with_the_new_deadline_and_the_unit_is_told_why(street):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    reply(street, case, "在处理", ISSUED + HOUR)
    new_due = ISSUED + 30 * HOUR
    decide(u.leader, case, accept=False, reason="请写明清运时间", due=new_due, at=ISSUED + 2 * HOUR)
    item = Supervision.objects.get(case=case)
    assert (item.reply, item.replied_at, item.replied_by, item.due) == ("", None, None, new_due)
    assert state_of(case, ISSUED + 3 * HOUR) == "waiting"
    event = CaseEvent.objects.get(case=case, action="supervise_return")
    assert event.note == "请写明清运时间"
    assert (event.data["reply"], event.data["replied_by"]) == ("在处理", u.handler_committee.pk)
    [told] = [n for n in notes_of(case, "supervise") if "退回" in n.message]
    assert told.unit == street.units.committee1
    assert "请写明清运时间" in told.message and beijing(new_due) in told.message
    # The unit replies again (after the first deadline, before the new one): on time.
    reply(street, case, "今晚20点前清运完毕", ISSUED + 6 * HOUR)
    decide(u.leader, case, accept=True, at=ISSUED + 7 * HOUR)
    [row] = selectors.supervisions_of(case, now=ISSUED + 8 * HOUR)
    assert (row["state"], row["returns"], row["item"].late) == ("accepted", 1, False)


def test_who_may_accept_or_return(street):
    u = street.users
    other_dispatcher = make_user("dispatcher2", "dispatcher")
    # Issued by the dispatcher: they and the leaders may decide, not another dispatcher.
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR, by=u.dispatcher)
    reply(street, case, "在处理", ISSUED + HOUR)
    for refused in (u.handler_committee, u.resident, u.operator, other_dispatcher):
        with pytest.raises(NotAllowed):
            decide(refused, case, accept=True, at=ISSUED + 2 * HOUR)
    assert not CaseEvent.objects.filter(case=case, action="supervise_accept").exists()
    decide(u.dispatcher, case, accept=True, at=ISSUED + 2 * HOUR)
    # Issued by the system: only a leader.
    auto = drive(street, "in_progress")
    Case.objects.filter(pk=auto.pk).update(completion_due=bj("2026-11-20T17:00"))
    services.sweep_deadlines(bj("2026-11-23T17:01"))
    reply(street, auto, "已处理", bj("2026-11-23T18:00"))
    with pytest.raises(NotAllowed):
        decide(u.dispatcher, auto, accept=False, reason="不清楚", due=bj("2026-11-25T18:00"), at=bj("2026-11-23T19:00"))
    decide(u.leader, auto, accept=False, reason="不清楚", due=bj("2026-11-25T18:00"), at=bj("2026-11-23T19:00"))


# --- the case page -----------------------------------------------------------------------------------


def test_the_case_page_offers_the_decision_with_errors_by_field(street, login):
    u = street.users
    case = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR, by=u.dispatcher)
    client = login(u.leader)
    offered = {f["action"] for f in client.get(reverse("cases:case", args=[case.number])).context["action_forms"]}
    assert not offered & {"supervise_accept", "supervise_return"}  # nothing replied yet
    reply(street, case, "在处理", ISSUED + HOUR)
    page = client.get(reverse("cases:case", args=[case.number]))
    assert {"supervise_accept", "supervise_return"} <= {f["action"] for f in page.context["action_forms"]}
    text = page.content.decode()
    assert "认可答复" in text and "退回重答" in text and "待认可" in text
    # Another dispatcher, who did not issue it, is offered neither.
    other = make_user("dispatcher2", "dispatcher")
    seen = {f["action"] for f in login(other).get(reverse("cases:case", args=[case.number])).context["action_forms"]}
    assert not seen & {"supervise_accept", "supervise_return"}
    client = login(u.leader)
    url = reverse("cases:action", args=[case.number, "supervise_return"])
    refused = client.post(url, {"reason": "", "due": "明天"})
    body = refused.content.decode()
    assert refused.status_code == 422
    assert "退回重答必须填写理由。" in body and "答复时限格式应为日期和时间" in body
    assert Supervision.objects.get(case=case).reply == "在处理"
    due = (ISSUED + 30 * HOUR).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    # The page works at the real clock: a deadline in the past is refused by field as well.
    late = client.post(url, {"reason": "请写明时间", "due": due})
    assert late.status_code == 422 and "答复时限必须晚于现在。" in late.content.decode()
    accepted = client.post(reverse("cases:action", args=[case.number, "supervise_accept"]), {"reason": ""}, follow=True)
    assert accepted.status_code == 200 and 'data-supervision="accepted"' in accepted.content.decode()
    assert "已认可" in accepted.content.decode()


# --- counted per unit --------------------------------------------------------------------------------


def test_the_figures_per_unit_hand_counted(street):
    u = street.users
    committee, team = street.units.committee1, street.units.enforcement
    # The community committee: on time and accepted; late; returned once then accepted;
    # unanswered past its deadline.
    on_time = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    reply(street, on_time, "已清运", ISSUED + HOUR)
    decide(u.leader, on_time, accept=True, at=ISSUED + 2 * HOUR)
    late = supervise(street, drive(street, "in_progress"), due=ISSUED + HOUR)
    reply(street, late, "已清运", ISSUED + 3 * HOUR)
    returned = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    reply(street, returned, "在处理", ISSUED + HOUR)
    decide(u.leader, returned, accept=False, reason="太笼统", due=ISSUED + 8 * HOUR, at=ISSUED + 2 * HOUR)
    reply(street, returned, "今晚清运", ISSUED + 4 * HOUR)
    decide(u.leader, returned, accept=True, at=ISSUED + 5 * HOUR)
    supervise(street, drive(street, "in_progress"), due=ISSUED + 2 * HOUR)
    # The enforcement team: one waiting with time left, one returned and waiting again.
    lamps = supervise(street, drive(street, "in_progress", category=LAMPS), due=ISSUED + 20 * HOUR)
    lamps_returned = supervise(street, drive(street, "in_progress", category=LAMPS), due=ISSUED + 5 * HOUR)
    services.reply_to_supervision(u.handler, number=lamps_returned.number, reply="明日修复", at=ISSUED + HOUR)
    decide(u.leader, lamps_returned, accept=False, reason="请写明时间", due=ISSUED + 20 * HOUR, at=ISSUED + 2 * HOUR)
    # Issued before the period: not counted.
    supervise(street, drive(street, "in_progress"), due=ISSUED + HOUR, at=ISSUED - 2 * HOUR)
    assert lamps.unit == team

    rows = selectors.supervision_by_unit(u.leader, start=ISSUED - HOUR, end=ISSUED + HOUR, now=ISSUED + 10 * HOUR)
    figures = {r.unit_name: (r.received, r.on_time, r.late, r.unanswered, r.returned, r.accepted) for r in rows}
    assert figures == {committee.name: (4, 2, 1, 1, 1, 2), team.name: (2, 0, 0, 0, 1, 0)}
    assert [r.unit_name for r in rows] == [committee.name, team.name]  # most received first
    # A unit's handler sees the 督办 of its own cases only.
    mine = selectors.supervision_by_unit(u.handler, start=ISSUED - HOUR, end=ISSUED + HOUR, now=ISSUED + 10 * HOUR)
    assert [(r.unit_name, r.received) for r in mine] == [(team.name, 2)]


def test_the_overview_shows_the_table_per_unit(street, login):
    on_time = supervise(street, drive(street, "in_progress"), due=ISSUED + 5 * HOUR)
    reply(street, on_time, "已清运", ISSUED + HOUR)
    supervise(street, drive(street, "in_progress"), due=ISSUED + 2 * HOUR)
    page = login(street.users.leader).get(reverse("cases:overview"), {"month": "2026-11"})
    text = page.content.decode()
    table = text[text.index("data-supervision-units") :]
    row = table[table.index(f'data-unit="{street.units.committee1.name}"') :]
    cells = [c.split("<")[0] for c in row.split("<td>")[2:8]]
    assert cells == ["2", "1", "0", "1", "0", "0"]
    assert "各单位督办情况" in text
