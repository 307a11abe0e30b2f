"""Acceptance modes, the approval queue, issuing, visits and the clock in working days."""

import datetime as dt

import pytest

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.hall import services
from jiedao.hall.models import ApplicationEvent, MaterialStatus, Mode, Status
from jiedao.workcal.calendar import SHANGHAI

from .conftest import NOW, REGISTERED_ID, materials

APPLICANT = {"name": "王秀英", "id_number": REGISTERED_ID, "phone": "13800001111"}
STRANGER = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}


def local(value):
    return value.astimezone(SHANGHAI)


def statuses_of(app):
    return {row.material.name: row.status for row in app.materials.select_related("material")}


def test_window_accepts_complete_application_and_counts_the_visit(hall):
    clerk = hall["street"].users.operator
    app = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    assert app.status == Status.ACCEPTED and app.mode == Mode.NORMAL
    assert app.visits == 1
    assert app.unit == hall["street"].units.service
    # Promised 5 working days from Wednesday 18 Nov 2026: Thu, Fri, Mon, Tue, Wed → 25 Nov.
    assert local(app.due_at).date() == dt.date(2026, 11, 25)
    # Statutory 20 working days: 16 December.
    assert local(app.statutory_due_at).date() == dt.date(2026, 12, 16)
    event = ApplicationEvent.objects.get(application=app)
    assert (event.action, event.actor, event.to_status) == ("window_accept", clerk, Status.ACCEPTED)


def test_core_material_missing_is_refused_with_the_material_named(hall):
    with pytest.raises(ValidationFailed) as exc:
        services.accept_at_window(
            hall["street"].users.operator,
            item_code="11010500100001",
            applicant=STRANGER,
            materials=materials(hall["elderly"], 居民身份证="missing"),
            now=NOW,
        )
    assert "居民身份证" in str(exc.value)


def test_incomplete_acceptance_tracks_the_supply_deadline_and_blocks_approval(hall):
    users = hall["street"].users
    app = services.accept_at_window(
        users.operator,
        item_code="11010500100001",
        applicant=STRANGER,
        materials=materials(hall["elderly"], 近期一寸免冠照片="missing"),
        now=NOW,
    )
    assert app.mode == Mode.INCOMPLETE
    row = app.materials.get(status=MaterialStatus.MISSING)
    assert local(row.due_at).date() == dt.date(2026, 11, 25)
    service_handler = _handler_of(hall, users)
    with pytest.raises(InvalidTransition) as exc:
        services.approve(service_handler, number=app.number, now=NOW + dt.timedelta(hours=1))
    assert "近期一寸免冠照片" in str(exc.value)
    # Supplied online: no extra visit; then approval goes through.
    services.supply(
        users.operator, number=app.number, material_id=row.material_id, at_window=False, now=NOW + dt.timedelta(days=1)
    )
    app = services.approve(service_handler, number=app.number, now=NOW + dt.timedelta(days=1, hours=1))
    assert app.status == Status.APPROVED
    app = services.issue(users.operator, number=app.number, delivery="post", now=NOW + dt.timedelta(days=2))
    assert app.status == Status.ISSUED and app.visits == 1


def test_reminder_is_recorded_once_near_the_supply_deadline(hall):
    users = hall["street"].users
    app = services.accept_at_window(
        users.operator,
        item_code="11010500100001",
        applicant=STRANGER,
        materials=materials(hall["elderly"], 近期一寸免冠照片="missing"),
        now=NOW,
    )
    assert services.remind_missing_materials(now=NOW + dt.timedelta(days=1)) == 0
    assert services.remind_missing_materials(now=NOW + dt.timedelta(days=6)) == 0
    assert services.remind_missing_materials(now=NOW + dt.timedelta(days=7)) == 1
    assert services.remind_missing_materials(now=NOW + dt.timedelta(days=8)) == 0
    assert app.events.filter(action="remind").count() == 1


def test_shared_materials_are_not_asked_from_a_registered_resident(hall, registered):
    app = services.accept_at_window(
        hall["street"].users.operator,
        item_code="11010500100001",
        applicant=APPLICANT,
        materials=materials(hall["elderly"], 户口簿=""),
        now=NOW,
    )
    assert statuses_of(app)["户口簿"] == MaterialStatus.SHARED
    assert app.person == registered


def test_shared_material_must_be_brought_without_a_registry_record(hall, registered):
    with pytest.raises(ValidationFailed) as exc:
        services.accept_at_window(
            hall["street"].users.operator,
            item_code="11010500100001",
            applicant=STRANGER,
            materials=materials(hall["elderly"], 户口簿=""),
            now=NOW,
        )
    assert "户口簿" in str(exc.value)


def test_pledge_needs_an_item_that_allows_it_and_a_signature(hall):
    clerk = hall["street"].users.operator
    choice = materials(hall["pledge"], 居住情况承诺书="pledged")
    with pytest.raises(ValidationFailed):
        services.accept_at_window(clerk, item_code="11010500100002", applicant=STRANGER, materials=choice, now=NOW)
    app = services.accept_at_window(
        clerk, item_code="11010500100002", applicant=STRANGER, materials=choice, pledge_signed=True, now=NOW
    )
    assert app.mode == Mode.PLEDGE
    with pytest.raises(ValidationFailed):
        services.accept_at_window(
            clerk,
            item_code="11010500100001",
            applicant=STRANGER,
            pledge_signed=True,
            materials=materials(hall["elderly"], 居民身份证="pledged"),
            now=NOW,
        )


