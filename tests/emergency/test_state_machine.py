"""Random sequences of steps on an emergency, by random people (the command centre, field staff,
operators, residents, someone not signed in), at random times, driven through the real services
on a fresh emergency each time. Whatever happens:

- the checks come in the engine's order: an action the lifecycle does not have names the field
  ``action`` (422); a role the permission table does not name is refused (403) whatever the
  state; then a state the table does not start from (409);
- a step that goes through starts from one of its sources, ends in its target and adds exactly
  one event; a refused step changes neither the emergency nor its timeline
  (``tests/lifecycle_checks.py``);
- what an emergency adds: each step stamps its own time field with the moment it was taken
  and no other, every time field that is set is one of a step that was taken, no step is
  taken before the report, and the units engaged are the units the steps named.
"""

import datetime as dt

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_for_statistics
from hypothesis import strategies as st

from jiedao.common.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from jiedao.emergency import services
from jiedao.emergency.models import Emergency, Status
from jiedao.emergency.states import EMERGENCIES
from jiedao.org import permissions
from tests.lifecycle_checks import check_log, check_step

from .conftest import NOW

PEOPLE = ["leader", "dispatcher", "admin", "operator", "handler", "grid", "resident", "anonymous"]
ACTIONS = sorted(EMERGENCIES.transitions)
STAMPS = {stamp for t in EMERGENCIES.transitions.values() for stamp in t.stamps}
DETAILS = st.fixed_dictionaries(
    {
        "later": st.sampled_from([0, 3, 12, 45, 6 * 60]),  # minutes since the last step
        "early": st.sampled_from([False, False, False, True]),  # a time before the report
        "note": st.sampled_from(["", "现场已处置，道路恢复通行"]),
        "units": st.sampled_from([[], [], ["ZHZF"], ["ZHZF", "GGFW"], ["NOPE"]]),
    }
)


def log(emergency):
    return list(emergency.events.order_by("at", "id").values_list("action", "from_status", "to_status"))


def stamps_of(emergency):
    return {stamp: getattr(emergency, stamp) for stamp in STAMPS}


def run_emergency(street, draw):
    """A fresh emergency, then steps from ``draw(emergency)`` until it returns None."""
    emergency = services.report_emergency(
        street.users.dispatcher, title="东湖路积水", kind="flood", level="4", lat=39.905, lng=116.405, at=NOW
    )
    at = NOW
    reached, engaged = {emergency.status}, set()
    while (step := draw(emergency)) is not None:
        at += dt.timedelta(minutes=step["later"])
        when = NOW - dt.timedelta(minutes=1) if step["early"] else at
        emergency = Emergency.objects.get(pk=emergency.pk)
        user = getattr(street.users, step["who"], None) or AnonymousUser()
        action = step["action"]
        known = action in EMERGENCIES.transitions
        role_ok = known and permissions.allows(user, f"emergency.step.{action}")
        state_ok = known and emergency.status in EMERGENCIES.transitions[action].sources
        before, events_before, stamps_before = emergency.status, log(emergency), stamps_of(emergency)
        try:
            services.transition(
                user, number=emergency.number, action=action, note=step["note"], unit_codes=step["units"], at=when
            )
        except DomainError as error:
            went_through = False
            if not known:
                assert isinstance(error, ValidationFailed) and error.errors[0]["field"] == "action", (step, error)
            elif not role_ok:
                assert isinstance(error, NotAllowed), (step, error)
            elif not state_ok:
                assert isinstance(error, InvalidTransition), (step, error)
        else:
            went_through = True
            assert role_ok and state_ok and not step["early"], step
            engaged |= set(step["units"])
        emergency = Emergency.objects.get(pk=emergency.pk)
        check_step(
            EMERGENCIES,
            action,
            went_through=went_through,
            before=before,
            after=emergency.status,
            events_before=events_before,
            events_after=log(emergency),
        )
        stamped = set(EMERGENCIES.transitions[action].stamps) if went_through else set()
        for stamp, value in stamps_of(emergency).items():
            assert value == (when if stamp in stamped else stamps_before[stamp]), (step, stamp)
        reached.add(emergency.status)
    assert emergency.status in Status.values
    taken = {e[0] for e in log(emergency)}
    for stamp, value in stamps_of(emergency).items():
        if value is not None:
            assert value >= emergency.reported_at
            assert any(stamp in EMERGENCIES.transitions[a].stamps for a in taken if a in EMERGENCIES.transitions)
    assert set(emergency.units.values_list("code", flat=True)) == engaged
    check_log(EMERGENCIES, emergency.status, log(emergency))
    return reached


def draw_step(data, emergency):
    """Mostly a step the state allows, by a person the permission table names for it;
    sometimes anything (an unknown action too), by anybody."""
    possible = [t.action for t in EMERGENCIES.available(emergency.status)]
    choices = st.sampled_from([*ACTIONS, "fly"])
    if possible:
        choices = st.one_of(st.sampled_from(possible), choices)
    step = {"action": data.draw(choices, label="action"), **data.draw(DETAILS, label="details")}
    transition = EMERGENCIES.transitions.get(step["action"])
    if transition and data.draw(st.sampled_from([True, True, True, False]), label="fitting person"):
        step["who"] = data.draw(st.sampled_from(sorted(transition.roles)), label="who")
    else:
        step["who"] = data.draw(st.sampled_from(PEOPLE), label="who")
    return step


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data(), length=st.integers(0, 16))
def test_random_steps_never_break_the_emergency_lifecycle(street, data, length):
    steps = iter(range(length))
    # A fresh emergency per example: everything the example writes is rolled back afterwards.
    with transaction.atomic():
        reached = run_emergency(street, lambda e: draw_step(data, e) if next(steps, None) is not None else None)
        transaction.set_rollback(True)
    for status in sorted(reached):
        note_for_statistics(f"reached {status}")


def test_the_whole_timeline_passes_the_same_checks(street):
    defaults = {"later": 10, "early": False, "note": "已处置", "units": []}
    path = iter(
        [
            {**defaults, "action": "dispatch", "who": "dispatcher"},
            {**defaults, "action": "arrive", "who": "grid"},
            {**defaults, "action": "engage", "who": "leader", "units": ["ZHZF"]},
            {**defaults, "action": "recover", "who": "dispatcher"},
            {**defaults, "action": "close", "who": "admin"},
        ]
    )
    reached = run_emergency(street, lambda e: next(path, None))
    assert reached == {
        Status.REPORTED,
        Status.DISPATCHED,
        Status.ARRIVED,
        Status.ENGAGED,
        Status.RECOVERED,
        Status.CLOSED,
    }
