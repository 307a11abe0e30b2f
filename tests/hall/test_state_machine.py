"""Random sequences of actions on an application, by random people (the window, the approving
unit, another unit, leaders, the applicant, another resident, someone holding the rating link,
someone without it), at random times, driven through the real services on a fresh
application each time. Whatever happens:

- the checks come in the engine's order: a role the permission table does not name is refused
  (403) whatever the state; then a state the table does not start from (409); then a person
  the table does not name for this application (403);
- a step that goes through starts from one of its sources, ends in one of its targets and adds
  exactly one event; a refused step changes neither the application nor its log
  (``tests/lifecycle_checks.py``);
- what the hall adds: an application is rated at most once, and with exactly one ``rate``
  event; nothing is approved while a material is missing; decided, issued and accepted
  applications carry the time of that step; the visits never go down.
"""

import datetime as dt

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_for_statistics
from hypothesis import strategies as st

from jiedao.common.errors import DomainError, InvalidTransition, NotAllowed
from jiedao.common.lifecycle import ANY, PUBLIC
from jiedao.hall import services
from jiedao.hall.models import Application, MaterialStatus, Rating, Status
from jiedao.hall.rules import APPLICANT, OWN_UNIT
from jiedao.hall.states import APPLICATIONS
from jiedao.org import permissions
from tests.factories import make_user
from tests.lifecycle_checks import check_log, check_step

from .conftest import NOW, materials

APPLICANT_DATA = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}
PEOPLE = [
    "operator",
    "admin",
    "leader",
    "dispatcher",
    "approver",  # a handler of the unit that approves the item
    "handler",  # a handler of another unit
    "resident",
    "resident_other",
    "link",  # not signed in, holding the application's rating link
    "anonymous",  # not signed in, without the link (or with a forged one)
]
ACTIONS = sorted(APPLICATIONS.transitions)
DETAILS = st.fixed_dictionaries(
    {
        "later": st.sampled_from([0, 10, 90, 24 * 60]),  # minutes since the last step
        "note": st.sampled_from(["", "材料齐全，同意办理"]),
        "at_window": st.booleans(),
        "delivery": st.sampled_from(["on_the_spot", "window", "post", "by_drone"]),
        "level": st.sampled_from([5, 3, 1, "x"]),
        "material": st.sampled_from(["photo", "id_card"]),
    }
)


def person(people, name):
    return getattr(people, name) if hasattr(people, name) else AnonymousUser()


def table_allows_person(transition, user, app, token_valid):
    """Whether the table names this person for the action on this application, each scope
    checked here on its own."""
    for role, scope in transition.who:
        if scope == PUBLIC:
            if token_valid:
                return True
            continue
        if not user.is_authenticated or role not in user.role_codes:
            continue
        if scope == ANY:
            return True
        if scope == OWN_UNIT and user.unit_id and user.unit_id == app.unit_id:
            return True
        if scope == APPLICANT and app.applicant_user_id == user.pk:
            return True
    return False


def take(step, user, app, photo_id, id_card_id, at):
    n, note = app.number, step["note"]
    action = step["action"]
    token = step["token"]
    if action == "accept":
        return services.accept(user, number=n, now=at)
    if action == "refuse":
        return services.refuse(user, number=n, note=note, now=at)
    if action == "supply":
        material = photo_id if step["material"] == "photo" else id_card_id
        return services.supply(user, number=n, material_id=material, at_window=step["at_window"], now=at)
    if action == "approve":
        return services.approve(user, number=n, note=note, now=at)
    if action == "reject":
        return services.reject(user, number=n, note=note, now=at)
    if action == "issue":
        return services.issue(user, number=n, delivery=step["delivery"], now=at)
    if action == "rate":
        return services.rate(
            user, number=n, level=step["level"], channel="sms" if token else "portal", token=token, now=at
        )
    raise AssertionError(action)


def log(app):
    return list(app.events.order_by("at", "id").values_list("action", "from_status", "to_status"))


def check_application(app, visits_before):
    assert app.status in Status.values
    ratings = Rating.objects.filter(application=app).count()
    assert ratings <= 1
    assert app.events.filter(action="rate").count() == ratings
    if app.status in (Status.APPROVED, Status.ISSUED):
        assert not app.materials.filter(status=MaterialStatus.MISSING).exists()
    if app.status in (Status.APPROVED, Status.REJECTED, Status.ISSUED):
        assert app.decided_at is not None
    if app.status == Status.ISSUED:
        assert app.issued_at is not None and app.delivery
    if app.status not in (Status.SUBMITTED, Status.REFUSED):
        assert app.accepted_at is not None and app.due_at is not None
    assert app.visits >= visits_before


