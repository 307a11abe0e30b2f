"""Random sequences of actions, by random people, at random times, driven through the
real services on a fresh case each time. Whatever happens:

- what every lifecycle keeps (``tests/lifecycle_checks.py``, after each step and at the end):
  a refused action changes neither the status nor the log; one that goes through starts from
  one of its source states, ends in one of its targets and adds exactly its event; the log
  chains from state to state and ends in the case's status;
- a refused action changes nothing at all of the case, and is refused in the engine's order:
  a role the permission table does not name (or a phone that is not the reporter's) 403, then
  a state the table does not allow 409, then a person the row does not name 403;
- the case's status is always one of ``Status``;
- replaying the event log gives back the case: sequence numbers run 1, 2, 3 …, and unit,
  deadline and the return, rework and extension counts follow from the events' data.
"""

import datetime as dt

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_for_statistics
from hypothesis import strategies as st

from jiedao.cases import services, states
from jiedao.cases.models import Case, CaseEvent, Status, WhistleSummons
from jiedao.common.errors import DomainError, InvalidTransition, NotAllowed
from jiedao.org import permissions
from tests.cases.lifecycle import LAMPS, SANITATION, snapshot
from tests.factories import WEDNESDAY
from tests.lifecycle_checks import check_log, check_step
from tests.uploads import png_bytes, upload

CASE = states.CASE

USERS = [
    "admin",
    "operator",
    "dispatcher",
    "leader",
    "handler",
    "handler_housing",
    "handler_committee",
    "grid",
    "grid_other",
    "resident",
    "resident_other",
    None,
]
HANDLER_OF = {"JWH01": "handler_committee", "ZHZF": "handler", "ZJ": "handler_housing"}
ACTIONS = [*sorted(states.TRANSITIONS), "sweep"]

# Everything a step needs besides the action and the person.
DETAILS = st.fixed_dictionaries(
    {
        "later": st.sampled_from([0, 10, 90, 6 * 60, 30 * 60, 4 * 24 * 60]),  # minutes since the last step
        "note": st.sampled_from(["", "已到现场查看，正在处理"]),
        "category": st.sampled_from([SANITATION, LAMPS, "0101", "999999"]),
        "unit": st.sampled_from([None, None, "ZHZF", "ZJ", "JWH01", "NOPE"]),
        "extra": st.sampled_from([2, 0, 31]),
        "units": st.sampled_from([["ZHZF", "ZJ"], ["JWH01"], [], ["NOPE"]]),
        "resolved": st.booleans(),
        "satisfaction": st.sampled_from(["satisfied", "basic", "unsatisfied", "great"]),
        "phone": st.sampled_from([None, None, "13800138000", "13900000000"]),
        "master": st.sampled_from(["other", "self"]),
        "kind": st.sampled_from(["opinion", "mass", "", "riot"]),
    }
)


def fitting_user(actor, case):
    """A person who fits one (role, scope) entry of the table for this case (or None)."""
    role, scope = actor
    if scope == states.ANY:
        return role
    if scope == states.OWN_UNIT:
        return HANDLER_OF.get(case.unit.code) if case.unit_id else None
    if scope == states.SUMMONED:
        summoned = WhistleSummons.objects.filter(whistle__case=case).values_list("unit__code", flat=True).first()
        return HANDLER_OF.get(summoned)
    if scope == states.OWN_REPORT:
        return "resident"
    if scope == states.OWN_GRID:
        return "grid"
    return None


def draw_step(data, case):
    """Mostly an action the case's state allows, by a person the table names; sometimes
    anything at all, by anybody."""
    # Merging and closing end the case, so they are left to the "anything" branch.
    possible = sorted(
        a for a, t in states.TRANSITIONS.items() if case.status in t.sources and a not in ("merge", "close")
    )
    moving = [a for a in possible if states.TRANSITIONS[a].target is not None]
    choices = st.sampled_from(ACTIONS)
    if possible:
        choices = st.one_of(st.sampled_from(moving or possible), st.sampled_from(possible), choices)
    action = data.draw(choices, label="action")
    step = {"action": action, **data.draw(DETAILS, label="details")}
    if action != "sweep" and data.draw(st.sampled_from([True, True, True, False]), label="fitting person"):
        entry = data.draw(st.sampled_from(states.TRANSITIONS[action].who), label="actor entry")
        step["user"] = fitting_user(entry, case)
        if entry[1] == states.PUBLIC:
            step["phone"] = "13800138000"
    else:
        step["user"] = data.draw(st.sampled_from(USERS), label="user")
    return step


