"""What the case loop offers the apps above it: the signals sent once a change is committed, and
the ports through which a classifier, a reply checker and an address lookup plug in — the loop
runs the same without them."""

from dataclasses import dataclass

import pytest

from jiedao.cases import hooks, services
from jiedao.cases.models import CaseEvent, Status
from jiedao.cases.selectors import active_category
from jiedao.common.errors import InvalidTransition, ValidationFailed
from jiedao.intelligence.models import Proposal, ReplyCheck
from tests.cases.lifecycle import HOUR, LAMPS, SANITATION, drive, handler_for, new_case
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """What the case signals said, in order: (signal name, case number, event action or None)."""
    said = []

    def created(sender, case, **kwargs):
        said.append(("created", case.number, None))

    def resolved(sender, case, **kwargs):
        said.append(("resolved", case.number, None))

    def recorded(sender, case_id, event, **kwargs):
        said.append(("event", event.case.number, event.action))

    hooks.case_created.connect(created, weak=False)
    hooks.case_resolved.connect(resolved, weak=False)
    hooks.case_event_recorded.connect(recorded, weak=False)
    yield said
    hooks.case_created.disconnect(created)
    hooks.case_resolved.disconnect(resolved)
    hooks.case_event_recorded.disconnect(recorded)


@pytest.fixture
def unplugged():
    """The ports empty, as in an installation without the apps that fill them."""
    saved = {port: port._function for port in (hooks.intake_classifier, hooks.reply_checker, hooks.address_locator)}
    for port in saved:
        port.unplug()
    yield
    for port, function in saved.items():
        if function is not None:
            port.plug(function)


def test_a_new_case_and_its_first_events_are_told_after_the_commit(street, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        case = new_case(street)
        services.dispatch(street.users.dispatcher, number=case.number, at=WEDNESDAY)
    assert heard == []  # nothing is said before the commit
    for callback in pending:
        callback()
    assert heard == [
        ("event", case.number, "create"),
        ("created", case.number, None),
        ("event", case.number, "dispatch"),
    ]


def test_a_resolved_case_is_told_with_its_event(street, heard, django_capture_on_commit_callbacks):
    case = drive(street, "in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve(
            handler_for(street, case), number=case.number, result="已清运完毕，垃圾桶已归位", at=WEDNESDAY + 3 * HOUR
        )
    assert heard == [("event", case.number, "resolve"), ("resolved", case.number, None)]


def test_a_refused_action_tells_nobody(street, heard, django_capture_on_commit_callbacks):
    case = drive(street, "in_progress")
    handler = handler_for(street, case)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        services.return_case(handler, number=case.number, reason="")  # no longer dispatched: the state answers first
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
        services.add_note(handler, number=case.number, note="  ")
    assert heard == []


def test_the_loop_runs_without_a_classifier_or_a_reply_checker(street, unplugged):
    case, _ = services.submit_case(
        street.users.operator, channel="12345", description="东湖小区门口垃圾没人清运", reporter_phone="13812345678"
    )
    assert case.status == Status.NEW and case.category is None
    assert not Proposal.objects.filter(case=case).exists()
    case = drive(street, "rating")
    assert not ReplyCheck.objects.filter(case=case).exists()


def test_an_address_alone_is_placed_only_by_the_locator_plugged_in(street, unplugged):
    def report():
        case, _ = services.submit_case(
            street.users.operator, channel="phone", description="楼道堆满杂物", address="东湖路2号 2单元楼道"
        )
        return case

    hooks.address_locator.plug(lambda text: (39.905, 116.415) if "东湖路2号" in text else None)
    placed = report()
    assert placed.grid == street.grids[1] and (placed.lat, placed.lng) == (39.905, 116.415)
    hooks.address_locator.unplug()
    unplaced = report()
    assert (unplaced.grid, unplaced.lat) == (None, None)


@dataclass
class SureProposal:
    """A classifier's proposal that is sure of the category it names."""

    category: object
    confidence: float = 0.97
    auto: bool = True
    kept: list = None

    def note(self):
        return "模型认定"

    def event_data(self):
        return {"auto": True, "confidence": self.confidence, "model": "fake"}

    def save_for(self, case):
        self.kept.append(case)


def test_a_sure_classifier_classifies_and_dispatches_through_the_port(street, unplugged):
    kept = []
    category, _children = active_category(SANITATION)
    hooks.intake_classifier.plug(lambda text, chosen: SureProposal(category, kept=kept))
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="东湖小区门口垃圾没人清运",
        reporter_phone="13812345678",
        grid_code=street.grids[0].code,
    )
    assert case.status == Status.DISPATCHED and case.category.code == SANITATION
    dispatch = CaseEvent.objects.get(case=case, action="dispatch")
    assert dispatch.note == "模型认定" and dispatch.data["model"] == "fake"
    assert kept == [case]


def test_a_classifier_is_not_asked_when_the_reporter_chose_a_category(street, unplugged):
    asked = []
    hooks.intake_classifier.plug(lambda text, chosen: asked.append(text))
    new_case(street, category=LAMPS)
    assert asked == []