def test_assisted_application_is_recorded_with_the_reason(hall):
    clerk = hall["street"].users.operator
    with pytest.raises(ValidationFailed):
        services.accept_at_window(
            clerk,
            item_code="11010500100001",
            applicant=STRANGER,
            assistant_name="社区帮办员小李",
            materials=materials(hall["elderly"]),
            now=NOW,
        )
    app = services.accept_at_window(
        clerk,
        item_code="11010500100001",
        applicant=STRANGER,
        assistant_name="社区帮办员小李",
        assisted_reason="高龄行动不便",
        materials=materials(hall["elderly"]),
        now=NOW,
    )
    assert app.assisted and app.assistant_name == "社区帮办员小李"


def _handler_of(hall, users):
    from tests.factories import make_user

    return make_user("hall_handler", "handler", unit=hall["street"].units.service)


def test_only_the_responsible_unit_approves(hall):
    users = hall["street"].users
    app = services.accept_at_window(
        users.operator, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    with pytest.raises(NotAllowed):
        services.approve(users.handler, number=app.number, now=NOW)  # 综合执法队, not the item's unit
    with pytest.raises(NotAllowed):
        services.approve(users.operator, number=app.number, now=NOW)
    services.approve(_handler_of(hall, users), number=app.number, now=NOW)


def test_the_state_is_answered_before_the_person_and_the_role_before_anything(hall):
    users = hall["street"].users
    approver = _handler_of(hall, users)
    app = services.accept_at_window(
        users.operator, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    services.approve(approver, number=app.number, now=NOW)
    # Another unit's handler asking to approve it again hears that the state does not allow it.
    with pytest.raises(InvalidTransition):
        services.approve(users.handler, number=app.number, now=NOW)
    # On an application waiting for approval, the same handler is refused as a person.
    other = services.accept_at_window(
        users.operator, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    with pytest.raises(NotAllowed):
        services.approve(users.handler, number=other.number, now=NOW)
    # A role the permission table does not name is refused before the number is looked up.
    with pytest.raises(NotAllowed):
        services.approve(users.resident, number="BJ000", now=NOW)
    # The note comes last: a refusal without a reason names the note.
    with pytest.raises(ValidationFailed) as no_reason:
        services.reject(approver, number=other.number, note="  ", now=NOW)
    assert no_reason.value.errors[0]["field"] == "note"


def test_illegal_transitions_are_refused(hall):
    users = hall["street"].users
    app = services.accept_at_window(
        users.operator, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    with pytest.raises(InvalidTransition):
        services.issue(users.operator, number=app.number, now=NOW)  # not approved yet
    with pytest.raises(InvalidTransition):
        services.accept(users.operator, number=app.number, now=NOW)  # already accepted
    assert app.events.count() == 1


def test_on_the_spot_completion_keeps_one_visit(hall):
    users = hall["street"].users
    handler = _handler_of(hall, users)
    app = services.accept_at_window(
        users.operator, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    services.approve(handler, number=app.number, now=NOW + dt.timedelta(minutes=20))
    app = services.issue(users.operator, number=app.number, delivery="on_the_spot", now=NOW + dt.timedelta(minutes=30))
    assert app.visits == 1 and app.delivery == "on_the_spot"


def test_collecting_at_the_window_later_costs_a_second_visit(hall):
    users = hall["street"].users
    app = services.accept_at_window(
        users.operator, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    services.approve(_handler_of(hall, users), number=app.number, now=NOW + dt.timedelta(days=1))
    with pytest.raises(ValidationFailed):
        services.issue(users.operator, number=app.number, delivery="on_the_spot", now=NOW + dt.timedelta(days=2))
    app = services.issue(users.operator, number=app.number, delivery="window", now=NOW + dt.timedelta(days=2))
    assert app.visits == 2


def test_online_application_is_accepted_by_the_window_without_a_visit(hall):
    users = hall["street"].users
    app = services.submit_online(
        users.resident, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    assert app.status == Status.SUBMITTED and app.visits == 0 and app.due_at is None
    app = services.accept(users.operator, number=app.number, now=NOW + dt.timedelta(hours=2))
    assert app.status == Status.ACCEPTED and app.due_at is not None and app.visits == 0


def test_bundle_spawns_approvals_in_each_unit_and_completes_when_all_are_done(hall):
    users = hall["street"].users
    choice = {**materials(hall["elderly"]), **materials(hall["work"])}
    parent = services.accept_at_window(
        users.operator, bundle_code="YJS-01", applicant=STRANGER, materials=choice, now=NOW
    )
    children = {c.item.code: c for c in parent.children.select_related("item", "unit")}
    assert {c.unit.code for c in children.values()} == {"GGFW", "ZJ"}
    services.approve(_handler_of(hall, users), number=children["11010500100001"].number, now=NOW)
    services.issue(users.operator, number=children["11010500100001"].number, delivery="post", now=NOW)
    parent.refresh_from_db()
    assert parent.status == Status.ACCEPTED
    services.approve(users.handler_housing, number=children["11010500100003"].number, now=NOW)
    services.issue(users.operator, number=children["11010500100003"].number, delivery="post", now=NOW)
    parent.refresh_from_db()
    assert parent.status == Status.ISSUED
    assert parent.events.filter(action="complete").exists()


def test_worker_queues_one_reminder_round_an_hour(hall):
    from jiedao.hall.tasks import enqueue_reminders_if_due

    assert enqueue_reminders_if_due() is not None
    assert enqueue_reminders_if_due() is None