def take(step, u, case, master, at):
    """Call the service for one step."""
    user = getattr(u, step["user"]) if step["user"] else None
    n, note, action = case.number, step["note"], step["action"]
    if action == "classify":
        return services.classify(user, number=n, category_code=step["category"], at=at)
    if action == "dispatch":
        return services.dispatch(user, number=n, unit_code=step["unit"], note=note, at=at)
    if action == "return":
        return services.return_case(user, number=n, reason=note, at=at)
    if action == "respond":
        return services.respond(user, number=n, note=note, at=at)
    if action == "note":
        return services.add_note(user, number=n, note=note, at=at)
    if action == "request_extension":
        return services.request_extension(user, number=n, extra_workdays=step["extra"], reason=note, at=at)
    if action in ("approve_extension", "refuse_extension"):
        return services.decide_extension(user, number=n, approve=action == "approve_extension", note=note, at=at)
    if action == "whistle":
        return services.blow_whistle(user, number=n, unit_codes=step["units"], report_hours=4, reason=note, at=at)
    if action == "report":
        return services.report_to_whistle(user, number=n, part=note, at=at)
    if action == "resolve":
        return services.resolve(user, number=n, result=note, at=at)
    if action in ("verify_pass", "verify_fail"):
        # Not on site (no photo, no position): the note stands as the reason, when there is one.
        return services.verify(user, number=n, passed=action == "verify_pass", note=note, reason=note, at=at)
    if action == "rate":
        return services.rate(
            user, number=n, resolved=step["resolved"], satisfaction=step["satisfaction"], phone=step["phone"], at=at
        )
    if action == "close":
        return services.close(user, number=n, note=note, at=at)
    if action == "merge":
        return services.merge(
            user, number=n, master_number=master.number if step["master"] == "other" else n, note=note, at=at
        )
    if action == "supervise":
        return services.supervise(user, number=n, note=note, due=at + dt.timedelta(days=1), at=at)
    if action == "supervise_reply":
        return services.reply_to_supervision(user, number=n, reply=note, at=at)
    if action in ("supervise_accept", "supervise_return"):
        accept = action == "supervise_accept"
        return services.decide_supervision(
            user, number=n, accept=accept, reason=note, due=at + dt.timedelta(hours=1), at=at
        )
    if action == "unreached":
        return services.callback_unreached(user, number=n, note=note, at=at)
    if action == "inform":
        return services.inform(user, number=n, note=note, at=at)
    if action == "flag":
        return services.flag(user, number=n, kind=step["kind"], note=note, at=at)
    if action in ("answer", "advise"):
        outcome = "answered" if action == "answer" else "advised"
        return services.settle(user, number=n, outcome=outcome, answer=note, at=at)
    if action == "void":
        return services.settle(user, number=n, outcome="voided", void_reason="silent", answer=note, at=at)
    if action == "self_resolve":
        return services.self_resolve(user, number=n, result=note, photos=[upload(png_bytes(), "done.png")], at=at)
    raise AssertionError(action)


def table_allows_person(step, u, case):
    """Whether the transition table names this person for the action on this case (read
    from the table's data, with each scope checked here on its own)."""
    transition = states.TRANSITIONS[step["action"]]
    user = getattr(u, step["user"]) if step["user"] else None
    if step["action"] == "rate" and step["phone"] not in (None, "13800138000"):
        return False  # a phone that is not the reporter's proves nothing, whoever gives it
    for role, scope in transition.who:
        if scope == states.PUBLIC:
            if step["phone"] == "13800138000":
                return True
            continue
        if user is None or role not in user.role_codes:
            continue
        if scope == states.ANY:
            return True
        if scope == states.OWN_UNIT and user.unit_id and user.unit_id == case.unit_id:
            return True
        if (
            scope == states.SUMMONED
            and user.unit_id
            and WhistleSummons.objects.filter(whistle__case=case, unit_id=user.unit_id).exists()
        ):
            return True
        if scope == states.OWN_REPORT and case.reporter_id == user.pk:
            return True
        if scope == states.OWN_GRID and (case.grid_id is None or case.grid_id in {g.pk for g in user.grids.all()}):
            return True
    return False


def expected_refusal(step, u, case, state_ok, person_ok):
    """The answer the engine's order gives a step that cannot go through, or None when the
    step passes those checks (and may still break a rule of its own: a field, a window)."""
    user = getattr(u, step["user"]) if step["user"] else None
    action = step["action"]
    if step["action"] == "rate" and step["phone"] is not None:
        if step["phone"] != "13800138000":
            return NotAllowed  # a phone that is not the reporter's proves nothing
    elif not permissions.allows(user, f"case.{action}"):
        return NotAllowed  # the role table, before the case is looked up
    if not state_ok:
        return InvalidTransition
    if not person_ok:
        return NotAllowed
    return None


def log_of(case):
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "from_status", "to_status"))


