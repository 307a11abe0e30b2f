"""Random sequences of steps on a rectification task (整改指令), by random people (the responsible
unit's handler, another unit's handler, reviewers, administrators, people with no part in it),
at random times, driven through the real services on a fresh task each time. Whatever happens:

- the checks come in the engine's order: an action the lifecycle does not have names the field
  ``action`` (422); a role the permission table does not name is refused (403) whatever the
  state; then a state the table does not start from (409); then a handler of another unit (403);
- a step that goes through starts from one of its sources, ends in its target and adds exactly
  one event; a refused step changes neither the task nor its log (``tests/lifecycle_checks.py``);
- what a task adds: its events are numbered 1, 2, 3 … from the issue; a task waiting for review
  or closed has evidence; a closed task has the time it was accepted, an open one none.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_for_statistics
from hypothesis import strategies as st

from jiedao.common.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from jiedao.common.lifecycle import ANY
from jiedao.evaluation import services
from jiedao.evaluation.models import Rectification
from jiedao.evaluation.rules import RESPONSIBLE_UNIT
from jiedao.evaluation.states import CLOSED, RECTIFICATIONS, SUBMITTED
from jiedao.org import permissions
from tests.lifecycle_checks import check_log, check_step

from .conftest import bj

pytestmark = pytest.mark.django_db

START = bj("2026-11-18 09:30")
PEOPLE = ["handler", "handler_housing", "evaluator", "leader", "admin", "dispatcher", "resident", "anonymous"]
ACTIONS = sorted(RECTIFICATIONS.transitions)
DETAILS = st.fixed_dictionaries(
    {
        "later": st.sampled_from([0, 60, 24 * 60, 5 * 24 * 60]),  # minutes since the last step
        "evidence": st.sampled_from(["", "增加清运班次，回访满意"]),
        "note": st.sampled_from(["", "缺少回访记录"]),
    }
)


def log(task):
    return list(task.events.order_by("seq").values_list("action", "from_status", "to_status"))


def table_allows_person(transition, user, task):
    for role, scope in transition.who:
        if not user.is_authenticated or role not in user.role_codes:
            continue
        if scope == ANY:
            return True
        if scope == RESPONSIBLE_UNIT and user.unit_id and user.unit_id == task.unit_id:
            return True
    return False


def run_task(people, unit, draw):
    """A fresh task for ``unit``, then steps from ``draw(task)`` until it returns None."""
    task = services.issue_rectification(
        people.evaluator, unit=unit, title="满意率偏低", requirement="分析原因并整改", now=START
    )
    at = START
    reached = {task.status}
    while (step := draw(task)) is not None:
        at += dt.timedelta(minutes=step["later"])
        task = Rectification.objects.select_related("unit").get(pk=task.pk)
        user = getattr(people, step["who"], None) or AnonymousUser()
        action = step["action"]
        transition = RECTIFICATIONS.transitions.get(action)
        role_ok = transition is not None and permissions.allows(user, f"evaluation.rectification.{action}")
        state_ok = transition is not None and task.status in transition.sources
        person_ok = transition is not None and table_allows_person(transition, user, task)
        before, events_before = task.status, log(task)
        try:
            services.act_on_rectification(
                user, number=task.number, action=action, evidence=step["evidence"], note=step["note"], now=at
            )
        except DomainError as error:
            went_through = False
            if transition is None:
                assert isinstance(error, ValidationFailed) and error.errors[0]["field"] == "action", (step, error)
            elif not role_ok:
                assert isinstance(error, NotAllowed), (step, error)
            elif not state_ok:
                assert isinstance(error, InvalidTransition), (step, error)
            elif not person_ok:
                assert isinstance(error, NotAllowed), (step, error)
        else:
            went_through = True
            assert role_ok and state_ok and person_ok, step
        task = Rectification.objects.get(pk=task.pk)
        check_step(
            RECTIFICATIONS,
            action,
            went_through=went_through,
            before=before,
            after=task.status,
            events_before=events_before,
            events_after=log(task),
        )
        assert [e.seq for e in task.events.order_by("seq")] == list(range(1, len(log(task)) + 1))
        if task.status in (SUBMITTED, CLOSED):
            assert task.evidence
        assert (task.closed_at is not None) == (task.status == CLOSED)
        reached.add(task.status)
    assert log(task)[0] == ("issue", "", "issued")
    check_log(RECTIFICATIONS, task.status, log(task))
    return reached


def draw_step(data, task):
    """Mostly a step the state allows, by a person the table names; sometimes anything (an
    unknown action too), by anybody."""
    possible = [t.action for t in RECTIFICATIONS.available(task.status)]
    choices = st.sampled_from([*ACTIONS, "fly"])
    if possible:
        choices = st.one_of(st.sampled_from(possible), choices)
    step = {"action": data.draw(choices, label="action"), **data.draw(DETAILS, label="details")}
    transition = RECTIFICATIONS.transitions.get(step["action"])
    if transition and data.draw(st.sampled_from([True, True, True, False]), label="fitting person"):
        role, scope = data.draw(st.sampled_from(transition.who), label="entry")
        step["who"] = role if scope == ANY else "handler"  # the responsible unit's handler
    else:
        step["who"] = data.draw(st.sampled_from(PEOPLE), label="who")
    return step


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data(), length=st.integers(0, 14))
def test_random_steps_never_break_the_rectification_lifecycle(street, evaluator, data, length):
    people = street.users
    people.evaluator = evaluator
    steps = iter(range(length))
    # A fresh task per example: everything the example writes is rolled back afterwards.
    with transaction.atomic():
        reached = run_task(
            people,
            street.units.enforcement,
            lambda task: draw_step(data, task) if next(steps, None) is not None else None,
        )
        transaction.set_rollback(True)
    for status in sorted(reached):
        note_for_statistics(f"reached {status}")


def test_sent_back_once_then_accepted_passes_the_same_checks(street, evaluator):
    people = street.users
    people.evaluator = evaluator
    defaults = {"later": 60, "evidence": "", "note": ""}
    path = iter(
        [
            {**defaults, "action": "accept", "who": "handler"},
            {**defaults, "action": "submit", "who": "handler", "evidence": "增加清运班次"},
            {**defaults, "action": "reject", "who": "leader", "note": "缺少回访记录"},
            {**defaults, "action": "submit", "who": "handler", "evidence": "附回访记录20份"},
            {**defaults, "action": "approve", "who": "evaluator"},
        ]
    )
    reached = run_task(people, street.units.enforcement, lambda task: next(path, None))
    assert reached == {"issued", "in_progress", "submitted", "closed"}
    task = Rectification.objects.get()
    assert task.evidence == "附回访记录20份" and task.closed_at == START + dt.timedelta(minutes=300)


def test_an_administrator_acts_for_any_unit(street, evaluator):
    admin = street.users.admin
    task = services.issue_rectification(
        evaluator, unit=street.units.housing, title="超期", requirement="整改", now=START
    )
    services.act_on_rectification(admin, number=task.number, action="accept", now=START)
    assert Rectification.objects.get(pk=task.pk).status == "in_progress"