def run_application(people, hall, online, photo_missing, draw):
    """A fresh application, then steps from ``draw(app)`` until it returns None."""
    elderly = hall["elderly"]
    choice = materials(elderly, 近期一寸免冠照片="missing" if photo_missing else "provided")
    if online:
        app = services.submit_online(
            people.resident, item_code=elderly.code, applicant=APPLICANT_DATA, materials=choice, now=NOW
        )
    else:
        app = services.accept_at_window(
            people.operator, item_code=elderly.code, applicant=APPLICANT_DATA, materials=choice, now=NOW
        )
    photo_id = elderly.materials.get(name="近期一寸免冠照片").pk
    id_card_id = elderly.materials.get(name="居民身份证").pk
    link = services.rating_token(app)
    at = NOW
    reached = {app.status}
    while (step := draw(app)) is not None:
        at += dt.timedelta(minutes=step["later"])
        app = Application.objects.get(pk=app.pk)
        user = person(people, step["who"])
        step["token"] = link if step["who"] == "link" else ("forged" if step["who"] == "anonymous" else None)
        transition = APPLICATIONS.transitions[step["action"]]
        by_link = step["action"] == "rate" and step["token"]
        role_ok = permissions.allows(
            user, "public.rate_application" if by_link else f"hall.application.{step['action']}"
        )
        state_ok = app.status in transition.sources
        person_ok = table_allows_person(transition, user, app, by_link and step["who"] == "link")
        before, events_before, visits_before = app.status, log(app), app.visits
        try:
            take(step, user, app, photo_id, id_card_id, at)
        except DomainError as error:
            went_through = False
            if not role_ok:
                assert isinstance(error, NotAllowed), (step, error)
            elif not state_ok:
                assert isinstance(error, InvalidTransition), (step, error)
            elif not person_ok:
                assert isinstance(error, NotAllowed), (step, error)
        else:
            went_through = True
            assert role_ok and state_ok and person_ok, step
        app = Application.objects.get(pk=app.pk)
        check_step(
            APPLICATIONS,
            step["action"],
            went_through=went_through,
            before=before,
            after=app.status,
            events_before=events_before,
            events_after=log(app),
        )
        check_application(app, visits_before)
        reached.add(app.status)
    check_log(APPLICATIONS, app.status, log(app))
    return reached


# The person who fits an entry of the table: the window, the approving unit, the applicant
# (when they applied online), whoever holds the rating link.
FITTING = {OWN_UNIT: "approver", APPLICANT: "resident", PUBLIC: "link"}


def draw_step(data, app):
    """Mostly an action the state allows, by a person the table names; sometimes anything at
    all, by anybody."""
    possible = [t.action for t in APPLICATIONS.available(app.status)]
    choices = st.sampled_from(ACTIONS)
    if possible:
        choices = st.one_of(st.sampled_from(possible), choices)
    step = {"action": data.draw(choices, label="action"), **data.draw(DETAILS, label="details")}
    if data.draw(st.sampled_from([True, True, True, False]), label="fitting person"):
        role, scope = data.draw(st.sampled_from(APPLICATIONS.transitions[step["action"]].who), label="entry")
        step["who"] = FITTING.get(scope, role)
    else:
        step["who"] = data.draw(st.sampled_from(PEOPLE), label="who")
    return step


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data(), online=st.booleans(), photo_missing=st.booleans(), length=st.integers(0, 16))
def test_random_action_sequences_never_break_the_application_lifecycle(
    hall, street, data, online, photo_missing, length
):
    people = street.users
    if not hasattr(people, "approver"):
        people.approver = make_user("hall_approver", "handler", unit=street.units.service)
    steps = iter(range(length))
    # A fresh application per example: everything the example writes is rolled back afterwards.
    with transaction.atomic():
        reached = run_application(
            people,
            hall,
            online,
            photo_missing,
            lambda app: draw_step(data, app) if next(steps, None) is not None else None,
        )
        transaction.set_rollback(True)
    for status in sorted(reached):
        note_for_statistics(f"reached {status}")


def test_the_ordinary_path_passes_the_same_checks(hall, street):
    """Online, accepted, a missing photo supplied, approved, issued, rated by the link."""
    people = street.users
    people.approver = make_user("hall_approver", "handler", unit=street.units.service)
    defaults = {"later": 30, "note": "同意", "at_window": False, "delivery": "post", "level": 5, "material": "photo"}
    path = iter(
        [
            {**defaults, "action": "accept", "who": "operator"},
            {**defaults, "action": "supply", "who": "resident"},
            {**defaults, "action": "approve", "who": "approver"},
            {**defaults, "action": "issue", "who": "operator"},
            {**defaults, "action": "rate", "who": "link"},
        ]
    )
    reached = run_application(people, hall, True, True, lambda app: next(path, None))
    assert reached == {Status.SUBMITTED, Status.ACCEPTED, Status.APPROVED, Status.ISSUED}
    app = Application.objects.get()
    assert [e[0] for e in log(app)] == ["create", "accept", "supply", "approve", "issue", "rate"]
    assert app.rating.level == 5 and app.visits == 0