def replay(case):
    """Rebuild what the event log says about the case and compare it with the case."""
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    check_log(CASE, case.status, [(e.action, e.from_status, e.to_status) for e in events])
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert (events[0].action, events[0].from_status, events[0].to_status) == ("create", "", Status.NEW)
    status, unit, due = Status.NEW, None, None
    returns = reworks = extensions = 0
    supervised = False
    supervisions = replies = 0
    sensitive = ""
    for event in events:
        assert event.from_status == (status if event.seq > 1 else "")
        status = event.to_status
        assert status in Status.values
        if event.action == "dispatch":
            unit, due = event.data["unit"], event.data["completion_due"]
        elif event.action == "return":
            unit = None
            returns += 1
        elif event.action == "approve_extension":
            extensions += 1
            due = event.data["completion_due"]
        elif event.action == "rate" and event.data["reopen"]:
            reworks += 1
            due = event.data["completion_due"]
        elif event.action == "supervise":
            supervised = True
            supervisions += 1
        elif event.action == "supervise_reply":
            replies += 1
        elif event.action == "supervise_return":
            replies -= 1  # the returned reply is cleared from its 督办, kept in the event
        elif event.action == "flag":
            assert event.data["from"] == sensitive
            sensitive = event.data["to"]
        # Every event names the unit holding the case after it.
        assert (event.unit.code if event.unit_id else None) == unit, event.action
    assert status == case.status
    assert sensitive == case.sensitive
    assert unit == (case.unit.code if case.unit_id else None)
    assert due == (case.completion_due.isoformat() if case.completion_due else None)
    assert (returns, reworks, extensions, supervised) == (
        case.return_count,
        case.rework_count,
        case.extension_count,
        case.supervised,
    )
    # Each 督办 and each answer to one is a row of its own and an event.
    assert (supervisions, replies) == (
        case.supervisions.count(),
        case.supervisions.filter(replied_at__isnull=False).count(),
    )


def run_case(street, next_step, category):
    """A fresh case, then steps from ``next_step(case)`` until it returns None."""
    u = street.users
    at = WEDNESDAY
    case, _ = services.submit_case(
        u.resident,
        channel="portal",
        description="路灯不亮，夜里很黑",
        lat=39.905,
        lng=116.405,
        category_code=category or "",
        at=at,
    )
    master, _ = services.submit_case(
        u.operator, channel="12345", description="同一路段路灯不亮", reporter_phone="13700137000", at=at
    )
    replay(case)
    reached = {case.status}
    while (step := next_step(case)) is not None:
        at += dt.timedelta(minutes=step["later"])
        case = Case.objects.select_related("unit").get(pk=case.pk)
        if step["action"] == "sweep":
            services.sweep_deadlines(at)
            case = Case.objects.get(pk=case.pk)
            replay(case)
            continue
        transition = states.TRANSITIONS[step["action"]]
        state_ok = case.status in transition.sources
        person_ok = table_allows_person(step, u, case)
        refusal = expected_refusal(step, u, case, state_ok, person_ok)
        before, events_before = snapshot(case.number), log_of(case)
        went_through = True
        try:
            take(step, u, case, master, at)
        except DomainError as error:
            went_through = False
            # Refused: nothing changed, and the answer is the one of the engine's order.
            assert snapshot(case.number) == before, (step, error)
            if refusal is not None:
                assert type(error) is refusal, (step, error)
        else:
            assert refusal is None, step
        after = Case.objects.get(pk=case.pk)
        check_step(
            CASE,
            step["action"],
            went_through=went_through,
            before=case.status,
            after=after.status,
            events_before=events_before,
            events_after=log_of(after),
        )
        if went_through:
            new_events = [action for action, _from, _to in log_of(after)[len(events_before) :]]
            assert new_events == [step["action"]], (step, new_events)
        case = after
        assert case.status in Status.values
        replay(case)
        reached.add(case.status)
    return reached


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data(), category=st.sampled_from([SANITATION, LAMPS, None]), length=st.integers(0, 40))
def test_random_action_sequences_never_break_the_lifecycle(street, data, category, length):
    steps = iter(range(length))
    # A fresh case per example: everything the example writes is rolled back afterwards.
    with transaction.atomic():
        reached = run_case(
            street, lambda case: draw_step(data, case) if next(steps, None) is not None else None, category
        )
        transaction.set_rollback(True)
    for status in sorted(reached):
        note_for_statistics(f"reached {status}")


LOOP = [
    {"action": "dispatch", "user": "dispatcher"},
    {"action": "respond", "user": "handler_committee"},
    {"action": "resolve", "user": "handler_committee", "note": "已处理"},
    {"action": "rate", "user": "resident", "resolved": False, "satisfaction": "unsatisfied"},
    {"action": "resolve", "user": "handler_committee", "note": "再次处理"},
    {"action": "rate", "user": "resident", "resolved": True, "satisfaction": "satisfied"},
]


def test_the_ordinary_loop_passes_the_same_checks(street):
    """The happy path with one rework, through the same checks as the random sequences."""
    defaults = {
        "later": 60,
        "note": "",
        "category": SANITATION,
        "unit": None,
        "extra": 2,
        "units": [],
        "resolved": True,
        "satisfaction": "satisfied",
        "phone": None,
        "master": "other",
    }
    steps = iter([{**defaults, **step} for step in LOOP])
    reached = run_case(street, lambda case: next(steps, None), SANITATION)
    assert reached == {Status.NEW, Status.DISPATCHED, Status.IN_PROGRESS, Status.RATING, Status.CLOSED}
    case = Case.objects.get(description="路灯不亮，夜里很黑")
    assert case.status == Status.CLOSED and case.rework_count == 1
